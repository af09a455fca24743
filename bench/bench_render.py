"""Rendering benchmark: Scene.render against raw pybullet getCameraImage, load/reset times.

Both loops draw the same kitchen from the same cameras in the same run, interleaved in
blocks so that load from other processes hits both alike. Also writes a sample
256x256 egocentric kitchen frame to ``/tmp/kitchen_frame.png``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from proassist.sim.render.scene import MODES

SAMPLE_PNG = Path("/tmp/kitchen_frame.png")


def _bodies(n: int) -> list:
    """A person at the counter looking from the kettle to the mug, reaching with both hands."""
    from proassist.sim.body import BodyState

    out = []
    for i in range(n):
        t = i / max(1, n - 1)
        sway = 0.02 * math.sin(7 * t)
        head = (0.35 + sway, 0.3, 1.6 + 0.01 * math.cos(5 * t))
        look = (0.1 + 0.6 * t, 0.95, 0.9)
        right = (0.45 + 0.2 * t, 0.62, 1.0 + 0.05 * math.sin(3 * t))
        left = (0.1, 0.6, 1.02)
        kettle = (right[0] + 0.09, right[1] + 0.05, right[2] + 0.02)
        poses = {"kettle": kettle, "mug": (0.2, 0.85, 0.95), "spoon": (0.05, 0.8, 0.904)}
        out.append(BodyState(head, look, (left, right), (None, "kettle"), poses, "carry"))
    return out


def _fps_rows(scene, bodies, preds, rounds: int) -> list[dict]:
    """Frames/s of ``scene.render`` and of the bare ``getCameraImage`` call it wraps.

    Interleaved frame by frame: each raw call draws the scene exactly as the render just
    before it left it, from the same camera, so both loops see the same load.
    """
    import pybullet as p

    backend = scene.backend
    kwargs = backend.camera_kwargs
    render_s = raw_s = 0.0
    clock = time.perf_counter
    for _ in range(rounds):
        for b in bodies:
            t0 = clock()
            scene.render(b, preds)
            t1 = clock()
            p.getCameraImage(viewMatrix=backend.view_matrix(b), **kwargs)
            t2 = clock()
            render_s += t1 - t0
            raw_s += t2 - t1
    n = rounds * len(bodies)
    fps, raw = n / render_s, n / raw_s
    return [
        {
            "name": "Scene.render 128x128 rgb+depth+seg",
            "value": f"{fps:.0f} frames/s",
            "reference": f"raw getCameraImage {raw:.0f} frames/s",
            "ratio": f"{fps / raw:.2f}",
            "goal": ">= 0.9",
        },
    ]


def _load_rows(kitchen, repeats: int) -> list[dict]:
    from proassist.scenarios import load_layout
    from proassist.sim.render.scene import Scene

    bodies = _bodies(2)
    objects = kitchen.procedure.objects
    with Scene(128, 128, modes=MODES) as scene:
        t0 = time.perf_counter()
        scene.load(kitchen.layout, objects)
        build_ms = (time.perf_counter() - t0) * 1000
        scene.render(bodies[0], ())
        other = load_layout("workbench")
        reset, rebuild = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            scene.load(kitchen.layout, objects)
            scene.render(bodies[1], ())
            reset.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            scene.load(other, ())
            scene.load(kitchen.layout, objects)
            rebuild.append((time.perf_counter() - t0) * 1000 / 2)
    reset.sort()
    return [
        {
            "name": "scene reset (same layout: load no-op + first frame)",
            "value": f"{reset[len(reset) // 2]:.1f} ms",
            "reference": "",
            "ratio": "",
            "goal": "<= 50 ms",
        },
        {
            "name": "scene build (new layout)",
            "value": f"{sorted(rebuild)[len(rebuild) // 2]:.0f} ms",
            "reference": f"first build {build_ms:.0f} ms",
            "ratio": "",
            "goal": "",
        },
    ]


def save_sample_frame(path: Path = SAMPLE_PNG) -> Path:
    """Render a 256x256 egocentric kitchen frame (kettle boiling, mug full) to ``path``."""
    import imageio.v3 as iio

    from proassist.scenarios import load_scenario
    from proassist.sim.body import BodyState
    from proassist.sim.render.scene import Scene

    kitchen = load_scenario("kitchen_tea")
    poses = {
        "kettle": (0.8, 0.9, 1.02),
        "mug": (0.2, 0.85, 0.95),
        "spoon": (0.05, 0.8, 0.904),
        "tea_bag": (0.32, 0.8, 0.905),
    }
    body = BodyState(
        (0.35, 0.3, 1.6),
        (0.4, 0.95, 0.9),
        ((0.15, 0.62, 1.02), (0.55, 0.62, 1.05)),
        (None, None),
        poses,
        "reach",
    )
    preds = {"switched_on(burner)", "filled(kettle)", "heated(kettle)", "filled(mug)"}
    with Scene(256, 256, modes=("rgb",)) as scene:
        scene.load(kitchen.layout, kitchen.procedure.objects)
        iio.imwrite(path, scene.render(body, preds)["rgb"])
    return path


def run(quick: bool = False) -> list[dict]:
    """Measure render throughput against raw pybullet, and load/reset times."""
    from proassist.scenarios import load_scenario
    from proassist.sim.render.scene import Scene

    kitchen = load_scenario("kitchen_tea")
    bodies = _bodies(20 if quick else 100)
    preds = frozenset({"switched_on(burner)", "filled(kettle)"})
    with Scene(128, 128, modes=MODES) as scene:
        scene.load(kitchen.layout, kitchen.procedure.objects)
        scene.render(bodies[0], preds)
        rows = _fps_rows(scene, bodies, preds, rounds=1 if quick else 5)
    rows += _load_rows(kitchen, repeats=3 if quick else 10)
    path = save_sample_frame()
    rows.append(
        {"name": "sample frame", "value": str(path), "reference": "", "ratio": "", "goal": ""}
    )
    return rows
