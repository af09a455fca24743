"""Inputs of the learned interaction model, shared by data collection and inference.

* Frames: the observation's ``rgb`` downsampled (area average) to ``size × size``;
  a clip is the last ``k`` frames, oldest first, padded by repeating the oldest.
* Plan state: an encoding of the cached plan and the dialogue (see
  :data:`FEATURE_NAMES`), computed by :class:`PlanStateTracker` the same way when the
  dataset is written and when the model runs.
* Percepts (models trained with ``percepts``): what the egocentric segmentation shows
  relative to the plan (see :data:`PERCEPT_NAMES`), computed by :class:`PerceptTracker`
  from the same per-frame :func:`~proassist.policies.duplex.cue_tracker.perceive` as
  the rule-based cue tracker. The model's input vector is the plan features followed
  by the percepts (:func:`input_names`).

numpy only (no torch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from proassist.policies.duplex.components import DialogueTurn
from proassist.policies.duplex.cue_tracker import task_fixtures
from proassist.policies.duplex.plan_format import Plan
from proassist.scenarios.model import MAX_STEPS
from proassist.sim.render.indicators import segment_owners

__all__ = [
    "FEATURE_DIM",
    "FEATURE_NAMES",
    "PERCEPT_DIM",
    "PERCEPT_NAMES",
    "PerceptTracker",
    "PlanState",
    "InputTracker",
    "PlanStateTracker",
    "StepWindow",
    "WINDOW_NAMES",
    "input_names",
    "offset_steps",
    "clip_from_frames",
    "downsample",
    "held_objects",
    "plan_features",
]

_SCALARS: tuple[str, ...] = (
    "progress",  # completed / procedure length
    "remaining",  # remaining plan steps / procedure length
    "current_is_fix",
    "since_interrupt",  # min(s, 60) / 60, 1 when never interrupted
    "never_interrupted",
    "recent_interrupt",  # interrupted less than 3 s ago
    "since_step_start",  # min(s, 60) / 60
    "step_elapsed_ratio",  # time in step / expected duration, clipped to 3, / 3
    "person_spoke",
    "person_asked",
)
#: Names of the plan-state features: a one-hot of the current step's procedure index
#: (``cur_0 .. cur_{MAX_STEPS-1}``, ``cur_none``), then the scalars above.
FEATURE_NAMES: tuple[str, ...] = (
    tuple(f"cur_{i}" for i in range(MAX_STEPS)) + ("cur_none",) + _SCALARS
)
FEATURE_DIM: int = len(FEATURE_NAMES)

#: Largest step offset (relative to the current plan step) the offset head predicts
#: (here, torch-free, so the data engine needs no torch; ``net`` re-exports it).
MAX_OFFSET: int = 2

#: Per step of the window around the current one (offsets ``-MAX_OFFSET..+MAX_OFFSET``
#: over the completed and then the remaining plan steps, ``history`` offsets below):
_SLOT: tuple[str, ...] = (
    "present",  # the window has a step here
    "done",  # the plan lists it as completed
    "fix",  # a recovery step
    "focus",  # the fixture looked at is its location
    "held",  # an object touching the hands is one of its objects
    "objects",  # share of its objects in view
    "dwell",  # seconds the person has worked on it (at its location with the hands
    #           in view, or holding its objects), /10, over the episode
    "recency",  # seconds since it was first in the window as done (done) or not, /10
    "safety",  # safety-critical
)
#: Names of the step-window percepts (what the camera shows about each step near the
#: current one: which step the person works on, and whether a step the plan took for
#: done was ever worked on; a deviation detector names its step from them).
WINDOW_NAMES: tuple[str, ...] = tuple(
    f"win{o:+d}_{name}" for o in range(-MAX_OFFSET, MAX_OFFSET + 1) for name in _SLOT
)

#: Names of the percept features (all in [0, 1]; every one 0 without segmentation):
#: the frame relative to the plan, then the step window (:data:`WINDOW_NAMES`).
PERCEPT_NAMES: tuple[str, ...] = (
    "seen",  # segmentation available
    "focus_current",  # the fixture looked at is the current plan step's location
    "focus_next",  # ... the next plan step's location (and not the current's)
    "focus_later",  # ... a later remaining step's location (neither of the above)
    "focus_none",  # no fixture fills the central window
    "hands",  # hands in the central window
    "away",  # looking away from every task fixture and object
    "foreign",  # an object no plan step uses is in view while the hands work
    "current_objects",  # share of the current step's objects in view
    "next_objects",  # share of the next step's objects in view
    "glowing",  # a visible burner glows
    "current_safety",  # the current plan step is safety-critical
    "off_current",  # seconds since the gaze was last on the current location, /10
    "away_for",  # seconds looking away, /10
    "idle_for",  # seconds with the hands out of view, /10
    "focus_moved",  # the fixture looked at changed within the last second
    "held_current",  # an object touching the hands is one of the current step's
    "held_next",  # ... one of the next step's (and none of the current's)
    "held_later",  # ... only later remaining steps use it
    "held_foreign",  # ... no plan step uses it
) + WINDOW_NAMES
PERCEPT_DIM: int = len(PERCEPT_NAMES)

#: Seconds the duration percepts saturate at.
_PERCEPT_HORIZON_S = 10.0


def input_names(percepts: bool) -> tuple[str, ...]:
    """Names of the model's input vector: plan features, then percepts if used."""
    return FEATURE_NAMES + (PERCEPT_NAMES if percepts else ())


#: What a step offset counts over: ``"plan"``, the remaining plan steps (the
#: oracle-imitation models); ``"history"``, the completed steps and then the remaining
#: ones, so a negative offset can name a step already done (the deviation detectors of
#: :mod:`proassist.policies.learned.truth`: a repeated step, a skipped one the plan
#: took for done). A model's ``config["offsets"]`` says which (absent: ``"plan"``).
OFFSET_BASES: tuple[str, ...] = ("plan", "history")


def offset_steps(plan: Plan | None, base: str = "plan") -> tuple[tuple[Any, ...], int | None]:
    """The steps a step offset indexes under ``base`` (:data:`OFFSET_BASES`) and the
    current step's position among them (``None``: no plan or a finished one)."""
    if base not in OFFSET_BASES:
        raise ValueError(f"offset base must be one of {list(OFFSET_BASES)}, got {base!r}")
    if plan is None or plan.current is None or not plan.steps:
        return (), None
    if base == "plan":
        return tuple(plan.steps), plan.current
    return (*plan.completed, *plan.steps), len(plan.completed) + plan.current


@dataclass(frozen=True)
class PlanState:
    """The plan and dialogue state at one decision point.

    Attributes:
        current_index: Procedure index of the current plan step (for a fix step the
            affected step), or ``None``.
        n_steps: Procedure length.
        n_completed: Steps the plan lists as completed.
        n_remaining: Steps left in the plan (fix steps included).
        current_is_fix: The current step is a recovery step.
        since_interrupt: Seconds since the assistant last spoke (``None``: never).
        since_step_start: Seconds since the current plan step became current.
        expected_duration: The current step's ``duration_mean`` (0 when unknown).
        utterance: What the person said at this decision point.
    """

    current_index: int | None
    n_steps: int
    n_completed: int
    n_remaining: int
    current_is_fix: bool
    since_interrupt: float | None
    since_step_start: float
    expected_duration: float
    utterance: str = ""


def plan_features(state: PlanState) -> np.ndarray:
    """Encode ``state`` as a float32 vector of length :data:`FEATURE_DIM`."""
    onehot = np.zeros(MAX_STEPS + 1, dtype=np.float32)
    idx = state.current_index
    onehot[idx if idx is not None and 0 <= idx < MAX_STEPS else MAX_STEPS] = 1.0
    n = max(state.n_steps, 1)
    never = state.since_interrupt is None
    since = 60.0 if never else min(max(state.since_interrupt, 0.0), 60.0)
    ratio = state.since_step_start / state.expected_duration if state.expected_duration > 0 else 0
    scalars = [
        state.n_completed / n,
        state.n_remaining / n,
        float(state.current_is_fix),
        since / 60.0,
        float(never),
        float(not never and since < 3.0),
        min(max(state.since_step_start, 0.0), 60.0) / 60.0,
        min(max(ratio, 0.0), 3.0) / 3.0,
        float(bool(state.utterance.strip())),
        float("?" in state.utterance),
    ]
    return np.concatenate([onehot, np.asarray(scalars, dtype=np.float32)])


class PlanStateTracker:
    """Tracks when the plan's current step changed, to build :class:`PlanState`.

    Args:
        procedure: The env_info plan (step dicts with ``id`` and ``duration_mean``).
    """

    def __init__(self, procedure: Sequence[dict[str, Any]]) -> None:
        self.ids = [str(s["id"]) for s in procedure]
        self.durations = [float(s.get("duration_mean") or 0.0) for s in procedure]
        self._key: tuple | None = None
        self._since: float | None = None

    def update(
        self, time: float, plan: Plan | None, dialogue: Sequence[DialogueTurn], utterance: str
    ) -> PlanState:
        """The state at ``time`` given the cached plan, the dialogue and the utterance."""
        step = plan.current_step if plan is not None else None
        key = (step.id, step.fix, step.text) if step is not None else None
        if self._since is None or key != self._key:
            self._key, self._since = key, time
        index = self.ids.index(step.id) if step is not None and step.id in self.ids else None
        spoken = [turn.t for turn in dialogue if turn.speaker == "assistant" and turn.t <= time]
        return PlanState(
            current_index=index,
            n_steps=len(self.ids),
            n_completed=len(plan.completed) if plan is not None else 0,
            n_remaining=len(plan.steps) if plan is not None else len(self.ids),
            current_is_fix=bool(step is not None and step.fix),
            since_interrupt=time - max(spoken) if spoken else None,
            since_step_start=time - self._since,
            expected_duration=self.durations[index] if index is not None else 0.0,
            utterance=utterance,
        )


class PerceptTracker:
    """Turns each observation's segmentation into :data:`PERCEPT_NAMES` features.

    Args:
        env_info: The episode description (``plan`` with step ``location``,
            ``objects``, ``safety_critical``; ``segmentation_ids``; ``fixtures``).
    """

    def __init__(self, env_info: dict[str, Any]) -> None:
        procedure = list(env_info.get("plan", []))
        self.by_id = {str(s["id"]): s for s in procedure}
        seg_ids = env_info.get("segmentation_ids") or {}
        self.names = segment_owners(seg_ids)  # a knob's or flame's pixels: its entity
        self.fixtures = task_fixtures(env_info)
        self.plan_objects = {str(o) for s in procedure for o in s.get("objects") or []}
        self.history: list[Any] = []
        self._last_on = self._last_hands = self._away_since = None
        self.window = StepWindow(self.by_id)

    def update(self, obs: dict[str, Any], plan: Plan | None) -> np.ndarray:
        """The percept features of ``obs`` (the newest observation) under ``plan``."""
        from proassist.policies.duplex.cue_tracker import perceive

        out = np.zeros(PERCEPT_DIM, dtype=np.float32)
        if obs.get("segmentation") is None or not self.names:
            return out
        p = perceive(obs, self.names, self.fixtures)
        self.history = [q for q in self.history if q.t > p.t - 1.0 - 1e-9] + [p]
        cur, nxt = self._steps(plan)
        self._clock(p, self._field(cur, "location"))
        values = self._gaze(p, plan, cur, nxt) | self._content(p, cur, nxt)
        held = held_objects(obs["segmentation"], self.names)
        values |= self._held(held, plan, cur, nxt)
        values |= self.window.update(p, {o for o in held if o not in self.fixtures}, plan)
        for i, name in enumerate(PERCEPT_NAMES):
            out[i] = float(values[name])
        return out

    def _gaze(self, p: Any, plan: Plan | None, cur: Any, nxt: Any) -> dict[str, Any]:
        """Where the person looks, relative to the plan, and for how long."""
        here, there = self._field(cur, "location"), self._field(nxt, "location")
        current = p.focus is not None and p.focus == here
        following = p.focus is not None and p.focus == there and not current
        later = p.focus is not None and not (current or following)
        return {
            "seen": 1.0,
            "focus_current": current,
            "focus_next": following,
            "focus_later": later and p.focus in self._later_locations(plan),
            "focus_none": p.focus is None,
            "off_current": self._since(self._last_on, p.t),
            "away_for": 0.0 if self._away_since is None else self._since(self._away_since, p.t),
            "focus_moved": len({q.focus for q in self.history}) > 1,
        }

    def _content(self, p: Any, cur: Any, nxt: Any) -> dict[str, Any]:
        """What the hands do and which objects are in view."""
        return {
            "hands": p.hands,
            "away": p.away,
            "foreign": p.hands and any(o not in self.plan_objects for o in p.objects),
            "current_objects": _share(self._field(cur, "objects"), p.objects),
            "next_objects": _share(self._field(nxt, "objects"), p.objects),
            "glowing": bool(p.glowing),
            "current_safety": bool(self._field(cur, "safety_critical")),
            "idle_for": self._since(self._last_hands, p.t),
        }

    def _held(self, held: set[str], plan: Plan | None, cur: Any, nxt: Any) -> dict[str, Any]:
        """What the hands hold (objects touching them), relative to the plan."""
        held = {o for o in held if o not in self.fixtures}
        current = held & {str(o) for o in self._field(cur, "objects") or []}
        following = held & {str(o) for o in self._field(nxt, "objects") or []}
        later: set[str] = set()
        if plan is not None and plan.current is not None:
            for step in plan.steps[plan.current + 1 :]:
                later |= {str(o) for o in self._field(step, "objects") or []}
        return {
            "held_current": bool(current),
            "held_next": bool(following) and not current,
            "held_later": bool(held & later) and not (current or following),
            "held_foreign": any(o not in self.plan_objects for o in held),
        }

    def _clock(self, p: Any, here: str | None) -> None:
        """Update when the gaze was last on ``here``, the hands last seen, away since."""
        if self._last_on is None or p.focus == here:
            self._last_on = p.t
        if self._last_hands is None or p.hands:
            self._last_hands = p.t
        if not p.away:
            self._away_since = None
        elif self._away_since is None:
            self._away_since = p.t

    @staticmethod
    def _since(then: float | None, now: float) -> float:
        elapsed = 0.0 if then is None else now - then
        return min(max(elapsed, 0.0), _PERCEPT_HORIZON_S) / _PERCEPT_HORIZON_S

    def _field(self, step: Any, key: str) -> Any:
        return self.by_id.get(step.id, {}).get(key) if step is not None else None

    @staticmethod
    def _steps(plan: Plan | None) -> tuple[Any, Any]:
        """The current plan step and the next non-fix one after it."""
        if plan is None or plan.current is None or not plan.steps:
            return None, None
        cur = plan.steps[plan.current]
        later = [s for s in plan.steps[plan.current + 1 :] if not s.fix and s.id != cur.id]
        return cur, later[0] if later else None

    def _later_locations(self, plan: Plan | None) -> set[str]:
        if plan is None or plan.current is None:
            return set()
        return {str(self._field(s, "location")) for s in plan.steps[plan.current + 1 :]}


class InputTracker:
    """The learned model's input vector at successive decision points: the plan
    features, then (``percepts``) the percepts. The one computation shared by
    inference, the oracle data engine and the deviation-label recorder.

    Args:
        env_info: The episode description (``plan``, segmentation names, fixtures).
        percepts: Append the percept features.
    """

    def __init__(self, env_info: dict[str, Any], percepts: bool) -> None:
        self.plan_state = PlanStateTracker(list(env_info.get("plan", [])))
        self.percepts = PerceptTracker(env_info) if percepts else None

    def update(
        self, obs: dict[str, Any], plan: Plan | None, dialogue: Sequence[DialogueTurn]
    ) -> tuple[PlanState, np.ndarray]:
        """The plan state and the input vector at ``obs`` (the newest observation)."""
        time = float(np.asarray(obs["time"], dtype=np.float64).reshape(-1)[0])
        utterance = str(obs.get("utterance", "") or "")
        state = self.plan_state.update(time, plan, dialogue, utterance)
        if self.percepts is None:
            return state, plan_features(state)
        return state, np.concatenate([plan_features(state), self.percepts.update(obs, plan)])


class StepWindow:
    """The step-window percepts (:data:`WINDOW_NAMES`) of successive frames.

    Args:
        by_id: The procedure's step dicts by id (``location``, ``objects``,
            ``safety_critical``).
    """

    def __init__(self, by_id: dict[str, dict[str, Any]]) -> None:
        self.by_id = by_id
        self.dwell: dict[str, float] = {}
        self.marked: dict[tuple[str, bool], float] = {}  # (id, done) -> first time seen
        self._t: float | None = None

    def update(self, p: Any, held: set[str], plan: Plan | None) -> dict[str, float]:
        """The window's values for percept ``p`` with ``held`` objects under ``plan``."""
        dt = 0.0 if self._t is None else max(p.t - self._t, 0.0)
        self._t = p.t
        for sid, step in self.by_id.items():
            if self._engaged(step, p, held):
                self.dwell[sid] = self.dwell.get(sid, 0.0) + dt
        steps, current = offset_steps(plan, "history")
        n_done = len(plan.completed) if plan is not None else 0
        values: dict[str, float] = {}
        for o in range(-MAX_OFFSET, MAX_OFFSET + 1):
            i = -1 if current is None else current + o
            slot = steps[i] if 0 <= i < len(steps) else None
            for name, value in self._slot(slot, i < n_done, p, held).items():
                values[f"win{o:+d}_{name}"] = value
        return values

    @staticmethod
    def _engaged(step: dict[str, Any], p: Any, held: set[str]) -> bool:
        objects = {str(o) for o in step.get("objects") or []}
        return bool(held & objects) or (p.hands and p.focus == step.get("location"))

    def _slot(self, slot: Any, done: bool, p: Any, held: set[str]) -> dict[str, float]:
        """One window position's values (all 0 when the window has no step there)."""
        if slot is None:
            return dict.fromkeys(_SLOT, 0.0)
        step = self.by_id.get(str(slot.id), {})
        objects = [str(o) for o in step.get("objects") or []]
        since = p.t - self.marked.setdefault((str(slot.id), done), p.t)
        return {
            "present": 1.0,
            "done": float(done),
            "fix": float(slot.fix),
            "focus": float(p.focus is not None and p.focus == step.get("location")),
            "held": float(bool(held & set(objects))),
            "objects": _share(objects, p.objects),
            "dwell": min(self.dwell.get(str(slot.id), 0.0), _PERCEPT_HORIZON_S)
            / _PERCEPT_HORIZON_S,
            "recency": min(since, _PERCEPT_HORIZON_S) / _PERCEPT_HORIZON_S,
            "safety": float(bool(step.get("safety_critical"))),
        }


def held_objects(seg: np.ndarray, names: dict[int, str], reach_px: int | None = None) -> set[str]:
    """Names of the segments touching the hands' pixels (within ``reach_px``; default
    1/32 of the frame height, at least 1): what the hands hold or work on."""
    seg = np.asarray(seg)
    from proassist.policies.duplex.cue_tracker import BACKGROUND, HANDS

    hand_ids = [i for i, n in names.items() if n in HANDS]
    hands = np.isin(seg, hand_ids)
    if not hands.any():
        return set()
    r = reach_px if reach_px is not None else max(1, seg.shape[0] // 32)
    near = np.zeros_like(hands)
    padded = np.pad(hands, r)
    h, w = hands.shape
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            near |= padded[dy : dy + h, dx : dx + w]
    ids = np.unique(seg[near & ~hands])
    return {names[int(i)] for i in ids if int(i) in names and names[int(i)] not in BACKGROUND}


def _share(wanted: Any, seen: frozenset[str]) -> float:
    wanted = [str(o) for o in wanted or []]
    return sum(o in seen for o in wanted) / len(wanted) if wanted else 0.0


def downsample(rgb: np.ndarray, size: int) -> np.ndarray:
    """Area-average an ``H×W×3`` uint8 image to ``size×size×3`` uint8.

    Raises:
        ValueError: If ``rgb`` is not ``H×W×3`` or is smaller than ``size``.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 image, got shape {rgb.shape}")
    h, w = rgb.shape[:2]
    if h < size or w < size:
        raise ValueError(f"image {h}x{w} is smaller than the {size}x{size} model input")
    rows = np.linspace(0, h, size + 1).astype(int)
    cols = np.linspace(0, w, size + 1).astype(int)
    summed = np.add.reduceat(np.add.reduceat(rgb.astype(np.float32), rows[:-1], 0), cols[:-1], 1)
    counts = np.outer(np.diff(rows), np.diff(cols))[..., None]
    return np.clip(np.rint(summed / counts), 0, 255).astype(np.uint8)


def clip_from_frames(frames: Sequence[np.ndarray], k: int, size: int) -> np.ndarray:
    """The last ``k`` frames downsampled, ``(k, size, size, 3)`` uint8, oldest first.

    Raises:
        ValueError: If ``frames`` is empty.
    """
    if not frames:
        raise ValueError("clip_from_frames needs at least one frame")
    recent = [downsample(f, size) for f in list(frames)[-k:]]
    recent = [recent[0]] * (k - len(recent)) + recent
    return np.stack(recent)
