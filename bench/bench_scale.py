"""Rendered env steps/s per process and across processes, by renderer and frame size.

For each renderer that works here (``gl`` where an EGL context can be created, i.e. the
vendor driver on a GPU or Mesa llvmpipe on a CPU; ``pybullet`` where it is installed):

* one process: env steps/s of ``ProAssist-Kitchen-v0`` (kitchen_tea, rgb+depth+seg) at
  64, 128 and 224 px (or ``PROASSIST_BENCH_SIZES``), and with ``render=False`` (the
  simulation alone, the ceiling);
* N processes (``spawn``ed, one env each, started together behind a barrier, each
  stepping for a fixed wall-clock window): their summed env steps/s at 128 px and each
  one's CPU share, against one spawned process in the same run; above 2 processes also
  with ``render=False``. N is every core this process may use
  (``os.sched_getaffinity``), or ``PROASSIST_BENCH_PROCS`` (comma-separated counts);
* gl only: the one read-back a frame (``PROASSIST_GL_PACK=1``, :mod:`~proassist.sim.
  render.gl_pack`) against three (``0``) at 128 px, in one process (alternating blocks)
  and at the largest process count: the default is 1 on a GPU and 0 on llvmpipe.

The first row names the OpenGL device (``GL_RENDERER``), so a table from a GPU machine
says so. Nothing here needs a GPU; on a CPU machine the gl rows measure llvmpipe.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from bench.bench_gl import SILENT
from bench.bench_gl import _make_env as _make

SIZES = (64, 128, 224)


def _sizes() -> tuple[int, ...]:
    told = os.environ.get("PROASSIST_BENCH_SIZES", "")
    return tuple(int(c) for c in told.split(",") if c.strip()) or SIZES


def _step_for(env: Any, seconds: float, action: Any = SILENT) -> int:
    """Steps of ``action`` (silent) until ``seconds`` of wall clock pass, resetting a
    single env at its episode ends (a vector env resets its own)."""
    n = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for _ in range(10):
            *_, term, trunc, _ = env.step(action)
            if isinstance(term, bool | np.bool_) and (term or trunc):
                env.reset()
        n += 10
    return n


def _worker(
    renderer: str, size: int, seconds: float, barrier: Any, out: Any, render: bool, wait: float
) -> None:
    """One process: build and warm an env, wait for the others, step for ``seconds``.

    Puts ``(steps, wall seconds, CPU seconds)`` on ``out``, or ``("error", message)``
    after breaking the barrier, so that neither the others nor the parent wait on it.
    """
    try:
        env = _make(renderer, size, render=render)
        env.reset(seed=os.getpid() % 1000)
        _step_for(env, 0.3)
        barrier.wait(timeout=wait)
        t0, c0 = time.perf_counter(), time.process_time()
        n = _step_for(env, seconds)
        out.put((n, time.perf_counter() - t0, time.process_time() - c0))
        env.close()
    except Exception as exc:  # report it: the parent raises it with the others stopped
        barrier.abort()
        out.put(("error", f"{type(exc).__name__}: {exc}"))


def _collect(out: Any, workers: list, wait: float) -> list[tuple]:
    """Every worker's result, or RuntimeError at the first error, death or ``wait``."""
    results: list[tuple] = []
    deadline = time.monotonic() + wait
    while len(results) < len(workers):
        try:
            got = out.get(timeout=0.5)
        except queue.Empty:
            dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if dead or time.monotonic() > deadline:
                why = f"exit codes {dead}" if dead else f"no report within {wait:.0f} s"
                raise RuntimeError(f"a benchmark process died or hung ({why})") from None
            continue
        if got[0] == "error":
            raise RuntimeError(f"a benchmark process died or hung ({got[1]})")
        results.append(got)
    return results


def procs_sps(
    renderer: str,
    procs: int,
    size: int = 128,
    seconds: float = 5.0,
    render: bool = True,
    wait: float = 300.0,
) -> tuple[float, float]:
    """Summed env steps/s of ``procs`` spawned processes stepping together.

    Args:
        renderer: Renderer of every env (``gl``, ``pybullet``, ...).
        procs: Processes, one env each (at least 1).
        size: Frame side in pixels.
        seconds: Wall-clock window each process steps for, after the barrier.
        render: ``False``: envs without frames (the simulation's own ceiling).
        wait: Seconds to wait for all processes' reports before giving up.

    Returns:
        The summed steps/s, and the mean share of wall-clock time the processes spent
        on a CPU (below 1 when they wait: for the GPU, or for a core).

    Raises:
        RuntimeError: A process failed, died or did not report within ``wait`` seconds
            (the others are stopped).
    """
    if procs < 1:
        raise ValueError(f"procs must be at least 1, got {procs}")
    ctx = mp.get_context("spawn")  # EGL contexts do not survive fork
    barrier, out = ctx.Barrier(procs), ctx.Queue()
    args = (renderer, size, seconds, barrier, out, render, wait)
    workers = [ctx.Process(target=_worker, args=args) for _ in range(procs)]
    for w in workers:
        w.start()
    try:
        results = _collect(out, workers, wait)
    finally:
        for w in workers:
            if w.is_alive() and w.exitcode is None:
                w.join(timeout=2)
            if w.is_alive():
                w.terminate()
        for w in workers:
            w.join(timeout=10)
    return sum(n / s for n, s, _ in results), sum(c / s for _, s, c in results) / procs


def single_sps(renderer: str, size: int, seconds: float, render: bool = True) -> float:
    """Env steps/s of one env in this process.

    Args:
        renderer: Renderer of the env.
        size: Frame side in pixels.
        seconds: Wall-clock window to step for (after 0.3 s of warm-up).
        render: ``False``: an env without frames.

    Returns:
        Steps per second.
    """
    env = _make(renderer, size, render=render)
    env.reset(seed=0)
    _step_for(env, 0.3)
    t0 = time.perf_counter()
    n = _step_for(env, seconds)
    sps = n / (time.perf_counter() - t0)
    env.close()
    return sps


@contextlib.contextmanager
def pack_forced(value: str) -> Iterator[None]:
    """``PROASSIST_GL_PACK`` set to ``value`` inside (renderers and spawned processes
    made there read it), restored after."""
    from proassist.sim.render.gl_pack import PACK_VAR

    before = os.environ.get(PACK_VAR)
    os.environ[PACK_VAR] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(PACK_VAR, None)
        else:
            os.environ[PACK_VAR] = before


def pack_sps(size: int, seconds: float, rounds: int = 4) -> dict[str, float]:
    """Env steps/s of a gl env reading back once (``"1"``) and three times (``"0"``) a
    frame, alternating blocks of ``seconds / rounds`` in this process."""
    envs = {}
    for value in ("1", "0"):
        with pack_forced(value):  # read when the first reset builds the renderer
            envs[value] = _make("gl", size)
            envs[value].reset(seed=0)
    steps, spent = dict.fromkeys(envs, 0), dict.fromkeys(envs, 0.0)
    for _ in range(rounds):
        for value, env in envs.items():
            t0 = time.perf_counter()
            steps[value] += _step_for(env, seconds / rounds)
            spent[value] += time.perf_counter() - t0
    for env in envs.values():
        env.close()
    return {k: steps[k] / spent[k] for k in envs}


def _renderers() -> dict[str, str]:
    """Renderers that work here, each with the device it draws on."""
    found: dict[str, str] = {}
    try:
        from proassist.sim.render.gl_context import create_context

        ctx = create_context()
        found["gl"] = f"{ctx.info['GL_RENDERER']} ({ctx.info['GL_VERSION']})"
        ctx.release()
    except (ImportError, RuntimeError, ValueError) as exc:
        print(f"  gl rows skipped: {exc}")
    try:
        import pybullet  # noqa: F401

        found["pybullet"] = "TinyRenderer (CPU)"
    except ImportError as exc:
        print(f"  pybullet rows skipped: {exc}")
    return found


def _counts() -> list[int]:
    """Process counts to measure: ``PROASSIST_BENCH_PROCS``, else every usable core."""
    told = os.environ.get("PROASSIST_BENCH_PROCS", "")
    if not told:
        return [len(os.sched_getaffinity(0))] if hasattr(os, "sched_getaffinity") else [2]
    try:
        counts = [int(c) for c in told.split(",") if c.strip()]
    except ValueError:
        raise ValueError(f"PROASSIST_BENCH_PROCS={told!r}: expected counts like 1,4,16") from None
    if any(c < 1 for c in counts):
        raise ValueError(f"PROASSIST_BENCH_PROCS={told!r}: every count must be at least 1")
    return counts


def _row(name: str, value: str, reference: str = "", ratio: str = "", goal: str = "") -> dict:
    return {"name": name, "value": value, "reference": reference, "ratio": ratio, "goal": goal}


def _renderer_rows(renderer: str, seconds: float) -> list[dict]:
    """One process in this one per frame size, then the process-count rows."""
    ceiling = single_sps(renderer, 128, seconds, render=False)
    rows = [_row(f"{renderer}: env.step render=False", f"{ceiling:.0f} steps/s")]
    for size in sorted({*_sizes(), 128}):
        sps = single_sps(renderer, size, seconds)
        name = f"{renderer}: env.step {size}x{size} rgb+depth+seg, 1 process"
        rows.append(_row(name, f"{sps:.0f} steps/s", f"render=False {ceiling:.0f}"))
    if renderer == "gl":
        sps = pack_sps(128, seconds)
        rows.append(
            _row(
                "gl: env.step 128x128 rgb+depth+seg, 1 process, one read-back (PACK=1)",
                f"{sps['1']:.0f} steps/s",
                f"three read-backs (PACK=0) {sps['0']:.0f} steps/s",
                f"{sps['1'] / sps['0']:.2f}",
            )
        )
    counts = [c for c in _counts() if c > 1]
    return rows + (_procs_rows(renderer, counts, seconds) if counts else [])


def _procs_rows(renderer: str, counts: list[int], seconds: float) -> list[dict]:
    """Each count of processes against one spawned process (the same start-up), and
    above 2 also without rendering: is it the renderer or the processors that stop
    them from scaling?"""
    base = {True: procs_sps(renderer, 1, 128, seconds)[0]}
    if any(c > 2 for c in counts):
        base[False] = procs_sps(renderer, 1, 128, seconds, render=False)[0]
    rows = []
    for procs in counts:
        for render in (True, False) if procs > 2 else (True,):
            total, busy = procs_sps(renderer, procs, 128, seconds, render=render)
            what = "128x128 rgb+depth+seg" if render else "render=False"
            rows.append(
                _row(
                    f"{renderer}: env.step {what}, {procs} processes",
                    f"{total:.0f} env-steps/s ({busy:.0%} on CPU)",
                    f"1 spawned process {base[render]:.0f} steps/s",
                    f"{total / base[render]:.2f}",
                )
            )
    return rows + (_pack_procs_rows(max(counts), seconds) if renderer == "gl" else [])


def _pack_procs_rows(procs: int, seconds: float) -> list[dict]:
    """``procs`` gl processes reading back once a frame against three times."""
    sps = {}
    for value in ("1", "0"):
        with pack_forced(value):
            sps[value] = procs_sps("gl", procs, 128, seconds)[0]
    name = f"gl: env.step 128x128 rgb+depth+seg, {procs} processes, one read-back (PACK=1)"
    reference = f"three read-backs (PACK=0) {sps['0']:.0f} env-steps/s"
    return [_row(name, f"{sps['1']:.0f} env-steps/s", reference, f"{sps['1'] / sps['0']:.2f}")]


def run(quick: bool = False) -> list[dict]:
    """One-process rows per size and the process-count rows, per working renderer."""
    seconds = 1.0 if quick else 4.0
    rows = []
    for renderer, device in _renderers().items():
        rows.append(_row(f"{renderer} device", device))
        rows += _renderer_rows(renderer, seconds)
    return rows
