"""Grasp watching: a step's own object in the hands before a step it needs.

The dependency rule (:class:`~proassist.policies.stepwatch.DependencyWatch`) speaks
once the recogniser names the step the person works on. After an **order** error the
learned recogniser first names the step the plan expects (the one skipped) for about
2 s and switches to the step actually started 2.5-3.5 s after its onset, too late for
a detection within 2 s; yet the started step's own objects reach the person's hands
after about 1-1.5 s (validation streams, ``policies/checkpoints/steps/README.md``,
seventeenth round). :class:`GraspWatch` reads that evidence directly:

- an object is *in the hands* when its pixels lie within reach of a hand
  (:func:`~proassist.policies.learned.steps.pixel_counts`) for ``points`` points in a
  row (counted at every point, also when another rule speaks);
- it is *out of turn* when no plan step that uses it (its objects and tools) was worked
  on yet and none of them could be done now (each needs a step never worked on);
- then, if the recogniser gives one of those steps ``j`` probability at least ``theta``
  (whatever its most probable candidate: the dependency rule's ``confidence`` and
  ``sustain`` are not asked for), name the first of ``j``'s missing steps
  (:meth:`DependencyWatch.missing`, so ``ready`` and the held-back steps apply) that
  passes the next test, once per (``j``, ``k``) pair (shared with the dependency rule
  and its reminders; the correction gate, trained on that rule's candidates, is not
  asked);
- ``k`` itself uses no object in the hands, else the person may be doing ``k``
  (taking the wheel off shows the tyre, which later steps use, in the hands). On
  silent validation streams this halved the rule's firings (66 to 33 in 120 episodes;
  outside every deviation 30 to 11) and kept 7 of its 8 order errors named within 2 s.

Like the dependency rule it never reads the deviations: only the segmentation (through
the recogniser's pixel counts), the recogniser's probabilities and the plan.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from proassist.policies.placewatch import handled

if TYPE_CHECKING:
    from proassist.policies.learned.steps import Counts
    from proassist.policies.stepwatch import DependencyWatch

__all__ = ["GraspWatch"]


class GraspWatch:
    """The grasp rule over one episode (module docstring).

    Args:
        plan: The plan's step dicts (``objects``, ``tools``).
        theta: Lowest recogniser probability of the step whose object is in the hands.
        points: Points in a row an object must be in the hands.
    """

    def __init__(self, plan: list[dict[str, Any]], theta: float = 0.1, points: int = 1) -> None:
        if not 0.0 <= theta <= 1.0 or points < 1:
            raise ValueError(f"need 0 <= theta <= 1 and points >= 1, got {theta}, {points}")
        self.n = len(plan)
        self.theta, self.points = float(theta), int(points)
        self.uses: dict[str, list[int]] = {}
        for j, step in enumerate(plan):
            for obj in sorted(handled(step)):
                self.uses.setdefault(obj, []).append(j)
        self.streak: Counter[str] = Counter()

    def _count(self, counts: Counts) -> list[str]:
        """Advance the streaks; the plan objects in the hands for ``points`` in a row."""
        now = {o for o, v in counts.items() if v[2] > 0 and o in self.uses}
        self.streak = Counter({o: self.streak[o] + 1 for o in now})
        return sorted(o for o in now if self.streak[o] >= self.points)

    def uses_any(self, step: int, objects: list[str]) -> bool:
        """Whether plan step ``step`` uses any of ``objects``."""
        return any(step in self.uses[o] for o in objects)

    def out_of_turn(self, obj: str, watch: DependencyWatch, worked: set[int]) -> list[int]:
        """The steps using ``obj`` if it is out of turn (module docstring), else []."""
        users = self.uses[obj]
        if any(j in worked for j in users):
            return []
        if any(watch.doable(j, worked) for j in users):
            return []
        return users

    def observe(
        self, counts: Counts, probs: np.ndarray, watch: DependencyWatch, quiet: bool = False
    ) -> int | None:
        """Take this point's pixel counts and candidate probabilities (plan steps, then
        *none*); the plan index to name, or None (always None when ``quiet``: another
        rule speaks, though the streaks still advance)."""
        held = self._count(counts)
        if np.shape(probs) != (self.n + 1,):
            raise ValueError(f"expected {self.n + 1} probabilities, got {np.shape(probs)}")
        if quiet or not held or watch.t < watch.mute_until - 1e-9:
            return None
        worked = watch.worked_on()
        for obj in held:
            for j in self.out_of_turn(obj, watch, worked):
                if probs[j] < self.theta:
                    continue
                for k in watch.missing(j):
                    if not self.uses_any(k, held) and watch.claim((j, k), gated=False):
                        return k
        return None
