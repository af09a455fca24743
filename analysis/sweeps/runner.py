"""Resumable sweeps: run every unit of a sweep file, locally or on Ray.

>>> result = run_sweep("analysis/sweeps/examples/example.yaml", "runs/example", workers=2)
>>> result.summary["labels"][0]["metrics"]

A sweep file (schema: :mod:`proassist.analysis.sweeps.spec`) expands into units, one
episode each (:mod:`proassist.analysis.sweeps.expand`). Each finished unit is appended to
``OUT/results.jsonl`` (and its episode record to ``OUT/episodes.jsonl``) durably, so a
sweep killed at any moment and started again runs only the missing units
(:mod:`proassist.analysis.sweeps.store`). ``OUT/sweep.yaml`` holds the spec and
``OUT/summary.json`` the per-label summary (:mod:`proassist.analysis.sweeps.summary`) and
its ``provenance`` (sweep file text, seeds, version, commit: :mod:`proassist.analysis.provenance`).

Engines (:mod:`proassist.analysis.sweeps.backends`): ``local`` (a process pool of
``workers`` processes; ``workers=0`` runs in this process, for debugging) and ``ray``.

A row of ``results.jsonl`` (no wall-clock values: rows are reproducible)::

    {"unit_id": "0385f2fc21b07bac", "label": "duplex,planner_latency=1.0", "task": null,
     "seed": 0, "config": {"policy", "policy_kwargs", "env_id", "env_kwargs"},
     "status": "ok" | "failed", "scores": {...}, "extra": {...},
     "error": null | "Type: message", "traceback": null | "...", "has_episode": true}

After a run the file holds one row per unit, in expansion order (rows of units no
longer in the sweep file are kept after them); ``episodes.jsonl`` likewise.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proassist.analysis.plugins import load_plugins, resolve_plugin
from proassist.analysis.provenance import provenance
from proassist.analysis.sweeps import backends as backends
from proassist.analysis.sweeps.expand import expand_units
from proassist.analysis.sweeps.spec import SweepSpec, load_sweep
from proassist.analysis.sweeps.store import SweepStore, write_atomic
from proassist.analysis.sweeps.summary import MAX_AUTO_METRICS, format_table, summarize
from proassist.analysis.sweeps.units import DEFAULT_UNIT, check_episode_unit

#: How the printed values are defined (the same as eval, the plots and the report).
DEFINITION = (
    "values: metrics pooled over each label's episodes (custom scores: mean over units); "
    "± = 95% bootstrap CI half-width"
)

BACKENDS = ("local", "ray")
#: Corrupt lines named one by one in the resume warning (the rest are counted).
MAX_LISTED = 10


@dataclass
class SweepResult:
    """What :func:`run_sweep` returns.

    Attributes:
        out_dir: The output folder.
        units: Every unit of the sweep, in expansion order.
        rows: Final result rows by unit id (one per finished unit).
        ran: Units run by this call (the others were already done).
        ok: Units of the sweep whose final row is ``ok``.
        failed: Units whose final row is ``failed``.
        summary: The content of ``summary.json``.
        wall_s: Wall time of this call (seconds).
        dropped: ``FILE:LINE`` of each corrupt line dropped on resume (also printed
            to stderr); their units run again.
    """

    out_dir: Path
    units: list[dict[str, Any]]
    rows: dict[str, dict[str, Any]]
    ran: int = 0
    ok: int = 0
    failed: int = 0
    summary: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0
    dropped: list[str] = field(default_factory=list)

    def ordered_rows(self) -> list[dict[str, Any]]:
        """Rows of the sweep's units in expansion order (finished units only)."""
        return [self.rows[u["unit_id"]] for u in self.units if u["unit_id"] in self.rows]


def _load_spec(spec_or_path: SweepSpec | str | Path) -> SweepSpec:
    return spec_or_path if isinstance(spec_or_path, SweepSpec) else load_sweep(spec_or_path)


def _unit_ref(spec: SweepSpec, unit_fn: backends.UnitRef | None, backend: str) -> Any:
    """The unit function to run, checked in this process before anything starts."""
    ref = unit_fn if unit_fn is not None else (spec.unit or DEFAULT_UNIT)
    backends.resolve_unit_fn(ref)  # import errors surface now, not in every worker
    if ref == DEFAULT_UNIT:
        check_episode_unit()
    if callable(ref) and backend == "local":
        try:
            pickle.dumps(ref)
        except Exception as exc:
            raise TypeError(
                "unit_fn must be picklable for local worker processes (a module-level "
                f"function or a 'module:function' string), got {ref!r}"
            ) from exc
    return ref


def _to_run(
    units: list[dict[str, Any]], rows: dict[str, dict[str, Any]], retry_failed: bool
) -> list[dict[str, Any]]:
    def pending(u: dict[str, Any]) -> bool:
        row = rows.get(u["unit_id"])
        return row is None or (retry_failed and row.get("status") != "ok")

    return [u for u in units if pending(u)]


def _progress_bar(total: int, done: int, failed: int, name: str, enabled: bool) -> Any:
    from tqdm import tqdm

    bar = tqdm(
        total=total, initial=done, desc=name, unit="ep", disable=not enabled, file=sys.stderr
    )
    bar.set_postfix(done=done, failed=failed)
    return bar


def _dispatch(
    backend: str,
    units: list[dict[str, Any]],
    ref: Any,
    workers: int,
    on_result: Callable[..., None],
    ray_address: str | None,
) -> None:
    if backend == "ray":
        backends.run_ray(units, ref, max(workers, 1), on_result, ray_address)
    elif workers == 0:
        backends.run_inline(units, ref, on_result)
    else:
        backends.run_local(units, ref, workers, on_result)


def _check_args(backend: str, workers: int) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if not isinstance(workers, int) or workers < 0:
        raise ValueError(f"workers must be an integer >= 0, got {workers!r}")
    if backend == "ray":
        backends.import_ray()  # a missing Ray is reported before anything is written


def run_sweep(
    spec_or_path: SweepSpec | str | Path,
    out_dir: str | Path,
    workers: int = 1,
    backend: str = "local",
    unit_fn: backends.UnitRef | None = None,
    retry_failed: bool = False,
    ray_address: str | None = None,
    progress: bool = True,
    plugins: Sequence[str] = (),
) -> SweepResult:
    """Run (or resume) a sweep.

    Args:
        spec_or_path: A sweep file or a loaded :class:`SweepSpec`.
        out_dir: Output folder (created); holding earlier results, only the missing
            units run.
        workers: Parallel worker processes (``local``; 0 = in this process) or CPUs of
            the local Ray started for the sweep (``ray``).
        backend: ``"local"`` or ``"ray"``.
        unit_fn: Callable or ``"module:function"``; default: the spec's ``unit`` or one
            episode (:func:`proassist.analysis.sweeps.units.episode_unit`).
        retry_failed: Also rerun units whose last row is ``failed`` (the new row
            supersedes it).
        ray_address: Ray cluster address (``ray`` backend); a local Ray otherwise.
        progress: Show a progress bar and print the summary table.
        plugins: Plugins loaded here and in every worker, besides the spec's
            ``plugins`` (``proassist sweep --plugin``).

    Returns:
        The :class:`SweepResult`.

    Raises:
        SweepSpecError: Invalid sweep file (nothing runs).
        SweepLockedError: Another sweep is running in ``out_dir``.
        ImportError: The unit function (or Ray for ``ray``) cannot be imported.
    """
    t0 = time.perf_counter()
    _check_args(backend, workers)
    spec = _load_spec(spec_or_path)
    units = _with_plugins(expand_units(spec), [*spec.plugins, *plugins])
    ref = _unit_ref(spec, unit_fn, backend)
    order = [u["unit_id"] for u in units]
    with SweepStore(out_dir) as store:
        write_atomic(store.out_dir / "sweep.yaml", spec.text or _spec_text(spec))
        rows = store.compact(order)
        dropped = report_dropped(store)
        todo = _to_run(units, rows, retry_failed)
        _run_units(spec, store, units, todo, rows, ref, workers, backend, ray_address, progress)
        rows = store.compact(order)
    result = _finish(spec, Path(out_dir), units, rows, len(todo), progress, t0)
    result.dropped = dropped
    return result


def report_dropped(store: SweepStore) -> list[str]:
    """Print (stderr) what resuming dropped from damaged result files; return the lines.

    Corrupt lines (a torn last line after a kill, anything not a JSON object) are
    named ``FILE:LINE``; rows whose episode line is missing are counted.
    """
    if store.corrupt:
        where = ", ".join(store.corrupt[:MAX_LISTED])
        more = (
            f" and {len(store.corrupt) - MAX_LISTED} more"
            if len(store.corrupt) > MAX_LISTED
            else ""
        )
        n = len(store.corrupt)
        print(
            f"warning: dropped {n} corrupt line{'s' if n != 1 else ''} ({where}{more}); "
            "their units run again",
            file=sys.stderr,
        )
    if store.lost:
        n = len(store.lost)
        print(
            f"warning: dropped {n} row{'s' if n != 1 else ''} of {store.results_path} whose "
            f"episode line is missing from {store.episodes_path}; their units run again",
            file=sys.stderr,
        )
    return list(store.corrupt)


def _with_plugins(units: list[dict[str, Any]], plugins: list[str]) -> list[dict[str, Any]]:
    """Give every unit the plugins its worker loads first (none: units unchanged)."""
    specs = list(dict.fromkeys(resolve_plugin(p) for p in plugins))
    if specs:
        load_plugins(specs)
        for unit in units:
            unit["plugins"] = specs
    return units


def _run_units(
    spec: SweepSpec,
    store: SweepStore,
    units: list[dict[str, Any]],
    todo: list[dict[str, Any]],
    rows: dict[str, dict[str, Any]],
    ref: Any,
    workers: int,
    backend: str,
    ray_address: str | None,
    progress: bool,
) -> None:
    ids = {u["unit_id"] for u in units}
    counts = {"ok": sum(1 for u, r in rows.items() if u in ids and r.get("status") == "ok")}
    counts["failed"] = sum(1 for u, r in rows.items() if u in ids and r.get("status") != "ok")
    already = len(units) - len(todo)
    bar = _progress_bar(len(units), already, counts["failed"], spec.name, progress)

    def on_result(unit: dict, row: dict, episode: Any, elapsed: float) -> None:
        store.record(row, episode if row["status"] == "ok" else None)
        previous = rows.get(unit["unit_id"])
        if previous is not None and previous.get("status") != "ok":
            counts["failed"] -= 1
        rows[unit["unit_id"]] = row
        counts["ok" if row["status"] == "ok" else "failed"] += 1
        bar.set_postfix(done=counts["ok"], failed=counts["failed"], refresh=False)
        bar.update(1)

    try:
        if todo:
            _dispatch(backend, todo, ref, workers, on_result, ray_address)
    finally:
        bar.close()


def _finish(
    spec: SweepSpec,
    out_dir: Path,
    units: list[dict[str, Any]],
    rows: dict[str, dict[str, Any]],
    ran: int,
    progress: bool,
    t0: float,
) -> SweepResult:
    episodes = _episodes_by_unit(out_dir)
    summary = summarize(spec.name, units, rows, spec.metrics, episodes=episodes)
    summary["metrics_chosen"] = bool(spec.metrics)
    result = SweepResult(out_dir, units, rows, ran, summary["ok"], summary["failed"], summary)
    result.wall_s = time.perf_counter() - t0
    summary_out = {**summary, "ran": ran, "wall_s": round(result.wall_s, 3)}
    summary_out["provenance"] = provenance(spec.text or _spec_text(spec), spec.seeds)
    write_atomic(out_dir / "summary.json", json.dumps(summary_out, indent=2) + "\n")
    if progress:
        print(report_text(summary))
    return result


def _episodes_by_unit(out_dir: Path) -> dict[str, dict[str, Any]]:
    """The stored episode records by unit id (``episodes.jsonl``)."""
    from proassist.analysis.sweeps.store import EPISODES, read_jsonl

    path = out_dir / EPISODES
    records = read_jsonl(path)[0] if path.exists() else []
    return {str(r["unit_id"]): r for r in records if "unit_id" in r}


def report_text(summary: dict[str, Any]) -> str:
    """The summary table followed by the ok/failed/pending counts.

    When the sweep file names no metrics, the table shows the first
    ``MAX_AUTO_METRICS`` score columns (``summary.json`` has them all).
    """
    counts = f"{summary['ok']} ok, {summary['failed']} failed, {summary['pending']} pending"
    counts += f"\n{DEFINITION}"
    n = len(summary["metrics"])
    if summary.get("metrics_chosen") or n <= MAX_AUTO_METRICS:
        return f"{format_table(summary)}\n{counts}"
    note = (
        f"(first {MAX_AUTO_METRICS} of {n} scores; set 'metrics:' to choose; all in summary.json)"
    )
    return f"{format_table(summary, MAX_AUTO_METRICS)}\n{note}\n{counts}"


def _spec_text(spec: SweepSpec) -> str:
    """YAML of a spec built in code (no source text)."""
    import yaml

    data: dict[str, Any] = {"name": spec.name, "env": spec.env}
    data["episodes"] = {"seeds": list(spec.seeds)}
    for key in ("policy", "unit"):
        if getattr(spec, key):
            data[key] = getattr(spec, key)
    for key in ("policy_kwargs", "env_kwargs", "grid"):
        if getattr(spec, key):
            data[key] = getattr(spec, key)
    if spec.variants:
        data["variants"] = [_variant_data(v) for v in spec.variants]
    if spec.tasks:
        data["tasks"] = list(spec.tasks)
    if spec.metrics:
        data["metrics"] = list(spec.metrics)
    return yaml.safe_dump(data, sort_keys=False)


def _variant_data(variant: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if variant.label:
        out["label"] = variant.label
    if variant.policy:
        out["policy"] = variant.policy
    out.update(dict(variant.settings))
    return out
