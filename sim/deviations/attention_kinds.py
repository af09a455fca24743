"""Deviation kinds of attention: the person goes off-task or gets stuck.

Both are open-ended activities that end when someone re-engages the person, when the
person notices by themselves (self-correction), or at the deadline, when they get
back on track on their own (consequence ``none``: only time is lost).
"""

from __future__ import annotations

from typing import Any

from proassist.scenarios.model import Duration, Procedure, Step
from proassist.sim.deviations.base import Deviation, DeviationKind, RecoveryStep, register_deviation
from proassist.sim.deviations.interface import KindSim

#: Off-task things the person looks at when distracted.
DISTRACTORS: tuple[str, ...] = ("phone", "window")


class _Attention(DeviationKind):
    """Shared behaviour: a predicate while it lasts, a short re-engaging fix."""

    consequence = "none"
    predicate = ""
    fix_text = ""

    def applies(self, step: Step, procedure: Procedure) -> bool:
        return True

    def at_onset(self, sim: KindSim, dev: Deviation) -> None:
        sim.world.apply_effects(adds=(self.predicate,))

    def recovery(self, sim: KindSim, dev: Deviation) -> list[RecoveryStep]:
        step = sim.index.steps[dev.step]
        return [
            RecoveryStep(
                f"fix_{dev.kind}_{dev.step}",
                f"{self.fix_text}: {step.instruction}",
                dev.step,
                Duration(1.0, 0.2, 0.5),
                location=step.location,
                removes=(self.predicate,),
            )
        ]

    def resolved_when(self, dev: Deviation) -> tuple[str, ...]:
        return (f"not {self.predicate}",)

    def window(self, sim: KindSim, dev: Deviation) -> float:
        return float(dev.params["duration"])

    def on_recover(self, sim: KindSim, dev: Deviation) -> None:
        """Nothing to undo: the open-ended activity is simply abandoned."""

    def on_deadline(self, sim: KindSim, dev: Deviation, t: float) -> None:
        sim.world.apply_effects(removes=(self.predicate,))
        sim.person.end_special(dev, t)


@register_deviation("distraction")
class Distraction(_Attention):
    """Goes off-task before a step: looks away (phone, window) for a long time.

    World: ``distracted(person)``. Onset: the head turns away. Recovery: get back to
    the task. Deadline: ``params.duration`` (15-40 s), when the person returns by
    themselves. Resolved: not distracted. Consequence: ``none``.
    """

    predicate = "distracted(person)"
    fix_text = "Back to the task"

    def make_params(self, sim: KindSim, step: Step, given: dict[str, Any]) -> dict[str, Any]:
        rng = sim.deviations.param_rng(self.name, step.id)
        target = DISTRACTORS[int(rng.integers(len(DISTRACTORS)))]
        duration = 15.0 + 25.0 * rng.random()
        return {"target": target, "duration": duration, **given}

    def start(self, sim: KindSim, dev: Deviation, chosen: Step, t: float) -> None:
        person = sim.person
        person.directed = chosen.id
        person.pending_onsets.append(dev)
        person.start_special("distraction", t, dev, [("look", f"away:{dev.params['target']}", 1.0)])


@register_deviation("hesitation")
class Hesitation(_Attention):
    """Gets stuck before a step: idles and searches around, may ask "What should I do next?".

    The question comes with probability ``ask_when_stuck``. World:
    ``hesitating(person)``. Onset: the hesitation starts. Recovery: go on (after an
    instruction or answer). Deadline: ``params.duration`` (8-20 s), when the person
    goes on by themselves. Resolved: not hesitating. Consequence: ``none``.
    """

    predicate = "hesitating(person)"
    fix_text = "Go on with"

    def make_params(self, sim: KindSim, step: Step, given: dict[str, Any]) -> dict[str, Any]:
        rng = sim.deviations.param_rng(self.name, step.id)
        return {"duration": 8.0 + 12.0 * rng.random(), **given}

    def start(self, sim: KindSim, dev: Deviation, chosen: Step, t: float) -> None:
        person, rng = sim.person, sim.deviations.rng
        person.directed = chosen.id
        person.pending_onsets.append(dev)
        fixtures = [f.id for f in sim.layout.fixtures]
        looks = [
            ("look", fixtures[int(rng.integers(len(fixtures)))], 1.5 + rng.random())
            for _ in range(3)
        ]
        person.start_special("hesitation", t, dev, looks)
        ask_at = t + 1.5 + 1.5 * rng.random()
        if rng.random() < sim.profile.ask_when_stuck:
            sim.schedule(ask_at, "ask", dev)
