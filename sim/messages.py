"""Messages from the assistant to the simulated person."""

from __future__ import annotations

from dataclasses import dataclass

#: What an assistant message is for (the ``intent`` action field indexes this tuple).
INTENTS: tuple[str, ...] = (
    "instruct_next",
    "correct_deviation",
    "confirm_done",
    "warn",
    "answer_question",
    "re_engage",
)


@dataclass(frozen=True)
class Message:
    """One assistant utterance.

    Attributes:
        intent: One of :data:`INTENTS`, or ``""`` for a free-text message that the
            person interprets by matching ``text`` to steps.
        step: The plan step id referred to (for a correction: the affected step),
            or ``None``.
        text: The utterance as spoken (may be empty for structured messages).
    """

    intent: str = ""
    step: str | None = None
    text: str = ""

    def __post_init__(self) -> None:
        if self.intent and self.intent not in INTENTS:
            raise ValueError(f"unknown intent {self.intent!r}; expected one of {INTENTS}")
