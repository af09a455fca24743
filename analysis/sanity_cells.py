"""Running a sanity run's (row, env) cells (:func:`run_cells`), and keeping the finished
ones on disk so that a killed run resumes.

``proassist sanity --out DIR`` records every (row, env) cell's scores in
``DIR/cells/results.jsonl`` as soon as it finishes (one line per cell, written and
``fsync``-ed whole, under a lock: :class:`~proassist.analysis.sweeps.store.SweepStore`,
the sweeps' store). ``--resume`` reuses a recorded cell only when its **key** matches:
a hash of the row (policy and kwargs), the env, the seeds, the env kwargs, the plugins
(a plugin file by its bytes) and the package's own files
(:func:`~proassist.analysis.provenance.source_fingerprint`: code, task files and
checkpoints, committed or not). So a cell written by other code or settings is run
again, never mixed in; a cell that crashed is run again too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["CELLS", "ERROR_KEY", "CellStore", "cell_key", "run_cells"]

#: The folder of the recorded cells inside a sanity run's output folder.
CELLS = "cells"
#: Key of a crashed cell's result: the error, in place of the scores.
ERROR_KEY = "error"


def cell_key(
    row: Any,
    env_id: str,
    seeds: Sequence[int],
    env_kwargs: Mapping[str, Any],
    plugins: Sequence[str],
) -> str:
    """The key of one cell: what makes its scores (module docstring)."""
    from proassist.analysis.provenance import files_fingerprint, source_fingerprint

    data = {
        "row": [row.label, row.policy, row.kwargs, row.pixels],
        "env": env_id,
        "seeds": [int(s) for s in seeds],
        "env_kwargs": dict(env_kwargs),
        "plugins": [[p, files_fingerprint([p]) if Path(p).exists() else None] for p in plugins],
        "code": source_fingerprint(),
    }
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class CellStore:
    """The recorded cells of one output folder (module docstring).

    Args:
        out_dir: The sanity run's output folder (its cells go to ``out_dir/cells``).
        resume: Reuse the recorded cells whose key matches (else record anew).

    Raises:
        SweepLockedError: When another run records cells in the same folder.
    """

    def __init__(self, out_dir: str | Path, resume: bool = False) -> None:
        from proassist.analysis.sweeps.store import SweepStore

        self.store = SweepStore(Path(out_dir) / CELLS)
        rows, _ = self.store.load()
        self.recorded = {u: r for u, r in rows.items() if r.get("status") == "ok"} if resume else {}
        self.reused = 0
        self.stale = 0  # recorded cells not reused: other code or settings

    @staticmethod
    def unit(label: str, env_id: str) -> str:
        """The id of the cell of row ``label`` on ``env_id``."""
        return f"{label}|{env_id}"

    def get(self, unit: str, key: str) -> dict[str, Any] | None:
        """The recorded scores of ``unit`` if its key is ``key``, else None."""
        row = self.recorded.get(unit)
        if row is None:
            return None
        if row.get("key") != key:
            self.stale += 1
            return None
        self.reused += 1
        return dict(row["scores"])

    def put(self, unit: str, key: str, scores: Mapping[str, Any], failed: bool) -> None:
        """Record ``unit``'s scores (durably; ``failed``: its error, run again on resume)."""
        status = "error" if failed else "ok"
        self.store.record({"unit_id": unit, "key": key, "status": status, "scores": scores}, None)

    def summary(self) -> str:
        """What a resumed run reused, in words."""
        return (
            f"reused {self.reused} recorded cells; {self.stale} recorded by other code or "
            "settings ran again"
        )

    def close(self) -> None:
        """Rewrite the record with one line per cell and unlock."""
        self.store.compact(())
        self.store.close()


def run_cells(
    cells: list[tuple[Any, str]],
    run: Any,
    workers: int,
    progress: bool,
    store: CellStore | None = None,
) -> list[dict[str, Any]]:
    """Every (row, env) cell's scores: recorded in ``store`` (matching key), else run, in
    a spawn process pool when ``workers > 1``, and recorded there as each finishes.

    Args:
        cells: ``(row, env id)`` pairs (:class:`~proassist.analysis.sanity.Row`).
        run: ``run(row, env_id) -> scores`` (``{ERROR_KEY: ...}`` when it crashed), with
            ``run.key(row, env_id)`` (:func:`cell_key`); picklable for the pool.
        workers: Processes (1: here).
        progress: Show a progress bar.
        store: Where cells are recorded (None: nowhere).
    """
    from tqdm import tqdm

    keys = [run.key(row, env_id) for row, env_id in cells]
    units = [CellStore.unit(row.label, env_id) for row, env_id in cells]
    found = [store.get(u, k) if store else None for u, k in zip(units, keys, strict=True)]
    results: list[dict[str, Any]] = [r or {} for r in found]
    todo = [i for i, r in enumerate(found) if r is None]

    def finish(j: int, scores: dict[str, Any]) -> None:
        results[todo[j]] = scores
        if store is not None:
            store.put(units[todo[j]], keys[todo[j]], scores, ERROR_KEY in scores)

    bar = tqdm(total=len(todo), desc="sanity", unit="cell", disable=not progress, leave=False)
    (_run_pool if workers > 1 else _run_serial)([cells[i] for i in todo], run, workers, bar, finish)
    bar.close()
    return results


def _run_serial(
    cells: list[tuple[Any, str]],
    run: Callable[..., dict],
    workers: int,
    bar: Any,
    finish: Callable[[int, dict[str, Any]], None],
) -> None:
    """Run ``cells`` here, one after another (``workers`` unused: :func:`_run_pool`'s
    signature); ``finish(index, scores)`` as each ends."""
    for j, (row, env_id) in enumerate(cells):
        bar.set_postfix_str(f"{row.label} {env_id}")
        finish(j, run(row, env_id))
        bar.update(1)


def _run_pool(
    cells: list[tuple[Any, str]],
    run: Callable[..., dict],
    workers: int,
    bar: Any,
    finish: Callable[[int, dict[str, Any]], None],
) -> None:
    """Run ``cells`` in a spawn process pool; ``finish(index, scores)`` as each ends."""
    import concurrent.futures as cf
    import multiprocessing

    from proassist.analysis.calibration import one_math_thread

    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=one_math_thread) as pool:
        futures = {pool.submit(run, row, env_id): i for i, (row, env_id) in enumerate(cells)}
        try:
            for fut in cf.as_completed(futures):
                try:
                    scores = fut.result()
                except Exception as exc:  # noqa: BLE001 - a dead worker: record, go on
                    scores = {ERROR_KEY: f"{type(exc).__name__}: {exc}"}
                finish(futures[fut], scores)
                bar.update(1)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
