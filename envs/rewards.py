"""The default reward of the ProAssist envs, term by term, and when each term is paid.

Four terms (weights overridable with the env's ``reward_weights``):

- ``interrupt`` (observable): the cost of talking, paid on the step of each interruption.
- ``false_alarm``, ``recovery``, ``success`` (ground truth): a correcting message naming no
  step that addresses an active deviation (its step, recovery or related steps:
  ``sim.deviations.base.addressable_steps``), an assisted recovery, a successful task end.

Without privileged info (the env default) a per-step reward that held the ground-truth
terms would tell the assistant at once whether a named step has a deviation (a false
alarm costs -1.05, a right correction -0.05). So the :class:`RewardTracker` pays only the
observable ``interrupt`` term per step and defers the ground-truth terms: they are paid
as one outcome sum at the final step of the episode (terminated or truncated). With
privileged info (oracles, RL with a privileged critic) every term is paid on the step
that earns it. The episode return is the same either way for the same seed and actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Reward weights; override any of them with ``reward_weights=`` on the env.
DEFAULT_REWARD_WEIGHTS: dict[str, float] = {
    "success": 10.0,
    "recovery": 2.0,
    "false_alarm": -1.0,
    "interrupt": -0.05,
}
#: Terms the assistant can observe itself: paid on the step that earns them.
OBSERVABLE_TERMS: tuple[str, ...] = ("interrupt",)
#: Ground-truth terms: paid at the final step unless the env is privileged.
OUTCOME_TERMS: tuple[str, ...] = ("success", "recovery", "false_alarm")


class RewardTracker:
    """Turns one step's new events and the assistant's message into paid reward terms.

    Args:
        weights: A weight per term (keys of :data:`DEFAULT_REWARD_WEIGHTS`).
        privileged: Pay the ground-truth terms on the step that earns them; when False
            they are deferred to the final step (see the module docstring).

    Attributes:
        totals: The terms earned so far in the episode (paid or still deferred).
    """

    def __init__(self, weights: Mapping[str, float], privileged: bool = False) -> None:
        unknown = set(weights) - set(DEFAULT_REWARD_WEIGHTS)
        if unknown:
            raise ValueError(
                f"unknown reward weight(s) {sorted(unknown)}; expected {sorted(DEFAULT_REWARD_WEIGHTS)}"
            )
        self.weights = dict(weights)
        self.privileged = bool(privileged)
        self.totals = {k: 0.0 for k in self.weights}

    def earned(
        self, events: list[dict[str, Any]], interrupted: bool, false_alarm: bool
    ) -> dict[str, float]:
        """The terms one step earns (whether or not they are paid now)."""
        w = self.weights
        recovered = sum(
            1 for e in events if e["type"] == "deviation_resolved" and e.get("assisted")
        )
        ended_ok = any(e["type"] == "task_end" and e.get("success") for e in events)
        return {
            "success": w["success"] if ended_ok else 0.0,
            "recovery": w["recovery"] * recovered,
            "false_alarm": w["false_alarm"] if false_alarm else 0.0,
            "interrupt": w["interrupt"] if interrupted else 0.0,
        }

    def step(
        self,
        events: list[dict[str, Any]],
        interrupted: bool,
        false_alarm: bool,
        final: bool = False,
    ) -> dict[str, float]:
        """Return the terms paid on one step (every term is a key, 0.0 when unpaid).

        Args:
            events: The events the step logged.
            interrupted: The assistant spoke on this step.
            false_alarm: Its message was a correcting false alarm.
            final: This is the episode's last step (terminated or truncated).

        Returns:
            ``{term: paid}``; the step's reward is the sum of the values.
        """
        terms = self.earned(events, interrupted, false_alarm)
        for k, v in terms.items():
            self.totals[k] += v
        if self.privileged:
            return terms
        return {
            k: v if k in OBSERVABLE_TERMS else (self.totals[k] if final else 0.0)
            for k, v in terms.items()
        }
