"""Step watching: correct a step started before a step it depends on.

A procedure's plan says which steps each step needs first (``after``). An assistant
that knows which plan step the person works on at each decision point can catch the
two commonest failing deviations without any other knowledge: an **omission** (the
person skips a step and starts one that needs it) and an **order** error (the person
starts a step before its predecessor). :class:`DependencyWatch` is that rule, over a
stream of recognised steps:

- a plan step counts as *worked on* once it was recognised for long enough (a
  fraction of its expected duration, or a single point);
- when the recognised step ``j`` has a required (non-optional) ``after`` step ``k``
  that was never worked on, say ``correct_deviation`` naming ``k`` ("do that first"
  for ``order``; the skipped step itself for ``omission``): both steps address the
  deviation (:func:`~proassist.sim.deviations.base.addressable_steps`);
- each (``j``, ``k``) pair is said once, or (``remind > 0``) said again while the
  person still works on ``j`` with ``k`` missing, ``remind`` seconds after the last
  time (a correction the person ignored);
- with ``ready=True`` it names only a missing step the person could do now (whose own
  required steps were worked on): a step recognised far ahead of the plan is more
  likely a misrecognition than an order error or an omission;
- it **listens** (``listen=True``): when the person refuses a correction ("I already
  did that." or "Please stop."), the step it named counts as worked on from then on;
  "I think it's fine." (not due yet) only holds it back for ``hold`` seconds, and it can
  still be named for an omission later; so one misrecognised step does not bring a false
  alarm for every step that needs it; after "Please stop." it can keep quiet for
  ``quiet`` seconds (the person tunes out for their ``tune_out`` seconds anyway);
- optionally (``repeat > 0``), a **repetition** (the person does a step again right
  after finishing it, e.g. sugar added twice): when the recognised step ``j`` has been
  worked on for more than ``repeat`` times its expected duration in all, say
  ``correct_deviation`` naming ``j`` ("stop, this was already done"), once per step.
  A step named as missing resets the time of the step that needed it (it is undone
  and redone after the missing one); or (``again > 0``) when the recognised step was
  recognised for ``again`` times its expected duration, let go for 1-3 s and taken up
  again (:class:`~proassist.policies.returnwatch.ReturnWatch`: the shape a learned
  recogniser's output has at a repetition);
- optionally (``wait > 0``), a **wait cut short**: when the recognised step leaves a
  timed step (the plan's ``min_time``) for the first time after less than ``wait``
  times its ``min_time`` worked on, say ``correct_deviation`` naming it, once
  (:class:`~proassist.policies.waitwatch.WaitWatch`);
- optionally (``insist > 0``), an **unanswered correction** is said again after
  ``insist`` seconds without a reply, whatever step is recognised then, while its step
  was never worked on, at most :data:`INSISTS` times a step (a person answers a false
  alarm and says nothing when they ignore a right correction; ``remind`` says it again
  only while the step that needs it is still recognised);
- optionally (``hazard``), a **passed-over safety step**: when the recognised step
  comes after a ``safety_critical`` step in plan order that was never worked on and
  that the person could do now (turning the burner off once the water is heated),
  say ``warn`` naming it, once: a hazard left ends the episode;
- optionally (``skip > 0``), a **passed-over step**: the recognised step is the next
  required one after a step never begun and never named
  (:class:`~proassist.policies.skipwatch.SkipWatch`): say ``correct_deviation`` naming it;
- optionally, a step also counts as worked on once its effect is seen
  (:meth:`DependencyWatch.credit`, told by ``stepwatch`` with ``effects``:
  :meth:`~proassist.policies.placewatch.PlacementWatch.credits`);
- optionally (``gate``), a learned **gate** (:mod:`proassist.policies.gate`) scores
  each candidate correction from the recogniser's recent history and lets through only
  those likely to address a real deviation.

It never reads the deviations. Its only inputs are the recognised step, what the
person says (the observation's ``utterance``) and, if told, the steps whose effect was
seen, so the policy that gets it from the
privileged ``info["current_plan_step"]``, ``step-oracle``
(:class:`~proassist.policies.step_oracle.StepOraclePolicy`), measures what *perfect
step recognition* is worth to an assistant: the rest of a learned assistant's gap to it
is recognition, not decision (degraded, it measures what each kind of recognition error
costs).
``stepwatch`` (:class:`StepWatchPolicy`) feeds it a learned step recogniser that reads
only the segmentation (:mod:`proassist.policies.learned.steps_train`; committed in
``policies/checkpoints/steps``, trained by ``proassist train-steps``; its gate by
``proassist train-gate``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from proassist.policies.attendwatch import AttentionWatch
from proassist.policies.base import PolicyBase, register_policy
from proassist.policies.gate import LogisticGate, StepTrace, checkpoint_gate, gate_features
from proassist.policies.graspwatch import GraspWatch
from proassist.policies.learned.rl_env import REFUSED, reply_category
from proassist.policies.placewatch import PlacementWatch
from proassist.policies.returnwatch import ReturnWatch
from proassist.policies.skipwatch import SkipWatch
from proassist.policies.waitwatch import WaitWatch
from proassist.policies.watch_settings import WATCH_DEFAULTS, WATCH_SETTINGS
from proassist.policies.watchers import frame_rules, respond

#: Most times :class:`DependencyWatch` says an unanswered correction again (``insist``),
#: as the oracle repeats an ignored one (``max_repeats``).
INSISTS = 2

__all__ = [
    "STEPS_CHECKPOINT",
    "INSISTS",
    "WATCH_DEFAULTS",
    "WATCH_SETTINGS",
    "DependencyWatch",
    "StepWatchPolicy",
    "one_hot",
]


class DependencyWatch:
    """The dependency rule over a stream of recognised plan steps (module docstring).

    Each point brings the probability of every candidate (the plan's steps, then
    *none*; a perfect recogniser gives a one-hot vector). The current step is the most
    probable candidate once it has been so for ``sustain`` points in a row with
    probability at least ``confidence``. A step counts as *worked on* once its
    accumulated probability times ``dt`` exceeds ``worked`` times its expected
    duration (``worked=0``: any point at which it had some probability); with
    ``floor``, only points at which its probability reached ``floor`` add to it.

    Args:
        plan: The plan's step dicts (``id``, ``after``, ``optional``, ``duration_mean``,
            ``min_time``).
        dt: Seconds between points.
        confidence: Lowest probability of the current step.
        sustain: Points in a row the current step must be the most probable.
        worked: Fraction of a step's expected duration that counts as worked on.
        floor: Lowest probability at which a point adds to a step's time worked on
            (0: every point adds its probability; a look-alike of the step under way
            then accrues time too, and a skipped step can count as done).
        repeat: Multiple of a step's expected duration worked on that counts as a
            repetition (0: no repetition rule).
        again: Fraction of a step's expected duration it must have been recognised in
            a row before a return to it (let go for 1-3 s, then recognised again)
            counts as a repetition (0: off; :mod:`~proassist.policies.returnwatch`).
        wait: Fraction of a timed step's ``min_time`` under which leaving it (the first
            time) counts as a wait cut short (0: off; :mod:`~proassist.policies.waitwatch`).
        insist: Seconds without a reply after which the last correction is said again,
            whatever step is recognised, while its step was never worked on, at most
            :data:`INSISTS` times a step (0: off).
        remind: Seconds after which an unheeded dependency correction is said again
            (0: never).
        listen: Whether a refused correction marks its step as worked on, or (the
            person thinks it is fine) holds it back (:meth:`hear`).
        hold: Seconds a step the person called fine is not named again.
        hazard: Whether to warn of a passed-over safety-critical step (module docstring).
        skip: Fraction of a step's expected duration under which a step passed over
            counts as never begun, and is named (0: off; :mod:`~.skipwatch`).
        quiet: Seconds of silence after the person says "Please stop." (0: none).
        recent: Count the step to get a person back to (:meth:`resume_after`) from the
            step recognised last, not from the furthest one worked on.
        ready: Whether to name only missing steps the person could do now
            (:meth:`missing`).
        gate: Say a candidate correction only if this gate passes its
            :func:`~proassist.policies.gate.gate_features` (None: every candidate).
    """

    def __init__(
        self,
        plan: list[dict[str, Any]],
        dt: float = 0.5,
        confidence: float = 0.0,
        sustain: int = 1,
        worked: float = 0.0,
        repeat: float = 0.0,
        remind: float = 0.0,
        listen: bool = True,
        quiet: float = 0.0,
        ready: bool = False,
        hold: float = 10.0,
        hazard: bool = False,
        gate: LogisticGate | None = None,
        floor: float = 0.0,
        again: float = 0.0,
        wait: float = 0.0,
        insist: float = 0.0,
        skip: float = 0.0,
        recent: bool = False,
    ) -> None:
        _check_settings(sustain, confidence, floor, (worked, repeat, remind, quiet, hold, insist))
        self.floor = float(floor)
        self.listen, self.quiet, self.ready = bool(listen), float(quiet), bool(ready)
        self.named: int | None = None  # the step of the last correction not yet answered
        self.told: set[int] = set()  # every step any of these rules named
        self.named_at, self.named_intent = 0.0, "correct_deviation"  # when, and how
        self.insist = float(insist)
        self.insisted: dict[int, int] = {}  # step -> times said again (insist)
        self.mute_until, self.hold = 0.0, float(hold)
        self.held: dict[int, float] = {}  # step called fine -> until when not named
        self.plan, self.dt = plan, float(dt)
        self.confidence, self.sustain, self.worked = float(confidence), int(sustain), float(worked)
        self.repeat, self.remind = float(repeat), float(remind)
        self.t = 0.0
        self.index = {str(s["id"]): i for i, s in enumerate(plan)}
        duration = np.array([float(s.get("duration_mean") or 0.0) for s in plan])
        self.need, self.too_long = self.worked * duration, self.repeat * duration
        self.returns = ReturnWatch(duration, self.dt, again)  # raises if again < 0
        self.waits, self.cut = WaitWatch(plan, wait), None  # raises if wait < 0
        self.skips = SkipWatch(plan, skip)  # raises if skip < 0
        self.mass = np.zeros(len(plan))
        self.seen_done: set[int] = set()  # steps credited from a seen effect (credit)
        self.run: tuple[int, int] = (-1, 0)
        self.said: dict[tuple[int, int], float] = {}  # pair -> when last said
        self.repeated: set[int] = set()
        self.current: int | None = None  # the recognised step (sustained, confident)
        self.recent = bool(recent)
        self.last_step: int | None = None  # the step recognised last (kept while none is)
        self.gate, self.trace = gate, StepTrace(plan, dt)
        self.hazard = bool(hazard)
        self.safety = [i for i, step in enumerate(plan) if step.get("safety_critical")]
        self.warned: set[int] = set()
        self.intent = "correct_deviation"  # of the step the last observe() named
        self.spoke_at, self.deaf_until = -np.inf, 0.0  # set by policies/watchers.py

    def hear(self, said: str) -> None:
        """Take what the person said at this point (the observation's ``utterance``).

        A refusal of the last correction ("I already did that.", or "Please stop.",
        said instead when the person tunes out) marks the step it named as worked on
        (``listen``); "I think it's fine." (nothing wrong, the step is not done yet)
        holds that step back for ``hold`` seconds; "stop" also starts ``quiet``
        seconds of silence; any other reply closes the last correction.
        """
        reply = reply_category(said)
        if reply == "none":
            return
        if reply == "stop":
            self.mute_until = self.t + self.quiet
        if self.t < self.deaf_until - 1e-9:
            return  # it answers a re-engagement (policies/watchers.py), not a correction
        if self.listen and reply in REFUSED and self.named is not None:
            k = self.named
            if reply == "fine":
                self.held[k] = self.t + self.hold
            else:
                self.mass[k] = max(self.mass[k], self.need[k] + self.dt)
        self.named = None

    def credit(self, step: int) -> None:
        """Count plan step ``step`` as worked on from now: its effect was seen
        (:meth:`~proassist.policies.placewatch.PlacementWatch.credits`). Its time worked
        on is left as it is (the repetition rule reads that)."""
        self.seen_done.add(int(step))

    def resume_after(self) -> int | None:
        """The plan step to count the step to get back to from
        (:func:`~proassist.policies.attendwatch.next_step`): with ``recent``, the step
        recognised last (None before any), counted or not, so a step begun and not
        finished is passed over; else None (the furthest one worked on)."""
        return self.last_step if self.recent else None

    def worked_on(self, exclude: int | None = None) -> set[int]:
        """Plan indices that count as worked on (but ``exclude``)."""
        done = {int(k) for k in np.nonzero(self.mass > self.need)[0]} | self.seen_done
        return done - {exclude}

    def required(self, step: int) -> list[int]:
        """Plan indices of the required (non-optional) ``after`` steps of ``step``."""
        after = (self.index.get(str(a)) for a in self.plan[step].get("after") or ())
        return sorted(k for k in after if k is not None and not self.plan[k].get("optional"))

    def doable(self, step: int, seen: set[int]) -> bool:
        """Whether the person could do plan step ``step`` now: every required step of it
        is in ``seen`` (the steps worked on)."""
        return all(a in seen for a in self.required(step))

    def missing(self, step: int) -> list[int]:
        """Required ``after`` steps of plan step ``step`` never worked on, in plan order.

        With ``ready``, only those whose own required steps were all worked on (a step
        the person could do now): a step seen far ahead of the plan is more likely a
        misrecognition than an order error or an omission.
        """
        seen = self.worked_on(exclude=step)
        out = [k for k in self.required(step) if k not in seen and self.t >= self.held.get(k, 0.0)]
        if self.ready:
            out = [k for k in out if self.doable(k, seen)]
        return out

    def observe(self, probs: np.ndarray, worked: np.ndarray | None = None) -> int | None:
        """Take this point's candidate probabilities; the plan index to name, or None.
        Time worked on accrues from ``worked`` where given (the recogniser's
        probabilities before a bias of its decision), else from ``probs``."""
        probs = self._accrue(probs, worked)
        self.trace.push(probs, self.t)
        top = self._recognise(probs)
        if self.t < self.mute_until - 1e-9:
            return None
        step = None if top is None else self._rules(top)
        step = self._insisted() if step is None else step
        if step is not None:
            self._name(step)
        return step

    def _accrue(self, probs: np.ndarray, worked: np.ndarray | None) -> np.ndarray:
        """Check the shapes, add this point's time worked on, advance the clock; the
        probabilities as floats."""
        probs = np.asarray(probs, dtype=np.float64)
        n = len(self.plan)
        accrue = probs if worked is None else np.asarray(worked, dtype=np.float64)
        for given in (probs, accrue):
            if given.shape != (n + 1,):
                raise ValueError(
                    f"expected {n + 1} probabilities (plan steps, then none), got {given.shape}"
                )
        if self.floor > 0.0:
            accrue = np.where(accrue >= self.floor, accrue, 0.0)
        self.mass += self.dt * accrue[:n]
        self.t += self.dt
        return probs

    def _rules(self, top: int) -> int | None:
        """The step the rules name while ``top`` is recognised (sets ``intent``)."""
        self.intent = "correct_deviation"
        for k in self.missing(top):
            if self.claim((top, k)):
                return k
        step = self._passed_over(top)
        if step is not None:
            self.intent = "warn"
            return step
        step = self._repetition(top)
        step = self.cut if step is None else step
        return self.skips.push(self, top) if step is None else step

    def _name(self, step: int) -> None:
        """Record that ``step`` is named now, with ``intent``: a reply answers it."""
        self.named, self.named_at, self.named_intent = step, self.t, self.intent
        self.told.add(step)

    def _insisted(self) -> int | None:
        """The last step named, again (``insist``): the person has not answered it for
        ``insist`` seconds and it was never worked on; at most :data:`INSISTS` times a
        step. Sets ``intent`` to that message's; a ``remind`` of it counts from now."""
        k = self.named
        if self.insist <= 0.0 or k is None or self.t - self.named_at < self.insist - 1e-9:
            return None
        if self.insisted.get(k, 0) >= INSISTS or k in self.worked_on():
            return None
        self.insisted[k] = self.insisted.get(k, 0) + 1
        self.said.update({pair: self.t for pair in self.said if pair[1] == k})  # remind later
        self.intent = self.named_intent
        return k

    def _recognise(self, probs: np.ndarray) -> int | None:
        """The current step after this point's ``probs`` (class docstring), also told to
        the return and wait rules."""
        top = int(probs.argmax())
        self.run = (top, self.run[1] + 1) if self.run[0] == top else (top, 1)
        sure = top < len(self.plan) and self.run[1] >= self.sustain
        self.current = top if sure and probs[top] >= self.confidence else None
        self.last_step = self.last_step if self.current is None else self.current
        self.returns.push(self.current)
        self.cut = self.waits.push(self.current, self.mass)
        return self.current

    def claim(self, pair: tuple[int, int], gated: bool = True) -> bool:
        """Whether to say now that step ``pair[0]`` needs ``pair[1]`` first: due (never
        said, or a reminder is due) and, if ``gated``, let through by the gate. If so it
        is recorded as said (also for :class:`~proassist.policies.graspwatch.GraspWatch`,
        which shares the pairs), ``pair[1]`` becomes the step a reply answers, and with
        ``repeat`` the time worked on ``pair[0]`` starts again."""
        top, k = pair
        if not (self._due(pair) and (not gated or self._worth(top, k))):
            return False
        self.said[pair] = self.t
        if self.repeat:
            self.mass[top] = 0.0
        self.intent = "correct_deviation"
        self._name(k)
        return True

    def _passed_over(self, top: int) -> int | None:
        """A safety-critical step before ``top`` in plan order, never worked on and due
        (its required steps worked on), not warned of before; None (``hazard`` off)."""
        if not self.hazard or not self.safety:
            return None
        seen = self.worked_on(exclude=top)
        for k in self.safety:
            due = self.doable(k, seen)
            if k < top and k not in seen and k not in self.warned and due:
                self.warned.add(k)
                return k
        return None

    def candidate_features(self, top: int, k: int) -> np.ndarray:
        """The gate's features of naming ``k`` while ``top`` is current (now)."""
        return gate_features(self.trace, self.mass, self.worked_on(), top, k)

    def _worth(self, top: int, k: int) -> bool:
        """Whether the gate (if any) lets the correction naming ``k`` through."""
        return self.gate is None or self.gate.passes(self.candidate_features(top, k))

    def _due(self, pair: tuple[int, int]) -> bool:
        """Whether ``pair`` was never said, or (``remind``) said long enough ago."""
        last = self.said.get(pair)
        return last is None or (self.remind > 0.0 and self.t - last >= self.remind - 1e-9)

    def _repetition(self, step: int) -> int | None:
        """``step`` if it was worked on too long (``repeat``) or taken up again right
        after it ran its course (``again``), once per step; else None."""
        long = self.repeat > 0.0 and 0.0 < self.too_long[step] < self.mass[step]
        if step in self.repeated or not (long or self.returns.returned(step)):
            return None
        self.repeated.add(step)
        return step


def _check_settings(
    sustain: int, confidence: float, floor: float, spans: tuple[float, ...]
) -> None:
    """Raise ``ValueError`` unless ``sustain >= 1``, ``confidence`` and ``floor`` are in
    [0, 1] and ``spans`` (worked, repeat, remind, quiet, hold, insist) are all >= 0."""
    if sustain < 1 or not (0.0 <= confidence <= 1.0 and 0.0 <= floor <= 1.0) or min(spans) < 0:
        raise ValueError(
            "need sustain >= 1, 0 <= confidence, floor <= 1, worked, repeat, remind, quiet, "
            f"hold, insist >= 0; got {sustain}, {confidence}, {floor}, "
            + ", ".join(str(v) for v in spans)
        )


def one_hot(n: int, step: int | None) -> np.ndarray:
    """A perfect recogniser's probabilities: plan step ``step`` (None: none) of ``n``."""
    out = np.zeros(n + 1)
    out[n if step is None else step] = 1.0
    return out


#: Where the committed step recogniser lives (``steps.pt`` + ``steps.json``).
STEPS_CHECKPOINT: Path = Path(__file__).resolve().parent / "checkpoints" / "steps"


@register_policy("stepwatch")
class StepWatchPolicy(PolicyBase):
    """:class:`DependencyWatch` fed a learned step recogniser (not privileged).

    The recogniser (:class:`~proassist.policies.learned.steps_train.StepRecognizer`)
    reads only the segmentation and the plan. The watch's settings are the
    checkpoint's ``steps.json`` ``deploy`` entry (``proassist tune-steps`` chooses them
    closed-loop; the committed one's are the defaults), else :data:`WATCH_DEFAULTS`;
    arguments given here override them.

    Args:
        checkpoint: ``steps.pt`` or its folder (default: the committed one,
            :data:`STEPS_CHECKPOINT`).
        confidence: :class:`DependencyWatch` ``confidence``.
        sustain: :class:`DependencyWatch` ``sustain``.
        worked: :class:`DependencyWatch` ``worked``.
        repeat: :class:`DependencyWatch` ``repeat``.
        remind: :class:`DependencyWatch` ``remind``.
        listen: :class:`DependencyWatch` ``listen``.
        quiet: :class:`DependencyWatch` ``quiet``.
        ready: :class:`DependencyWatch` ``ready``.
        hold: :class:`DependencyWatch` ``hold``.
        hazard: :class:`DependencyWatch` ``hazard``.
        floor: :class:`DependencyWatch` ``floor``.
        again: :class:`DependencyWatch` ``again``.
        wait: :class:`DependencyWatch` ``wait``.
        insist: :class:`DependencyWatch` ``insist``.
        skip: :class:`DependencyWatch` ``skip``.
        recent: :class:`DependencyWatch` ``recent``.
        place: Also correct misplaced objects and a step's object taken up again (a
            repetition) (:class:`PlacementWatch`; reads depth too).
        effects: With ``place``, count a step as worked on once its effect is seen: an
            object resting where only that step puts it (:meth:`PlacementWatch.credits`).
        attend: Also re-engage a distracted person (:class:`AttentionWatch`).
        regrasp: With ``place``, also the repetition rule
            (:meth:`PlacementWatch.regrasp`).
        grasp: Also the grasp rule (:class:`~proassist.policies.graspwatch.GraspWatch`:
            a step's own object in the hands before a step it needs, named before the
            recogniser switches to that step).
        grasp_theta: The grasp rule's ``theta``.
        unseen_bias: The recogniser's ``unseen_bias`` (a step not recognised before
            must show more evidence; its time worked on still accrues from the
            probabilities without the bias).
        gate: Pass every dependency correction through the checkpoint's learned gate
            (its ``steps.json`` ``gate`` entry, :class:`~proassist.policies.gate.LogisticGate`;
            default: the checkpoint's ``deploy`` ``gate``, off for the committed one:
            it says a quarter of the false alarms but rescues less).
        threshold: The gate's threshold (default: the checkpoint's); giving one turns
            the gate on unless ``gate=False``, which rejects it.
        companion: Mix the checkpoint's sequence companion into the recogniser
            (:mod:`proassist.policies.learned.steps_seq`; default: the checkpoint's
            ``deploy`` ``companion``, off for the committed one).

    Raises:
        ImportError: Without torch (the ``[learn]`` extra).
        FileNotFoundError: When the checkpoint is missing.
        ValueError: The gate asked for (``gate=True`` or a ``threshold``) with a
            checkpoint that has no gate, or ``threshold`` with ``gate=False``;
            ``companion=True`` with a checkpoint that has none; a
            ``grasp_theta`` outside [0, 1]; a negative ``unseen_bias``; ``effects``
            without ``place``.
    """

    needs_pixels = True

    def __init__(
        self,
        checkpoint: str | Path | None = None,
        confidence: float | None = None,
        sustain: int | None = None,
        worked: float | None = None,
        repeat: float | None = None,
        remind: float | None = None,
        listen: bool | None = None,
        quiet: float | None = None,
        ready: bool | None = None,
        hold: float | None = None,
        hazard: bool | None = None,
        floor: float | None = None,
        again: float | None = None,
        wait: float | None = None,
        insist: float | None = None,
        skip: float | None = None,
        recent: bool | None = None,
        place: bool | None = None,
        effects: bool | None = None,
        attend: bool | None = None,
        regrasp: bool | None = None,
        grasp: bool | None = None,
        grasp_theta: float | None = None,
        unseen_bias: float | None = None,
        gate: bool | None = None,
        threshold: float | None = None,
        companion: bool | None = None,
    ) -> None:
        from proassist.policies.learned.steps_train import StepRecognizer

        given = dict(locals())  # the arguments: None takes the checkpoint's deploy value
        super().__init__()
        self.recognizer = StepRecognizer(checkpoint or STEPS_CHECKPOINT, companion=False)
        deploy = {**WATCH_DEFAULTS, **dict(self.recognizer.meta.get("deploy") or {})}
        chosen = {k: deploy[k] if given.get(k) is None else given[k] for k in deploy}
        self.settings = {k: chosen[k] for k in WATCH_SETTINGS}
        self._frame_rules(chosen)
        self.recognizer.unseen_bias = float(chosen["unseen_bias"])  # raises if negative
        self.recognizer.use_companion(bool(chosen["companion"]))
        self.gate = checkpoint_gate(self.recognizer.meta, gate, threshold, deploy["gate"])
        self.obs_modes: tuple[str, ...] = (
            ("segmentation", "depth") if self.place else ("segmentation",)
        )
        self.name = "stepwatch"
        self.watch: DependencyWatch | None = None
        self.places: PlacementWatch | None = None
        self.attention: AttentionWatch | None = None
        self.grasps: GraspWatch | None = None

    def _frame_rules(self, chosen: dict[str, Any]) -> None:
        """Take the frame rules' switches and the grasp rule's floor from ``chosen``."""
        self.place, self.attend = bool(chosen["place"]), bool(chosen["attend"])
        self.effects = bool(chosen["effects"])
        if self.effects and not self.place:
            raise ValueError(
                "stepwatch: effects=true reads the placement rule's frames: needs place=true"
            )
        self.regrasp, self.grasp = bool(chosen["regrasp"]), bool(chosen["grasp"])
        self.grasp_theta = float(chosen["grasp_theta"])
        if not 0.0 <= self.grasp_theta <= 1.0:
            raise ValueError(f"stepwatch: grasp_theta must be in [0, 1], got {self.grasp_theta}")

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Start the recogniser and a new watch over this episode's plan."""
        super().reset(env_info=env_info, seed=seed)
        self.recognizer.reset(env_info)  # without segmentation_ids (blind): sees nothing
        dt = float(env_info.get("dt", 0.5))
        self.watch = DependencyWatch(self.plan, dt, gate=self.gate, **self.settings)
        self.places, self.attention = frame_rules(
            self.plan, env_info, self.place, self.attend, self.regrasp, self.effects
        )
        self.grasps = GraspWatch(self.plan, self.grasp_theta) if self.grasp else None

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Recognise the step, and correct when it needs a step never worked on (or,
        with ``place``, an object rests where the plan does not put it; with
        ``attend``, re-engage a person whose view settled away from the task)."""
        if self.watch is None:
            raise RuntimeError("stepwatch: call reset() before act()")
        if "segmentation" not in observation:
            raise ValueError(
                "stepwatch reads the segmentation: make the env with obs_modes including 'segmentation'"
            )
        probs = self.recognizer.update(observation["segmentation"])
        grasp = None if self.grasps is None else (self.grasps, self.recognizer.counts)
        return respond(
            self.watch,
            self.places,
            self.attention,
            probs,
            observation,
            grasp,
            worked=self.recognizer.raw,
        )
