"""Deviation kinds that leave a hazard: a ``safety_critical`` step skipped.

A hazard runs a **hazard clock** from its onset: the burner left on, the drill left
plugged in. Its length is data: the step's ``params.hazard_time`` (seconds, validated
by the scenario schema), else :data:`HAZARD_TIME`; a scripted deviation may override
it with its own ``hazard_time`` parameter. When the clock runs out unresolved (the
deviation's deadline), the episode ends as failed with reason ``hazard``; a correction
after that is too late. The episode also fails with ``hazard`` when the person finishes
with the hazard still there.

Registered after the step and attention kinds, so that random deviations are drawn in
the taxonomy order of DESIGN.md (omission ... hesitation, then safety).
"""

from __future__ import annotations

from typing import Any

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

#: Default hazard clock in seconds (a step's ``params.hazard_time`` overrides it).
HAZARD_TIME: float = 30.0


@register_deviation("safety")
class Safety(Omission):
    """Skips a ``safety_critical`` step (e.g. leaves the burner on): a hazard is left.

    World: the step's effects are missing and ``fault_safety(step)`` (the hazard)
    holds. Onset: when the person moves on. Recovery: do the step. Deadline: the hazard
    clock, ``params.hazard_time`` seconds (the step's, default :data:`HAZARD_TIME`).
    Resolved: ``done(step)`` and no hazard. Consequence: ``fail`` (episode ends, reason
    ``hazard``).
    """

    consequence = "fail"

    def applies(self, step: Step, procedure: Procedure) -> bool:
        return bool(step.safety_critical)

    def make_params(self, sim: KindSim, step: Step, given: dict[str, Any]) -> dict[str, Any]:
        clock = float(given.get("hazard_time") or step.params.get("hazard_time", HAZARD_TIME))
        return {**given, "hazard_time": clock}

    def window(self, sim: KindSim, dev: Deviation) -> float:
        """The hazard clock: ``params.hazard_time`` seconds from the onset."""
        return float(dev.params.get("hazard_time", HAZARD_TIME))

    def at_onset(self, sim: KindSim, dev: Deviation) -> None:
        sim.world.apply_effects(adds=(fault(dev),))

    def recovery(self, sim: KindSim, dev: Deviation) -> list[RecoveryStep]:
        r = redo_step(sim.index.steps[dev.step], dev)
        r.removes = (*r.removes, fault(dev))
        return [r]

    def resolved_when(self, dev: Deviation) -> tuple[str, ...]:
        return (f"done({dev.step})", f"not {fault(dev)}")
