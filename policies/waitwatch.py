"""A timed step left too soon: a wait cut short.

Some plan steps include a wait (the plan's ``min_time``: boil the water for 15 s, let
the coffee bloom for 10 s). A person who stops waiting early (a ``timing`` deviation:
a fraction of the wait) moves on to the next step after too little time on it, and a
step recogniser follows them there. :class:`WaitWatch` reads that in the stream of
recognised steps: when the recognised step moves from a timed step ``k`` to another
step for the first time, and the time worked on ``k`` so far (the dependency rule's
accrued probability) is at least :data:`WAIT_FLOOR` but under ``wait`` times ``k``'s
``min_time``, ``k`` was left too soon. The floor keeps out a flicker of ``k`` before
the person reached it. :class:`~proassist.policies.stepwatch.DependencyWatch` names
the step when that happens (``wait > 0``), once per step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["WAIT_FLOOR", "WaitWatch"]

#: Least time worked on a timed step, as a fraction of its ``min_time``, for leaving
#: it to count as a wait cut short.
WAIT_FLOOR = 0.3


class WaitWatch:
    """Which timed step, if any, the person just left before its wait was up.

    Args:
        plan: The plan's step dicts (``min_time``: seconds of waiting, 0 or absent:
            none).
        wait: Fraction of ``min_time`` under which leaving the step counts as cut
            short (0: off, never).
        floor: Least fraction of ``min_time`` worked on (:data:`WAIT_FLOOR`).
    """

    def __init__(self, plan: Sequence[dict[str, Any]], wait: float, floor: float = WAIT_FLOOR):
        if wait < 0 or floor < 0:
            raise ValueError(f"need wait >= 0 and floor >= 0; got {wait}, {floor}")
        self.min_time = np.array([float(s.get("min_time") or 0.0) for s in plan])
        self.wait, self.floor = float(wait), float(floor)
        self.last: int | None = None  # the last step recognised
        self.left: set[int] = set()  # timed steps already left once

    def push(self, current: int | None, worked: np.ndarray) -> int | None:
        """Take this point's recognised step (None: none or not sure) and the time
        worked on every step; the timed step just left too soon, else None."""
        if current is None or current == self.last:
            return None
        k, self.last = self.last, current
        if k is None or k in self.left or self.min_time[k] <= 0.0:
            return None
        self.left.add(k)
        if self.wait <= 0.0:
            return None
        share = float(worked[k]) / self.min_time[k]
        return k if self.floor - 1e-9 <= share < self.wait else None
