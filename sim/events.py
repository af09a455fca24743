"""The ground-truth event log.

Every event is a flat JSON-serialisable dict with at least ``t`` (simulated seconds,
rounded to 1e-6) and ``type``. Events are appended in the order they happen; the log
is the single source of truth that ``analysis`` scores. Field names per type:

====================  ============================================================
type                  fields (besides ``t``, ``type``)
====================  ============================================================
task_start            task, domain, goal, plan (list of step ids), seed
latent_deviations     deviations (list of {kind, step, index, params}: the random
                      deviations planned at reset, fixed per seed whatever the
                      assistant says; each manifests as a ``deviation`` event
                      when the person reaches its step)
step_start            step, index (plan index or -1), recovery (bool),
                      deviation (id or None)
variation             kind ("reorder"), step, canonical: a benign variation, not a
                      deviation (independent steps in a non-canonical order)
step_finishing        step, index, ends (planned end): the last second of a plan
                      step or repeat (:data:`~proassist.sim.person.person.FINISH_LEAD`)
step_end              step, index, recovery, deviation, duration,
                      interrupted (bool: abandoned before its end)
deviation             id, kind, step (affected plan step id), index, onset,
                      recovery_steps (list of {id, instruction, step}),
                      related_steps (further step ids a correction may name;
                      order: the predecessor), deadline, params, scripted (bool)
deviation_resolved    id, kind, assisted (bool), by ("assistant"|"self"),
                      latency (t - onset)
deadline_missed       id, kind, consequence ("fail"|"redo"|"none")
person_utterance      text, act ("question"|"ack"|"refuse"|"chat")
assistant_message     intent, step (step id or None), text, index (plan index or -1)
deviation_prevented   kind, step, index, params (the latent deviation, as in
                      ``latent_deviations``), guided (the instructed step),
                      message_t (when the guidance was heard), p (prevention
                      probability used: ``prevention * trust``)
reaction              message_t, response ("comply"|"ignore"|"already_done"|
                      "too_late" (past the deadline)|"not_understood"), delay,
                      trust (after), trust_before,
                      intent (understood intent or None), target (understood plan
                      step or None), verdict ("helpful"|"neutral"|"redundant"|
                      "wrong"|"irrelevant"|"tuned_out"), listen (seconds lost
                      listening), dispute (seconds lost objecting), stop (bool:
                      the person said "Please stop.")
hesitation_start      step
hesitation_end        step
task_end              success (bool), reason ("completed"|"goal_not_met"|
                      "deviation_unrecovered"|"hazard"|"time_limit"), duration
====================  ============================================================
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

EVENT_TYPES: tuple[str, ...] = (
    "task_start",
    "latent_deviations",
    "step_start",
    "variation",
    "step_finishing",
    "step_end",
    "deviation",
    "deviation_resolved",
    "deviation_prevented",
    "deadline_missed",
    "person_utterance",
    "assistant_message",
    "reaction",
    "hesitation_start",
    "hesitation_end",
    "task_end",
)


def _clean(value: Any) -> Any:
    """Convert numpy scalars/tuples to plain JSON types, rounding floats."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return round(float(value), 6)
    if hasattr(value, "item") and callable(value.item):
        return _clean(value.item())
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    raise TypeError(f"event field of type {type(value).__name__} is not JSON-serialisable")


class EventLog:
    """An append-only list of ground-truth events."""

    def __init__(self) -> None:
        self._events: list[dict[str, Any]] = []

    def add(self, t: float, type: str, **fields: Any) -> dict[str, Any]:
        """Append an event and return it.

        Args:
            t: Simulated time in seconds.
            type: One of :data:`EVENT_TYPES`.
            **fields: The type's fields (see the module docstring).

        Raises:
            ValueError: If ``type`` is unknown.
        """
        if type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {type!r}; expected one of {EVENT_TYPES}")
        event = {"t": round(float(t), 6), "type": type}
        event.update({k: _clean(v) for k, v in fields.items()})
        self._events.append(event)
        return event

    def of_type(self, *types: str) -> list[dict[str, Any]]:
        """Return the events whose type is one of ``types``, in order."""
        return [e for e in self._events if e["type"] in types]

    def since(self, index: int) -> list[dict[str, Any]]:
        """Return the events appended at or after position ``index``."""
        return list(self._events[index:])

    def to_list(self) -> list[dict[str, Any]]:
        """Return a deep copy of the events as plain dicts."""
        return json.loads(json.dumps(self._events))

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._events)
