"""The default reward of the ProAssist envs, term by term."""

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


class RewardTracker:
    """Turns one step's new events and the assistant's message into reward terms."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        unknown = set(weights) - set(DEFAULT_REWARD_WEIGHTS)
        if unknown:
            raise ValueError(
                f"unknown reward weight(s) {sorted(unknown)}; expected {sorted(DEFAULT_REWARD_WEIGHTS)}"
            )
        self.weights = dict(weights)
        self.totals = {k: 0.0 for k in self.weights}

    def step(
        self, events: list[dict[str, Any]], interrupted: bool, false_alarm: bool, sim: Any
    ) -> dict[str, float]:
        """Return the reward terms of one step (and add them to ``totals``)."""
        w = self.weights
        recovered = sum(
            1 for e in events if e["type"] == "deviation_resolved" and e.get("assisted")
        )
        ended_ok = any(e["type"] == "task_end" and e.get("success") for e in events)
        terms = {
            "success": w["success"] if ended_ok else 0.0,
            "recovery": w["recovery"] * recovered,
            "false_alarm": w["false_alarm"] if false_alarm else 0.0,
            "interrupt": w["interrupt"] if interrupted else 0.0,
        }
        for k, v in terms.items():
            self.totals[k] += v
        return terms
