"""Lock-step vector envs: Gymnasium's ``AsyncVectorEnv`` against ``InlineVectorEnv``.

For each count N of sub-envs (``PROASSIST_BENCH_PROCS``, comma-separated, else every
core this process may use; counts of 1 are skipped), both vector envs of N kitchen_tea
envs (gl where an EGL context can be created, and pybullet; 128 px rgb+depth+seg)
step batched silent actions for a fixed wall-clock window, alternating in blocks with
one env stepping in this process. The ratio is env-steps/s against that one env.
``InlineVectorEnv`` (:mod:`proassist.envs.inline_vector`) steps sub-env 0 in this process
and the rest in workers, with a lean shared-memory protocol; ``AsyncVectorEnv`` runs
all N in workers while this process waits. Workers are forked, or spawned once this
process has drawn on a GPU driver.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bench.bench_gl import SILENT
from bench.bench_gl import _make_env as _make
from bench.bench_scale import _counts, _renderers, _row, _step_for


def _vectors(renderer: str, n: int) -> dict[str, Any]:
    """One env in-process and the two N-env vector envs, same renderer and frames."""
    import gymnasium as gym

    from proassist.envs.inline_vector import InlineVectorEnv
    from proassist.sim.render.gl_context import gpu_context_made

    def make() -> Any:
        return _make(renderer)

    # spawned workers once this process made a GPU context (``_renderers`` probes the
    # device first): a process forked from it can hang in its own driver set-up
    # (InlineVectorEnv's rule); on llvmpipe they are forked
    context = "spawn" if gpu_context_made() else None
    return {
        "single": make(),
        "async": gym.vector.AsyncVectorEnv([make] * n, context=context),
        "inline": InlineVectorEnv([make] * n, context=context),
    }


def _batch(n: int) -> dict:
    batch: dict = {k: np.array([v] * n) for k, v in SILENT.items() if k != "text"}
    batch["text"] = ("",) * n
    return batch


def vector_sps(renderer: str, n: int, seconds: float, blocks: int = 4) -> dict[str, float]:
    """Env-steps/s of one env and of both N-env vector envs, alternating in blocks."""
    envs = _vectors(renderer, n)
    steps, spent = dict.fromkeys(envs, 0), dict.fromkeys(envs, 0.0)
    try:
        for env in envs.values():
            env.reset(seed=0)
        for block in range(blocks):  # the order reversed every other block (drift)
            for name, env in list(envs.items())[:: 1 if block % 2 == 0 else -1]:
                single = name == "single"
                t0 = time.perf_counter()
                k = _step_for(env, seconds / blocks, SILENT if single else _batch(n))
                spent[name] += time.perf_counter() - t0
                steps[name] += k * (1 if single else n)
    finally:
        for env in envs.values():
            env.close()
    return {name: steps[name] / spent[name] for name in envs}


def run(quick: bool = False) -> list[dict]:
    """The vector rows for each count above 1, for each working renderer."""
    seconds = 2.0 if quick else 8.0
    rows = []
    for renderer in _renderers():
        rows += _renderer_rows(renderer, seconds)
    return rows


def _renderer_rows(renderer: str, seconds: float) -> list[dict]:
    """Both vector envs against one env, per count of sub-envs, with ``renderer``."""
    rows = []
    for n in [c for c in _counts() if c > 1]:
        sps = vector_sps(renderer, n, seconds)
        print(f"  {n} envs: " + ", ".join(f"{k} {v:.0f}" for k, v in sps.items()), flush=True)
        for kind, label in (("async", "AsyncVectorEnv"), ("inline", "InlineVectorEnv")):
            rows.append(
                _row(
                    f"{renderer}: {n}-env {label}, 128x128 rgb+depth+seg, lock-step",
                    f"{sps[kind]:.0f} env-steps/s",
                    f"1 env in-process {sps['single']:.0f} steps/s",
                    f"{sps[kind] / sps['single']:.2f}",
                    ">= 1.8 (issue 13)" if n == 2 and renderer == "gl" else "",
                )
            )
    return rows
