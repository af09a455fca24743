"""Inputs of the learned interaction model, shared by data collection and inference.

* Frames: the observation's ``rgb`` downsampled (area average) to ``size × size``;
  a clip is the last ``k`` frames, oldest first, padded by repeating the oldest.
* Plan state: an encoding of the cached plan and the dialogue (see
  :data:`FEATURE_NAMES`), computed by :class:`PlanStateTracker` the same way when the
  dataset is written and when the model runs.

numpy only (no torch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from proassist.policies.duplex.components import DialogueTurn
from proassist.policies.duplex.plan_format import Plan
from proassist.scenarios.model import MAX_STEPS

__all__ = [
    "FEATURE_DIM",
    "FEATURE_NAMES",
    "PlanState",
    "PlanStateTracker",
    "clip_from_frames",
    "downsample",
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
