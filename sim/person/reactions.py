"""How the simulated person reacts to an assistant message (mixed into ``Person``).

Semantics, applied ``reaction_delay`` after the message is heard:

- ``confirm_done``: harmless; the person says "Okay.".
- ``instruct_next`` / ``answer_question`` naming step ``s``: the person does ``s`` next
  when it is available (a hesitation or distraction under way ends, assisted). A step
  already done gets "I already did that.".
- ``correct_deviation`` / ``warn`` / ``re_engage`` naming the affected step (or a
  recovery step) of an open deviation: the person performs its recovery steps.
  Without a step they match an open distraction or hesitation. When nothing matches
  it is a **false alarm**: trust drops by ``1/patience`` (not below ``trust_floor``).
- Anything else (free text with no recognisable intent): "Sorry, what do you mean?".

Compliance: a matched message is followed with probability ``compliance * trust``,
otherwise ignored (one draw per message, always made).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from proassist.sim.messages import Message

_Outcome = tuple[str, tuple[str, str] | None, Callable[[], None] | None]

ATTENTION_KINDS: frozenset[str] = frozenset({"distraction", "hesitation"})

ACKS: dict[str, str] = {
    "omission": "Oh, right, I forgot.",
    "safety": "Oh no, thanks for catching that.",
    "distraction": "Sorry, back to it.",
    "hesitation": "Okay, thanks.",
}


class Reactions:
    """Mixin of :class:`~proassist.sim.person.person.Person`: reactions to messages."""

    sim: Any
    profile: Any
    react_rng: Any
    trust: float
    asked: bool
    directed: str | None
    believed: dict[str, None]
    skipped: set[str]
    activity: Any

    def react(self, message: Message, heard_t: float, delay: float, t: float) -> str:
        """React at ``t`` to ``message`` heard at ``heard_t``; log and return the response.

        The person speaks first, then the ``reaction`` event is logged, then they act.
        """
        comply = self.react_rng.random() < self.profile.compliance * self.trust
        intent, target = self.understand(message)
        target = self._plan_target(target)
        action: Callable[[], None] | None = None
        if intent is None:
            response, said = "not_understood", ("Sorry, what do you mean?", "chat")
        elif intent == "confirm_done":
            response, said = "comply", ("Okay.", "ack")
        elif intent in ("instruct_next", "answer_question"):
            response, said, action = self._react_instruct(target, t, comply)
        else:
            response, said, action = self._react_correction(target, t, comply)
        if said is not None:
            self.say(said[0], said[1], t)
        self.sim.log(
            "reaction",
            t,
            message_t=heard_t,
            response=response,
            delay=delay,
            trust=self.trust,
            target=target,
        )
        if action is not None:
            action()
        return response

    def _plan_target(self, target: str | None) -> str | None:
        """Map a recovery step id to the plan step it belongs to."""
        if target is None or target in self.sim.index.steps:
            return target
        for dev in self.sim.deviations.devs:
            if any(r.id == target for r in dev.recovery):
                return dev.step
        return target

    def _react_instruct(self, target: str | None, t: float, comply: bool) -> _Outcome:
        self.asked = False
        if target is not None and target in self.believed:
            return "already_done", ("I already did that.", "refuse"), None
        if not comply:
            return "ignore", None, None

        def act() -> None:
            if target in self.sim.index.steps:
                self.directed = target
                self.skipped.discard(target)
            attention = [d for d in self.sim.deviations.open() if d.kind in ATTENTION_KINDS]
            for dev in attention:
                if dev.status == "active":
                    self.begin_recovery(dev, t, "assistant")
            if not attention and self.activity is not None and self.activity.kind == "wrapup":
                self.interrupt(t)
                self.decide(t)

        return "comply", ("Okay.", "ack"), act

    def _react_correction(self, target: str | None, t: float, comply: bool) -> _Outcome:
        dev = self.sim.deviations.match(target)
        if dev is None:
            floor, patience = self.profile.trust_floor, max(1, self.profile.patience)
            self.trust = max(floor, self.trust - 1.0 / patience)
            done = target is not None and target in self.believed
            return (
                "already_done",
                ("I already did that." if done else "I think it's fine.", "refuse"),
                None,
            )
        if dev.status == "recovering":
            return "comply", ("I'm on it.", "ack"), None
        if not comply:
            return "ignore", None, None
        said = (ACKS.get(dev.kind, "Oops, thanks."), "ack")
        return "comply", said, lambda: self.begin_recovery(dev, t, "assistant")

    def ask(self, dev: Any, t: float) -> None:
        """Ask "what next?" if still hesitating on ``dev``."""
        if self.activity is not None and self.activity is dev.activity and dev.status == "active":
            self.asked = True
            self.say("What should I do next?", "question", t)
