"""A step recognised again right after it ran its course: a repetition.

A learned step recogniser learns from ordinary streams that a step ends after about
its expected duration, so when the person does the step again right after finishing it
(a ``repetition``: sugar added twice), the recogniser lets go of the step when its
expected duration is up, names nothing or the next plan step for a moment, and then
takes the step up again, because the frames still show it. :class:`ReturnWatch` reads
that shape in the stream of recognised steps: a run of step ``k`` that lasted at least
``again`` times ``k``'s expected duration, a short gap (:data:`RETURN_GAP`), and ``k``
again. Mid-step flicker (a run cut short) and a later step that reuses the fixture (a
longer gap) do not count. :class:`~proassist.policies.stepwatch.DependencyWatch` names
the step when that happens (``again > 0``), once per step.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RETURN_GAP", "ReturnWatch"]

#: Shortest and longest time (s) between the two runs of a step recognised again.
RETURN_GAP: tuple[float, float] = (1.0, 3.0)


class ReturnWatch:
    """Which step, if any, the person took up again right after it ran its course.

    Args:
        duration: Expected duration (s) of every plan step.
        dt: Seconds between points.
        again: Fraction of a step's expected duration its first run must have lasted
            (0: off, never a return).
        gap: Shortest and longest seconds between the two runs (:data:`RETURN_GAP`).
    """

    def __init__(
        self,
        duration: np.ndarray,
        dt: float,
        again: float,
        gap: tuple[float, float] = RETURN_GAP,
    ) -> None:
        if again < 0 or not 0.0 <= gap[0] <= gap[1]:
            raise ValueError(f"need again >= 0 and 0 <= gap[0] <= gap[1]; got {again}, {gap}")
        self.limit = float(again) * np.asarray(duration, dtype=np.float64)
        self.dt, self.gap = float(dt), (float(gap[0]), float(gap[1]))
        self.t = 0.0
        self.run: tuple[int | None, int] = (None, 0)  # the recognised step, points in a row
        self.left: dict[int, tuple[float, float]] = {}  # step -> (its last point, run in s)
        self.pending: int | None = None  # the step of the run that is a return

    def push(self, current: int | None) -> None:
        """Take this point's recognised step (None: none or not sure)."""
        self.t += self.dt
        step, n = self.run
        if current == step:
            self.run = (step, n + 1)
            return
        if step is not None:
            self.left[step] = (self.t - self.dt, n * self.dt)
        self.run = (current, 1)
        self.pending = current if current is not None and self._back(current) else None

    def _back(self, step: int) -> bool:
        """Whether a run of ``step`` starting now is a return (class docstring)."""
        if step not in self.left or self.limit[step] <= 0.0:
            return False
        last, length = self.left[step]
        away = self.t - last - self.dt
        lo, hi = self.gap
        return length >= self.limit[step] - 1e-9 and lo - 1e-9 <= away <= hi + 1e-9

    def returned(self, step: int) -> bool:
        """Whether the person is on ``step`` again, in a run that began as a return."""
        return self.pending == step and self.run[0] == step
