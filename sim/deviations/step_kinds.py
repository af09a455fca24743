"""Deviation kinds that change how a plan step is done (or whether it is done).

Each class docstring states: when it applies, what the person does, the world change,
the recovery, the deadline window, the resolution predicate and the consequence.
``deps(n)``: until the ``n``-th remaining step that depends on the affected step is
expected to end (``n`` = :data:`~proassist.sim.deviations.base.DEADLINE_DEPENDENTS`);
the table of every kind's deadline and the lateness costs are in
:mod:`proassist.sim.deviations.base`.
"""

from __future__ import annotations

from typing import Any

from proassist.scenarios.model import Duration, Procedure, Step, parse_predicate
from proassist.sim.deviations.base import (
    Deviation,
    DeviationKind,
    RecoveryStep,
    fault,
    redo_step,
    register_deviation,
)
from proassist.sim.deviations.interface import KindSim
from proassist.sim.person.activity import Phase
from proassist.sim.person.kinematics import carried_object
from proassist.sim.world import split_effects

#: Ordered settings ladder used to pick a wrong setting.
SETTING_LADDER: tuple[str, ...] = ("low", "medium", "high", "max")


def _name(sim: KindSim, obj: str) -> str:
    for o in sim.procedure.objects:
        if o.id == obj:
            return o.name
    return obj


def _swap(pred: str, old: str, new: str) -> str:
    name, args = parse_predicate(pred)
    return f"{name}({','.join(new if a == old else a for a in args)})"


def _fix_id(dev: Deviation) -> str:
    return f"fix_{dev.kind}_{dev.step}"


@register_deviation("omission")
class Omission(DeviationKind):
    """Skips a non-optional, non-safety step and moves on, believing it done.

    World: the step's effects are missing (later steps that need them are botched).
    Onset: when the person starts something else instead (next step or wrap-up).
    Recovery: do the step. Deadline: ``deps(n)``.
    Resolved: ``done(step)``. Consequence: ``redo``.
    """

    consequence = "redo"

    def applies(self, step: Step, procedure: Procedure) -> bool:
        return not step.optional and not step.safety_critical

    def start(self, sim: KindSim, dev: Deviation, chosen: Step, t: float) -> None:
        sim.person.believe(chosen.id)
        sim.person.pending_onsets.append(dev)
        sim.person.decide(t, nested=True)

    def at_onset(self, sim: KindSim, dev: Deviation) -> None:
        """Nothing changes: the step's effects are simply missing."""

    def recovery(self, sim: KindSim, dev: Deviation) -> list[RecoveryStep]:
        return [redo_step(sim.index.steps[dev.step], dev)]

    def resolved_when(self, dev: Deviation) -> tuple[str, ...]:
        return (f"done({dev.step})",)


@register_deviation("order")
class Order(DeviationKind):
    """Does a step before its required predecessor (which is available now).

    Applies to non-optional steps with ``after`` predecessors; at a decision point the
    candidates are steps whose unmet predecessors include the step about to start.
    World: the early step is botched (no effects) and ``fault_order(step)`` holds.
    Onset: the early step starts. Recovery: stop/undo it (short), then the normal flow
    does the predecessor and the step. A correction may name the early step or the
    predecessor ("do that first"; :meth:`related_steps`). Deadline: ``deps(n)`` (see
    :mod:`~proassist.sim.deviations.base`), at least the early step's expected cost.
    Resolved: no fault. Consequence: ``redo``.
    """

    consequence = "redo"

    def applies(self, step: Step, procedure: Procedure) -> bool:
        return not step.optional and bool(step.after)

    def candidates(self, sim: KindSim, chosen: Step) -> list[str]:
        person, idx = sim.person, sim.index
        avail = set(person.available())
        out = []
        for sid in idx.order:
            if sid in person.believed or sid in avail or sid in idx.optional:
                continue
            unmet = self._unmet(sim, sid)
            if chosen.id in unmet and all(a in avail for a in unmet):
                out.append(sid)
        return out

    @staticmethod
    def _unmet(sim: KindSim, sid: str) -> list[str]:
        p = sim.person
        return [a for a in sim.index.info[sid].after if a not in p.believed and a not in p.skipped]

    def make_params(self, sim: KindSim, step: Step, given: dict[str, Any]) -> dict[str, Any]:
        unmet = self._unmet(sim, step.id)
        return {"before": unmet[0] if unmet else "", **given}

    def start(self, sim: KindSim, dev: Deviation, chosen: Step, t: float) -> None:
        sim.person.pending_onsets.append(dev)
        sim.person.start_step(sim.index.steps[dev.step], t, dev=dev)

    def recovery(self, sim: KindSim, dev: Deviation) -> list[RecoveryStep]:
        step = sim.index.steps[dev.step]
        before = sim.index.steps.get(dev.params.get("before", ""))
        first = f"; first: {before.instruction}" if before is not None else ""
        return [
            RecoveryStep(
                _fix_id(dev),
                f"Stop and undo '{step.instruction}'{first}",
                dev.step,
                Duration(2.0, 0.5, 1.0),
                location=step.location,
                removes=(fault(dev),),
            )
        ]

    def related_steps(self, sim: KindSim, dev: Deviation) -> tuple[str, ...]:
        before = str(dev.params.get("before") or "")
        return (before,) if before in sim.index.steps else ()

    def window(self, sim: KindSim, dev: Deviation) -> float:
        own = sim.index.info[dev.step].cost * sim.profile.speed
        return max(own, super().window(sim, dev))

    def on_recover(self, sim: KindSim, dev: Deviation) -> None:
        sim.person.forget(dev.step)
        sim.person.botched.discard(dev.step)


@register_deviation("substitution")
class Substitution(DeviationKind):
    """Uses a similar-looking alternative object (``alternatives``) instead of the right one.

    World: the step's effects name the substitute, and ``fault_substitution(step)`` holds.
    Onset: the substitute is grasped. Recovery: redo the step with the right object.
    Deadline: ``deps(n)``. Resolved: no fault.
    Consequence: ``redo``.
    """

    consequence = "redo"

    def applies(self, step: Step, procedure: Procedure) -> bool:
        return bool(self._options(step, procedure))

    @staticmethod
    def _options(step: Step, procedure: Procedure) -> dict[str, list[str]]:
        ids = {o.id: o for o in procedure.objects}
        out = {}
        for oid in (*step.objects, *step.tools):
            alts = [a for a in ids[oid].alternatives if a in ids] if oid in ids else []
            if alts:
                out[oid] = alts
        return out

    def make_params(self, sim: KindSim, step: Step, given: dict[str, Any]) -> dict[str, Any]:
        opts = self._options(step, sim.procedure)
        obj = given.get("object") if given.get("object") in opts else next(iter(opts))
        alts = opts[obj]
        rng = sim.deviations.param_rng(self.name, step.id)
        sub = given.get("substitute") or alts[int(rng.integers(len(alts)))]
        return {**given, "object": obj, "substitute": sub}

    def start(self, sim: KindSim, dev: Deviation, chosen: Step, t: float) -> None:
        obj, sub = dev.params["object"], dev.params["substitute"]
        act = sim.person.start_step(chosen, t, dev=dev, swap=(obj, sub))
        act.save_effects()
        act.adds = tuple(_swap(p, obj, sub) for p in act.adds)
        act.removes = tuple(_swap(p, obj, sub) for p in act.removes)
        act.triggers.append((act.phase_start("grasp") or t, dev))
        act.triggers.sort(key=lambda x: x[0])

    def recovery(self, sim: KindSim, dev: Deviation) -> list[RecoveryStep]:
        step = sim.index.steps[dev.step]
        obj, sub = dev.params["object"], dev.params["substitute"]
        adds, removes = split_effects(step.effects)
        wrong = tuple(_swap(p, obj, sub) for p in adds if _swap(p, obj, sub) not in adds)
        text = f"Use the {_name(sim, obj)}, not the {_name(sim, sub)}: {step.instruction}"
        return [
            RecoveryStep(
                _fix_id(dev),
                text,
                dev.step,
                step.duration,
                location=step.location,
                objects=(obj,),
                adds=adds,
                removes=(*removes, *wrong, fault(dev)),
            )
        ]


@register_deviation("placement")
class Placement(DeviationKind):
    """Puts the carried object at a wrong fixture (technique/placement error).

    Applies to steps that move an object they handle (``at(obj,fixture)`` effect).
    World: ``at(obj,wrong)`` instead of ``at(obj,fixture)``; ``fault_placement(step)``.
    Onset: the object is put down. Recovery: move it to the right fixture. Deadline:
    ``deps(n)``. Resolved: ``at(obj,fixture)`` and no fault. Consequence: ``redo``.
    """

    consequence = "redo"

    def applies(self, step: Step, procedure: Procedure) -> bool:
        return self._target(step) is not None

    @staticmethod
    def _target(step: Step) -> tuple[str, str] | None:
        adds = split_effects(step.effects)[0]
        obj, dest = carried_object(step, adds)
        return (obj, dest) if obj is not None and dest and f"at({obj},{dest})" in adds else None

    def make_params(self, sim: KindSim, step: Step, given: dict[str, Any]) -> dict[str, Any]:
        obj, right = self._target(step)
        options = [f.id for f in sim.layout.fixtures if f.id not in (right, step.location)]
        rng = sim.deviations.param_rng(self.name, step.id)
        wrong = given.get("wrong") or options[int(rng.integers(len(options)))]
        return {**given, "object": obj, "fixture": right, "wrong": wrong}

    def start(self, sim: KindSim, dev: Deviation, chosen: Step, t: float) -> None:
        obj, right, wrong = dev.params["object"], dev.params["fixture"], dev.params["wrong"]
        act = sim.person.start_step(chosen, t, dev=dev)
        act.save_effects()
        act.adds = tuple(f"at({obj},{wrong})" if p == f"at({obj},{right})" else p for p in act.adds)
        _walk_to(act.phases, obj, wrong)
        act.triggers.append((act.phase_start("place") or t, dev))
        act.triggers.sort(key=lambda x: x[0])

    def recovery(self, sim: KindSim, dev: Deviation) -> list[RecoveryStep]:
        obj, right, wrong = dev.params["object"], dev.params["fixture"], dev.params["wrong"]
        return [
            RecoveryStep(
                _fix_id(dev),
                f"Move the {_name(sim, obj)} to the {right}",
                dev.step,
                Duration(4.0, 1.0, 2.0),
                location=right,
                objects=(obj,),
                adds=(f"at({obj},{right})",),
                removes=(f"at({obj},{wrong})", fault(dev)),
                dest=right,
            )
        ]

    def resolved_when(self, dev: Deviation) -> tuple[str, ...]:
        return (f"at({dev.params['object']},{dev.params['fixture']})", f"not {fault(dev)}")


def _walk_to(phases: list[Phase], obj: str, wrong: str) -> None:
    """Make the person take ``obj`` to the ``wrong`` fixture and put it there.

    The carry (if any) walks to ``wrong`` instead of the step's location, the place
    happens there, looking at it, and the next phase walks back to where the step
    goes on. Fixtures are positioned so the person sees where the object goes.
    """
    place = next((i for i, ph in enumerate(phases) if ph.prim == "place" and ph.held == obj), None)
    if place is None:
        return
    ph = phases[place]
    if place > 0 and phases[place - 1].prim == "carry" and phases[place - 1].held == obj:
        carry = phases[place - 1]
        carry.stand = carry.target = wrong
        ph.stand_from = ph.target_from = wrong
    ph.dest = ph.stand = ph.target = wrong
    if place + 1 < len(phases):
        phases[place + 1].stand_from = phases[place + 1].target_from = wrong


class _Midstep(DeviationKind):
    """Base of kinds that go wrong while operating (onset: the operate/wait phase starts)."""

    def start(self, sim: KindSim, dev: Deviation, chosen: Step, t: float) -> None:
        act = sim.person.start_step(chosen, t, dev=dev)
        when = act.phase_start("operate") or act.phase_start("wait") or t
        act.triggers.append((when, dev))
        act.triggers.sort(key=lambda x: x[0])


@register_deviation("measurement")
class Measurement(_Midstep):
    """Uses a wrong amount (half or double ``params.amount``).

    Applies to steps with ``params.amount``/``amount_value``. World:
    ``fault_measurement(step)``. Onset: the pouring/measuring (operate) starts.
    Recovery: correct the amount. Deadline: ``deps(n)``. Resolved: no fault.
    Consequence: ``redo``.
    """

    consequence = "redo"

    def applies(self, step: Step, procedure: Procedure) -> bool:
        return "amount" in step.params or "amount_value" in step.params

    def make_params(self, sim: KindSim, step: Step, given: dict[str, Any]) -> dict[str, Any]:
        rng = sim.deviations.param_rng(self.name, step.id)
        factor = float(given.get("factor") or (0.5 if rng.random() < 0.5 else 2.0))
        value = step.params.get("amount_value")
        amount = str(step.params.get("amount", value))
        wrong = f"{float(value) * factor:g}" if isinstance(value, (int, float)) else f"{factor:g}x"
        return {"amount": amount, "factor": factor, "wrong_amount": wrong, **given}

    def recovery(self, sim: KindSim, dev: Deviation) -> list[RecoveryStep]:
        step = sim.index.steps[dev.step]
        mean = step.duration.mean
        return [
            RecoveryStep(
                _fix_id(dev),
                f"Correct the amount to {dev.params['amount']}: {step.instruction}",
                dev.step,
                Duration(0.5 * mean, 0.1 * mean, 1.0),
                location=step.location,
                objects=step.objects[:1],
                removes=(fault(dev),),
            )
        ]


@register_deviation("timing")
class Timing(DeviationKind):
    """Stops a timed step too early (waits only a fraction of ``params.min_time``).

    World: ``fault_timing(step)``. Onset: the step ends early. Recovery: continue for
    the missing time. Deadline: ``deps(n)``.
    Resolved: no fault. Consequence: ``redo``.
    """

    consequence = "redo"

    def applies(self, step: Step, procedure: Procedure) -> bool:
        return float(step.params.get("min_time", 0) or 0) > 0

    def make_params(self, sim: KindSim, step: Step, given: dict[str, Any]) -> dict[str, Any]:
        rng = sim.deviations.param_rng(self.name, step.id)
        frac = float(given.get("fraction") or 0.3 + 0.4 * rng.random())
        min_time = float(step.params["min_time"])
        return {"min_time": min_time, "fraction": frac, "actual": min_time * frac, **given}

    def start(self, sim: KindSim, dev: Deviation, chosen: Step, t: float) -> None:
        act = sim.person.start_step(chosen, t, dev=dev, wait_scale=dev.params["fraction"])
        act.onset_at_end.append(dev)

    def recovery(self, sim: KindSim, dev: Deviation) -> list[RecoveryStep]:
        step = sim.index.steps[dev.step]
        rest = dev.params["min_time"] - dev.params["actual"]
        text = f"Not done yet: {step.instruction} (about {rest:.0f} s more)"
        return [
            RecoveryStep(
                _fix_id(dev),
                text,
                dev.step,
                Duration(rest + 1.0, 0.0, 0.5),
                location=step.location,
                removes=(fault(dev),),
            )
        ]


@register_deviation("setting")
class Setting(_Midstep):
    """Uses a wrong setting (a neighbour on the low/medium/high/max ladder, or a scaled value).

    Applies to steps with ``params.setting``. World: ``fault_setting(step)``. Onset: the
    appliance is operated. Recovery: change the setting. Deadline: ``deps(1)``, until
    the first dependent step is expected to end. Resolved: no fault. Consequence:
    ``fail`` (the food burns, the part is ruined).
    """

    consequence = "fail"

    def window(self, sim: KindSim, dev: Deviation) -> float:
        return sim.expected_window(dev.step, dependents=1)

    def applies(self, step: Step, procedure: Procedure) -> bool:
        return "setting" in step.params

    def make_params(self, sim: KindSim, step: Step, given: dict[str, Any]) -> dict[str, Any]:
        setting = step.params["setting"]
        rng = sim.deviations.param_rng(self.name, step.id)
        if isinstance(setting, (int, float)) and not isinstance(setting, bool):
            wrong: Any = round(float(setting) * (0.6 if rng.random() < 0.5 else 1.5), 3)
        elif str(setting) in SETTING_LADDER:
            i = SETTING_LADDER.index(str(setting))
            near = [SETTING_LADDER[j] for j in (i - 1, i + 1) if 0 <= j < len(SETTING_LADDER)]
            wrong = near[int(rng.integers(len(near)))]
        else:
            wrong = f"not {setting}"
        return {"setting": setting, "wrong_setting": wrong, **given}

    def recovery(self, sim: KindSim, dev: Deviation) -> list[RecoveryStep]:
        step = sim.index.steps[dev.step]
        text = f"Set it to {dev.params['setting']}, not {dev.params['wrong_setting']}"
        return [
            RecoveryStep(
                _fix_id(dev),
                text,
                dev.step,
                Duration(2.5, 0.5, 1.0),
                location=step.location,
                removes=(fault(dev),),
            )
        ]


@register_deviation("repetition")
class Repetition(DeviationKind):
    """Does a step again right after finishing it.

    Applies to non-optional, non-safety steps. World: ``fault_repetition(step)`` (e.g.
    sugar added twice). Onset: the repeat starts. Recovery: stop and undo the extra.
    Deadline: ``deps(n)``, at least the repeat's expected cost. Resolved: no fault.
    Consequence: ``redo``.
    """

    consequence = "redo"

    def applies(self, step: Step, procedure: Procedure) -> bool:
        return not step.optional and not step.safety_critical

    def start(self, sim: KindSim, dev: Deviation, chosen: Step, t: float) -> None:
        act = sim.person.start_step(chosen, t)
        act.repeat = dev

    def recovery(self, sim: KindSim, dev: Deviation) -> list[RecoveryStep]:
        step = sim.index.steps[dev.step]
        text = f"Stop, this was already done ({step.instruction}); undo the extra"
        mean = max(1.5, 0.4 * step.duration.mean)
        return [
            RecoveryStep(
                _fix_id(dev),
                text,
                dev.step,
                Duration(mean, 0.2 * mean, 1.0),
                location=step.location,
                removes=(fault(dev),),
            )
        ]

    def window(self, sim: KindSim, dev: Deviation) -> float:
        own = sim.index.info[dev.step].cost * sim.profile.speed
        return max(own, super().window(sim, dev))
