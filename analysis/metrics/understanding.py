"""What the simulated person understood from an assistant message (content-aware metrics).

A structured message (``intent`` set) means its ``intent`` and ``step``. A free-text
message means what the person understood, read from the record:

- **intent**: the ``intent`` field of the message's ``reaction`` event when the sim
  logs one, else :func:`proassist.sim.person.language.interpret` (the matcher the
  person uses);
- **step**: the ``target`` of the message's ``reaction`` event (the step the person
  acted on; a recovery step is reported as its plan step), else the person's
  :class:`~proassist.sim.person.language.StepMatcher` over the record's plan steps and
  the recovery steps of the deviations visible by then (onset ``<= t``), as the person
  knows them.

The reaction of a message is the ``reaction`` event whose ``message_t`` equals the
message time (one message per decision point).

**Intent families**: *correcting* = :data:`proassist.sim.gold.CORRECTING_INTENTS`
(``correct_deviation``, ``warn``, ``re_engage``); *instructing* = ``instruct_next``,
``answer_question``; anything else (``confirm_done``, not understood) has no family.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from proassist.sim.gold import CORRECTING_INTENTS
from proassist.sim.person.language import StepMatcher, interpret

#: Intents that tell the person what to do next (the instructing family).
INSTRUCTING_INTENTS: tuple[str, ...] = ("instruct_next", "answer_question")


def intent_family(intent: str | None) -> str | None:
    """``"correcting"``, ``"instructing"`` or None (no family) for an intent."""
    if intent in CORRECTING_INTENTS:
        return "correcting"
    if intent in INSTRUCTING_INTENTS:
        return "instructing"
    return None


def _procedure(record: Mapping[str, Any]) -> Any:
    """A duck-typed procedure (what :class:`StepMatcher` reads) from the record's plan."""
    steps = [
        SimpleNamespace(
            id=str(s["id"]),
            instruction=str(s.get("instruction") or ""),
            objects=tuple(s.get("objects") or ()),
            tools=tuple(s.get("tools") or ()),
        )
        for s in record.get("plan") or []
    ]
    return SimpleNamespace(objects=(), steps=steps)


class Understanding:
    """The person's understanding of each message of one record (module docstring).

    Args:
        record: An episode record (CONTRACTS.md §5).
    """

    def __init__(self, record: Mapping[str, Any]) -> None:
        events = record.get("events") or []
        self.matcher = StepMatcher(_procedure(record))
        self.plan_keys = list(self.matcher.order)
        self.recovery: list[tuple[float, str]] = []
        for e in events:
            if e.get("type") != "deviation":
                continue
            onset = float(e.get("onset", e["t"]))
            for r in e.get("recovery_steps") or []:
                if r.get("id"):
                    self.matcher.add(str(r["id"]), str(r.get("instruction") or ""))
                    self.recovery.append((onset, str(r["id"])))
        self.reactions = {
            round(float(e["message_t"]), 6): e
            for e in events
            if e.get("type") == "reaction" and e.get("message_t") is not None
        }

    def __call__(self, msg: Mapping[str, Any]) -> tuple[str | None, str | None]:
        """``(intent, step)`` the person took from ``msg`` (None when not understood)."""
        if msg.get("intent"):
            return str(msg["intent"]), msg.get("step")
        text = str(msg.get("text") or "")
        if not text.strip():
            return None, None
        t = float(msg["t"])
        keys = self.plan_keys + [k for onset, k in self.recovery if onset <= t + 1e-9]
        intent, step = interpret(text, self.matcher, keys=keys)
        reaction = self.reactions.get(round(t, 6))
        if reaction is not None:
            intent = reaction.get("intent", intent)
            step = reaction.get("target", step)
        return intent, step
