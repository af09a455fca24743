"""The two components of a duplex assistant (PWR) and the data passed between them.

A ``DuplexAssistant(interaction_model, planner, planner_latency_s)`` calls, at every
decision point::

    decision = interaction_model.decide(obs_history, plan, dialogue)

and, at the start and only when ``decision.interrupt``::

    plan = planner.replan(clip, prev_plan, utterance, context)

(the revised plan taking effect ``planner_latency_s`` of simulated time later). Both
are structural protocols: any object with these methods works.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from proassist.policies.duplex.plan_format import Plan
from proassist.sim.messages import INTENTS

__all__ = [
    "Decision",
    "DialogueTurn",
    "InteractionModel",
    "PlanContext",
    "Planner",
    "SILENT",
    "utterance_for",
]


@dataclass(frozen=True)
class Decision:
    """What the interaction model decided at one decision point.

    Attributes:
        interrupt: True to speak, False to stay silent.
        intent: An :data:`~proassist.sim.messages.INTENTS` name, or ``None`` (silent,
            or a free-text utterance).
        step: Procedure step id referred to (for a correction: the affected step), or
            ``None``.
        text: The utterance.
        fix: True when the model believes a deviation needs a recovery step (the
            planner should inject a ``(fix)`` step).
        confidence: The model's probability of interrupting, when it has one.
    """

    interrupt: bool
    intent: str | None = None
    step: str | None = None
    text: str = ""
    fix: bool = False
    confidence: float | None = None

    def __post_init__(self) -> None:
        if self.intent is not None and self.intent not in INTENTS:
            raise ValueError(f"unknown intent {self.intent!r}; expected one of {INTENTS}")


#: The silent decision.
SILENT = Decision(interrupt=False)


@dataclass(frozen=True)
class DialogueTurn:
    """One turn of the dialogue.

    Attributes:
        t: Simulated time in seconds.
        speaker: ``"assistant"`` or ``"person"``.
        text: What was said.
        intent: For assistant turns, the intent name when structured.
        step: For assistant turns, the step id referred to.
    """

    t: float
    speaker: str
    text: str
    intent: str | None = None
    step: str | None = None

    def __post_init__(self) -> None:
        if self.speaker not in ("assistant", "person"):
            raise ValueError(f"speaker must be 'assistant' or 'person', got {self.speaker!r}")


@dataclass(frozen=True)
class PlanContext:
    """What a planner may know besides the clip, the previous plan and the utterance.

    Attributes:
        goal: The task goal.
        procedure: The env_info plan: step dicts ``{id, instruction, after, optional,
            safety_critical, duration_mean, min_time, location, objects, tools, effects,
            done_cue, todo_cue}`` in procedure order.
        time: Simulated time of the request.
        completed: Step ids known to be completed (privileged or tracked), or
            ``None`` to let the planner infer them from the previous plan.
        deviation: A deviation to recover from, or ``None``: ``{"step": affected
            step id, "kind": str, "recovery_steps": [{"id", "instruction", "step"}]}``
            (the shape of the sim's ``deviation`` event).
        clip_description: A text description of the latest clip (for text-only
            planners), or ``""``.
        dialogue: The dialogue so far.
    """

    goal: str
    procedure: Sequence[dict[str, Any]]
    time: float = 0.0
    completed: Sequence[str] | None = None
    deviation: dict[str, Any] | None = None
    clip_description: str = ""
    dialogue: Sequence[DialogueTurn] = field(default_factory=tuple)


@runtime_checkable
class InteractionModel(Protocol):
    """Decides at every decision point whether to stay silent or interrupt."""

    def reset(self, env_info: dict[str, Any]) -> None:
        """Forget the previous episode; ``env_info`` as given to policies."""
        ...

    def decide(
        self,
        obs_history: Sequence[dict[str, Any]],
        plan: Plan | None,
        dialogue: Sequence[DialogueTurn],
    ) -> Decision:
        """Decide from recent observations (oldest first), the cached plan and the dialogue."""
        ...


@runtime_checkable
class Planner(Protocol):
    """Writes the (revised) plan, at the start and after each interrupt."""

    def replan(
        self,
        clip: Sequence[Any],
        prev_plan: Plan | None,
        utterance: Decision | str | None,
        context: PlanContext,
    ) -> Plan:
        """Return the revised plan (``prev_plan=None`` asks for the initial plan)."""
        ...


_TEMPLATES: dict[str, str] = {
    "instruct_next": "Next, {step}.",
    "correct_deviation": "Wait, that is not right: {step}.",
    "confirm_done": "Well done, that step is complete: {step}.",
    "warn": "Careful: {step}.",
    "answer_question": "To answer you: {step}.",
    "re_engage": "Let's get back to it: {step}.",
}


def utterance_for(intent: str, step_text: str) -> str:
    """A spoken utterance for a structured decision (``intent`` about ``step_text``)."""
    if intent not in _TEMPLATES:
        raise ValueError(f"unknown intent {intent!r}; expected one of {INTENTS}")
    step = step_text.rstrip(". ") or "the current step"
    return _TEMPLATES[intent].format(step=step[:1].lower() + step[1:])
