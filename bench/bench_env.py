"""Env benchmark: steps/s with rendering vs raw pybullet, no-render steps/s, reset, RSS, vector.

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


def _vector_envs(renderer: str) -> dict[str, Any]:
    """One env in-process, 2 async envs (forked workers) and 2 inline envs (one here)."""
    import gymnasium as gym

    import proassist.envs  # noqa: F401
    from proassist.envs.inline_vector import make_inline_vec

    kwargs = {"task": "kitchen_tea", "renderer": renderer}
    return {
        "single": _make(renderer=renderer),
        "async": gym.make_vec("ProAssist-Kitchen-v0", 2, vectorization_mode="async", **kwargs),
        "inline": make_inline_vec("ProAssist-Kitchen-v0", 2, **kwargs),
    }


def _vector_row(n: int, renderer: str) -> list[dict]:
    """2-env vectors against 1 env in-process, same renderer, interleaved in blocks."""
    envs = _vector_envs(renderer)
    batch = {k: np.array([v, v]) for k, v in SILENT.items() if k != "text"}
    batch["text"] = ("", "")
    spent = dict.fromkeys(envs, 0.0)
    for env in envs.values():
        env.reset(seed=0)
    for _ in range(5):
        for name, env in envs.items():
            action = SILENT if name == "single" else batch
            t0 = time.perf_counter()
            for _ in range(n // 5):
                *_, term, trunc, _ = env.step(action)
                if name == "single" and (term or trunc):
                    env.reset()
            spent[name] += time.perf_counter() - t0
    for env in envs.values():
        env.close()
    one = (n // 5 * 5) / spent["single"]
    return [
        {
            "name": f"2-env {kind} vector, 128x128 rgb, renderer={renderer}",
            "value": f"{2 * one * spent['single'] / spent[kind]:.0f} env-steps/s",
            "reference": f"1 env in-process {one:.0f} steps/s",
            "ratio": f"{2 * spent['single'] / spent[kind]:.2f}",
            "goal": ">= 1.8 (issue 13)" if renderer == "gl" else "",
        }
        for kind in ("async", "inline")
    ]


def _vector_rows(n: int) -> list[dict]:
    """The 2-env vector rows for pybullet and, where EGL works, for gl."""
    rows = _vector_row(n, "pybullet")
    try:
        rows += _vector_row(n, "gl")
    except (ImportError, RuntimeError) as exc:  # no EGL here: say so, keep the other rows
        print(f"  gl vector row skipped: {exc}")
    return rows


def run(quick: bool = False) -> list[dict]:
    """Run the env benchmarks; ``quick`` uses fewer steps."""
    n = 100 if quick else 300
    rows = _reset_rows(10 if quick else 30)
    rows += _render_rows(n)
    rows += _norender_rows(n * 10)
    rows += _vector_rows(n)
    return rows
