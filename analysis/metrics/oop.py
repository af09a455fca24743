"""Out-of-Plan (OOP) detection and closed-loop recovery metrics.

Re-exported by :mod:`proassist.analysis.metrics.scores`.

A *correcting message* is an ``assistant_message`` with intent ``correct_deviation``,
``warn`` or ``re_engage``, or a free-text message (no intent, non-empty text).

- **Detection** (PWR): a deviation with onset ``o`` is detected iff some correcting
  message has ``|t - o| <= tol`` (``GoldConfig.oop_tolerance``, 2.0 s).
  OOP recall = detected / deviations, overall and per kind.
- **Detection latency**: ``t_first - o`` where ``t_first`` is the first correcting
  message in the deviation's *active span* ``[o - tol, max(o + tol, end)]``; ``end`` is
  the time the deviation was resolved, its deadline missed, or the episode end
  (whichever comes first). Undetected deviations have no latency.
- **False alarms per minute**: correcting messages that fall in no deviation's active
  span and in no ``hesitation`` gold window, divided by the episode minutes. (A late
  correction of a still-active deviation is a miss for recall but not a false alarm.)
- **Closed loop** (this testbed), per deviation: recovered iff a
  ``deviation_resolved`` event has its id; assisted iff that event says so
  (``by == "assistant"``), else self-recovered; time to recovery = resolution time -
  onset; deadline missed iff a ``deadline_missed`` event has its id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from proassist.analysis.metrics.content import episode_minutes, is_correcting, messages_of
from proassist.sim.gold import GoldConfig, GoldMoment


def deviations_of(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``deviation`` events of a record, in order."""
    return [e for e in record.get("events") or [] if e.get("type") == "deviation"]


def _by_id(record: Mapping[str, Any], typ: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for e in record.get("events") or []:
        if e.get("type") == typ and e.get("id") is not None:
            out.setdefault(str(e["id"]), e)
    return out


def _onset(dev: Mapping[str, Any]) -> float:
    return float(dev.get("onset", dev["t"]))


def _active_end(record: Mapping[str, Any], dev: Mapping[str, Any], tol: float) -> float:
    ends = [60.0 * episode_minutes(record)]
    for typ in ("deviation_resolved", "deadline_missed"):
        e = _by_id(record, typ).get(str(dev.get("id")))
        if e is not None:
            ends.append(float(e["t"]))
    return max(_onset(dev) + tol, min(ends))


def oop_detections(
    record: Mapping[str, Any], config: GoldConfig | None = None
) -> list[dict[str, Any]]:
    """Per deviation: ``id, kind, onset, detected, latency`` (latency None if undetected)."""
    tol = (config or GoldConfig()).oop_tolerance
    times = [float(m["t"]) for m in messages_of(record) if is_correcting(m)]
    out = []
    for dev in deviations_of(record):
        onset = _onset(dev)
        end = _active_end(record, dev, tol)
        detected = any(abs(t - onset) <= tol + 1e-9 for t in times)
        in_span = [t for t in times if onset - tol - 1e-9 <= t <= end + 1e-9]
        latency = min(in_span) - onset if in_span else None
        out.append(
            {"id": dev.get("id"), "kind": dev.get("kind"), "onset": onset}
            | {"detected": detected, "latency": latency}
        )
    return out


def false_alarms(
    record: Mapping[str, Any],
    config: GoldConfig | None = None,
    moments: Sequence[GoldMoment] | None = None,
) -> int:
    """Number of correcting messages outside every deviation span and hesitation window.

    Args:
        record: An episode record.
        config: Tolerances.
        moments: The record's gold moments (computed when None).
    """
    from proassist.sim.gold import gold_moments

    cfg = config or GoldConfig()
    tol = cfg.oop_tolerance
    spans = [(_onset(d) - tol, _active_end(record, d, tol)) for d in deviations_of(record)]
    moments = gold_moments(record, cfg) if moments is None else moments
    spans += [m.window for m in moments if m.kind == "hesitation"]
    count = 0
    for msg in messages_of(record):
        t = float(msg["t"])
        if is_correcting(msg) and not any(lo - 1e-9 <= t <= hi + 1e-9 for lo, hi in spans):
            count += 1
    return count


def recoveries(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per deviation: ``id, kind, onset, recovered, assisted, by, time_to_recovery,
    deadline_missed`` (time_to_recovery None when not recovered)."""
    resolved = _by_id(record, "deviation_resolved")
    missed = _by_id(record, "deadline_missed")
    out = []
    for dev in deviations_of(record):
        key = str(dev.get("id"))
        res = resolved.get(key)
        assisted = bool(res is not None and (res.get("assisted") or res.get("by") == "assistant"))
        out.append(
            {
                "id": dev.get("id"),
                "kind": dev.get("kind"),
                "onset": _onset(dev),
                "recovered": res is not None,
                "assisted": assisted,
                "by": None if res is None else ("assistant" if assisted else "self"),
                "time_to_recovery": None if res is None else float(res["t"]) - _onset(dev),
                "deadline_missed": key in missed,
            }
        )
    return out


def task_success(record: Mapping[str, Any]) -> bool:
    """The record's ``success`` (else the ``task_end`` event's; False when absent)."""
    if record.get("success") is not None:
        return bool(record["success"])
    for e in record.get("events") or []:
        if e.get("type") == "task_end":
            return bool(e.get("success"))
    return False


def latency_distribution(
    records: Sequence[Mapping[str, Any]], config: GoldConfig | None = None
) -> dict[str, list[float]]:
    """Detection latencies (seconds) per deviation kind, pooled over records."""
    out: dict[str, list[float]] = {}
    for rec in records:
        for d in oop_detections(rec, config):
            if d["latency"] is not None:
                out.setdefault(str(d["kind"]), []).append(float(d["latency"]))
    return out
