"""Grasp watching: a step's own object in the hands before a step it needs.

The dependency rule (:class:`~proassist.policies.stepwatch.DependencyWatch`) speaks
once the recogniser names the step the person works on. After an **order** error the
learned recogniser first names the step the plan expects (the one skipped) for about
2 s and switches to the step actually started 2.5-3.5 s after its onset, too late for
a detection within 2 s; yet the started step's own objects reach the person's hands
after about 1-1.5 s (validation streams, ``policies/checkpoints/steps/README.md``,
seventeenth round). :class:`GraspWatch` reads that evidence directly:

- an object is *in the hands* when its pixels lie within reach of a hand
  (:func:`~proassist.policies.learned.steps.pixel_counts`) for ``hold`` points in a row;
- it is *out of turn* when no plan step that uses it (its objects and tools) was worked
  on yet and none of them could be done now (each needs a step never worked on);
- then, if the recogniser gives one of those steps ``j`` probability at least ``theta``,
  name ``j``'s first missing step ``k`` (:meth:`DependencyWatch.missing`, so ``ready``
  and ``hold`` apply) as the dependency rule would, once per (``j``, ``k``) pair
  (shared with that rule, and its reminders);
- unless ``k`` itself uses an object in the hands: then the person may be doing ``k``
  (taking the wheel off shows the tyre, which later steps use, in the hands). On
  silent validation streams this halved the rule's firings outside every deviation
  (30 to 11 in 120 episodes) and kept 7 of its 8 order errors named within 2 s.

Like the dependency rule it never reads the deviations: only the segmentation (through
the recogniser's pixel counts), the recogniser's probabilities and the plan.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from proassist.policies.learned.steps import Counts
    from proassist.policies.stepwatch import DependencyWatch

__all__ = ["GraspWatch"]


class GraspWatch:
    """The grasp rule over one episode (module docstring).

    Args:
        plan: The plan's step dicts (``objects``, ``tools``).
        theta: Lowest recogniser probability of the step whose object is in the hands.
        hold: Points in a row an object must be in the hands.
    """

    def __init__(self, plan: list[dict[str, Any]], theta: float = 0.1, hold: int = 1) -> None:
        if not 0.0 <= theta <= 1.0 or hold < 1:
            raise ValueError(f"need 0 <= theta <= 1 and hold >= 1, got {theta}, {hold}")
        self.theta, self.hold = float(theta), int(hold)
        self.uses: dict[str, list[int]] = {}
        for j, step in enumerate(plan):
            for obj in dict.fromkeys((*(step.get("objects") or ()), *(step.get("tools") or ()))):
                self.uses.setdefault(str(obj), []).append(j)
        self.streak: Counter[str] = Counter()

    def in_hands(self, counts: Counts) -> list[str]:
        """Plan objects in the hands at this point for ``hold`` points in a row."""
        now = {o for o, v in counts.items() if v[2] > 0 and o in self.uses}
        self.streak = Counter({o: self.streak[o] + 1 for o in now})
        return sorted(o for o in now if self.streak[o] >= self.hold)

    def out_of_turn(self, obj: str, watch: DependencyWatch, worked: set[int]) -> list[int]:
        """The steps using ``obj`` if it is out of turn (module docstring), else []."""
        users = self.uses[obj]
        if any(j in worked for j in users):
            return []
        if any(all(a in worked for a in watch.required(j)) for j in users):
            return []
        return users

    def uses_any(self, step: int, objects: list[str]) -> bool:
        """Whether plan step ``step`` uses any of ``objects``."""
        return any(step in self.uses[o] for o in objects)

    def observe(self, counts: Counts, probs: np.ndarray, watch: DependencyWatch) -> int | None:
        """Take this point's pixel counts and probabilities; the plan index to name."""
        held = self.in_hands(counts)
        if not held or watch.t < watch.mute_until - 1e-9:
            return None
        worked = watch.worked_on()
        for obj in held:
            for j in self.out_of_turn(obj, watch, worked):
                if probs[j] < self.theta:
                    continue
                for k in watch.missing(j):
                    if self.uses_any(k, held):
                        continue  # the person may be doing k itself
                    if watch.claim((j, k)):
                        return k
        return None
