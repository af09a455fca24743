"""Deviation kinds that leave a hazard: a ``safety_critical`` step skipped.

Registered after the step and attention kinds, so that random deviations are drawn in
the taxonomy order of DESIGN.md (omission ... hesitation, then safety).
"""

from __future__ import annotations

from proassist.scenarios.model import Procedure, Step
from proassist.sim.deviations.base import (
    Deviation,
    RecoveryStep,
    fault,
    redo_step,
    register_deviation,
)
from proassist.sim.deviations.interface import KindSim
from proassist.sim.deviations.step_kinds import Omission


@register_deviation("safety")
class Safety(Omission):
    """Skips a ``safety_critical`` step (e.g. leaves the burner on): a hazard is left.

    World: the step's effects are missing and ``fault_safety(step)`` (the hazard)
    holds. Onset: when the person moves on. Recovery: do the step. Deadline: until the
    first dependent step is expected to end. Resolved: ``done(step)`` and no hazard.
    Consequence: ``fail`` (episode ends, reason ``hazard``).
    """

    consequence = "fail"

    def applies(self, step: Step, procedure: Procedure) -> bool:
        return bool(step.safety_critical)

    def at_onset(self, sim: KindSim, dev: Deviation) -> None:
        sim.world.apply_effects(adds=(fault(dev),))

    def recovery(self, sim: KindSim, dev: Deviation) -> list[RecoveryStep]:
        r = redo_step(sim.index.steps[dev.step], dev)
        r.removes = (*r.removes, fault(dev))
        return [r]

    def resolved_when(self, dev: Deviation) -> tuple[str, ...]:
        return (f"done({dev.step})", f"not {fault(dev)}")
