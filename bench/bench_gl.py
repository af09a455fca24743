"""OpenGL renderer (``renderer="gl"``) against pybullet, measured in the same run.

Rows: frames/s of ``Scene.render`` (rgb + depth + segmentation of the kitchen) at 64,
128 and 224 px; env steps/s of ``gym.make("ProAssist-Kitchen-v0", renderer=...)`` at
128 px (rgb + depth + segmentation); the median ``env.reset`` (same layout); and the
resident memory of one env (a fresh process per renderer: imports, one env, a few
steps) and what each further env adds. Both backends are interleaved in blocks so that
load from other processes hits them alike; read the ratios. Skipped (one row saying
why) without an EGL context.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from typing import Any

from proassist.policies.base import silent_action
from proassist.sim.render.scene import MODES

RENDERERS = ("pybullet", "gl")
SILENT = silent_action()


def _scene_fps(size: int, bodies: list, preds: frozenset, rounds: int) -> dict[str, float]:
    from proassist.scenarios import load_scenario
    from proassist.sim.render.scene import Scene

    kitchen = load_scenario("kitchen_tea")
    p = kitchen.procedure
    scenes = {r: Scene(size, size, MODES, renderer=r) for r in RENDERERS}
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


def _make_env(renderer: str, size: int = 128, render: bool = True) -> Any:
    """The kitchen_tea env at ``size`` px, rgb+depth+segmentation, with ``renderer``
    (``render=False``: without frames)."""
    import gymnasium as gym

    import proassist.envs  # noqa: F401

    return gym.make(
        "ProAssist-Kitchen-v0",
        renderer=renderer,
        obs_modes=MODES,
        task="kitchen_tea",
        width=size,
        height=size,
        render=render,
    )


def _env_sps(steps: int, rounds: int) -> tuple[dict[str, float], dict[str, float]]:
    """Env steps/s and median reset milliseconds (same layout) per renderer."""
    envs = {r: _make_env(r) for r in RENDERERS}
    for env in envs.values():
        env.reset(seed=0)  # the first reset builds the scene; later ones reuse it
    spent = dict.fromkeys(envs, 0.0)
    resets: dict[str, list[float]] = {r: [] for r in envs}
    for k in range(rounds):
        for name, env in envs.items():
            t0 = time.perf_counter()
            env.reset(seed=k + 1)
            resets[name].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for _ in range(steps):
                *_, term, trunc, _ = env.step(SILENT)
                if term or trunc:
                    env.reset()
            spent[name] += time.perf_counter() - t0
    for env in envs.values():
        env.close()
    sps = {k: rounds * steps / v for k, v in spent.items()}
    return sps, {k: 1000 * statistics.median(v) for k, v in resets.items()}


_RSS_SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
from bench.bench_gl import _make_env, _rss_mb, SILENT

envs, rss = [], []
for _ in range(3):
    env = _make_env({renderer!r})
    env.reset(seed=0)
    for _ in range(5):
        env.step(SILENT)
    envs.append(env)
    rss.append(_rss_mb())
print(json.dumps(rss))
"""


def _rss_mb() -> float:
    """Resident memory of this process now (MiB; Linux ``/proc``, else peak RSS)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _env_rss(renderer: str) -> tuple[float, float]:
    """RSS of a fresh process with one env, and the mean RSS added by two more envs."""
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    code = _RSS_SCRIPT.format(root=root, renderer=renderer)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rss = json.loads(out.stdout.strip().splitlines()[-1])
    return rss[0], (rss[-1] - rss[0]) / (len(rss) - 1)


def _row(name: str, gl: float, ref: float, unit: str, goal: str = ">= 3") -> dict:
    return {
        "name": name,
        "value": f"{gl:.0f} {unit}",
        "reference": f"pybullet {ref:.0f} {unit}",
        "ratio": f"{gl / ref:.2f}",
        "goal": goal,
    }


def _memory_rows() -> list[dict]:
    """RSS of a process with one env, and per further env, for both renderers."""
    rss = {r: _env_rss(r) for r in RENDERERS}
    (gl_one, gl_more), (pb_one, pb_more) = rss["gl"], rss["pybullet"]
    return [
        {
            "name": "gl RSS, process with 1 env (128 px, 3 modes)",
            "value": f"{gl_one:.0f} MB",
            "reference": f"pybullet {pb_one:.0f} MB",
            "ratio": f"{gl_one / pb_one:.2f}",
            "goal": "<= 300 MB",
        },
        {
            "name": "gl RSS added per further env",
            "value": f"{gl_more:.1f} MB",
            "reference": f"pybullet {pb_more:.1f} MB",
            "ratio": "",
            "goal": "",
        },
    ]


def run(quick: bool = False) -> list[dict]:
    """Frames/s at three sizes, env steps/s and reset at 128 px, RSS per env."""
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
    sps, reset_ms = _env_sps(20 if quick else 100, rounds=2 if quick else 4)
    name = "gl env.step 128x128 rgb+depth+seg"
    rows.append(_row(name, sps["gl"], sps["pybullet"], "steps/s", ">= 10 (issue 13)"))
    gl_ms, pb_ms = reset_ms["gl"], reset_ms["pybullet"]
    rows.append(
        {
            "name": "gl env.reset (same layout, median)",
            "value": f"{gl_ms:.1f} ms",
            "reference": f"pybullet {pb_ms:.1f} ms",
            "ratio": f"{gl_ms / pb_ms:.2f}",
            "goal": "<= 20 ms (issue 13)",
        }
    )
    return rows + _memory_rows()
