"""A plan step passed over: the person starts the next step without ever beginning it.

An omission whose step the next one does not need (the person skips taking the bowl
and tears the lettuce) breaks no dependency when it happens. The dependency rule of
:class:`~proassist.policies.stepwatch.DependencyWatch` hears it only when a step that
needs the skipped one starts, often tens of seconds later: past the 2 s of
content-aware OOP recall and sometimes past the deviation's deadline. :class:`SkipWatch`
reads it at once, from the same stream of recognised steps: when the recognised step
is the next required (non-optional) step after the first required step not worked on,
and that step

- could be done now (its own required steps were worked on),
- was barely recognised at all (no time worked on, or under ``skip`` times its
  expected duration: a step the person did but the recogniser under-counted has more),
- was never named by any of the watch's rules (a dependency correction, a safety
  warning, a repetition, a wait cut short, the grasp rule, this rule), and the person
  did not call it fine less than ``hold`` seconds ago,

name it. A step recognised further ahead is more likely a misrecognition than a
skip, so it names nothing then. The person's own benign reorderings (steps with no
order between them taken the other way round, logged as ``variation`` events) look the
same and cost a false alarm each. :class:`~proassist.policies.stepwatch.DependencyWatch`
consults it (``skip > 0``) after its dependency, safety, repetition and wait rules;
``insist`` may say its correction again, as any other. The learned gate does not
filter it: with both on, a step whose dependency correction the gate held back can
still be named by this rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from proassist.policies.stepwatch import DependencyWatch

__all__ = ["SkipWatch"]


class SkipWatch:
    """Which step, if any, the person just passed over (module docstring).

    Args:
        plan: The plan's step dicts (``optional``, ``duration_mean``).
        skip: Fraction of a step's expected duration under which the time worked on
            it counts as never begun (0: off, never).
    """

    def __init__(self, plan: Sequence[dict[str, Any]], skip: float):
        if skip < 0:
            raise ValueError(f"need skip >= 0; got {skip}")
        self.required = [i for i, s in enumerate(plan) if not s.get("optional")]
        self.begun = float(skip) * np.array([float(s.get("duration_mean") or 0.0) for s in plan])
        self.on = skip > 0

    def push(self, watch: DependencyWatch, top: int) -> int | None:
        """The step passed over while ``watch`` recognises plan step ``top``, else None
        (module docstring); the watch records a step it returns as named
        (``DependencyWatch.told``), so it is not returned again."""
        if not self.on or top not in self.required:
            return None
        seen = watch.worked_on(exclude=top)
        first = next((i for i in self.required if i < top and i not in seen), None)
        if first is None or not self._may_name(watch, first, seen):
            return None
        mass = float(watch.mass[first])
        begun = mass > 0.0 and mass >= self.begun[first]
        further = any(first < i < top for i in self.required)  # top is not the next one
        return None if begun or further else first

    def _may_name(self, watch: DependencyWatch, k: int, seen: set[int]) -> bool:
        """Whether ``k`` may be named now: never named by the watch's rules (nor held
        back: called fine less than ``hold`` s ago), and doable (its required steps in
        ``seen``)."""
        held = watch.t < watch.held.get(k, 0.0)
        return k not in watch.told and not held and watch.doable(k, seen)
