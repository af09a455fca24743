"""OpenGL renderer (``renderer="gl"``) against pybullet, measured in the same run.

Frames/s of ``Scene.render`` (rgb + depth + segmentation of the kitchen) at 64, 128 and
224 px, and env steps/s at 128 px, with each backend interleaved in blocks so that load
from other processes hits both alike. Skipped (one row saying why) without EGL.
"""

from __future__ import annotations

import time

MODES = ("rgb", "depth", "segmentation")


def _scene_fps(size: int, bodies: list, preds: frozenset, rounds: int) -> dict[str, float]:
    from proassist.scenarios import load_scenario
    from proassist.sim.render.scene import Scene

    kitchen = load_scenario("kitchen_tea")
    p = kitchen.procedure
    scenes = {r: Scene(size, size, MODES, renderer=r) for r in ("pybullet", "gl")}
    spent = dict.fromkeys(scenes, 0.0)
    for s in scenes.values():
        s.load(kitchen.layout, p.objects, p.steps)
        s.render(bodies[0], preds)
    for _ in range(rounds):
        for name, s in scenes.items():
            t0 = time.perf_counter()
            for b in bodies:
                s.render(b, preds)
            spent[name] += time.perf_counter() - t0
    for s in scenes.values():
        s.close()
    return {k: rounds * len(bodies) / v for k, v in spent.items()}


def _env_sps(steps: int, rounds: int) -> dict[str, float]:
    import gymnasium as gym

    import proassist.envs  # noqa: F401

    silent = {"decision": 0, "intent": 0, "step": 0, "text": ""}
    envs = {
        r: gym.make("ProAssist-Kitchen-v0", renderer=r, obs_modes=MODES, task="kitchen_tea")
        for r in ("pybullet", "gl")
    }
    spent = dict.fromkeys(envs, 0.0)
    for _ in range(rounds):
        for name, env in envs.items():
            env.reset(seed=0)
            t0 = time.perf_counter()
            for _ in range(steps):
                *_, term, trunc, _ = env.step(silent)
                if term or trunc:
                    env.reset(seed=0)
            spent[name] += time.perf_counter() - t0
    for env in envs.values():
        env.close()
    return {k: rounds * steps / v for k, v in spent.items()}


def _row(name: str, gl: float, ref: float, unit: str) -> dict:
    return {
        "name": name,
        "value": f"{gl:.0f} {unit}",
        "reference": f"pybullet {ref:.0f} {unit}",
        "ratio": f"{gl / ref:.2f}",
        "goal": ">= 3",
    }


def run(quick: bool = False) -> list[dict]:
    """Frames/s of gl vs pybullet at three sizes, env steps/s at 128 px."""
    from bench.bench_render import _bodies
    from proassist.sim.render.gl_backend import create_context

    try:
        create_context().release()
    except (ImportError, RuntimeError) as exc:
        return [{"name": "gl renderer", "value": f"skipped: {exc}"}]
    bodies = _bodies(10 if quick else 40)
    preds = frozenset({"switched_on(burner)", "filled(kettle)", "heated(kettle)"})
    rows = []
    for size in (64, 128, 224):
        fps = _scene_fps(size, bodies, preds, rounds=1 if quick else 3)
        name = f"gl Scene.render {size}x{size} rgb+depth+seg"
        rows.append(_row(name, fps["gl"], fps["pybullet"], "frames/s"))
    sps = _env_sps(20 if quick else 100, rounds=1 if quick else 2)
    rows.append(_row("gl env.step 128x128 rgb+depth+seg", sps["gl"], sps["pybullet"], "steps/s"))
    return rows
