"""Env benchmark: steps/s with rendering vs raw pybullet, no-render steps/s, reset, RSS.

The vector-env rows are in :mod:`bench.bench_vec`.

The reference is measured in the same run: raw ``pybullet.getCameraImage`` of the env's
own scene (same client, same camera matrices, same resolution) for the same body
states the env rendered, so the ratio is the cost of everything the env adds (person,
deviations, scene updates, observation assembly).
"""

from __future__ import annotations

import resource
import time
from typing import Any

import numpy as np

from proassist.policies.base import silent_action
from proassist.sim.render.scene import MODES

SILENT = silent_action()


def _make(**kwargs: Any) -> Any:
    """The kitchen_tea env; pybullet unless ``renderer`` is given (the raw reference is pybullet)."""
    import gymnasium as gym

    import proassist.envs  # noqa: F401

    kwargs.setdefault("renderer", "pybullet")
    return gym.make("ProAssist-Kitchen-v0", task="kitchen_tea", **kwargs)


def _steps(env: Any, n: int, seed: int = 0) -> tuple[float, list[Any]]:
    """Time ``n`` silent env steps (resetting at episode ends); return seconds and bodies."""
    env.reset(seed=seed)
    bodies = []
    elapsed = 0.0
    for _ in range(n):
        t0 = time.perf_counter()
        _, _, term, trunc, _ = env.step(SILENT)
        elapsed += time.perf_counter() - t0
        sim = env.unwrapped.simulation
        bodies.append(sim.body())
        if term or trunc:
            env.reset()
    return elapsed, bodies


def _interleaved(env: Any, n: int, seed: int) -> tuple[float, float]:
    """Alternate one env step and one raw render of the same body, so load hits both alike."""
    import pybullet as p

    env.reset(seed=seed)
    backend = env.unwrapped._scene.backend
    kwargs = backend.camera_kwargs
    env_s = raw_s = 0.0
    for _ in range(n):
        t0 = time.perf_counter()
        _, _, term, trunc, _ = env.step(SILENT)
        env_s += time.perf_counter() - t0
        view = backend.view_matrix(env.unwrapped.simulation.body())
        t0 = time.perf_counter()
        p.getCameraImage(viewMatrix=view, **kwargs)
        raw_s += time.perf_counter() - t0
        if term or trunc:
            env.reset()
    return env_s, raw_s


def _render_rows(n: int) -> list[dict]:
    env = _make(obs_modes=MODES)
    env_s, raw_s = _interleaved(env, n, seed=0)
    env.close()
    env_fps, raw_fps = n / env_s, n / raw_s
    return [
        {
            "name": "env.step 128x128 rgb+depth+seg",
            "value": f"{env_fps:.0f} steps/s",
            "reference": f"raw getCameraImage {raw_fps:.0f} frames/s",
            "ratio": f"{env_fps / raw_fps:.2f}",
            "goal": ">= 0.9",
        }
    ]


def _norender_rows(n: int) -> list[dict]:
    env = _make(render=False)
    s, _ = _steps(env, n)
    env.close()
    sps = n / s
    return [
        {
            "name": "env.step, render=False",
            "value": f"{sps:.0f} steps/s",
            "reference": "real time at 2 Hz",
            "ratio": f"{sps * 0.5:.0f}x real time",
            "goal": "",
        }
    ]


def _reset_rows(repeats: int) -> list[dict]:
    env = _make(obs_modes=MODES)
    env.reset(seed=0)
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        env.reset(seed=i + 1)
        times.append((time.perf_counter() - t0) * 1000)
    env.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [
        {
            "name": "env.reset (same layout)",
            "value": f"{np.median(times):.1f} ms (median)",
            "reference": "",
            "ratio": "",
            "goal": "<= 50 ms",
        },
        {
            "name": "peak RSS, bench process (1 env + imports)",
            "value": f"{rss_mb:.0f} MB",
            "reference": "",
            "ratio": "",
            "goal": "<= 300 MB per env",
        },
    ]


def run(quick: bool = False) -> list[dict]:
    """Run the env benchmarks; ``quick`` uses fewer steps."""
    n = 100 if quick else 300
    rows = _reset_rows(10 if quick else 30)
    rows += _render_rows(n)
    rows += _norender_rows(n * 10)
    return rows
