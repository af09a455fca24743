"""Sweep throughput: 2 local workers vs 1, and Ray's per-unit overhead vs local processes.

By default the units are REAL episodes: the example sweep ``analysis/sweeps/
planner_latency.yaml`` cut to its first ``EXAMPLE_SEEDS`` seeds (3 duplex latencies +
silent, 2 kitchen tasks: 24 episodes, 18 of them rendered; about 1 minute on one
free core). ``run(unit=CPU_UNIT)`` times the synthetic
:func:`proassist.analysis.sweeps.units.cpu_unit` instead (a fixed ~0.2 s numpy
computation: the machinery alone), and ``run(spec=FILE)`` any other sweep file.

Wall times include each engine's per-sweep work (spawning the local pool, scheduling Ray
tasks); the Ray cluster's own start-up is excluded (a cluster is started once, not per
sweep), and Ray's workers are warmed up by one throw-away sweep first. The machine may
be shared: the "bare process pool" row (the same units on a plain spawn pool, no sweep
machinery) shows the parallel speedup the machine offered during the run, and the load
row the 1-minute load average (``os.getloadavg``) before and after, against the CPU count.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import multiprocessing
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from proassist.analysis.sweeps.backends import execute_unit
from proassist.analysis.sweeps.expand import expand_units
from proassist.analysis.sweeps.runner import run_sweep
from proassist.analysis.sweeps.spec import SweepSpec, load_sweep
from proassist.analysis.sweeps.units import DEFAULT_UNIT

CPU_UNIT = "proassist.analysis.sweeps.units:cpu_unit"
#: Repetitions of each timing (best of) outside quick mode.
REPEATS = 2
#: The example sweep timed by default, and how many of its seeds (quick: 1).
EXAMPLE_SWEEP = (
    Path(__file__).resolve().parents[1]
    / "analysis"
    / "sweeps"
    / "examples"
    / "planner_latency.yaml"
)
EXAMPLE_SEEDS = 3


def example_spec(n_seeds: int = EXAMPLE_SEEDS, path: str | Path = EXAMPLE_SWEEP) -> SweepSpec:
    """The example sweep file ``path`` cut to its first ``n_seeds`` seeds (real episodes)."""
    spec = load_sweep(path)
    return dataclasses.replace(spec, seeds=spec.seeds[: max(1, n_seeds)])


def cpu_spec(n_units: int, unit: str = CPU_UNIT) -> SweepSpec:
    """A sweep of ``n_units`` units (2 policies x n/2 seeds) running ``unit``."""
    text = (
        "name: bench_sweep\nenv: ProAssist-Kitchen-v0\n"
        f"episodes: {{count: {max(n_units // 2, 1)}}}\n"
        f"unit: {unit}\n"
        "grid: {policy: [silent, periodic]}\n"
    )
    return load_sweep(text, is_text=True)


def _timed(spec: SweepSpec, unit: str | None, **kwargs: Any) -> tuple[float, int]:
    """Wall seconds of one fresh sweep and its number of ok units."""
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        t0 = time.perf_counter()
        res = run_sweep(spec, Path(tmp) / "out", unit_fn=unit, progress=False, **kwargs)
        wall = time.perf_counter() - t0
    if res.failed:
        raise RuntimeError(f"{res.failed} units failed: {res.ordered_rows()[0].get('error')}")
    return wall, res.ok


def _ray_wall(spec: SweepSpec, unit: str | None, workers: int, repeats: int) -> float:
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    try:
        _timed(spec, unit, workers=workers, backend="ray")  # warm-up: worker processes
        return min(_timed(spec, unit, workers=workers, backend="ray")[0] for _ in range(repeats))
    finally:
        if started:
            ray.shutdown()


def _raw_pool(spec: SweepSpec, unit: str | None, workers: int) -> float:
    """Wall seconds of the same units on a bare spawn process pool (no sweep machinery):
    the parallelism the machine offers right now (it is shared)."""
    ref = unit or spec.unit or DEFAULT_UNIT
    ctx = multiprocessing.get_context("spawn")
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        list(pool.map(execute_unit, expand_units(spec), [ref] * len(expand_units(spec))))
    return time.perf_counter() - t0


def _local_rows(sweep: SweepSpec, unit: str | None, repeats: int) -> tuple[list[dict], float, int]:
    best = dict.fromkeys(("t1", "t2", "r1", "r2"), float("inf"))
    n = 0
    for _ in range(repeats):  # interleaved, best of: the machine is shared
        w1, n = _timed(sweep, unit, workers=1)
        w2, _ = _timed(sweep, unit, workers=2)
        r1, r2 = _raw_pool(sweep, unit, 1), _raw_pool(sweep, unit, 2)
        for key, value in zip(best, (w1, w2, r1, r2), strict=True):
            best[key] = min(best[key], value)
    t1, t2, r1, r2 = best.values()
    rows = [
        {"name": f"sweep {n} units, 1 worker", "value": f"{t1:.2f} s"},
        {
            "name": f"sweep {n} units, 2 workers",
            "value": f"{t2:.2f} s",
            "reference": f"{t1:.2f} s (1 worker)",
            "ratio": f"{t1 / t2:.2f}x speedup",
            "goal": ">= 1.8x",
        },
        {
            "name": "bare process pool, 2 vs 1 (machine now)",
            "value": f"{r2:.2f} s",
            "reference": f"{r1:.2f} s (1 process)",
            "ratio": f"{r1 / r2:.2f}x speedup",
            "goal": "",
        },
    ]
    return rows, t2, n


class LoadProbe:
    """Samples the 1-minute load average (``os.getloadavg``) every ``every`` seconds in a
    daemon thread while the benchmark runs (the machine may be shared)."""

    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self.samples: list[float] = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    def row(self) -> dict:
        """The load row: start -> end, mean and max, against the CPU count."""
        cpus = os.cpu_count() or 1
        mean = sum(self.samples) / len(self.samples)
        return {
            "name": "machine load (1-min avg) start -> end",
            "value": f"{self.samples[0]:.2f} -> {self.samples[-1]:.2f}",
            "reference": f"mean {mean:.2f}, max {max(self.samples):.2f}; {cpus} CPUs",
            "ratio": "shared: timings distorted" if mean > cpus / 2 else "",
            "goal": "",
        }


def _select(quick: bool, unit: str | None, spec: str | Path | None) -> SweepSpec:
    if spec is not None:
        return load_sweep(spec)
    if unit == CPU_UNIT:
        return cpu_spec(8 if quick else 24, unit)
    return example_spec(1 if quick else EXAMPLE_SEEDS)


def run(quick: bool = False, unit: str | None = None, spec: str | Path | None = None) -> list[dict]:
    """Measure the sweep engines (rows as in ``bench/__main__.py``).

    Args:
        quick: One seed of the example sweep (8 units; 8 cpu units), no repetition.
        unit: Unit function (``module:function``); None = the sweep file's (episodes);
            :data:`CPU_UNIT` = the synthetic sweep of cpu units.
        spec: A sweep file to time instead of the example.
    """
    sweep = _select(quick, unit, spec)
    unit = None if unit == CPU_UNIT and spec is None else unit
    with LoadProbe() as probe:
        rows = _measure(sweep, unit, 1 if quick else REPEATS)
    return [*rows, probe.row()]


def _measure(sweep: SweepSpec, unit: str | None, repeats: int) -> list[dict]:
    rows, t2, n = _local_rows(sweep, unit, repeats)
    try:
        tr = _ray_wall(sweep, unit, 2, repeats)
    except ImportError:
        return [*rows, {"name": "sweep on Ray", "value": "skipped: ray not installed"}]
    overhead_ms = (tr - t2) / n * 1000 * 2  # per unit, per worker slot
    rows.append(
        {
            "name": f"sweep {n} units, Ray 2 CPUs",
            "value": f"{tr:.2f} s ({overhead_ms:+.0f} ms/unit)",
            "reference": f"{t2:.2f} s (2 local processes)",
            "ratio": f"{(tr - t2) / t2 * 100:+.1f}% overhead",
            "goal": "<= 5%",
        }
    )
    return rows
