"""Baseline policies: ``silent``, ``random``, ``periodic`` and ``plan-timer``.

None of them looks at the frames; they bound what timing alone achieves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from proassist.policies.base import (
    PolicyBase,
    make_action,
    observation_time,
    register_policy,
    silent_action,
)
from proassist.sim.messages import INTENTS

__all__ = ["PeriodicPolicy", "PlanTimerPolicy", "RandomPolicy", "SilentPolicy"]


@register_policy("silent")
class SilentPolicy(PolicyBase):
    """Never speaks: the reference for the assistance effect (G-Mean 0)."""

    needs_pixels = False

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Always the silent action."""
        return silent_action()


@register_policy("random")
class RandomPolicy(PolicyBase):
    """Interrupts with probability ``p`` at each decision point, with a random intent
    and a random plan step.

    Args:
        p: Probability of interrupting at a decision point, in [0, 1].
    """

    needs_pixels = False

    def __init__(self, p: float = 0.1) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p}")
        self.p = p
        self.rng = np.random.default_rng(0)

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Store the plan and reseed the generator from ``seed``."""
        super().reset(env_info=env_info, seed=seed)
        self.rng = np.random.default_rng(seed)

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Silent with probability 1 − p; otherwise a random structured message."""
        if not self.plan or self.rng.random() >= self.p:
            return silent_action()
        intent = int(self.rng.integers(len(INTENTS)))
        step = int(self.rng.integers(len(self.plan)))
        return make_action(intent, step, self.instruction(step))


@register_policy("periodic")
class PeriodicPolicy(PolicyBase):
    """Next-step guidance every ``period`` seconds, walking the plan in order with its
    own counter (the first message at the episode start), silent once past the end.

    Args:
        period: Seconds between two messages (> 0).
    """

    needs_pixels = False

    def __init__(self, period: float = 10.0) -> None:
        super().__init__()
        if period <= 0:
            raise ValueError(f"period must be > 0 seconds, got {period}")
        self.period = period
        self.next_index = 0
        self.next_time = 0.0

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Restart the counter at the first step, due at the episode start."""
        super().reset(env_info=env_info, seed=seed)
        self.next_index = 0
        self.next_time = 0.0

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Instruct the counter's step when the period has elapsed."""
        now = observation_time(observation)
        if self.next_index >= len(self.plan) or now + 1e-9 < self.next_time:
            return silent_action()
        index = self.next_index
        self.next_index += 1
        self.next_time = now + self.period
        return make_action("instruct_next", index, f"Next: {self.instruction(index)}")


@register_policy("plan-timer")
class PlanTimerPolicy(PolicyBase):
    """Follows the procedure on the clock, without vision: instructs the first step at
    the start, then the next step each time the previous one is expected to be done
    (cumulative ``duration_mean`` scaled by ``speed``).

    Args:
        speed: Expected durations are divided by this factor (> 0; 2.0 assumes the
            person works twice as fast as the procedure's mean durations).
        skip_optional: Leave out the procedure's optional steps.
    """

    needs_pixels = False

    def __init__(self, speed: float = 1.0, skip_optional: bool = False) -> None:
        super().__init__()
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.speed = speed
        self.skip_optional = skip_optional
        self.schedule: list[tuple[float, int]] = []
        self.cursor = 0

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Build the schedule ``[(due time, step index)]`` from the expected durations."""
        super().reset(env_info=env_info, seed=seed)
        self.schedule, self.cursor, due = [], 0, 0.0
        for i, step in enumerate(self.plan):
            if self.skip_optional and step.get("optional", False):
                continue
            self.schedule.append((due, i))
            duration = float(step.get("duration_mean") or 0.0)
            if duration < 0:
                raise ValueError(f"step {step.get('id')!r} has negative duration_mean {duration}")
            due += duration / self.speed

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Instruct the next scheduled step once its due time has come."""
        now = observation_time(observation)
        if self.cursor >= len(self.schedule) or now + 1e-9 < self.schedule[self.cursor][0]:
            return silent_action()
        due_index = self.cursor
        while self.cursor < len(self.schedule) and self.schedule[self.cursor][0] <= now + 1e-9:
            self.cursor += 1  # several steps due at once: announce only the latest
            due_index = self.cursor - 1
        index = self.schedule[due_index][1]
        return make_action("instruct_next", index, f"Next: {self.instruction(index)}")
