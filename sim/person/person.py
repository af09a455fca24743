"""The simulated person: chooses steps, acts them out, hears and reacts to the assistant.

Behaviour (profile fields from :class:`~proassist.scenarios.model.PersonProfile`):

- **Step choice.** Among the steps available *in the person's belief* (their ``after``
  steps believed done, their ``requires`` true or believed made true), a softmax with
  inverse temperature ``rationality`` over ``-(position - first position)`` favours the
  canonical order. Each optional step is skipped with probability ``params.skip_prob``
  (default :data:`OPTIONAL_SKIP`) when it first becomes available; that is never a
  deviation.
- **Acting.** A step's duration (``Duration.sample`` times ``speed``) is split into
  look / reach / grasp / carry / place / operate phases (:mod:`proassist.sim.person.activity`),
  plus a ``wait`` of ``params.min_time`` seconds for timed steps. Effects apply when the
  step ends; a step started with unmet preconditions (after an omission, an order
  slip...) is *botched*: the person believes it done but its effects do not apply.
- **Hearing.** Listening costs time, and messages are acted on after ``reaction_delay``.
  Each gets a verdict (helpful, neutral, redundant, wrong, irrelevant) that moves
  trust up or down; with low trust the person says "Please stop." and tunes out. A
  matched message is followed with probability ``compliance * trust``; timely
  guidance can prevent a latent deviation (see :mod:`proassist.sim.person.reactions`).
- **Benign variations.** Among the steps available in belief, a non-canonical choice
  (independent steps in another order, allowed by the procedure's ``after``) is not a
  deviation; it is logged as ``variation`` (kind ``reorder``) so tests and metrics can
  check that an assistant does not correct it.
- **Finishing cue.** :data:`FINISH_LEAD` seconds before a plan step (or repeat) ends,
  as its last motion starts, ``step_finishing`` is logged: the visible moment at which
  an assistant watching the person can tell what comes next just in time.
"""

from __future__ import annotations

import math
from typing import Any

from proassist.scenarios.model import PersonProfile, Step
from proassist.sim.deviations.base import Deviation, RecoveryStep, get_deviation
from proassist.sim.messages import Message
from proassist.sim.person.activity import Activity, Phase, PhaseSpec, build_phases, idle_phases
from proassist.sim.person.kinematics import carried_object, object_fixture
from proassist.sim.person.language import StepMatcher, interpret
from proassist.sim.person.reactions import Reactions

#: Default probability of skipping an optional step.
OPTIONAL_SKIP: float = 0.3
#: Shortest handling time of a timed step besides its waiting time (seconds).
MIN_HANDLING: float = 2.0
#: Seconds before a plan step's end at which ``step_finishing`` is logged.
FINISH_LEAD: float = 1.0
#: Wrap-up (looking over the finished work) duration range in seconds.
WRAPUP: tuple[float, float] = (3.0, 5.0)


class Person(Reactions):
    """The simulated person of one episode.

    Args:
        sim: The owning :class:`~proassist.sim.engine.Simulation`.
        profile: The person's profile.
        rng: The person's generator (step choice, durations).
        react_rng: Generator for reactions to messages (delays, compliance), kept apart
            so that what the assistant says does not change the person's other draws.
    """

    def __init__(self, sim: Any, profile: PersonProfile, rng: Any, react_rng: Any) -> None:
        self.sim = sim
        self.profile = profile
        self.rng = rng
        self.react_rng = react_rng
        self.index = sim.index
        self.matcher = StepMatcher(sim.procedure)
        self.trust = 1.0
        self.believed: dict[str, None] = {}
        self.believed_adds: set[str] = set()
        self.skipped: set[str] = set()
        self.decided: set[str] = set()
        self.botched: set[str] = set()
        self.done_times: dict[str, float] = {}
        self.directed: str | None = None
        self.activity: Activity | None = None
        self.reordered: tuple[str, str] | None = None
        self.paused: list[Activity] = []
        self.queue: list[tuple[Deviation, RecoveryStep]] = []
        self.pending_onsets: list[Deviation] = []
        self.asked = False
        first = sim.procedure.steps[0].location or sim.layout.fixtures[0].id
        self.stand, self.target = first, first
        self._carry: dict[str, tuple[str | None, str | None]] = {}
        self.init_reactions()

    # ------------------------------------------------------------------ beliefs
    def believe(self, step_id: str) -> None:
        """The person now believes ``step_id`` is done."""
        self.believed[step_id] = None
        self.believed_adds.update(self.index.info[step_id].adds)

    def forget(self, step_id: str) -> None:
        """The person no longer believes ``step_id`` is done (will redo it)."""
        if self.believed.pop(step_id, 0) is None:
            self.believed_adds = {p for s in self.believed for p in self.index.info[s].adds}

    def available(self) -> list[str]:
        """Step ids available in the person's belief, in canonical order."""
        idx, bel, skip = self.index, self.believed, self.skipped
        preds = self.sim.world.predicates
        out = []
        for sid in idx.order:
            if sid in bel or sid in skip:
                continue
            info = idx.info[sid]
            if sid in idx.optional and (
                any(a in skip for a in info.after) or any(s in bel for s in idx.successors[sid])
            ):
                skip.add(sid)
                continue
            if any(a not in bel and a not in skip for a in info.after):
                continue
            if any(p not in preds and p not in self.believed_adds for p in info.requires):
                continue
            out.append(sid)
        return out

    def complete(self) -> bool:
        """Whether the person believes every required step is done."""
        return all(s in self.believed for s in self.index.required)

    # ------------------------------------------------------------------ choice
    def choose(self) -> str | None:
        """The next plan step to start, or ``None`` when the person believes they are done."""
        for _ in range(3):
            avail = self.available()
            if self.directed in avail:
                sid, self.directed = self.directed, None
                return sid
            cands = [s for s in avail if not self._skip_optional(s)]
            if cands:
                sid = self._softmax(cands)
                self.reordered = (sid, cands[0]) if sid != cands[0] else None
                return sid
            if self.complete():
                return None
            self.skipped.update(s for s in self.index.optional if s not in self.believed)
        return next(s for s in self.index.required if s not in self.believed)

    def _skip_optional(self, sid: str) -> bool:
        if sid not in self.index.optional or sid in self.decided:
            return sid in self.skipped
        self.decided.add(sid)
        p = float(self.index.steps[sid].params.get("skip_prob", OPTIONAL_SKIP))
        forced = sid == self.directed or self.sim.deviations.scripted_for_step(sid)
        # One draw per (seed, step) from its own generator, not the person's stream:
        # whether an optional step is skipped must not depend on what was said before.
        draw = self.sim.deviations.param_rng("skip_optional", sid).random()
        if draw < p and not forced:
            self.skipped.add(sid)
            return True
        return False

    def _softmax(self, cands: list[str]) -> str:
        pos = [self.index.info[s].position for s in cands]
        lo, beta = min(pos), float(self.profile.rationality)
        weights = [math.exp(-beta * (p - lo)) for p in pos]
        u = self.rng.random() * sum(weights)
        for sid, w in zip(cands, weights, strict=True):
            u -= w
            if u <= 0:
                return sid
        return cands[-1]

    # ------------------------------------------------------------------ activities
    def decide(self, t: float, nested: bool = False) -> None:
        """Start the next activity at ``t`` (recovery, resumed step, next step or wrap-up)."""
        self.activity = None
        if self.sim.done:
            return
        if self.queue:
            self._start_recovery(t)
        elif self.paused:
            self._resume(t)
        else:
            sid = self.choose()
            if sid is None:
                self._start_wrapup(t)
                return
            step = self.index.steps[sid]
            if nested or not self.deviates(step, t):
                self._log_variation(sid, t)
                self.start_step(step, t)

    def _log_variation(self, sid: str, t: float) -> None:
        """Log a benign reordering: ``sid`` chosen before the canonical next step."""
        moved, self.reordered = self.reordered, None
        if moved is not None and moved[0] == sid:
            self.sim.log("variation", t, kind="reorder", step=sid, canonical=moved[1])

    def start_step(
        self,
        step: Step,
        t: float,
        *,
        dev: Deviation | None = None,
        kind: str = "step",
        swap: tuple[str, str] | None = None,
        dest: str | None = None,
        wait_scale: float = 1.0,
    ) -> Activity:
        """Start performing plan ``step`` (possibly the wrong way, for a deviation).

        Args:
            step: The plan step.
            t: Start time.
            dev: The deviation acted out by this run.
            kind: ``step`` or ``repeat``.
            swap: ``(object, substitute)``: handle the substitute instead.
            dest: Put the carried object at this fixture instead.
            wait_scale: Fraction of ``params.min_time`` actually waited.
        """
        info = self.index.info[step.id]
        forced = kind == "step" and bool(self.sim.world.can_apply(step.id))
        phases = self._phases(step, t, swap, dest, wait_scale)
        act = Activity(
            kind,
            step.id,
            t,
            phases[-1].t1,
            phases,
            index=info.position,
            interruptible=forced or kind == "repeat",
            forced=forced,
            adds=info.adds,
            removes=info.removes,
            completes=step.id,
            dev=dev,
        )
        if dev is not None:
            dev.activity = act
        if math.isfinite(act.end):
            act.triggers.append((max(t, act.end - FINISH_LEAD), None))  # step_finishing
        self._log_start(act, recovery=False)
        self._begin(act, t)
        return act

    def _phases(
        self,
        step: Step,
        t: float,
        swap: tuple[str, str] | None,
        dest: str | None,
        wait_scale: float,
    ) -> list[Phase]:
        """The primitive phases of performing ``step`` from ``t`` (one duration draw)."""
        obj, obj_dest = self._carried(step)
        dur = step.duration.sample(self.rng) * self.profile.speed
        min_time = float(step.params.get("min_time", 0) or 0)
        handling = max(MIN_HANDLING, dur - min_time) if min_time > 0 else dur
        if swap and obj == swap[0]:
            obj = swap[1]
        spec = PhaseSpec(
            step.location or self.stand,
            self.stand,
            self.target,
            obj,
            object_fixture(self.sim, obj) if obj else None,
            dest or obj_dest,
            min_time * wait_scale,
        )
        return build_phases(t, handling, spec)

    def _carried(self, step: Step) -> tuple[str | None, str | None]:
        if step.id not in self._carry:
            self._carry[step.id] = carried_object(step, self.index.info[step.id].adds)
        return self._carry[step.id]

    def _start_recovery(self, t: float) -> None:
        dev, r = self.queue.pop(0)
        obj = r.objects[0] if r.objects else None
        spec = PhaseSpec(
            r.location or self.stand,
            self.stand,
            self.target,
            obj,
            object_fixture(self.sim, obj) if obj else None,
            r.dest,
        )
        phases = build_phases(t, r.duration.sample(self.rng) * self.profile.speed, spec)
        act = Activity(
            "recovery",
            r.id,
            t,
            phases[-1].t1,
            phases,
            adds=r.adds,
            removes=r.removes,
            completes=r.completes,
            dev=dev,
        )
        self._log_start(act, recovery=True)
        self._begin(act, t)

    def start_special(
        self, kind: str, t: float, dev: Deviation, looks: list[tuple[str, str, float]]
    ) -> Activity:
        """Start an open-ended ``distraction`` or ``hesitation`` (ended by an event)."""
        act = Activity(
            kind,
            None,
            t,
            math.inf,
            idle_phases(t, self.stand, self.target, looks),
            interruptible=True,
            dev=dev,
        )
        dev.activity = act
        if kind == "hesitation":
            self.sim.log("hesitation_start", t, step=dev.step)
        self._begin(act, t)
        return act

    def _start_wrapup(self, t: float) -> None:
        lo, hi = WRAPUP
        end = t + lo + (hi - lo) * self.rng.random()
        loc = self.stand
        phases = [
            Phase("look", t, t + 1.0, self.stand, loc, self.target, loc),
            Phase("idle", t + 1.0, end, loc, loc, loc, loc),
        ]
        self._begin(Activity("wrapup", None, t, end, phases, interruptible=True), t)

    def _begin(self, act: Activity, t: float) -> None:
        self.activity = act
        pending, self.pending_onsets = self.pending_onsets, []
        for dev in pending:
            self.sim.deviations.set_onset(dev, t)

    def _log_start(self, act: Activity, recovery: bool) -> None:
        self.sim.log(
            "step_start",
            act.start,
            step=act.step,
            index=act.index,
            recovery=recovery,
            deviation=act.dev.id if act.dev is not None else None,
        )

    def _log_end(self, act: Activity, t: float, interrupted: bool) -> None:
        self.sim.log(
            "step_end",
            t,
            step=act.step,
            index=act.index,
            recovery=act.kind == "recovery",
            deviation=act.dev.id if act.dev is not None else None,
            duration=t - act.start,
            interrupted=interrupted,
        )

    def _settle(self, act: Activity, t: float) -> None:
        ph = act.phase_at(t)
        if ph is not None:
            self.stand = ph.stand if t >= ph.t1 or not ph.walks else ph.stand_from
            self.target = ph.target

    # ------------------------------------------------------------------ progress
    def fire_trigger(self, t: float) -> None:
        """Process the current activity's first due trigger (a deviation onset)."""
        act = self.activity
        _, dev = act.triggers.pop(0)
        if dev is None:
            self.sim.log("step_finishing", t, step=act.step, index=act.index, ends=act.end)
            return
        self.sim.deviations.set_onset(dev, t)

    def finish_activity(self, t: float) -> None:
        """The current activity reached its end at ``t``."""
        act = self.activity
        self._settle(act, t)
        for dev in act.onset_at_end:
            self.sim.deviations.set_onset(dev, t)
        if act.kind == "wrapup":
            if not self.queue:
                self.activity = None
                self.sim.finish(t)
                return
        elif act.kind in ("step", "repeat", "recovery"):
            self._complete(act, t)
        self.activity = None
        self.sim.deviations.check_resolved(t)
        if self.sim.done:
            return
        if act.repeat is not None:
            if act.forced:
                self.sim.deviations.cancel(act.repeat)
            else:
                self.pending_onsets.append(act.repeat)
                self.start_step(self.index.steps[act.step], t, dev=act.repeat, kind="repeat")
                return
        self.decide(t)

    def _complete(self, act: Activity, t: float) -> None:
        world = self.sim.world
        if act.kind == "step":
            if act.forced:
                self.botched.add(act.step)
            else:
                world.apply_effects(act.adds, act.removes)
                world.mark_done(act.step)
                self.done_times[act.step] = t
            self.believe(act.step)
        elif act.kind == "recovery":
            world.apply_effects(act.adds, act.removes)
            if act.completes:
                world.mark_done(act.completes)
                self.done_times[act.completes] = t
                self.botched.discard(act.completes)
                self.believe(act.completes)
        self._log_end(act, t, interrupted=False)

    def interrupt(self, t: float) -> None:
        """Stop the current activity: abandon it if interruptible, otherwise pause it."""
        act = self.activity
        if act is None:
            return
        self._settle(act, t)
        self.activity = None
        if act.interruptible:
            self._abandon(act, t)
        else:
            act.paused_at = t
            self.paused.append(act)

    def _abandon(self, act: Activity, t: float) -> None:
        if act.kind in ("step", "repeat"):
            self._log_end(act, t, interrupted=True)
        elif act.kind == "hesitation":
            self.sim.log("hesitation_end", t, step=act.dev.step)
        for _, dev in act.triggers:
            if dev is not None:
                self.sim.deviations.cancel(dev)
        for dev in act.onset_at_end:
            self.sim.deviations.cancel(dev)

    def _resume(self, t: float) -> None:
        act = self.paused.pop()
        act.shift(t - act.paused_at)
        act.paused_at = None
        ph = act.phase_at(t)
        if ph is not None:
            ph.stand_from, ph.target_from = self.stand, self.target
        self.activity = act

    def end_special(self, dev: Deviation, t: float) -> None:
        """End the distraction/hesitation of ``dev`` (if current) and go on."""
        if self.activity is not None and self.activity is dev.activity:
            self.interrupt(t)
            self.decide(t)

    def begin_recovery(self, dev: Deviation, t: float, by: str) -> None:
        """Start the recovery steps of ``dev`` now (``by``: ``assistant`` or ``self``).

        Past its deadline nothing happens but "It's too late to fix that now.". The later
        it starts, the longer the recovery: the work built on the error since the onset
        is redone (:meth:`~proassist.sim.deviations.manager.DeviationManager.escalate`)
        and a dependent step under way is abandoned (started again later).
        """
        if not self.sim.deviations.recoverable(dev, t):
            self.say("It's too late to fix that now.", "refuse", t)
            return
        self.sim.deviations.escalate(dev, t)
        act = self.activity
        if act is not None and act.kind == "step" and act.step in self.index.dependents[dev.step]:
            act.interruptible = True
        dev.status, dev.by = "recovering", by
        get_deviation(dev.kind).on_recover(self.sim, dev)
        self.queue.extend((dev, r) for r in dev.recovery)
        self.interrupt(t)
        self.decide(t)

    def recovering(self, dev: Deviation) -> bool:
        """Whether recovery steps of ``dev`` are queued or under way."""
        act = self.activity
        if act is not None and act.kind == "recovery" and act.dev is dev:
            return True
        return any(d is dev for d, _ in self.queue) or any(
            a.kind == "recovery" and a.dev is dev for a in self.paused
        )

    def after_resolution(self, dev: Deviation) -> None:
        """Once a deviation is resolved, botched steps are redone."""
        for sid in list(self.botched):
            self.botched.discard(sid)
            self.forget(sid)

    def say(self, text: str, act: str, t: float) -> None:
        """Say ``text`` (logged as a ``person_utterance``)."""
        self.sim.log("person_utterance", t, text=text, act=act)
        self.sim.utterances.append(text)

    def hear(self, message: Message, t: float) -> None:
        """Hear an assistant message at ``t`` (listening costs time); react after a delay."""
        delay = self.profile.reaction_delay.sample(self.react_rng)
        self.listen(message, t)
        self.sim.schedule(t + delay, "reaction", (message, t, delay))

    def understand(self, message: Message) -> tuple[str | None, str | None]:
        """The intent and target step of a message (free text is interpreted)."""
        if message.intent:
            return message.intent, message.step
        return interpret(message.text, self.matcher, asked=self.asked)
