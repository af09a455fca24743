"""EgoProactive challenge JSONL: export our episodes as sessions, and score predictions.

**Session format** (one JSON object per line), one session per episode, cut into chunks
of ``chunk_s`` = 8 s:

- ``video_path``: the record's ``video_path`` if present, else ``"<task>/seed<seed>.mp4"``
  (the same for the gold and the policy export of one episode, so they pair; a path
  already taken by an earlier session of the export gets ``-<n>`` appended, n = the
  session's index). It is relative to the JSONL's folder: ``proassist export-challenge``
  renders the episode's egocentric observations there
  (:mod:`proassist.analysis.challenge_video`) unless ``--no-video``.
- ``fps``: ``1 / dt`` (frames per second of the video; one frame per decision point).
- ``resolution``: ``[width, height]`` of the video's frames (the rendered size, else the
  recorded observation size).
- ``frame_times``: the sim time in seconds of every video frame: frame ``k`` (video time
  ``k / fps``) is the observation at ``frame_times[k]``, which the recorded decision
  ``k`` answered. Chunk ``i`` covers the frames with ``frame_times`` in
  ``video_intervals[i]`` (half-open, the last one closed), so an outside model's
  per-frame outputs map to chunk answers by ``floor(t / chunk_s)``.
- ``duration_in_sec``: the episode duration.
- ``video_intervals``: ``[[0, 8], [8, 16], ..., [8(n-1), duration]]``.
- ``query``: the task goal; ``domain``, ``task``.
- ``answers[i]``: ``"$silent$"`` or ``"$interrupt$<utterance>"`` for chunk ``i``.
  Gold (``source="gold"``): chunk ``i`` is an interrupt iff one of its decision points
  is gold-True (:func:`proassist.sim.gold.gold_decisions`); the utterance is the
  reference text of the gold moment of its first such point. The ``opening`` moment
  makes ``answers[0]`` the opening interrupt (the first instruction). Policy
  (``source="policy"``): chunk ``i`` is an interrupt iff the policy interrupted at one of
  its decision points; the utterance is the first such action's text, else the
  instruction of the step it names, else its intent.
- ``dialog[i]``: the history before chunk ``i``: the interrupts of chunks ``0..i-1``
  (``{"role": "assistant", "time": t, "content": utterance}``) and the person's
  utterances before ``8·i`` s (``{"role": "user", ...}``), in time order.
- ``proassist``: our extra ground truth: ``env_id, seed, policy, dt, chunk_s, source,
  success, plan`` (``id, instruction, after``), ``deviations`` (``id, kind, step, onset,
  deadline, recovery_steps``) and ``gold_moments`` (:meth:`GoldMoment.to_dict`).

**Scorer** (the challenge's definitions): a prediction is an interrupt iff its
left-stripped text starts with ``$interrupt$`` (gold answers alike); TP/FP/TN/FN are
pooled over all chunks of all sessions, interrupt positive; where a session's gold and
predicted answer lists differ in length only the first ``min(len)`` chunks count.
IF1, SF1, Macro-F1, G-Mean as in :mod:`proassist.analysis.metrics.scores`. Sessions are paired
by ``(video_path, query)`` when every predicted session has both fields, otherwise by
order (``pred[i]`` with ``gold[i]``). A gold session without a prediction contributes no
chunk and is listed under ``missing_sessions``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from proassist.analysis.metrics.scores import decision_counts, scores_from_counts
from proassist.sim.gold import (
    GoldConfig,
    decision_times,
    gold_content,
    gold_moments,
    instruction_of,
)

SILENT = "$silent$"
INTERRUPT = "$interrupt$"
SOURCES = ("gold", "policy")


def is_interrupt(answer: Any) -> bool:
    """Whether a challenge answer is an interrupt (left-stripped, starts with the tag)."""
    return str(answer).lstrip().startswith(INTERRUPT)


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read a JSONL file of objects (blank lines skipped).

    Raises:
        ValueError: Naming ``FILE:LINE`` for a line that is not a JSON object.
    """
    out = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise ValueError(f"{path}:{n}: expected a JSON object per line")
            out.append(obj)
    return out


def write_jsonl(rows: Sequence[Mapping[str, Any]], path: str | Path) -> None:
    """Write one JSON object per line."""
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")


def read_episodes(run_dir: str | Path) -> list[dict[str, Any]]:
    """Read ``DIR/episodes.jsonl``.

    Raises:
        FileNotFoundError: If the file does not exist.
    """
    path = Path(run_dir) / "episodes.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: expected an eval run directory")
    return read_jsonl(path)


def export_run(run_dir: str | Path, source: str = "gold") -> Path:
    """Write ``DIR/challenge.jsonl``: the challenge export of ``DIR/episodes.jsonl``.

    Args:
        run_dir: A directory with ``episodes.jsonl`` (an eval run or a dataset).
        source: ``"gold"`` (the gold moments) or ``"policy"`` (the policy's actions).

    Returns:
        The path written.
    """
    path = Path(run_dir) / "challenge.jsonl"
    write_jsonl(export_challenge(read_episodes(run_dir), source), path)
    return path


def action_utterance(record: Mapping[str, Any], action: Mapping[str, Any]) -> str:
    """The words of an action: its text, else its step's instruction, else its intent."""
    text = str(action.get("text") or "").strip()
    return text or instruction_of(record, action.get("step")) or str(action.get("intent") or "")


def _duration(record: Mapping[str, Any]) -> float:
    if record.get("duration") is not None:
        return float(record["duration"])
    times = decision_times(record)
    return times[-1] + float(record.get("dt", 0.5)) if times else 0.0


def _chunk_answers(record, source: str, cfg: GoldConfig, n: int) -> list[tuple[float, str]]:
    """Per chunk ``(time, answer)`` (time of the first interrupting decision, or NaN)."""
    answers: list[tuple[float, str]] = [(math.nan, SILENT)] * n
    if source == "gold":
        pairs = zip(decision_times(record), gold_content(record, cfg), strict=True)
        items = [(t, m.text) for t, m in pairs if m is not None]
    else:
        items = [
            (float(d["t"]), action_utterance(record, d))
            for d in record["decisions"]
            if int(d.get("decision") or 0)
        ]
    for t, words in items:
        i = min(n - 1, int(math.floor(t / cfg.chunk_s + 1e-9)))
        if answers[i][1] == SILENT:
            answers[i] = (t, INTERRUPT + words)
    return answers


def _dialogs(record, answers: list[tuple[float, str]], chunk_s: float) -> list[list[dict]]:
    said = [
        {"role": "user", "time": float(e["t"]), "content": str(e.get("text", ""))}
        for e in record["events"]
        if e.get("type") == "person_utterance"
    ]
    dialogs, history = [], []
    for i, (t, ans) in enumerate(answers):
        start = i * chunk_s
        turns = history + [u for u in said if u["time"] < start]
        dialogs.append(sorted(turns, key=lambda u: u["time"]))
        if is_interrupt(ans):
            history = history + [
                {"role": "assistant", "time": t, "content": ans.lstrip()[len(INTERRUPT) :]}
            ]
    return dialogs


def _extra(record, source: str, cfg: GoldConfig) -> dict[str, Any]:
    devs = [e for e in record["events"] if e.get("type") == "deviation"]
    keys = ("id", "kind", "step", "onset", "deadline", "recovery_steps")
    return {
        "env_id": record.get("env_id"),
        "seed": record.get("seed"),
        "policy": record.get("policy"),
        "dt": record.get("dt"),
        "chunk_s": cfg.chunk_s,
        "source": source,
        "success": record.get("success"),
        "plan": [{k: s.get(k) for k in ("id", "instruction", "after")} for s in record["plan"]],
        "deviations": [{k: d.get(k) for k in keys} for d in devs],
        "gold_moments": [m.to_dict() for m in gold_moments(record, cfg)],
    }


def _video_fields(record: Mapping[str, Any], resolution: tuple[int, int] | None) -> dict[str, Any]:
    """``video_path, fps, resolution, frame_times`` of a record's session."""
    from proassist.analysis.challenge_video import record_resolution

    size = resolution or record_resolution(record)
    return {
        "video_path": record.get("video_path") or f"{record['task']}/seed{record['seed']}.mp4",
        "fps": 1.0 / float(record.get("dt") or 0.5),
        "resolution": [int(size[0]), int(size[1])],
        "frame_times": decision_times(record),
    }


def export_session(
    record: Mapping[str, Any],
    source: str = "gold",
    config: GoldConfig | None = None,
    resolution: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """One episode record as a challenge session (module docstring).

    Args:
        record: An episode record (CONTRACTS.md §5).
        source: ``"gold"`` or ``"policy"``.
        config: Gold windows and ``chunk_s``.
        resolution: ``(width, height)`` of the rendered video (default: recorded size).

    Raises:
        ValueError: If ``source`` is not ``gold`` or ``policy``.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    cfg = config or GoldConfig()
    duration = _duration(record)
    n = max(1, math.ceil(duration / cfg.chunk_s - 1e-9))
    answers = _chunk_answers(record, source, cfg, n)
    intervals = [[i * cfg.chunk_s, min((i + 1) * cfg.chunk_s, duration)] for i in range(n)]
    return _video_fields(record, resolution) | {
        "duration_in_sec": duration,
        "video_intervals": intervals,
        "query": record.get("goal", ""),
        "domain": record.get("domain", ""),
        "task": record.get("task", ""),
        "answers": [a for _, a in answers],
        "dialog": _dialogs(record, answers, cfg.chunk_s),
        "proassist": _extra(record, source, cfg),
    }


def export_challenge(
    records: Sequence[Mapping[str, Any]],
    source: str = "gold",
    config: GoldConfig | None = None,
    resolution: tuple[int, int] | None = None,
) -> list[dict[str, Any]]:
    """Every record as a challenge session, in order, with distinct ``video_path``s."""
    sessions = [export_session(r, source, config, resolution) for r in records]
    taken: set[str] = set()
    for i, s in enumerate(sessions):
        if s["video_path"] in taken:
            stem, dot, ext = s["video_path"].rpartition(".")
            s["video_path"] = f"{stem}-{i}.{ext}" if dot else f"{ext}-{i}"
        taken.add(s["video_path"])
    return sessions


def _key(session: Mapping[str, Any]) -> tuple[str, str] | None:
    if session.get("video_path") is None or session.get("query") is None:
        return None
    return str(session["video_path"]), str(session["query"])


def pair_sessions(
    gold: Sequence[Mapping[str, Any]], pred: Sequence[Mapping[str, Any]]
) -> list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
    """Pair each gold session with its prediction (None when missing); module docstring.

    Raises:
        ValueError: If two predicted sessions share a ``(video_path, query)``.
    """
    keys = [_key(p) for p in pred]
    if not pred or any(k is None for k in keys):
        return [(g, pred[i] if i < len(pred) else None) for i, g in enumerate(gold)]
    by_key: dict[tuple[str, str], Mapping[str, Any]] = {}
    for k, p in zip(keys, pred, strict=True):
        if k in by_key:
            raise ValueError(f"two predicted sessions share (video_path, query) = {k}")
        by_key[k] = p
    return [(g, by_key.get(_key(g))) for g in gold]  # type: ignore[arg-type]


def _labels(session: Mapping[str, Any], which: str) -> list[bool]:
    answers = session.get("answers")
    if not isinstance(answers, list):
        raise ValueError(f"{which} session {_key(session)} has no 'answers' list")
    return [is_interrupt(a) for a in answers]


def _scores(counts: Mapping[str, int]) -> dict[str, float]:
    return scores_from_counts(counts["tp"], counts["fp"], counts["tn"], counts["fn"])


def score_challenge(
    gold: Sequence[Mapping[str, Any]], pred: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Challenge scores: pooled ``if1, sf1, macro_f1, g_mean`` (+ counts), ``per_task``."""
    totals = {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
    per_task: dict[str, dict[str, int]] = {}
    missing, n_chunks = [], 0
    for g, p in pair_sessions(gold, pred):
        if p is None:
            missing.append(g.get("video_path"))
            continue
        gl, pl = _labels(g, "gold"), _labels(p, "predicted")
        k = min(len(gl), len(pl))
        c = decision_counts(gl[:k], pl[:k])
        task = per_task.setdefault(str(g.get("task", "")), dict.fromkeys(totals, 0))
        for name in totals:
            totals[name] += c[name]
            task[name] += c[name]
        n_chunks += k
    out: dict[str, Any] = _scores(totals)
    out |= {"n_sessions": len(gold), "n_chunks": n_chunks, "missing_sessions": missing}
    out["per_task"] = {
        t: _scores(c) | {"n_chunks": sum(c.values())} for t, c in sorted(per_task.items())
    }
    return out
