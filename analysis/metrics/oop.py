"""Out-of-Plan (OOP) detection and closed-loop recovery metrics.

Re-exported by :mod:`proassist.analysis.metrics.scores`.

A *correcting message* is an ``assistant_message`` whose (understood) intent is in
:data:`proassist.sim.gold.CORRECTING_INTENTS` (``correct_deviation``, ``warn``,
``re_engage``). A structured message names its ``step``; a free-text message names
the step and has the intent the person understood
(:class:`proassist.analysis.metrics.understanding.Understanding`: the message's
``reaction`` event, else the person's matcher :mod:`proassist.sim.person.language`).
It *addresses* deviation ``d`` iff the named step is ``d.step``, one of ``d``'s
recovery steps or one of its ``related_steps`` (``order``: the predecessor it skipped
ahead of, "do that first") **and** its intent fits ``d``'s kind (:func:`accepted_intents`): for the
attention kinds (gold intent ``re_engage`` in :data:`proassist.sim.gold.DEVIATION_INTENTS`:
distraction, hesitation) any correcting intent; for every other kind (an error)
``correct_deviation`` or ``warn``: "let's get back to step X" does not say that step X
went wrong, so a re-engagement spam naming the expected step detects nothing. Deviations counted: the ``deviation`` events (logged at onset, when the
deviation becomes visible) with onset before the episode end and not marked
``visible: false``.

- **Detection** (content-aware, ``oop_recall``): a deviation with onset ``o`` is
  detected iff some correcting message that addresses it has ``|t - o| <= tol``
  (``GoldConfig.oop_tolerance``, 2.0 s). OOP recall = detected / deviations, overall
  and per kind (``oop_recall_<kind>``).
- **Detection, content-blind** (``oop_recall_any``, the former definition, PWR): any
  message with a correcting intent, or any free text, within ``|t - o| <= tol``.
- **OOP precision**: addressed / correcting messages, where a correcting message is
  addressed iff it addresses a deviation that is *active* at its time ``t``:
  ``o - tol <= t <= end`` (the active span below).
- **Detection latency**: ``t_first - o`` where ``t_first`` is the first correcting
  message addressing the deviation in its *active span* ``[o - tol, max(o + tol,
  end)]``; ``end`` is the time the deviation was resolved, its deadline missed, or the
  episode end (whichever comes first). Undetected deviations have no latency
  (``latency_any``: the same with any correcting message, content-blind).
- **False alarms per minute** (content-blind): correcting messages (intent or any free
  text) that fall in no deviation's active span and in no ``hesitation`` gold window,
  divided by the episode minutes. (A late correction of a still-active deviation is a
  miss for recall but not a false alarm; a wrong-step correction inside a span is
  caught by OOP precision instead.)
- **Closed loop** (this testbed), per deviation: recovered iff a
  ``deviation_resolved`` event has its id; assisted iff that event says so
  (``by == "assistant"``), else self-recovered; time to recovery = resolution time -
  onset; deadline missed iff a ``deadline_missed`` event has its id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from proassist.analysis.metrics.content import episode_minutes, is_correcting, messages_of
from proassist.analysis.metrics.understanding import Understanding
from proassist.sim.deviations.base import addressable_steps
from proassist.sim.gold import CORRECTING_INTENTS, DEVIATION_INTENTS, GoldConfig, GoldMoment


def deviations_of(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``deviation`` events of a record, in order."""
    return [e for e in record.get("events") or [] if e.get("type") == "deviation"]


def visible_deviations(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The deviations OOP detection counts: onset before the episode end, not invisible."""
    end = 60.0 * episode_minutes(record) + 1e-9
    return [d for d in deviations_of(record) if d.get("visible", True) and _onset(d) <= end]


def deviation_steps(dev: Mapping[str, Any]) -> frozenset[str]:
    """The step ids that address a deviation: its step, its recovery steps and its
    related steps (:func:`proassist.sim.deviations.base.addressable_steps`)."""
    return addressable_steps(dev)


def accepted_intents(kind: str | None) -> tuple[str, ...]:
    """The correcting intents that can detect a deviation of ``kind`` (module docstring)."""
    if DEVIATION_INTENTS.get(str(kind)) == "re_engage":
        return CORRECTING_INTENTS
    return tuple(i for i in CORRECTING_INTENTS if i != "re_engage")


def correcting_messages(record: Mapping[str, Any]) -> list[tuple[float, str | None, str]]:
    """``(t, named step, intent)`` of every correcting message (as understood)."""
    understand = Understanding(record)
    out = []
    for m in messages_of(record):
        intent, step = understand(m)
        if intent in CORRECTING_INTENTS:
            out.append((float(m["t"]), None if step is None else str(step), str(intent)))
    return out


def _addresses(step: str | None, intent: str, dev: Mapping[str, Any]) -> bool:
    return step in deviation_steps(dev) and intent in accepted_intents(dev.get("kind"))


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


def _hits(times: Sequence[float], onset: float, end: float, tol: float) -> tuple[bool, Any]:
    """Whether some time is within ``onset ± tol``, and the latency of the first one in
    the active span ``[onset - tol, end]`` (None if none)."""
    detected = any(abs(t - onset) <= tol + 1e-9 for t in times)
    in_span = [t for t in times if onset - tol - 1e-9 <= t <= end + 1e-9]
    return detected, (min(in_span) - onset if in_span else None)


def oop_detections(
    record: Mapping[str, Any], config: GoldConfig | None = None
) -> list[dict[str, Any]]:
    """Per visible deviation: ``id, kind, onset, detected, latency`` (content-aware) and
    ``detected_any, latency_any`` (content-blind); a latency is None if undetected."""
    tol = (config or GoldConfig()).oop_tolerance
    blind = [float(m["t"]) for m in messages_of(record) if is_correcting(m)]
    named = correcting_messages(record)
    out = []
    for dev in visible_deviations(record):
        onset, end = _onset(dev), _active_end(record, dev, tol)
        times = [t for t, s, i in named if _addresses(s, i, dev)]
        detected, latency = _hits(times, onset, end, tol)
        detected_any, latency_any = _hits(blind, onset, end, tol)
        out.append(
            {"id": dev.get("id"), "kind": dev.get("kind"), "onset": onset}
            | {"detected": detected, "latency": latency}
            | {"detected_any": detected_any, "latency_any": latency_any}
        )
    return out


#: The parts of :func:`kind_counts`' keys (``"<kind>/<part>"``).
KIND_PARTS: tuple[str, str, str] = ("visible", "detected", "detected_any")


def kind_counts(record: Mapping[str, Any], config: GoldConfig | None = None) -> dict[str, int]:
    """``{"<kind>/visible" | "<kind>/detected" | "<kind>/detected_any": count}`` of the
    record's visible deviations (:func:`oop_detections`), for each kind it has."""
    out: dict[str, int] = {}
    for d in oop_detections(record, config):
        for part, hit in zip(KIND_PARTS, (True, d["detected"], d["detected_any"]), strict=True):
            key = f"{d['kind']}/{part}"
            out[key] = out.get(key, 0) + int(bool(hit))
    return out


def kind_recalls(sums: Mapping[str, Any]) -> dict[str, Any]:
    """``oop_recall_<kind>`` (content-aware) and ``oop_recall_any_<kind>`` of summed
    :func:`kind_counts` (arrays of resamples allowed; NaN where nothing is visible)."""
    import numpy as np

    out: dict[str, Any] = {}
    for kind in sorted({k.rpartition("/")[0] for k in sums}):
        visible = np.asarray(sums.get(f"{kind}/visible", 0), dtype=float)
        for name, part in (("oop_recall", "detected"), ("oop_recall_any", "detected_any")):
            hits = np.asarray(sums.get(f"{kind}/{part}", 0), dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"{name}_{kind}"] = np.where(visible > 0, hits / visible, np.nan)
    return {k: float(v) if np.ndim(v) == 0 else v for k, v in out.items()}


def recall_kind(name: str) -> str | None:
    """The kind of a per-kind recall's name from :func:`kind_recalls` (``oop_recall_<kind>``,
    ``oop_recall_any_<kind>``); None for another name. Registered metrics such as
    ``oop_recall_any`` also match (look those up first), and a kind whose name starts
    with ``any_`` reads as content-blind."""
    for prefix in ("oop_recall_any_", "oop_recall_"):
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :]
    return None


def oop_precision_counts(
    record: Mapping[str, Any], config: GoldConfig | None = None
) -> tuple[int, int]:
    """``(correcting messages, those addressing an active deviation)`` (module docstring)."""
    tol = (config or GoldConfig()).oop_tolerance
    spans = [(_onset(d) - tol, _active_end(record, d, tol), d) for d in visible_deviations(record)]
    msgs = correcting_messages(record)
    hit = sum(
        any(lo - 1e-9 <= t <= hi + 1e-9 and _addresses(s, i, d) for lo, hi, d in spans)
        for t, s, i in msgs
    )
    return len(msgs), int(hit)


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
    """Content-aware detection latencies (seconds) per deviation kind, pooled over records."""
    out: dict[str, list[float]] = {}
    for rec in records:
        for d in oop_detections(rec, config):
            if d["latency"] is not None:
                out.setdefault(str(d["kind"]), []).append(float(d["latency"]))
    return out
