"""Loading a run folder for plotting: episode records grouped by label.

Three layouts are recognised (:func:`load_run_dir`):

- **sweep** (``proassist sweep``): ``results.jsonl`` rows (``unit_id, label, config,
  seed, status, ...``) and ``episodes.jsonl`` records carrying ``unit_id`` and ``label``;
  labels keep the order of the rows (the sweep's expansion order).
- **eval** (``proassist eval``): ``episodes.jsonl`` (records without labels, grouped by
  their ``policy``) and ``scores.json``.
- **episode** (``proassist demo``): one record in ``episode.json``.

Nothing here touches an environment: the input is the records alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Policy names (registry name or class name) of the silent assistant.
SILENT_NAMES = frozenset({"silent", "silentpolicy"})


class NoEpisodesError(ValueError):
    """A folder holds no episode records that can be plotted."""


@dataclass
class RunData:
    """The episode records of one run folder, grouped by label.

    Attributes:
        path: The folder.
        kind: ``"sweep"``, ``"eval"`` or ``"episode"``.
        groups: Label -> episode records, in display order.
        rows: ``results.jsonl`` rows (sweep folders; empty otherwise).
        scores: ``scores.json`` (eval folders; empty otherwise).
        name: A display name (the sweep's name, else the folder name).
    """

    path: Path
    kind: str
    groups: dict[str, list[dict[str, Any]]]
    rows: list[dict[str, Any]] = field(default_factory=list)
    scores: dict[str, Any] = field(default_factory=dict)
    name: str = ""

    @property
    def labels(self) -> list[str]:
        """The labels in display order."""
        return list(self.groups)

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every record, label after label."""
        return [r for recs in self.groups.values() for r in recs]


def read_records(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL file of records (a torn last line, as a killed sweep leaves, is skipped).

    Raises:
        NoEpisodesError: If a complete line is not a JSON object.
    """
    from proassist.analysis.sweeps.store import read_jsonl

    rows, bad = read_jsonl(path)
    text = path.read_bytes()
    torn = int(bool(text) and not text.endswith(b"\n"))
    if bad > torn:
        raise NoEpisodesError(f"{path}: {bad} line(s) are not JSON objects")
    return rows


def _check_records(records: Sequence[Mapping[str, Any]], path: Path) -> None:
    for i, rec in enumerate(records, 1):
        missing = [k for k in ("plan", "events", "decisions") if k not in rec]
        if missing:
            raise NoEpisodesError(
                f"{path}: record {i} lacks {', '.join(missing)}; expected episode records "
                "(CONTRACTS.md §5)"
            )


def _group(records: Sequence[dict[str, Any]], order: Sequence[str] = ()) -> dict[str, list]:
    groups: dict[str, list[dict[str, Any]]] = {lab: [] for lab in order}
    for rec in records:
        label = str(rec.get("label") or rec.get("policy") or "episodes")
        groups.setdefault(label, []).append(rec)
    return {lab: recs for lab, recs in groups.items() if recs}


def _sweep_name(path: Path) -> str:
    summary = path / "summary.json"
    if summary.exists():
        try:
            return str(json.loads(summary.read_text()).get("name") or path.name)
        except ValueError:
            pass
    return path.name


def load_run_dir(path: str | Path) -> RunData:
    """Load the episode records of a sweep, eval or demo folder (module docstring).

    Raises:
        NoEpisodesError: The folder does not exist or holds no episode records.
    """
    path = Path(path)
    if not path.is_dir():
        raise NoEpisodesError(f"{path}: not a folder")
    episodes = path / "episodes.jsonl"
    if episodes.exists():
        records = read_records(episodes)
        rows = read_records(path / "results.jsonl") if (path / "results.jsonl").exists() else []
    elif (path / "episode.json").exists():
        records, rows = [json.loads((path / "episode.json").read_text())], []
    else:
        raise NoEpisodesError(
            f"{path}: no episodes.jsonl (from proassist sweep or proassist eval) "
            "or episode.json (from proassist demo)"
        )
    if not records:
        raise NoEpisodesError(f"{path}: no episode records (episodes.jsonl is empty)")
    _check_records(records, path)
    order = list(dict.fromkeys(str(r["label"]) for r in rows if r.get("label") is not None))
    scores_path = path / "scores.json"
    scores = json.loads(scores_path.read_text()) if scores_path.exists() else {}
    kind = "sweep" if rows else ("eval" if episodes.exists() else "episode")
    name = _sweep_name(path) if kind == "sweep" else path.name
    return RunData(path, kind, _group(records, order), rows, scores, name)


def is_silent(records: Sequence[Mapping[str, Any]]) -> bool:
    """Whether every record was run with the silent assistant."""
    return bool(records) and all(str(r.get("policy", "")).lower() in SILENT_NAMES for r in records)


def env_key(record: Mapping[str, Any]) -> str:
    """The record's env settings as canonical JSON (episodes pair only within one
    setting), without the arguments that change only frames
    (:data:`proassist.sim.render.FRAME_ARGUMENTS`: a silent run without pixels
    pairs with a pixel run of the same seed)."""
    from proassist.sim.render import FRAME_ARGUMENTS

    kwargs = {k: v for k, v in (record.get("env_kwargs") or {}).items() if k not in FRAME_ARGUMENTS}
    return json.dumps(
        {"env_id": record.get("env_id"), "env_kwargs": kwargs}, sort_keys=True, default=str
    )


def representative(data: RunData, choice: str | None = None) -> dict[str, Any]:
    """The episode to draw as a timeline.

    Args:
        data: The loaded folder.
        choice: A ``unit_id``, or an index into :attr:`RunData.records`; when None, the
            episode of a non-silent label with the most deviations (then the most
            assistant messages), first label first.

    Raises:
        NoEpisodesError: If ``choice`` names no episode.
    """
    records = data.records
    if choice is not None:
        for rec in records:
            if str(rec.get("unit_id")) == choice:
                return rec
        if choice.lstrip("-").isdigit() and -len(records) <= int(choice) < len(records):
            return records[int(choice)]
        raise NoEpisodesError(
            f"--episode {choice!r}: expected a unit_id or an index in [0, {len(records)})"
        )
    speaking = [r for lab, recs in data.groups.items() if not is_silent(recs) for r in recs]
    pool = speaking or records

    def weight(rec: Mapping[str, Any]) -> tuple[int, int]:
        events = rec.get("events") or []
        n_dev = sum(e.get("type") == "deviation" for e in events)
        n_msg = sum(e.get("type") == "assistant_message" for e in events)
        return n_dev, n_msg

    return max(pool, key=weight)
