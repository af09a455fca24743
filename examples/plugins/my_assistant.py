"""An example plugin: an assistant policy and a metric, defined outside the package.

``proassist eval --plugin examples/plugins/my_assistant.py --policy step-announcer``
runs the policy; the ``messages_per_episode`` metric then appears in ``scores.json`` (and
may be named in a sweep file's ``metrics:``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from proassist.analysis.metrics import register_metric
from proassist.policies import PolicyBase, make_action, register_policy, silent_action


@register_policy("step-announcer")
class StepAnnouncer(PolicyBase):
    """Announces the next plan step whenever the expected time of the current one is up.

    No vision and no ground truth: it reads only ``env_info`` (the plan's
    ``duration_mean``) and the observation's clock.

    Args:
        slack: Extra seconds added to each step's expected duration.
    """

    privileged = False
    needs_pixels = False

    def __init__(self, slack: float = 1.0) -> None:
        super().__init__()
        if slack < 0:
            raise ValueError(f"slack must be >= 0 seconds, got {slack}")
        self.slack = float(slack)
        self.next_index, self.due = 0, 0.0

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Start at the first step, announced at once."""
        super().reset(env_info=env_info, seed=seed)
        self.next_index, self.due = 0, 0.0

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Announce the next step when it is due, else stay silent."""
        now = float(np.asarray(observation["time"]).reshape(-1)[0])
        if self.next_index >= len(self.plan) or now < self.due:
            return silent_action()
        index = self.next_index
        self.next_index += 1
        self.due = now + float(self.plan[index].get("duration_mean", 5.0)) + self.slack
        return make_action("instruct_next", index, f"Next: {self.instruction(index)}")


@register_metric("messages_per_episode")
def messages_per_episode(stats: Mapping[str, Any]) -> Any:
    """Assistant messages per episode: a function of the summed episode statistics
    (:func:`proassist.analysis.metrics.episode_stats`; arrays under the bootstrap)."""
    messages = np.asarray(stats["messages"], dtype=float)
    episodes = np.asarray(stats["episodes"], dtype=float)
    return messages / np.where(episodes > 0, episodes, 1.0)
