"""Rendered env steps/s per process and across processes, by renderer and frame size.

For each renderer that works here (``gl`` where an EGL context can be created, i.e. the
vendor driver on a GPU or Mesa llvmpipe on a CPU; ``pybullet`` where it is installed):

* one process: env steps/s of ``ProAssist-Kitchen-v0`` (kitchen_tea, rgb+depth+seg) at
  64, 128 and 224 px (or ``PROASSIST_BENCH_SIZES``), and with ``render=False`` (the simulation alone, the ceiling);
* N processes (``spawn``ed, one env each, started together behind a barrier, each
  stepping for a fixed wall-clock window): their summed env steps/s at 128 px, against
  one process in the same run. N is every core this process may use
  (``os.sched_getaffinity``), or ``PROASSIST_BENCH_PROCS`` (comma-separated counts).

The first row names the OpenGL device (``GL_RENDERER``), so a table from a GPU machine
says so. Nothing here needs a GPU; on a CPU machine the gl rows measure llvmpipe.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time
from typing import Any

MODES = ("rgb", "depth", "segmentation")
SILENT = {"decision": 0, "intent": 0, "step": 0, "text": ""}
SIZES = (64, 128, 224)


def _sizes() -> tuple[int, ...]:
    told = os.environ.get("PROASSIST_BENCH_SIZES", "")
    return tuple(int(c) for c in told.split(",") if c.strip()) or SIZES


def _make(renderer: str, size: int, render: bool = True) -> Any:
    import gymnasium as gym

    import proassist.envs  # noqa: F401

    return gym.make(
        "ProAssist-Kitchen-v0",
        task="kitchen_tea",
        renderer=renderer,
        obs_modes=MODES,
        width=size,
        height=size,
        render=render,
    )


def _step_for(env: Any, seconds: float) -> int:
    """Silent steps (resetting at episode ends) until ``seconds`` of wall clock pass."""
    n = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for _ in range(10):
            *_, term, trunc, _ = env.step(SILENT)
            if term or trunc:
                env.reset()
        n += 10
    return n


def _worker(
    renderer: str, size: int, seconds: float, barrier: Any, out: Any, render: bool, wait: float
) -> None:
    """One process: build and warm an env, wait for the others, step for ``seconds``."""
    env = _make(renderer, size, render=render)
    env.reset(seed=os.getpid() % 1000)
    _step_for(env, 0.3)
    barrier.wait(timeout=wait)
    t0, c0 = time.perf_counter(), time.process_time()
    n = _step_for(env, seconds)
    out.put((n, time.perf_counter() - t0, time.process_time() - c0))
    env.close()


def procs_sps(
    renderer: str,
    procs: int,
    size: int = 128,
    seconds: float = 5.0,
    render: bool = True,
    wait: float = 300.0,
) -> tuple[float, float]:
    """Summed env steps/s of ``procs`` spawned processes stepping together.

    Raises:
        RuntimeError: A process died or did not report within ``wait`` seconds.

    Returns:
        The summed steps/s, and the mean share of wall-clock time the processes spent
        on a CPU (below 1 when they wait: for the GPU, or for a core).
    """
    ctx = mp.get_context("spawn")  # EGL contexts do not survive fork
    barrier, out = ctx.Barrier(procs), ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(renderer, size, seconds, barrier, out, render, wait))
        for _ in range(procs)
    ]
    for w in workers:
        w.start()
    try:
        results = [out.get(timeout=wait) for _ in workers]
    except queue.Empty:
        codes = [w.exitcode for w in workers]
        raise RuntimeError(f"a benchmark process died or hung (exit codes {codes})") from None
    finally:
        for w in workers:
            w.join(timeout=10)
            if w.is_alive():
                w.terminate()
    return sum(n / s for n, s, _ in results), sum(c / s for _, s, c in results) / procs


def single_sps(renderer: str, size: int, seconds: float, render: bool = True) -> float:
    """Env steps/s of one env in this process."""
    env = _make(renderer, size, render=render)
    env.reset(seed=0)
    _step_for(env, 0.3)
    t0 = time.perf_counter()
    n = _step_for(env, seconds)
    sps = n / (time.perf_counter() - t0)
    env.close()
    return sps


def _renderers() -> dict[str, str]:
    """Renderers that work here, each with the device it draws on."""
    found = {}
    try:
        from proassist.sim.render.gl_backend import create_context

        ctx = create_context()
        found["gl"] = f"{ctx.info['GL_RENDERER']} ({ctx.info['GL_VERSION']})"
        ctx.release()
    except (ImportError, RuntimeError) as exc:
        print(f"  gl rows skipped: {exc}")
    try:
        import pybullet  # noqa: F401

        found["pybullet"] = "TinyRenderer (CPU)"
    except ImportError as exc:
        print(f"  pybullet rows skipped: {exc}")
    return found


def _counts() -> list[int]:
    told = os.environ.get("PROASSIST_BENCH_PROCS", "")
    if told:
        return [int(c) for c in told.split(",") if c.strip()]
    return [len(os.sched_getaffinity(0))] if hasattr(os, "sched_getaffinity") else [2]


def _row(name: str, value: str, reference: str = "", ratio: str = "", goal: str = "") -> dict:
    return {"name": name, "value": value, "reference": reference, "ratio": ratio, "goal": goal}


def _renderer_rows(renderer: str, seconds: float) -> list[dict]:
    ceiling = single_sps(renderer, 128, seconds, render=False)
    rows = [_row(f"{renderer}: env.step render=False", f"{ceiling:.0f} steps/s")]
    one = {}
    for size in sorted({*_sizes(), 128}):
        one[size] = single_sps(renderer, size, seconds)
        name = f"{renderer}: env.step {size}x{size} rgb+depth+seg, 1 process"
        rows.append(_row(name, f"{one[size]:.0f} steps/s", f"render=False {ceiling:.0f}"))
    for procs in _counts():
        rows += _procs_rows(renderer, procs, seconds, one[128], ceiling)
    return rows


def _procs_rows(renderer: str, procs: int, seconds: float, one: float, ceiling: float) -> list:
    """``procs`` processes rendering, and (more than 2) not rendering: is it the renderer
    or the processors that stop them from scaling?"""
    total, busy = procs_sps(renderer, procs, 128, seconds)
    rows = [
        _row(
            f"{renderer}: env.step 128x128 rgb+depth+seg, {procs} processes",
            f"{total:.0f} env-steps/s ({busy:.0%} on CPU)",
            f"1 process {one:.0f} steps/s",
            f"{total / one:.2f}",
        )
    ]
    if procs > 2:
        bare, busy = procs_sps(renderer, procs, 128, seconds, render=False)
        name = f"{renderer}: env.step render=False, {procs} processes"
        value = f"{bare:.0f} env-steps/s ({busy:.0%} on CPU)"
        rows.append(_row(name, value, f"1 process {ceiling:.0f}", f"{bare / ceiling:.2f}"))
    return rows


def run(quick: bool = False) -> list[dict]:
    """One-process rows per size and the N-process row, per working renderer."""
    seconds = 1.0 if quick else 4.0
    rows = []
    for renderer, device in _renderers().items():
        rows.append(_row(f"{renderer} device", device))
        rows += _renderer_rows(renderer, seconds)
    return rows
