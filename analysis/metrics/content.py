"""Content score g of one assistant action against one gold moment (used by PQS, STS
and time matching; re-exported by :mod:`proassist.analysis.metrics.scores`).

Structured action (``intent`` set), after PWR's PQS content weighting:

====================================  =====
right intent and right step           1.0
right step, wrong intent              0.5
right intent, wrong (or no) step      0.25
neither                               0.0
====================================  =====

"Right step" means the action's step id equals the moment's step, or is one of the
deviation's recovery or related steps (:meth:`GoldMoment.is_step`;
:func:`proassist.sim.deviations.base.addressable_steps`). When the moment has no step
(``None``), an action with no step is the right step.

Free-text action (empty ``intent``, non-empty ``text``):
``g = max(0, cos(MiniLM(text), MiniLM(gold.text)))``, or without the ``[hf]`` extra the
token-overlap fallback (:mod:`.text_similarity`; :func:`run_info` names the backend
used, recorded in the scores as ``text_sim_backend``).
An interrupt with neither intent nor text scores 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from proassist.analysis.metrics.text_similarity import TextSim
from proassist.sim.gold import CORRECTING_INTENTS, GoldMoment

#: Partial credit of a structured action (right step, right intent) -> g.
STRUCTURED_CREDIT: dict[tuple[bool, bool], float] = {
    (True, True): 1.0,
    (True, False): 0.5,
    (False, True): 0.25,
    (False, False): 0.0,
}


def default_text_sim() -> TextSim:
    """The free-text score of the backend in use (MiniLM, else the token fallback).

    Raises:
        ImportError: Naming the ``[hf]`` extra when MiniLM is forced but missing.
    """
    from proassist.analysis.metrics.text_similarity import BACKENDS, text_backend

    return BACKENDS[text_backend()]


def is_free_text(action: Mapping[str, Any]) -> bool:
    """Whether an action/message is free text (no intent, non-empty text)."""
    return not action.get("intent") and bool(str(action.get("text") or "").strip())


def is_correcting(action: Mapping[str, Any]) -> bool:
    """Content-blind OOP signal (``oop_recall_any``, false alarms): a correcting intent or
    any free text. Content-aware detection: :mod:`.oop`."""
    return action.get("intent") in CORRECTING_INTENTS or is_free_text(action)


def step_right(action: Mapping[str, Any], moment: GoldMoment) -> bool:
    """Whether the action names the moment's step (or a recovery step; no step when the
    moment has none)."""
    step = action.get("step")
    if moment.step is None:
        return step is None
    return moment.is_step(step)


def content_score(
    action: Mapping[str, Any], moment: GoldMoment, text_sim: TextSim | None = None
) -> float:
    """Content score g in [0, 1] of an action (``intent``, ``step``, ``text``) for a moment.

    Args:
        action: A decision or ``assistant_message`` event (keys intent, step, text).
        moment: The gold moment it answers.
        text_sim: Free-text similarity (pred, gold) -> [0, 1]; when None, the backend
            of :func:`~proassist.analysis.metrics.text_similarity.text_backend`.
    """
    if action.get("intent"):
        right_step = step_right(action, moment)
        return STRUCTURED_CREDIT[(right_step, action["intent"] == moment.intent)]
    if is_free_text(action):
        sim = text_sim or default_text_sim()
        return float(min(1.0, max(0.0, sim(str(action["text"]), moment.text))))
    return 0.0


def messages_of(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``assistant_message`` events of an episode record, in time order."""
    events = record.get("events")
    if events is None:
        raise ValueError("episode record lacks 'events'; expected CONTRACTS.md §5 fields")
    msgs = [e for e in events if e.get("type") == "assistant_message"]
    return sorted(msgs, key=lambda e: float(e["t"]))


def episode_minutes(record: Mapping[str, Any]) -> float:
    """Episode length in minutes: ``duration``, else ``task_end.duration``, else the
    last decision time + dt."""
    if record.get("duration") is not None:
        return float(record["duration"]) / 60.0
    for e in record.get("events") or []:
        if e.get("type") == "task_end" and e.get("duration") is not None:
            return float(e["duration"]) / 60.0
    decisions = record.get("decisions") or []
    if decisions:
        return (float(decisions[-1]["t"]) + float(record.get("dt", 0.5))) / 60.0
    return 0.0


def run_info(
    records: Sequence[Mapping[str, Any]], text_sim: TextSim | None = None
) -> dict[str, Any]:
    """What a set of scores must be read with (added to ``score_episodes``' dict).

    Returns:
        ``text_sim_backend`` (``"minilm"``, ``"tokens"`` or ``"custom"``: scores with
        different backends are not comparable), ``n_free_text`` (free-text assistant
        messages: 0 means the backend did not matter), and from the records'
        ``model_outputs`` (raw outputs of model-backed components, each with ``parsed``)
        ``n_model_outputs`` and ``n_unparseable``.
    """
    from proassist.analysis.metrics.text_similarity import backend_name

    outputs = [o for r in records for o in r.get("model_outputs") or []]
    return {
        "text_sim_backend": backend_name(text_sim),
        "n_free_text": float(sum(is_free_text(m) for r in records for m in messages_of(r))),
        "n_model_outputs": float(len(outputs)),
        "n_unparseable": float(sum(not o.get("parsed", True) for o in outputs)),
    }
