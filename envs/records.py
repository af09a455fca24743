"""Episode records (CONTRACTS.md §5): what ``proassist.analysis`` scores."""

from __future__ import annotations

from typing import Any

from proassist.envs.perception import perception_label
from proassist.envs.spaces import NO_STEP
from proassist.scenarios.model import Scenario
from proassist.sim.messages import INTENTS, Message
from proassist.sim.person.language import backend as language_backend


def plan_entries(scenario: Scenario) -> list[dict[str, Any]]:
    """The procedure's steps as plain dicts (id, instruction, order, flags, how long,
    how long to wait (``min_time``, 0: no wait), where, what it handles, its effects,
    cues): the plan an assistant is given."""
    return [
        {
            "id": s.id,
            "instruction": s.instruction,
            "after": list(s.after),
            "optional": bool(s.optional),
            "safety_critical": bool(s.safety_critical),
            "duration_mean": float(s.duration.mean),
            "min_time": float(s.params.get("min_time", 0) or 0),
            "location": s.location,
            "objects": list(s.objects),
            "tools": list(s.tools),
            "effects": list(s.effects),
            "done_cue": s.done_cue,
            "todo_cue": s.todo_cue,
        }
        for s in scenario.procedure.steps
    ]


def decision_entry(t: float, action: dict[str, Any], message: Message | None) -> dict[str, Any]:
    """One decision point: the time of the observation answered and what was decided."""
    if message is None:
        return {"t": round(float(t), 6), "decision": 0, "intent": None, "step": None, "text": ""}
    return {
        "t": round(float(t), 6),
        "decision": 1,
        "intent": message.intent or None,
        "step": message.step,
        "text": message.text,
        "step_index": None if action["step"] == NO_STEP else int(action["step"]),
    }


def build_record(
    *,
    env_id: str,
    scenario: Scenario,
    seed: int | None,
    dt: float,
    policy: str,
    events: list[dict[str, Any]],
    decisions: list[dict[str, Any]],
    success: bool,
    duration: float,
    env_kwargs: dict[str, Any],
    person: dict[str, Any],
) -> dict[str, Any]:
    """Assemble one JSON-serialisable episode record (``person``: the episode's person
    profile, resolved: the task's own with the ``person`` argument applied)."""
    return {
        "env_id": env_id,
        "task": scenario.name,
        "domain": scenario.domain,
        "seed": seed,
        "dt": dt,
        "policy": policy,
        "goal": scenario.procedure.goal,
        "plan": plan_entries(scenario),
        "intents": list(INTENTS),
        "events": events,
        "decisions": decisions,
        "success": success,
        "duration": round(duration, 6),
        "env_kwargs": env_kwargs,
        "person": person,
        # How the person understood free text ("minilm", or "keywords" without the
        # [hf] extra): runs with different backends are not comparable.
        "person_language": language_backend(),
        # "privileged" (exact segmentation ids) or the perception noise used.
        "perception": perception_label(env_kwargs.get("perception_noise")),
    }
