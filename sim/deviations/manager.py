"""The deviation engine of one episode: the latent plan, triggering, onset, deadlines.

- **Scripted** deviations (:class:`~proassist.scenarios.model.ScriptedDeviation`)
  always happen: at the first decision point where the kind's candidates (for the step
  about to start) include ``step`` and, when ``time`` is set, not before ``time``.
  An empty ``step`` matches any step (useful for timed distractions).
- **Random** deviations are *latent*: :meth:`DeviationManager.plan` draws, once at
  reset, the complete plan of random deviations of the episode from a dedicated
  generator (``[seed, PLAN_STREAM]``): one uniform per (kind, step) pair, for every
  registered kind and every step in procedure order (so a rate change or a plugin kind
  does not shift the other draws); a pair where the kind applies (static
  :meth:`~proassist.sim.deviations.base.DeviationKind.applies`) and whose draw is below
  ``rate * error_proneness`` (capped at 1) is a hit. Per step, the first hit in kind
  registration order is latent (one random deviation per step, as a person makes one
  mistake at a time); with ``max_random`` set, only the first ``max_random`` latent
  deviations in canonical step order are kept (``None``: no cap). Every latent
  deviation's random parameters come from its own generator
  (:meth:`DeviationManager.param_rng`, derived from the seed, the kind and the step),
  so they do not depend on the order of events either. The plan is logged at time 0
  as a ``latent_deviations`` event.
- During the episode a latent deviation *manifests* at the first decision point where
  its kind's candidates (for the step about to start) include its step, as scripted
  ones do. Whatever the assistant says, the latent plan of a seed is identical (the
  paired assistance effect relies on it); what the assistant changes is only whether
  and when a latent deviation manifests (e.g. a step order the person never reaches).
- ``opportunities`` (applicable (kind, step) pairs drawn) and ``occurrences`` (draws
  that hit, before the one-per-step rule and the cap) count per kind, for rate checks.
- ``rng`` (the deviation behaviour stream) drives the rest: self-correction timing and
  the kinds' behaviour (e.g. where a hesitating person looks).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from proassist.scenarios.model import DEVIATION_KINDS, ScriptedDeviation, Step
from proassist.sim.deviations.base import MIN_WINDOW, Deviation, get_deviation, redo_step

#: Stream index (``default_rng([seed, PLAN_STREAM])``) of the latent plan's draws.
PLAN_STREAM: int = 4
#: Stream index of the per-(kind, step) parameter generators.
PARAM_STREAM: int = 5


def _key(text: str) -> int:
    """A stable 32-bit integer of ``text`` (generator seeds; Python's hash is salted)."""
    return zlib.crc32(text.encode("utf-8"))


@dataclass(frozen=True)
class LatentDeviation:
    """A random deviation planned at reset (it manifests when its step comes).

    Attributes:
        kind: The registered kind name.
        step: The affected plan step id.
        index: The step's plan index.
        params: The kind's parameters as drawn at reset (random ones from
            :meth:`DeviationManager.param_rng`; state-dependent ones, e.g. the
            ``before`` step of ``order``, are re-evaluated when it manifests).
    """

    kind: str
    step: str
    index: int
    params: dict[str, Any]

    def record(self) -> dict[str, Any]:
        """``{kind, step, index, params}`` (the ``latent_deviations`` event)."""
        return {"kind": self.kind, "step": self.step, "index": self.index, "params": self.params}


class DeviationManager:
    """Creates and tracks the deviations of one episode.

    Args:
        sim: The owning simulation.
        rng: The deviation behaviour generator.
        rates: Kind -> probability per (kind, step) pair (already times error proneness).
        script: Scripted deviations.
        max_random: Cap on latent random deviations; ``None``: no cap.
        seed: The episode seed (the plan and parameter generators derive from it);
            default: drawn from ``rng``.
    """

    def __init__(
        self,
        sim: Any,
        rng: Any,
        rates: dict[str, float],
        script: list[ScriptedDeviation],
        max_random: int | None,
        seed: int | None = None,
    ) -> None:
        self.sim = sim
        self.rng = rng
        self.seed = int(rng.integers(0, 2**63 - 1) if seed is None else seed)
        self.rates = {k: min(1.0, float(p)) for k, p in rates.items() if p > 0}
        self.kinds = [k for k in DEVIATION_KINDS if k in self.rates]
        self.script = list(script)
        self.max_random = None if max_random is None else int(max_random)
        self.devs: list[Deviation] = []
        self.latent: list[LatentDeviation] = []
        self.pending: dict[tuple[str, str], LatentDeviation] = {}
        self.opportunities = dict.fromkeys(DEVIATION_KINDS, 0)
        self.occurrences = dict.fromkeys(DEVIATION_KINDS, 0)

    # ------------------------------------------------------------------ latent plan
    def param_rng(self, kind: str, step_id: str) -> np.random.Generator:
        """A fresh generator for the parameters of ``kind`` at ``step_id``.

        Derived from the seed, the kind and the step only: a kind's
        :meth:`~proassist.sim.deviations.base.DeviationKind.make_params` draws the same
        values whenever (and however often) it is called.
        """
        return np.random.default_rng([self.seed, PARAM_STREAM, _key(kind), _key(step_id)])

    @property
    def random_count(self) -> int:
        """Random deviations that manifested so far."""
        return sum(1 for d in self.devs if not d.scripted)

    def plan(self) -> list[LatentDeviation]:
        """Draw the latent random deviations of the episode (once, at reset); log them.

        Returns:
            The latent deviations in canonical step order (also ``self.latent``).
        """
        sim = self.sim
        gen = np.random.default_rng([self.seed, PLAN_STREAM])
        steps = sim.procedure.steps
        draws = {(k, s.id): float(gen.random()) for k in DEVIATION_KINDS for s in steps}
        self.latent, self.pending = [], {}
        for sid in sim.index.order:
            hit = self._hit(sid, draws)
            if hit is None or (self.max_random is not None and len(self.latent) >= self.max_random):
                continue
            step = sim.index.steps[sid]
            params = get_deviation(hit).make_params(sim, step, {})
            lat = LatentDeviation(hit, sid, sim.index.info[sid].position, params)
            self.latent.append(lat)
            self.pending[(hit, sid)] = lat
        sim.log("latent_deviations", 0.0, deviations=[d.record() for d in self.latent])
        return list(self.latent)

    def _hit(self, sid: str, draws: dict[tuple[str, str], float]) -> str | None:
        """The first kind (registration order) whose draw hits at step ``sid``; counts."""
        step, first = self.sim.index.steps[sid], None
        for name in self.kinds:
            if not get_deviation(name).applies(step, self.sim.procedure):
                continue
            self.opportunities[name] += 1
            if draws[(name, sid)] < self.rates[name]:
                self.occurrences[name] += 1
                first = first or name
        return first

    # ------------------------------------------------------------------ triggering
    def scripted_for_step(self, step_id: str) -> bool:
        """Whether a scripted deviation still waits for ``step_id`` or a step needing it."""
        anc = self.sim.index.ancestors
        return any(sd.step == step_id or step_id in anc.get(sd.step, ()) for sd in self.script)

    def before_step(self, chosen: Step, t: float) -> bool:
        """Maybe start a deviation instead of ``chosen``; True if one took over.

        Scripted deviations first, then the latent ones (kind registration order) whose
        step is among their kind's candidates now.
        """
        for sd in self.script:
            if sd.time is not None and t < sd.time:
                continue
            kind = get_deviation(sd.kind)
            cands = kind.candidates(self.sim, chosen)
            target = sd.step or (cands[0] if cands else "")
            if target and target in cands:
                self.script.remove(sd)
                return self._trigger(sd.kind, target, chosen, t, dict(sd.params), True)
        if not self.pending:
            return False
        waiting = {kind for kind, _ in self.pending}
        for name in (k for k in self.kinds if k in waiting):
            for cand in get_deviation(name).candidates(self.sim, chosen):
                if self.pending.pop((name, cand), None) is not None:
                    return self._trigger(name, cand, chosen, t, {}, False)
        return False

    def prevent(self, chosen: Step, t: float, **fields: Any) -> list[LatentDeviation]:
        """Drop the latent deviations that would manifest if ``chosen`` started now.

        Each is logged as ``deviation_prevented`` (the latent record plus ``fields``);
        the latent plan itself (``self.latent``) is unchanged.
        """
        out = []
        for name in [k for k in self.kinds if any(k == kind for kind, _ in self.pending)]:
            for cand in get_deviation(name).candidates(self.sim, chosen):
                lat = self.pending.pop((name, cand), None)
                if lat is not None:
                    out.append(lat)
                    self.sim.log("deviation_prevented", t, **lat.record(), **fields)
        return out

    def _trigger(
        self, name: str, step_id: str, chosen: Step, t: float, params: dict, scripted: bool
    ) -> bool:
        kind = get_deviation(name)
        step = self.sim.index.steps[step_id]
        dev = Deviation(
            id=f"dev{len(self.devs) + 1}",
            kind=name,
            step=step_id,
            index=self.sim.index.info[step_id].position,
            params=kind.make_params(self.sim, step, params),
            scripted=scripted,
            consequence=kind.consequence,
        )
        dev.resolved_when = kind.resolved_when(dev)
        self.devs.append(dev)
        kind.start(self.sim, dev, chosen, t)
        return True

    # ------------------------------------------------------------------ life cycle
    def set_onset(self, dev: Deviation, t: float) -> None:
        """The deviation becomes visible at ``t``: change the world, log, schedule."""
        if dev.status != "pending":
            return
        sim, kind = self.sim, get_deviation(dev.kind)
        dev.onset, dev.status = t, "active"
        kind.at_onset(sim, dev)
        dev.recovery = kind.recovery(sim, dev)
        dev.related = tuple(kind.related_steps(sim, dev))
        dev.deadline = t + max(MIN_WINDOW, kind.window(sim, dev))
        for r in dev.recovery:
            sim.person.matcher.add(r.id, r.instruction)
        dev.event = sim.log(
            "deviation",
            t,
            id=dev.id,
            kind=dev.kind,
            step=dev.step,
            index=dev.index,
            onset=t,
            recovery_steps=[r.record() for r in dev.recovery],
            related_steps=list(dev.related),
            deadline=dev.deadline,
            params=dev.params,
            scripted=dev.scripted,
        )
        sim.schedule(dev.deadline, "deadline", dev)
        notice, when = self.rng.random(), self.rng.random()
        if notice < sim.profile.self_correction:
            sim.schedule(t + (0.1 + 0.8 * when) * (dev.deadline - t), "selffix", dev)

    def cancel(self, dev: Deviation) -> None:
        """Drop a deviation that never became visible (its activity was abandoned)."""
        if dev.status == "pending":
            dev.status = "expired"

    def deadline(self, dev: Deviation, t: float) -> None:
        """The deadline of ``dev`` passed: apply its consequence if still unresolved.

        From now on ``dev`` cannot be recovered (:meth:`recoverable`): ``fail`` ends the
        episode, ``none`` expires it, ``redo`` leaves it open and unresolved (the episode
        ends failed when the person finishes).
        """
        if dev.status != "active":
            return
        sim, kind = self.sim, get_deviation(dev.kind)
        dev.late = True
        sim.log("deadline_missed", t, id=dev.id, kind=dev.kind, consequence=dev.consequence)
        if dev.consequence == "fail":
            dev.status = "failed"
            sim.fail(t, "hazard" if dev.kind == "safety" else "deviation_unrecovered")
        elif dev.consequence == "none":
            dev.status = "expired"
        kind.on_deadline(sim, dev, t)

    def recoverable(self, dev: Deviation, t: float) -> bool:
        """Whether recovery of ``dev`` may start at ``t`` (open, not past its deadline)."""
        past = dev.late or (dev.deadline is not None and t > dev.deadline + 1e-9)
        return dev.open and not past and not self.sim.done

    def escalate(self, dev: Deviation, t: float) -> list[str]:
        """Grow the recovery of ``dev`` with the work built on the error since its onset.

        Every plan step that depends on the affected step and was completed (with its
        effects) since the onset is redone: one ``redo_<step>`` recovery step each, in
        completion order, after the kind's own recovery steps. Botched dependents are
        redone after the resolution instead (they are forgotten then).

        Returns:
            The ids of the redone plan steps.
        """
        idx, times = self.sim.index, self.sim.person.done_times
        deps, onset = idx.dependents[dev.step], dev.onset if dev.onset is not None else t
        built = sorted((times[s], s) for s in deps if onset <= times.get(s, -1.0) <= t)
        redo = [redo_step(idx.steps[sid], dev, prefix="redo") for _, sid in built]
        dev.recovery = [r for r in dev.recovery if not r.id.startswith("redo_")] + redo
        for r in redo:
            self.sim.person.matcher.add(r.id, r.instruction)
        return [sid for _, sid in built]

    def self_fix(self, dev: Deviation, t: float) -> None:
        """The person notices ``dev`` by themselves and starts recovering."""
        if dev.status == "active" and self.recoverable(dev, t):
            self.sim.person.say("Oh wait, that's not right.", "chat", t)
            self.sim.person.begin_recovery(dev, t, "self")

    def check_resolved(self, t: float) -> None:
        """Resolve every open deviation whose resolution predicates now hold."""
        world, person = self.sim.world, self.sim.person
        for dev in self.devs:
            if not dev.open:
                continue
            if world.holds_all(dev.resolved_when):
                dev.status = "resolved"
                by = dev.by or "self"
                self.sim.log(
                    "deviation_resolved",
                    t,
                    id=dev.id,
                    kind=dev.kind,
                    assisted=by == "assistant",
                    by=by,
                    latency=t - dev.onset,
                )
                person.after_resolution(dev)
            elif dev.status == "recovering" and not person.recovering(dev):
                dev.status, dev.by = "active", None

    # ------------------------------------------------------------------ queries
    def open(self) -> list[Deviation]:
        """Visible deviations not yet resolved (active or recovering)."""
        return [d for d in self.devs if d.open]

    def match(self, target: str | None) -> Deviation | None:
        """The open deviation a correction/warning/re-engagement about ``target`` refers to.

        ``None`` as target matches an open distraction or hesitation; a step id matches
        a deviation whose affected step, related step or recovery step it is. Latest
        first.
        """
        for dev in reversed(self.open()):
            if target is None:
                if dev.kind in ("distraction", "hesitation"):
                    return dev
            elif target == dev.step or target in dev.related or dev.is_recovery(target):
                return dev
        return None

    def unresolved(self, consequences: tuple[str, ...] = ("fail", "redo")) -> list[Deviation]:
        """Open deviations whose consequence is in ``consequences``."""
        return [d for d in self.open() if d.consequence in consequences]
