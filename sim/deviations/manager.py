"""The deviation engine of one episode: triggering, onset, deadlines, resolution.

- **Scripted** deviations (:class:`~proassist.scenarios.model.ScriptedDeviation`)
  always happen: at the first decision point where the kind's candidates (for the step
  about to start) include ``step`` and, when ``time`` is set, not before ``time``.
  An empty ``step`` matches any step (useful for timed distractions).
- **Random** deviations: at each decision point, for each kind in
  :data:`~proassist.scenarios.model.DEVIATION_KINDS` order with a positive rate, the
  first candidate step not tried before for that kind is an *opportunity*: one draw
  with probability ``rate * error_proneness`` (capped at 1). The first hit happens;
  at most ``max_random`` random deviations per episode. ``opportunities`` and
  ``occurrences`` count per kind (for rate checks).
- One generator (``rng``) drives every deviation choice. The opportunity draws are
  made once per episode for every (kind, step) pair in procedure order, so the
  random deviations of a seed do not depend on what the assistant says.
"""

from __future__ import annotations

from typing import Any

from proassist.scenarios.model import DEVIATION_KINDS, ScriptedDeviation, Step
from proassist.sim.deviations.base import MIN_WINDOW, Deviation, get_deviation, redo_step


class DeviationManager:
    """Creates and tracks the deviations of one episode.

    Args:
        sim: The owning simulation.
        rng: The deviation generator.
        rates: Kind -> probability per opportunity (already times error proneness).
        script: Scripted deviations.
        max_random: Cap on random deviations.
    """

    def __init__(
        self,
        sim: Any,
        rng: Any,
        rates: dict[str, float],
        script: list[ScriptedDeviation],
        max_random: int,
    ) -> None:
        self.sim = sim
        self.rng = rng
        self.rates = {k: min(1.0, float(p)) for k, p in rates.items() if p > 0}
        self.kinds = [k for k in DEVIATION_KINDS if k in self.rates]
        self.script = list(script)
        self.max_random = int(max_random)
        self.devs: list[Deviation] = []
        self.random_count = 0
        self.tried: set[tuple[str, str]] = set()
        self._draws: dict[tuple[str, str], float] | None = None
        self.opportunities = dict.fromkeys(DEVIATION_KINDS, 0)
        self.occurrences = dict.fromkeys(DEVIATION_KINDS, 0)

    # ------------------------------------------------------------------ triggering
    def scripted_for_step(self, step_id: str) -> bool:
        """Whether a scripted deviation still waits for ``step_id`` or a step needing it."""
        anc = self.sim.index.ancestors
        return any(sd.step == step_id or step_id in anc.get(sd.step, ()) for sd in self.script)

    def before_step(self, chosen: Step, t: float) -> bool:
        """Maybe start a deviation instead of ``chosen``; True if one took over."""
        for sd in self.script:
            if sd.time is not None and t < sd.time:
                continue
            kind = get_deviation(sd.kind)
            cands = kind.candidates(self.sim, chosen)
            target = sd.step or (cands[0] if cands else "")
            if target and target in cands:
                self.script.remove(sd)
                return self._trigger(sd.kind, target, chosen, t, dict(sd.params), True)
        if self.random_count >= self.max_random:
            return False
        for name in self.kinds:
            kind = get_deviation(name)
            cands = [c for c in kind.candidates(self.sim, chosen) if (name, c) not in self.tried]
            if not cands:
                continue
            self.tried.add((name, cands[0]))
            self.opportunities[name] += 1
            if self._draw(name, cands[0]) < self.rates[name]:
                self.occurrences[name] += 1
                self.random_count += 1
                return self._trigger(name, cands[0], chosen, t, {}, False)
        return False

    def _draw(self, kind: str, step_id: str) -> float:
        """The uniform draw of the (kind, step) opportunity, fixed at the first call.

        All draws are made at once, in procedure order, so whether a random deviation
        happens at a step does not depend on when the person gets there: the same seed
        gives the same deviations whatever the assistant says (the paired assistance
        effect relies on it).
        """
        if self._draws is None:
            self._draws = {
                (k, s.id): float(self.rng.random())
                for k in DEVIATION_KINDS
                for s in self.sim.procedure.steps
            }
        return self._draws[(kind, step_id)]

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
        """The deadline of ``dev`` passed: apply its consequence if still unresolved."""
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
        else:
            self._add_redo(dev)
        kind.on_deadline(sim, dev, t)

    def _add_redo(self, dev: Deviation) -> None:
        """Late recovery also redoes the dependent steps done since the onset."""
        idx, times = self.sim.index, self.sim.person.done_times
        deps = idx.dependents[dev.step]
        for sid in idx.order:
            if sid in deps and times.get(sid, -1.0) >= dev.onset:
                dev.recovery.append(redo_step(idx.steps[sid], dev, prefix="redo"))

    def self_fix(self, dev: Deviation, t: float) -> None:
        """The person notices ``dev`` by themselves and starts recovering."""
        if dev.status == "active" and not self.sim.done:
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
        a deviation whose affected step or recovery step it is. Latest first.
        """
        for dev in reversed(self.open()):
            if target is None:
                if dev.kind in ("distraction", "hesitation"):
                    return dev
            elif target == dev.step or any(r.id == target for r in dev.recovery):
                return dev
        return None

    def unresolved(self, consequences: tuple[str, ...] = ("fail", "redo")) -> list[Deviation]:
        """Open deviations whose consequence is in ``consequences``."""
        return [d for d in self.open() if d.consequence in consequences]
