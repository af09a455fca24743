"""An example plugin: a new deviation kind, ``contamination``, defined outside the package.

Load it with ``proassist eval --plugin examples/plugins/my_kind.py ...`` or
``plugins: [path/to/my_kind.py]`` in a sweep file; then ``contamination`` can be used in
``deviation_rates``, ``deviation_kinds``, scripted deviations and task files.

The person touches something non-sterile with the tool of a step marked
``params: {sterile: true}`` while operating; the fix is to swap in a fresh one and
redo the step's work. The oracle names the fix (the first recovery step) when it
corrects it.
"""

from __future__ import annotations

from proassist.scenarios.model import Duration, Procedure, Step
from proassist.sim.deviations.base import (
    Deviation,
    DeviationKind,
    RecoveryStep,
    fault,
    register_deviation,
)
from proassist.sim.deviations.interface import KindSim


@register_deviation("contamination")
class Contamination(DeviationKind):
    """Contaminates the tool of a sterile step while operating.

    Applies to steps with ``params.sterile``. World: ``fault_contamination(step)``.
    Onset: the operate (or wait) phase starts. Recovery: swap in a fresh tool. Deadline:
    until the first dependent step is expected to end. Resolved: no fault.
    Consequence: ``redo``.
    """

    consequence = "redo"

    def applies(self, step: Step, procedure: Procedure) -> bool:
        return bool(step.params.get("sterile"))

    def start(self, sim: KindSim, dev: Deviation, chosen: Step, t: float) -> None:
        act = sim.person.start_step(chosen, t, dev=dev)
        when = act.phase_start("operate") or act.phase_start("wait") or t
        act.triggers.append((when, dev))
        act.triggers.sort(key=lambda x: x[0])

    def recovery(self, sim: KindSim, dev: Deviation) -> list[RecoveryStep]:
        step = sim.index.steps[dev.step]
        return [
            RecoveryStep(
                f"fix_contamination_{dev.step}",
                f"That touched something non-sterile: swap in a fresh one. {step.instruction}",
                dev.step,
                Duration(0.5 * step.duration.mean, 0.1 * step.duration.mean, 1.0),
                location=step.location,
                objects=step.objects[:1],
                removes=(fault(dev),),
            )
        ]
