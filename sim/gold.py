"""Gold intervention moments derived from an episode record's event log.

A *gold moment* is a time at which a proactive assistant should speak, with a window
``[lo, hi]`` inside which an intervention counts, the intent and step it should refer
to, and a reference utterance. Moments are derived only from the ground-truth events of
an episode record (CONTRACTS.md §5; event fields in :mod:`proassist.sim.events`):

=============  =====================  ==================================  ==============
kind           source event           intent / step                       window
=============  =====================  ==================================  ==============
``opening``    ``task_start``         instruct_next / first plan step     [t, t+1.5]
``step_done``  ``step_end`` of a      instruct_next / the next plan step  [t-3.0, t+1.5]
               plan step that is not  the person should do; anchored at
               the last one           the step's ``step_finishing`` cue
                                      (1 s before its end) when logged
``deviation``  ``deviation`` (onset)  correct_deviation (warn for         onset ± 2.0
                                      ``safety``; re_engage for
                                      ``distraction``/``hesitation``) /
                                      the affected step
``question``   ``person_utterance``   answer_question / the next plan     [t, t+3.0]
               with act ``question``  step the person should do
``hesitation`` ``hesitation_start``   re_engage / the step hesitated at   [t, t+3.0]
=============  =====================  ==================================  ==============

Windows: next-step guidance may come up to 3.0 s early and 1.5 s late (DESIGN.md,
issue #4); its anchor (the ideal time, where PWR-comparable metrics put the positive
instance) is the finishing cue, because guidance heard as the previous step finishes
is the kind that can prevent a deviation (:mod:`proassist.sim.person.reactions`).
OOP detection is counted within ±2.0 s of onset (PWR, "Plan, Watch,
Recover", arXiv 2606.04970). Every number is a field of :class:`GoldConfig`.

The *next plan step* at a time is the first step in plan order that has not been
completed (a non-recovery ``step_end`` at or before that event) and whose ``after``
steps are all completed; when none has its ``after`` satisfied, the first incomplete
step. A ``hesitation_start`` that falls inside the window of a ``hesitation`` deviation
is not a separate moment (the deviation already covers it).

Per decision point (``record["decisions"][k]["t"]``), :func:`gold_decisions` is True iff
that time lies in the closed window ``[lo, hi]`` of at least one gold moment: an
interrupt there is correct, silence is correct elsewhere. :func:`gold_content` gives
the moment an interrupt at that point should match; when windows overlap, the moment
with the highest priority wins (deviation > question > hesitation > step_done >
opening), ties broken by the closest anchor time ``|t - moment.t|``, then by order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Intent of a deviation moment by deviation kind (default: correct_deviation).
DEVIATION_INTENTS: dict[str, str] = {
    "safety": "warn",
    "distraction": "re_engage",
    "hesitation": "re_engage",
}

#: Intents that signal an Out-of-Plan detection (a correcting message).
CORRECTING_INTENTS: tuple[str, ...] = ("correct_deviation", "warn", "re_engage")

#: Priority of moment kinds when windows overlap (higher wins).
KIND_PRIORITY: dict[str, int] = {
    "deviation": 4,
    "question": 3,
    "hesitation": 2,
    "step_done": 1,
    "opening": 0,
}


@dataclass(frozen=True)
class GoldConfig:
    """Every window, tolerance and threshold the scorer uses, with its default.

    Attributes:
        next_early: Next-step guidance may come this many seconds before the
            ``step_end`` (3.0 s).
        next_late: ... and this many seconds after it (1.5 s).
        deviation_early: Deviation window starts this long before onset (2.0 s, PWR).
        deviation_late: Deviation window ends this long after onset (2.0 s, PWR).
        question_late: A question is answered within ``[t, t + 3.0]``.
        hesitation_late: A hesitation is re-engaged within ``[t, t + 3.0]``.
        include_opening: Add the ``opening`` moment (the first instruction).
        opening_late: The opening window is ``[t_start, t_start + 1.5]``.
        oop_tolerance: OOP detection counts within ``onset ± 2.0`` s (PWR).
        chunk_s: Chunk length of the chunked decision metrics (8 s, EgoProactive).
        match_text_threshold: A free-text message may match a moment only when
            ``max(0, cos)`` with the gold utterance is at least this (0.5).
        match_min_structured: A structured message may match a moment only when its
            content score is at least this (0.25: right intent or right step).
        match_content_weight: Matching cost is ``|Δt| + w · (1 - g)`` (w = 1.0).
    """

    next_early: float = 3.0
    next_late: float = 1.5
    deviation_early: float = 2.0
    deviation_late: float = 2.0
    question_late: float = 3.0
    hesitation_late: float = 3.0
    include_opening: bool = True
    opening_late: float = 1.5
    oop_tolerance: float = 2.0
    chunk_s: float = 8.0
    match_text_threshold: float = 0.5
    match_min_structured: float = 0.25
    match_content_weight: float = 1.0


@dataclass(frozen=True)
class GoldMoment:
    """One gold intervention moment.

    Attributes:
        t: Anchor time (step end, deviation onset, question time...).
        window: ``(lo, hi)``; an intervention at ``lo <= t <= hi`` counts.
        intent: The intent an ideal message has (an INTENTS name).
        step: The step id it should refer to (None when there is none).
        kind: ``opening``, ``step_done``, ``deviation``, ``question`` or ``hesitation``.
        text: The reference utterance (step or recovery instruction).
        deviation: The deviation id for ``deviation`` moments, else None.
        deviation_kind: The deviation kind for ``deviation`` moments, else None.
        alt_steps: Other step ids that also count as the right step (the
            deviation's recovery and related steps).
    """

    t: float
    window: tuple[float, float]
    intent: str
    step: str | None
    kind: str
    text: str
    deviation: str | None = None
    deviation_kind: str | None = None
    alt_steps: tuple[str, ...] = field(default=())

    @property
    def lo(self) -> float:
        """Start of the window."""
        return self.window[0]

    @property
    def hi(self) -> float:
        """End of the window."""
        return self.window[1]

    def contains(self, t: float) -> bool:
        """Whether ``t`` lies in the closed window (with a 1e-9 s tolerance)."""
        return self.window[0] - 1e-9 <= t <= self.window[1] + 1e-9

    def is_step(self, step: str | None) -> bool:
        """Whether ``step`` is the right step for this moment."""
        return step is not None and (step == self.step or step in self.alt_steps)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable view."""
        return {
            "t": self.t,
            "window": list(self.window),
            "intent": self.intent,
            "step": self.step,
            "kind": self.kind,
            "text": self.text,
            "deviation": self.deviation,
            "deviation_kind": self.deviation_kind,
        }


def _require(record: Mapping[str, Any], key: str) -> Any:
    if key not in record:
        raise ValueError(f"episode record lacks {key!r}; expected the fields of CONTRACTS.md §5")
    return record[key]


def plan_steps(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the record's plan (list of step dicts with at least ``id``)."""
    plan = _require(record, "plan")
    if not isinstance(plan, list) or not all(isinstance(s, dict) and "id" in s for s in plan):
        raise ValueError("record['plan'] must be a list of step dicts with an 'id'")
    return plan


def instruction_of(record: Mapping[str, Any], step: str | None) -> str:
    """The instruction of a plan or recovery step id ('' when unknown)."""
    if step is None:
        return ""
    for s in plan_steps(record):
        if s["id"] == step:
            return str(s.get("instruction", ""))
    for e in _require(record, "events"):
        if e.get("type") == "deviation":
            for r in e.get("recovery_steps") or []:
                if r.get("id") == step:
                    return str(r.get("instruction", ""))
    return ""


def next_plan_step(plan: Sequence[Mapping[str, Any]], completed: set[str]) -> str | None:
    """The next plan step the person should do given the completed step ids.

    Returns the first incomplete step (plan order) whose ``after`` are all completed,
    else the first incomplete step, else None (the plan is done).
    """
    todo = [s for s in plan if s["id"] not in completed]
    for s in todo:
        if all(a in completed for a in s.get("after") or []):
            return str(s["id"])
    return str(todo[0]["id"]) if todo else None


def _moment(record, t, lo, hi, intent, step, kind, text=None, **extra) -> GoldMoment:
    text = instruction_of(record, step) if text is None else text
    return GoldMoment(float(t), (float(lo), float(hi)), intent, step, kind, text, **extra)


def _deviation_moment(record, e: Mapping[str, Any], cfg: GoldConfig) -> GoldMoment:
    from proassist.sim.deviations.base import addressable_steps

    onset = float(e.get("onset", e["t"]))
    kind = str(e.get("kind", ""))
    recovery = e.get("recovery_steps") or []
    text = str(recovery[0].get("instruction", "")) if recovery else None
    return _moment(
        record,
        onset,
        onset - cfg.deviation_early,
        onset + cfg.deviation_late,
        DEVIATION_INTENTS.get(kind, "correct_deviation"),
        e.get("step"),
        "deviation",
        text or None,
        deviation=e.get("id"),
        deviation_kind=kind,
        alt_steps=tuple(sorted(addressable_steps(e) - {str(e.get("step"))})),
    )


def _covered_by_hesitation(moments: list[GoldMoment], t: float) -> bool:
    return any(m.deviation_kind == "hesitation" and m.contains(t) for m in moments)


def gold_moments(record: Mapping[str, Any], config: GoldConfig | None = None) -> list[GoldMoment]:
    """Derive the gold intervention moments of one episode record.

    Args:
        record: An episode record (CONTRACTS.md §5).
        config: Windows; defaults to :class:`GoldConfig`.

    Returns:
        The moments sorted by anchor time (see the module docstring for the rules).

    Raises:
        ValueError: If the record lacks ``plan`` or ``events``.
    """
    cfg = config or GoldConfig()
    plan = plan_steps(record)
    events = _require(record, "events")
    completed: set[str] = set()
    finishing: dict[Any, float] = {}
    plan_ids = {s["id"] for s in plan}
    out: list[GoldMoment] = []
    for e in events:
        typ, t = e.get("type"), float(e.get("t", 0.0))
        if typ == "task_start" and cfg.include_opening and plan:
            first = next_plan_step(plan, completed)
            out.append(
                _moment(record, t, t, t + cfg.opening_late, "instruct_next", first, "opening")
            )
        elif typ == "step_finishing":
            finishing[e.get("step")] = t
        elif typ == "step_end" and not e.get("recovery") and e.get("step") in plan_ids:
            completed.add(e["step"])
            nxt = next_plan_step(plan, completed)
            cue = finishing.pop(e["step"], t)
            if nxt is not None:
                lo, hi = t - cfg.next_early, t + cfg.next_late
                anchor = min(t, max(lo, cue))
                out.append(_moment(record, anchor, lo, hi, "instruct_next", nxt, "step_done"))
        elif typ == "deviation":
            out.append(_deviation_moment(record, e, cfg))
        elif typ == "person_utterance" and e.get("act") == "question":
            nxt = next_plan_step(plan, completed)
            out.append(
                _moment(record, t, t, t + cfg.question_late, "answer_question", nxt, "question")
            )
        elif typ == "hesitation_start" and not _covered_by_hesitation(out, t):
            hi = t + cfg.hesitation_late
            out.append(_moment(record, t, t, hi, "re_engage", e.get("step"), "hesitation"))
    return sorted(out, key=lambda m: m.t)


def decision_times(record: Mapping[str, Any]) -> list[float]:
    """The times of the record's decision points."""
    decisions = _require(record, "decisions")
    return [float(d["t"]) for d in decisions]


def moment_at(moments: Sequence[GoldMoment], t: float) -> GoldMoment | None:
    """The gold moment an interrupt at time ``t`` should match (None: stay silent).

    Among the moments whose window contains ``t``: highest :data:`KIND_PRIORITY`, then
    closest anchor, then first in order.
    """
    best: tuple[float, float, int] | None = None
    chosen = None
    for i, m in enumerate(moments):
        if not m.contains(t):
            continue
        key = (-KIND_PRIORITY.get(m.kind, 0), abs(t - m.t), i)
        if best is None or key < best:
            best, chosen = key, m
    return chosen


def gold_content(
    record: Mapping[str, Any], config: GoldConfig | None = None
) -> list[GoldMoment | None]:
    """Per decision point, the gold moment to match (None where silence is correct)."""
    moments = gold_moments(record, config)
    return [moment_at(moments, t) for t in decision_times(record)]


def gold_decisions(record: Mapping[str, Any], config: GoldConfig | None = None) -> list[bool]:
    """Per decision point, True iff its time lies in some gold moment's window.

    Interrupting at a True point is correct; staying silent at a False point is correct.
    """
    return [m is not None for m in gold_content(record, config)]
