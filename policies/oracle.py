"""The privileged ``oracle`` assistant: speaks at the gold intervention moments.

The oracle reads the ground-truth events of each step (``info["events_new"]``, an env
made with ``privileged=True``) and says what an ideal assistant says, when it says it
(the gold moments of :mod:`proassist.sim.gold`):

=====================  ==============================================  ============
event                  message                                         valid until
=====================  ==============================================  ============
``task_start``         instruct_next / first plan step                 t + 1.5 s
``step_finishing``     instruct_next / the plan step after it          its end + 1.5 s
(plan step)            (just in time: can prevent a latent deviation)
``step_end`` (plan)    instruct_next / next plan step (when not        t + 1.5 s
                       already owed at ``step_finishing``)
``deviation``          correct_deviation (warn: safety; re_engage:     onset + 2 s
                       distraction, hesitation) / the affected step
``person_utterance``   answer_question / next plan step                t + 3 s
(question)
``hesitation_start``   re_engage / the step hesitated at               t + 3 s
=====================  ==============================================  ============

At most one message per decision point: the pending message of the highest
priority (deviation > question > hesitation > step done > opening) whose window is
still open, and only at a time where that message is the one the scorer would match
(no known higher-priority window covers the time): a lower-priority message that can
never get its own decision point is dropped rather than spoken redundantly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from proassist.policies.base import (
    PolicyBase,
    make_action,
    observation_time,
    register_policy,
    silent_action,
    step_index,
)
from proassist.policies.duplex.components import utterance_for
from proassist.sim.gold import DEVIATION_INTENTS, KIND_PRIORITY, GoldConfig, next_plan_step

__all__ = ["OraclePolicy"]

#: The scorer's default windows (the oracle's defaults and its early step guidance).
_GOLD = GoldConfig()

#: Moment priorities of the scorer; an ignored correction repeated is below them all.
_PRIORITY: dict[str, int] = {**KIND_PRIORITY, "repeat": -1}


@dataclass
class _Pending:
    """A message the oracle owes, with the window in which it counts."""

    kind: str
    anchor: float
    lo: float
    hi: float
    intent: str
    step: str | None
    text: str
    early: float = 0.0
    dev_kind: str | None = None
    deadline: float | None = None
    spoken: bool = False

    def covers(self, t: float) -> bool:
        """Whether ``t`` lies in the scorer's window (which may open ``early``)."""
        return self.lo - self.early - 1e-9 <= t <= self.hi + 1e-9

    @property
    def priority(self) -> int:
        return _PRIORITY[self.kind]


@register_policy("oracle")
class OraclePolicy(PolicyBase):
    """Privileged assistant that speaks exactly at the gold moments (see module doc).

    Args:
        guide_steps: Give next-step guidance at the start and after each step.
        answer_questions: Answer the person's questions.
        step_late: Seconds after a step end (or the start) the guidance still counts.
        deviation_late: Seconds after a deviation onset the correction still counts.
        question_late: Seconds after a question or hesitation the answer still counts.
        max_repeats: When the person ignores a correction and the deviation is still
            open, repeat it (outside any gold window, before its deadline) at most this
            many times per deviation (0: never repeat).
        correction_delay: Seconds after a deviation's onset before its correction may be
            said (at most ``deviation_late`` less one decision period, so a decision
            point still falls in the window and the correction counts). 0, the default, is the
            oracle; ``proassist collect --correction-delay`` uses it to label corrections
            where a camera can already see the deviation (the person has been doing the
            wrong thing for a moment), not at an onset nobody could see coming.
    """

    privileged = True
    needs_pixels = False

    def __init__(
        self,
        guide_steps: bool = True,
        answer_questions: bool = True,
        step_late: float = _GOLD.next_late,
        deviation_late: float = _GOLD.deviation_late,
        question_late: float = _GOLD.question_late,
        max_repeats: int = 2,
        correction_delay: float = 0.0,
    ) -> None:
        super().__init__()
        for name, value in (
            ("step_late", step_late),
            ("deviation_late", deviation_late),
            ("question_late", question_late),
            ("correction_delay", correction_delay),
        ):
            if value < 0:
                raise ValueError(f"{name} must be >= 0 seconds, got {value}")
        self.guide_steps = guide_steps
        self.answer_questions = answer_questions
        self.step_late = step_late
        self.deviation_late = deviation_late
        self.question_late = question_late
        self.correction_delay = float(correction_delay)
        self.dt = 0.5  # the env's decision period, from ``env_info`` at reset
        if max_repeats < 0:
            raise ValueError(f"max_repeats must be >= 0, got {max_repeats}")
        self.max_repeats = max_repeats
        self.said: dict[float, _Pending] = {}
        self.repeats: dict[str, int] = {}
        self.completed: set[str] = set()
        self.finishing: set[str] = set()  # plan steps whose next step is owed already
        self.pending: list[_Pending] = []

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Forget the previous episode."""
        super().reset(env_info=env_info, seed=seed)
        self.dt = float(env_info.get("dt", 0.5))
        self.completed = set()
        self.finishing = set()
        self.pending = []
        self.said = {}
        self.repeats = {}

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Queue messages for the new ground-truth events; speak the best one due now."""
        if info is None or "events_new" not in info:
            raise ValueError(
                "the oracle needs privileged info (events_new): make the env with privileged=True"
            )
        now = float(info.get("time", observation_time(observation)))
        for event in info["events_new"]:
            self._observe(event)
        open_steps = {d.get("step") for d in info.get("active_deviations") or []}
        self.pending = [
            p
            for p in self.pending
            if p.hi + 1e-9 >= now and (p.kind != "repeat" or p.step in open_steps)
        ]
        due = [p for p in self.pending if not p.spoken and p.lo - 1e-9 <= now]
        for p in sorted(due, key=lambda p: (-p.priority, p.anchor)):
            if self._winner(now) is p:
                p.spoken = True
                self.said[round(now, 6)] = p
                return make_action(p.intent, step_index(self.plan, p.step), p.text)
        return silent_action()

    def _winner(self, now: float) -> _Pending | None:
        """The known moment the scorer would match a message at ``now`` to."""
        inside = [p for p in self.pending if p.covers(now)]
        if not inside:
            return None
        return min(inside, key=lambda p: (-p.priority, abs(now - p.anchor)))

    def _observe(self, e: dict[str, Any]) -> None:
        typ, t = e.get("type"), float(e.get("t", 0.0))
        plan_ids = {s["id"] for s in self.plan}
        if typ == "task_start" and self.guide_steps and self.plan:
            self._owe("opening", t, t, t + self.step_late, "instruct_next", self._next())
        elif typ == "step_finishing" and e.get("step") in plan_ids:
            self._owe_next(str(e["step"]), float(e.get("ends", t)), t)
        elif typ == "step_end" and not e.get("recovery") and e.get("step") in plan_ids:
            self.completed.add(str(e["step"]))
            nxt = self._next()
            if nxt is not None and self.guide_steps and not self._owed_at_cue(str(e["step"])):
                hi = t + self.step_late
                self._owe("step_done", t, t, hi, "instruct_next", nxt, early=_GOLD.next_early)
        elif typ == "deviation":
            self._owe_correction(e)
        elif typ == "person_utterance" and e.get("act") == "question" and self.answer_questions:
            hi = t + self.question_late
            self._owe("question", t, t, hi, "answer_question", self._next())
        elif typ == "hesitation_start" and not self._covered_by_hesitation(t):
            self._owe("hesitation", t, t, t + self.question_late, "re_engage", e.get("step"))
        elif typ == "reaction" and e.get("response") == "ignore":
            self._maybe_repeat(self.said.get(round(float(e.get("message_t", -1.0)), 6)), t)

    def _owe_next(self, step: str, ends: float, t: float) -> None:
        """Owe the step after ``step`` as it finishes (anchored at its planned end)."""
        nxt = next_plan_step(self.plan, self.completed | {step})
        if nxt is None or not self.guide_steps:
            return
        self.finishing.add(step)
        hi = ends + self.step_late
        self._owe("step_done", ends, t, hi, "instruct_next", nxt, early=_GOLD.next_early)

    def _owed_at_cue(self, step: str) -> bool:
        """Whether the next step was owed at ``step``'s finishing cue (then forget it)."""
        owed = step in self.finishing
        self.finishing.discard(step)
        return owed

    def _owe_correction(self, e: dict[str, Any]) -> None:
        """Owe the correction of a ``deviation`` event (window: onset ± deviation_late)."""
        onset = float(e.get("onset", e.get("t", 0.0)))
        recovery = e.get("recovery_steps") or []
        text = str(recovery[0].get("instruction", "")) if recovery else ""
        intent = DEVIATION_INTENTS.get(str(e.get("kind")), "correct_deviation")
        hi = onset + self.deviation_late
        lo = onset + min(self.correction_delay, max(0.0, self.deviation_late - self.dt))
        self._owe("deviation", onset, lo, hi, intent, e.get("step"), text, self.deviation_late)
        self.pending[-1].dev_kind = str(e.get("kind"))
        self.pending[-1].deadline = float(e.get("deadline", hi))

    def _maybe_repeat(self, said: _Pending | None, t: float) -> None:
        """Owe the ignored correction ``said`` again, until its deviation's deadline."""
        if said is None or said.kind not in ("deviation", "repeat") or said.deadline is None:
            return
        key = str(said.step)
        if self.repeats.get(key, 0) >= self.max_repeats or t >= said.deadline:
            return
        self.repeats[key] = self.repeats.get(key, 0) + 1
        self.pending.append(
            _Pending("repeat", t, t, said.deadline, said.intent, said.step, said.text)
        )
        self.pending[-1].deadline = said.deadline

    def _covered_by_hesitation(self, t: float) -> bool:
        return any(p.dev_kind == "hesitation" and p.covers(t) for p in self.pending)

    def _next(self) -> str | None:
        return next_plan_step(self.plan, self.completed)

    def _owe(
        self,
        kind: str,
        anchor: float,
        lo: float,
        hi: float,
        intent: str,
        step: str | None,
        text: str = "",
        early: float = 0.0,
    ) -> None:
        if not text:
            index = step_index(self.plan, step)
            text = self.instruction(index) if index < len(self.plan) else ""
        self.pending.append(
            _Pending(kind, anchor, lo, hi, intent, step, utterance_for(intent, text), early)
        )
