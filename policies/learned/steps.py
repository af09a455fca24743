"""Step recognition from the segmentation: which plan step is the person working on?

The inputs of the learned step recogniser (:mod:`proassist.policies.learned.steps_train`)
are task-agnostic: every plan step (and a *none* candidate: idle, away, between steps)
is scored from the same features, and a softmax over the candidates says which one the
person works on. Per frame, :func:`pixel_counts` measures every segmented entity's
pixels in the whole frame, in the central window, within reach of the hands and in
the gaze window (the very centre, where a step's ``look`` phase puts the object it will
take); :func:`frame_evidence` turns that into per-candidate evidence (the step's
fixture in view, its objects at the hands, in the centre, in the frame, how specific
the hands' objects are to it, and for a recogniser trained with it their share of the
gaze window); :func:`candidate_features` averages the evidence over the last
0.5, 2 and 5 s and adds what the plan says of the step (how many steps share its
fixture, its expected duration, its place in the plan).
:func:`context_features` adds the recogniser's own history: the step it recognised
last and for how long, whether each step was recognised before, whether its
``after`` steps were, and its plan distance from the last step. Because that history
is the recogniser's own, it is trained on its own mistakes (DAgger, offline over
recorded streams; :func:`~proassist.policies.learned.steps_train.train_recognizer`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from proassist.policies.duplex.cue_tracker import BACKGROUND, HANDS

__all__ = [
    "CONTEXT_DIM",
    "EVIDENCE_DIM",
    "FEATURE_DIM",
    "WINDOWS",
    "StepTracker",
    "candidate_features",
    "context_features",
    "frame_evidence",
    "pixel_counts",
]

#: Decision points averaged by the evidence windows (0.5, 2 and 5 s at 2 Hz).
WINDOWS: tuple[int, ...] = (1, 4, 10)
#: Evidence per candidate and frame (:func:`frame_evidence`).
EVIDENCE_DIM: int = 9
#: Plan facts per candidate (:func:`candidate_features`).
PLAN_DIM: int = 5
#: Context per candidate (:func:`context_features`).
CONTEXT_DIM: int = 12
#: All inputs of one candidate.
FEATURE_DIM: int = EVIDENCE_DIM * len(WINDOWS) + PLAN_DIM + CONTEXT_DIM
#: Pixels around the hands (at 128 px) that count as within reach.
REACH_PX: int = 4
#: The gaze window is the central ``1 / GAZE_FRACTION`` of the frame each way.
GAZE_FRACTION: int = 8

#: ``entity -> (frame, central window, within reach of the hands, gaze window)`` pixels
#: (:func:`pixel_counts`; counts made before the gaze window have three values).
Counts = dict[str, tuple[int, ...]]


def _near_hands(seg: np.ndarray, hand_ids: list[int]) -> np.ndarray:
    """Pixels within :data:`REACH_PX` of a hand (a square), the hands excluded."""
    hands = np.isin(seg, hand_ids)
    if not hands.any():
        return hands
    h, w = hands.shape
    r = REACH_PX
    padded = np.pad(hands, r)
    rows = np.zeros((h, w + 2 * r), bool)
    for dy in range(2 * r + 1):  # separable square dilation: rows, then columns
        rows |= padded[dy : dy + h]
    near = np.zeros((h, w), bool)
    for dx in range(2 * r + 1):
        near |= rows[:, dx : dx + w]
    return near & ~hands


def pixel_counts(seg: np.ndarray, names: dict[int, str]) -> Counts:
    """``entity -> (pixels in the frame, in the central window, within reach of the
    hands, in the gaze window)`` of one segmentation frame; ``names`` maps
    segmentation ids to entities."""
    seg = np.asarray(seg)
    h, w = seg.shape
    hand_ids = [i for i, n in names.items() if n in HANDS]
    r, q = max(1, h // (2 * GAZE_FRACTION)), max(1, w // (2 * GAZE_FRACTION))
    regions = (
        seg,
        seg[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4],
        seg[_near_hands(seg, hand_ids)],
        seg[h // 2 - r : h // 2 + r, w // 2 - q : w // 2 + q],
    )
    out: dict[str, list[int]] = {}
    for j, region in enumerate(regions):
        ids, counts = np.unique(region, return_counts=True)
        for i, c in zip(ids.tolist(), counts.tolist(), strict=True):
            name = names.get(int(i))
            if name is not None:
                out.setdefault(name, [0, 0, 0, 0])[j] += c
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


def _gazed(v: tuple[int, ...]) -> int:
    """The gaze-window pixels of one entity's counts (0 for counts without them)."""
    return v[3] if len(v) > 3 else 0


def _object_evidence(
    objects: Sequence[str], px: Counts, near: set[str], centre: int
) -> list[float]:
    """Evidence that the hands work on ``objects`` (one step's objects)."""
    seen = [px.get(o, (0, 0, 0)) for o in objects]
    at_hands = [v[2] > 0 for v in seen]
    return [
        float(np.mean(at_hands)),
        float(max(at_hands)),
        float(np.mean([v[1] > 0 for v in seen])),
        float(np.mean([v[0] > 0 for v in seen])),
        len(near & set(objects)) / len(near) if near else 0.0,
        min(1.0, 4.0 * sum(v[1] for v in seen) / centre),
    ]


def frame_evidence(
    plan: Sequence[dict[str, Any]], px: Counts, fixtures: frozenset[str], gaze: bool = False
) -> np.ndarray:
    """Per-candidate evidence of one frame: ``(len(plan) + 1, EVIDENCE_DIM)``, the last
    row the *none* candidate (looking away, hands out of view, nothing at the hands).
    With ``gaze``, slot 8 is a step's objects' share of the gaze window (×4, at most 1;
    0 without: the recognisers trained before it)."""
    n = len(plan)
    ev = np.zeros((n + 1, EVIDENCE_DIM), np.float32)
    full = sum(v[0] for v in px.values()) or 1
    centre = sum(v[1] for v in px.values()) or 1
    near = {k for k, v in px.items() if v[2] > 0 and k not in fixtures and k not in BACKGROUND}
    for i, step in enumerate(plan):
        loc = px.get(str(step.get("location") or ""), (0, 0, 0))
        ev[i, 0], ev[i, 1] = loc[1] / centre, loc[0] / full
        objects = [str(o) for o in step.get("objects") or ()]
        if objects:
            ev[i, 2:8] = _object_evidence(objects, px, near, centre)
    if gaze:
        _gaze_evidence(ev, plan, px)
    task = sum(v[1] for k, v in px.items() if k not in BACKGROUND) / centre
    ev[n, 0] = 1.0 - task
    ev[n, 1] = sum(px.get(h, (0, 0, 0))[1] for h in HANDS) / centre
    ev[n, 2] = not near
    return ev


def _gaze_evidence(ev: np.ndarray, plan: Sequence[dict[str, Any]], px: Counts) -> None:
    """Slot 8 of ``ev``: each step's objects' share of the gaze window (×4, at most 1)."""
    window = sum(_gazed(v) for v in px.values()) or 1
    for i, step in enumerate(plan):
        objects = [str(o) for o in step.get("objects") or ()]
        if objects:
            ev[i, 8] = min(1.0, 4.0 * sum(_gazed(px.get(o, (0, 0, 0))) for o in objects) / window)


def candidate_features(
    plan: Sequence[dict[str, Any]], evidence: Sequence[np.ndarray]
) -> np.ndarray:
    """Evidence averaged over :data:`WINDOWS` (newest frame last) and the plan's facts
    of each candidate: ``(len(plan) + 1, EVIDENCE_DIM * len(WINDOWS) + PLAN_DIM)``."""
    n = len(plan)
    out = np.zeros((n + 1, EVIDENCE_DIM * len(WINDOWS) + PLAN_DIM), np.float32)
    for wi, w in enumerate(WINDOWS):
        out[:, EVIDENCE_DIM * wi : EVIDENCE_DIM * (wi + 1)] = np.mean(evidence[-w:], axis=0)
    locations = [s.get("location") for s in plan]
    base = EVIDENCE_DIM * len(WINDOWS)
    for i, step in enumerate(plan):
        out[i, base] = not (step.get("objects") or ())
        out[i, base + 1] = sum(loc == locations[i] for loc in locations) / n
        out[i, base + 2] = min(3.0, float(step.get("duration_mean") or 0.0) / 30.0)
        out[i, base + 3] = i / n
    out[n, base + 4] = 1.0
    return out


def context_features(
    plan: Sequence[dict[str, Any]], prev: int | None, seen: set[int], tau: float
) -> np.ndarray:
    """The recogniser's history per candidate: ``(len(plan) + 1, CONTEXT_DIM)``.

    Args:
        plan: The plan's step dicts.
        prev: The step recognised at the previous point (``None``: the none candidate).
        seen: Steps recognised before (at :attr:`StepTracker.seen_after` points or more).
        tau: Seconds ``prev`` has been recognised in a row.
    """
    n = len(plan)
    ctx = np.zeros((n + 1, CONTEXT_DIM), np.float32)
    index = {str(s["id"]): i for i, s in enumerate(plan)}
    scale = max(float(plan[prev].get("duration_mean") or 1.0), 1.0) if prev is not None else 1.0
    first = next((i for i in range(n) if i not in seen and not plan[i].get("optional")), None)
    for i, step in enumerate(plan):
        ctx[i, 0] = i == prev
        ctx[i, 1] = i in seen
        ctx[i, 2] = all(index[a] in seen for a in step.get("after") or () if a in index)
        if prev is not None:
            ctx[i, 5 + int(np.clip(i - prev, -2, 3))] = 1.0
        ctx[i, 9 if i == prev else 10] = min(3.0, tau / scale)
        ctx[i, 11] = i == first
    ctx[n, 0] = prev is None
    ctx[n, 9] = min(3.0, tau / 10.0) if prev is None else 0.0
    return ctx


class StepTracker:
    """The recogniser's inputs over one episode: evidence history and its own history.

    Args:
        plan: The plan's step dicts.
        fixtures: Names of the layout's fixtures (not objects at the hands).
        dt: Seconds between decision points.
        gaze: Fill the gaze-window evidence (:func:`frame_evidence`); as the
            recogniser was trained (its ``steps.json`` ``gaze``).
    """

    seen_after: int = 2

    def __init__(
        self,
        plan: Sequence[dict[str, Any]],
        fixtures: frozenset[str],
        dt: float = 0.5,
        gaze: bool = False,
    ) -> None:
        self.plan, self.fixtures, self.dt, self.gaze = list(plan), fixtures, dt, gaze
        self.evidence: list[np.ndarray] = []
        self.prev: int | None = None
        self.tau = 0.0
        self.counts: dict[int, int] = {}
        self.seen: set[int] = set()

    def features(self, px: Counts) -> np.ndarray:
        """All inputs of every candidate at this point: ``(len(plan) + 1, FEATURE_DIM)``."""
        self.evidence = [
            *self.evidence[-(max(WINDOWS) - 1) :],
            frame_evidence(self.plan, px, self.fixtures, self.gaze),
        ]
        return np.concatenate(
            [
                candidate_features(self.plan, self.evidence),
                context_features(self.plan, self.prev, self.seen, self.tau),
            ],
            axis=1,
        )

    def advance(self, label: int) -> None:
        """Take the candidate recognised at this point (``len(plan)``: none)."""
        step = None if label >= len(self.plan) else int(label)
        self.tau = self.tau + self.dt if step == self.prev else 0.0
        self.prev = step
        if step is not None:
            self.counts[step] = self.counts.get(step, 0) + 1
            if self.counts[step] >= self.seen_after:
                self.seen.add(step)
