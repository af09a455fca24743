"""The rule-based cue tracker: the non-privileged interaction model ``interaction="rules"``.

It sees only what a camera-based assistant sees: the egocentric segmentation (ids
mapped to fixture/object names through ``env_info["segmentation_ids"]``), the rgb
frame (burner glow), the person's utterances, the cached plan and the procedure's
expected durations. Each frame becomes a :class:`Percept`: the fixture looked at
(most pixels of the central window), the objects there, whether the hands work in the
central window, and whether the person looks away from every task fixture.

Rules, checked in order at each decision point (at most one message; after speaking
the tracker waits ``gap`` seconds, except to answer a question):

1. **question** (the person said something with ``?``): answer with the current step.
2. **away** (task fixtures and objects fill under 12% of the view, hands out of it, for
   ``away_s``): re-engage (no step: the person resumes what they left).
3. **foreign object** (an object no plan step uses is worked on for ``sustain_s``):
   substitution, correct the current step.
4. **left early** (the gaze settles on another remaining step's fixture before
   ``early_ratio`` of the current step's expected duration): the person skipped or
   cut short the step. Warn when it is safety-critical; otherwise correct the current
   step when the new fixture is the plan-order next one (omission, timing), else the
   step started early (order). A burner still glowing when the gaze leaves the stove
   after a safety-critical step is current also warns.
5. **step done** (the gaze settles on another remaining step's fixture after
   ``early_ratio`` of the expected duration, or ``late_ratio`` of it has passed):
   instruct the next step.
6. **idle** (hands out of view and the gaze off the current fixture for ``idle_s``):
   re-engage, current step.

Without segmentation (``render=False``), rules 2-4 and the gaze part of 5 are off and
the tracker follows the expected durations alone. ``threshold`` scales every time
constant (0.5 = the defaults; higher asks for more evidence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from proassist.policies.duplex.components import SILENT, Decision, DialogueTurn, utterance_for
from proassist.policies.duplex.plan_format import Plan, PlanStep
from proassist.sim.render.indicators import segment_owners

__all__ = [
    "BACKGROUND",
    "HANDS",
    "CueTracker",
    "Percept",
    "ProgressTracker",
    "perceive",
    "task_fixtures",
]

#: Segmentation names of the person's hands (and arms).
HANDS: tuple[str, ...] = ("hand_left", "hand_right")
#: Segmentation names that are neither a task fixture nor a task object.
BACKGROUND: frozenset[str] = frozenset({"floor", "walls", *HANDS})


@dataclass(frozen=True)
class Percept:
    """What one frame shows.

    Attributes:
        t: Observation time.
        focus: The fixture with most pixels in the central window (``None``: none).
        objects: Object names with at least ``min_px`` pixels in the central window.
        hands: True when the hands are in the central window.
        away: True when no task fixture or object is in the central window.
        glowing: True when a visible burner glows (orange), None when not visible.
    """

    t: float
    focus: str | None = None
    objects: frozenset[str] = field(default_factory=frozenset)
    hands: bool = False
    away: bool = False
    glowing: bool | None = None


def task_fixtures(env_info: dict[str, Any]) -> frozenset[str]:
    """The fixtures of an episode: ``env_info["fixtures"]`` and every plan step's location."""
    plan = env_info.get("plan") or []
    return frozenset(env_info.get("fixtures") or ()) | {
        str(s["location"]) for s in plan if s.get("location")
    }


def _center(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[:2]
    return a[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]


def perceive(
    obs: dict[str, Any],
    names: dict[int, str],
    fixtures: frozenset[str],
    min_px: int = 20,
) -> Percept:
    """Turn one observation into a :class:`Percept` (needs ``segmentation``)."""
    t = float(np.asarray(obs["time"], dtype=np.float64).reshape(-1)[0])
    seg = obs.get("segmentation")
    if seg is None or not names:
        return Percept(t)
    seg = np.asarray(seg)
    center = _center(seg)
    ids, counts = np.unique(center, return_counts=True)
    px: dict[str, int] = {}
    for i, c in zip(ids, counts, strict=True):
        if int(i) in names:  # several ids may belong to one entity (its knob, its flame)
            px[names[int(i)]] = px.get(names[int(i)], 0) + int(c)
    scale = center.size / 4096.0  # thresholds are for a 64x64 central window
    hands = sum(px.get(h, 0) for h in HANDS) >= 150 * scale
    fix = {k: v for k, v in px.items() if k in fixtures}
    focus = max(fix, key=fix.get) if fix and max(fix.values()) >= 300 * scale else None
    objects = frozenset(
        k for k, v in px.items() if k not in fixtures and k not in BACKGROUND and v >= min_px
    )
    task_px = sum(v for k, v in px.items() if k not in BACKGROUND)
    away = not hands and task_px < 0.12 * center.size  # mostly walls or floor: looking away
    return Percept(t, focus, objects, hands, away, _glow(obs, seg, names))


def _glow(obs: dict[str, Any], seg: np.ndarray, names: dict[int, str]) -> bool | None:
    burner = [i for i, n in names.items() if n == "burner"]  # with its flame ring
    rgb = obs.get("rgb")
    if not burner or rgb is None:
        return None
    mask = np.isin(seg, burner)
    if mask.sum() < 10:
        return None
    pix = np.asarray(rgb)[mask].astype(np.float32)
    return bool((pix[:, 0] - pix[:, 2]).mean() > 80.0)


class CueTracker:
    """Rule-based interaction model over segmentation cues (see the module docstring).

    Args:
        threshold: Evidence scale in (0, 1]: every time constant is multiplied by
            ``threshold / 0.5``.
        gap: Seconds of silence after each message (questions excepted).
        early_ratio: Leaving a step before this fraction of its expected duration is
            a deviation; after it, a completion.
        late_ratio: The step is taken as done after this multiple of its duration.
    """

    #: Observation modes the tracker needs (``evaluate`` builds the env with them).
    obs_modes: tuple[str, ...] = ("rgb", "segmentation")

    def __init__(
        self,
        threshold: float = 0.5,
        gap: float = 2.0,
        early_ratio: float = 0.5,
        late_ratio: float = 1.3,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.scale = threshold / 0.5
        self.gap, self.early_ratio, self.late_ratio = gap, early_ratio, late_ratio
        self.sustain_s, self.away_s, self.idle_s = 1.0, 0.5, 5.0
        self.reset({"plan": []})

    def reset(self, env_info: dict[str, Any]) -> None:
        """Start an episode: the procedure, the segmentation names, empty history."""
        self.procedure = list(env_info.get("plan", []))
        self.by_id = {str(s["id"]): s for s in self.procedure}
        seg_ids = env_info.get("segmentation_ids") or {}
        self.names = segment_owners(seg_ids)  # a knob's or flame's pixels: its entity
        self.fixtures = task_fixtures(env_info)
        self.plan_objects = {str(o) for s in self.procedure for o in s.get("objects") or []}
        self.percepts: list[Percept] = []
        self.step_key: tuple | None = None
        self.step_since = 0.0
        self.raised: set[tuple[str, str]] = set()
        self.stats: dict[str, int] = {"calls": 0, "interrupts": 0}

    def describe(self, clip: Sequence[dict[str, Any]]) -> str:
        """A text description of the latest frame (for text-only planners)."""
        if not clip:
            return ""
        p = perceive(clip[-1], self.names, self.fixtures)
        parts = [f"looking at the {p.focus}" if p.focus else "looking around"]
        if p.objects:
            parts.append("sees " + ", ".join(sorted(p.objects)))
        parts.append("hands working" if p.hands else "hands idle")
        return "; ".join(parts)

    # ------------------------------------------------------------------ helpers
    def _recent(self, seconds: float) -> list[Percept]:
        now = self.percepts[-1].t
        return [p for p in self.percepts if p.t > now - seconds * self.scale - 1e-9]

    def _sustained(self, seconds: float, pred) -> bool:
        recent = self._recent(seconds)
        span = recent[-1].t - recent[0].t if recent else 0.0
        return span >= seconds * self.scale - 1e-9 and all(pred(p) for p in recent)

    def _duration(self, step: PlanStep | None) -> float:
        if step is None or step.id not in self.by_id:
            return 5.0
        return max(float(self.by_id[step.id].get("duration_mean") or 5.0), 1.0)

    def _location(self, step: PlanStep | None) -> str | None:
        if step is None or step.id not in self.by_id:
            return None
        return self.by_id[step.id].get("location")

    def _say(self, intent: str, step: PlanStep | None, fix: bool = False) -> Decision:
        self.stats["interrupts"] += 1
        text = utterance_for(intent, step.text if step is not None else "")
        return Decision(True, intent, step.id if step else None, text, fix, 1.0)

    def _track(self, obs: dict[str, Any], plan: Plan | None) -> tuple[PlanStep | None, float]:
        """Perceive ``obs``; restart the step clock when the plan's current step changed."""
        self.percepts.append(perceive(obs, self.names, self.fixtures))
        self.percepts = self.percepts[-40:]
        now = self.percepts[-1].t
        step = plan.current_step if plan is not None else None
        key = (step.id, step.fix, step.text) if step is not None else None
        if key != self.step_key:
            self.step_key, self.step_since = key, now
        return step, now

    # ------------------------------------------------------------------ deciding
    def decide(
        self,
        obs_history: Sequence[dict[str, Any]],
        plan: Plan | None,
        dialogue: Sequence[DialogueTurn],
    ) -> Decision:
        """Apply the rules to the newest observation (see the module docstring)."""
        if not obs_history:
            raise ValueError("decide needs at least one observation")
        self.stats["calls"] += 1
        step, now = self._track(obs_history[-1], plan)
        said = [d.t for d in dialogue if d.speaker == "assistant"]
        asked = any(
            d.speaker == "person" and "?" in d.text and abs(d.t - now) < 1e-6 for d in dialogue
        )
        if asked:
            return self._say("answer_question", step)
        if step is None or (said and now - said[-1] < self.gap):
            return SILENT
        return self._rules(plan, step, now)

    def _rules(self, plan: Plan, step: PlanStep, now: float) -> Decision:
        if self.names:
            for rule in (self._away, self._foreign, self._left):
                decision = rule(plan, step, now)
                if decision is not None:
                    return decision
        return self._done(plan, step, now) or self._idle(step) or SILENT

    def _once(self, tag: str, step: PlanStep) -> bool:
        key = (tag, f"{step.id}:{step.fix}")
        if key in self.raised:
            return False
        self.raised.add(key)
        return True

    def _away(self, plan: Plan, step: PlanStep, now: float) -> Decision | None:
        if self._sustained(self.away_s, lambda p: p.away) and self._once("away", step):
            return self._say("re_engage", None)
        return None

    def _foreign(self, plan: Plan, step: PlanStep, now: float) -> Decision | None:
        def foreign(p: Percept) -> bool:
            return p.hands and any(o not in self.plan_objects for o in p.objects)

        if self._sustained(self.sustain_s, foreign) and self._once("foreign", step):
            return self._say("correct_deviation", step, fix=True)
        return None

    def _settled_elsewhere(self, plan: Plan, step: PlanStep) -> PlanStep | None:
        """The remaining plan step whose fixture the gaze settled on, if not the current."""
        here = self._location(step)
        recent = self._recent(self.sustain_s)
        if not recent or recent[-1].t - recent[0].t < self.sustain_s * self.scale - 1e-9:
            return None
        focus = {p.focus for p in recent}
        if len(focus) != 1 or None in focus or focus == {here}:
            return None
        (where,) = focus
        start = (plan.current or 0) + 1
        for other in plan.steps[start:]:
            if not other.fix and other.id != step.id and self._location(other) == where:
                return other
        return None

    def _next_step(self, plan: Plan, step: PlanStep) -> PlanStep | None:
        for other in plan.steps[(plan.current or 0) + 1 :]:
            if not other.fix and other.id != step.id:
                return other
        return None

    def _left(self, plan: Plan, step: PlanStep, now: float) -> Decision | None:
        elapsed = now - self.step_since
        other = self._settled_elsewhere(plan, step)
        if other is None or step.fix or elapsed >= self.early_ratio * self._duration(step):
            return self._hazard(step)
        if not self._once("left", step):
            return None
        if self.by_id.get(step.id or "", {}).get("safety_critical"):
            return self._say("warn", step, fix=True)
        if other is self._next_step(plan, step):
            return self._say("correct_deviation", step, fix=True)
        return self._say("correct_deviation", other, fix=True)

    def _hazard(self, step: PlanStep) -> Decision | None:
        if not self.by_id.get(step.id or "", {}).get("safety_critical"):
            return None
        recent = self._recent(self.sustain_s)
        seen = [p.glowing for p in recent if p.glowing is not None]
        left = recent and recent[-1].focus not in (None, "stove", "burner")
        if seen and all(seen) and left and self._once("hazard", step):
            return self._say("warn", step, fix=True)
        return None

    def _step_over(self, plan: Plan, step: PlanStep, now: float) -> bool:
        """Rule 5's evidence: the gaze settled on another remaining step's fixture after
        ``early_ratio`` of the expected duration, or ``late_ratio`` of it has passed."""
        elapsed = now - self.step_since
        expected = self._duration(step) * self.scale
        moved = self.names and self._settled_elsewhere(plan, step) is not None
        ratio = self.early_ratio if moved else self.late_ratio
        return elapsed >= ratio * expected

    def _done(self, plan: Plan, step: PlanStep, now: float) -> Decision | None:
        if not self._step_over(plan, step, now):
            return None
        nxt = self._next_step(plan, step)
        if nxt is None:
            return None
        return self._say("instruct_next", nxt)

    def _idle(self, step: PlanStep) -> Decision | None:
        here = self._location(step)
        if not self.names:
            return None

        def idle(p: Percept) -> bool:
            return not p.hands and p.focus != here

        if self._sustained(self.idle_s, idle) and self._once("idle", step):
            return self._say("re_engage", step)
        return None


class ProgressTracker(CueTracker):
    """Silent plan progress from the tracker's cues (the duplex's ``plan_mode="tracked"``).

    At each decision point :meth:`step_over` perceives the newest observation and says
    whether the plan's current step is over by rule 5's evidence: the gaze settled on
    another remaining step's fixture after ``early_ratio`` of the step's expected
    duration, or ``late_ratio`` of it has passed. The duplex then marks the step
    completed and replans without speaking, as a person watching would update their
    picture of the task. A step left before ``early_ratio`` stays current: that is what
    a skipped or cut-short step looks like (rule 4), and the interaction model sees the
    person at another step's place while its plan still names this one.
    """

    def reset(self, env_info: dict[str, Any]) -> None:
        """Start an episode (the cue tracker's state, and no step revised yet)."""
        super().reset(env_info)
        self.revised: set[tuple] = set()

    def step_over(self, obs: dict[str, Any], plan: Plan | None) -> bool:
        """True when the current step of ``plan`` is over (see the class docstring)."""
        step, now = self._track(obs, plan)
        if step is None or plan is None:
            return False
        return bool(self._step_over(plan, step, now))

    def revise(self, obs: dict[str, Any], plan: Plan | None, act: bool = True) -> Any:
        """Perceive ``obs``; when ``act`` and ``plan``'s current step looks over (once per
        step), say how to revise the plan.

        Returns:
            ``None`` (no revision); a :class:`Plan` (the current fix step dropped, more
            fix steps follow); or the completed step ids to replan with (a finished
            plan step, or the last fix step: the step it redid is then done).
        """
        over = self.step_over(obs, plan)
        step = plan.current_step if plan is not None else None
        if not (act and over) or step is None or self.step_key in self.revised:
            return None
        self.revised.add(self.step_key)
        done = tuple(s.id for s in plan.completed if s.id is not None)
        later_fixes = [s for s in plan.steps[(plan.current or 0) + 1 :] if s.fix]
        if step.fix and later_fixes:
            steps = tuple(s for i, s in enumerate(plan.steps) if i != plan.current)
            return replace(plan, steps=steps, current=min(plan.current or 0, len(steps) - 1))
        return done + ((step.id,) if step.id is not None and step.id not in done else ())
