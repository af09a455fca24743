"""Step recognition from the segmentation: which plan step is the person working on?

The inputs of the learned step recogniser (:mod:`proassist.policies.learned.steps_train`)
are task-agnostic: every plan step (and a *none* candidate: idle, away, between steps)
is scored from the same features, and a softmax over the candidates says which one the
person works on. Per frame, :func:`pixel_counts` measures every segmented entity's
pixels in the whole frame, in the central window, within reach of the hands and in
the gaze window (the very centre, where a step's ``look`` phase puts the object it will
take); :func:`frame_evidence` turns that into per-candidate evidence (the step's
fixture in view, its objects at the hands, in the centre, in the frame, how specific
the hands' objects are to it, for a recogniser trained with it their share of the
gaze window, and where the hands are (:func:`hand_layout`) filed under the motion the
step's effects call for (:mod:`proassist.sim.person.motions`: a knob is turned low
and close, food cut up and down beside it, water poured from above), so two steps at
the same fixture with the same things are told apart by what the hands do);
:func:`candidate_features` averages the evidence over the last
0.5, 2 and 5 s and adds what the plan says of the step (how many steps share its
fixture, its expected duration, its place in the plan, its motion).
:func:`context_features` adds the recogniser's own history: the step it recognised
last and for how long, whether each step was recognised before, whether its
``after`` steps were, and its plan distance from the last step. Because that history
is the recogniser's own, it is trained on its own mistakes (DAgger, offline over
recorded streams; :func:`~proassist.policies.learned.steps_train.train_recognizer`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from proassist.policies.duplex.cue_tracker import BACKGROUND, HANDS
from proassist.sim.person.motions import MOTIONS, step_motion

__all__ = [
    "CONTEXT_DIM",
    "EVIDENCE_DIM",
    "FEATURE_DIM",
    "HAND_DIM",
    "PLAN_DIM",
    "SEQUENCE_FILE",
    "WINDOWS",
    "StepTracker",
    "candidate_features",
    "context_features",
    "frame_evidence",
    "hand_layout",
    "motion_evidence",
    "pixel_counts",
    "plan_motions",
]

#: Decision points averaged by the evidence windows (0.5, 2 and 5 s at 2 Hz).
WINDOWS: tuple[int, ...] = (1, 4, 10)
#: What the hands' pixels say of their pose (:func:`hand_layout`).
HAND_DIM: int = 6
#: Evidence per candidate and frame (:func:`frame_evidence`): 9 from the entities'
#: pixel counts, then the hands' pose under each motion (:func:`motion_evidence`).
EVIDENCE_DIM: int = 9 + len(MOTIONS) * HAND_DIM
#: Plan facts per candidate (:func:`candidate_features`): 5, then its motion (one-hot).
PLAN_DIM: int = 5 + len(MOTIONS)
#: Context per candidate (:func:`context_features`).
CONTEXT_DIM: int = 12
#: All inputs of one candidate.
FEATURE_DIM: int = EVIDENCE_DIM * len(WINDOWS) + PLAN_DIM + CONTEXT_DIM
#: The step recogniser's sequence companion's weights, next to ``steps.pt``
#: (:mod:`proassist.policies.learned.steps_seq`).
SEQUENCE_FILE = "steps_seq.pt"
#: Pixels around the hands (at 128 px) that count as within reach.
REACH_PX: int = 4
#: The gaze window is the central ``1 / GAZE_FRACTION`` of the frame each way.
GAZE_FRACTION: int = 8

#: ``entity -> (frame, central window, within reach of the hands, gaze window)`` pixels,
#: then where it is: ``(x sum, y sum, top y, x at the top)`` of its pixels, in
#: thousandths of the frame's width and height (:func:`pixel_counts`; counts made
#: before the gaze window have three values, before the places four).
Counts = dict[str, tuple[int, ...]]
#: Coordinates in :data:`Counts` are in thousandths of the frame.
PLACE_SCALE: int = 1000


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
    hands, in the gaze window, x sum, y sum, top y, x at the top)`` of one
    segmentation frame (:data:`Counts`); ``names`` maps segmentation ids to entities."""
    seg = np.asarray(seg)
    h, w = seg.shape
    hand_ids = [i for i, n in names.items() if n in HANDS]
    r, q = max(1, h // (2 * GAZE_FRACTION)), max(1, w // (2 * GAZE_FRACTION))
    regions = (
        seg[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4],
        seg[_near_hands(seg, hand_ids)],
        seg[h // 2 - r : h // 2 + r, w // 2 - q : w // 2 + q],
    )
    out: dict[str, list[int]] = {}
    _whole_frame(seg, names, out)
    for j, region in enumerate(regions, start=1):
        ids, counts = np.unique(region, return_counts=True)
        for i, c in zip(ids.tolist(), counts.tolist(), strict=True):
            name = names.get(int(i))
            if name is not None:
                out[name][j] += c
    return {k: tuple(v) for k, v in out.items()}


def _whole_frame(seg: np.ndarray, names: dict[int, str], out: dict[str, list[int]]) -> None:
    """Slots 0 and 4-7 of :func:`pixel_counts` (pixels, x and y sums, the top pixel:
    row-major first) of every named entity in the frame, in one pass."""
    ids, first, inverse, counts = np.unique(
        seg.ravel(), return_index=True, return_inverse=True, return_counts=True
    )
    cols, rows = _place_grid(*seg.shape)
    xs = np.bincount(inverse, weights=cols, minlength=len(ids))
    ys = np.bincount(inverse, weights=rows, minlength=len(ids))
    for k, i in enumerate(ids.tolist()):
        name = names.get(int(i))
        if name is None:
            continue
        top = (int(rows[first[k]]), int(cols[first[k]]))
        v = out.get(name)
        if v is None:
            out[name] = [int(counts[k]), 0, 0, 0, int(xs[k]), int(ys[k]), *top]
            continue
        v[0], v[4], v[5] = v[0] + int(counts[k]), v[4] + int(xs[k]), v[5] + int(ys[k])
        v[6], v[7] = min((v[6], v[7]), top)


@lru_cache(maxsize=8)
def _place_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's column and row (row-major) in thousandths of the frame."""
    cols = np.tile(np.arange(w) * PLACE_SCALE // w, h)
    rows = np.repeat(np.arange(h) * PLACE_SCALE // h, w)
    cols.flags.writeable = rows.flags.writeable = False
    return cols, rows


def hand_layout(px: Counts) -> np.ndarray:
    """The hands' pose in the frame, :data:`HAND_DIM` values in [0, 1] (all 0 without a
    hand or places in ``px``): the share of hands in view, the higher hand's top (its
    row, 0 at the top of the frame) and how far it is off the centre sideways, the
    hands' mean centroid row, the lower hand's top row, and how far apart the two
    tops are sideways."""
    pose = np.zeros(HAND_DIM, np.float32)
    seen = [px[k] for k in HANDS if k in px and len(px[k]) > 7 and px[k][0] > 0]
    if not seen:
        return pose
    tops = sorted((v[6] / PLACE_SCALE, v[7] / PLACE_SCALE) for v in seen)
    pose[0] = len(seen) / len(HANDS)
    pose[1], pose[2] = tops[0][0], 2 * abs(tops[0][1] - 0.5)
    pose[3] = float(np.mean([v[5] / v[0] / PLACE_SCALE for v in seen]))
    pose[4] = tops[-1][0]
    pose[5] = abs(tops[0][1] - tops[-1][1])
    return pose


def motion_evidence(motions: Sequence[int], pose: np.ndarray) -> np.ndarray:
    """``(len(motions) + 1, len(MOTIONS) * HAND_DIM)``: each candidate's hand pose in
    the block of its motion (an index into :data:`MOTIONS`), zeros elsewhere and for
    the last (*none*) candidate, so a scorer learns what each motion looks like."""
    out = np.zeros((len(motions) + 1, len(MOTIONS) * HAND_DIM), np.float32)
    for i, m in enumerate(motions):
        out[i, m * HAND_DIM : (m + 1) * HAND_DIM] = pose
    return out


def plan_motions(plan: Sequence[dict[str, Any]]) -> list[int]:
    """Each plan step's operate motion (its index in :data:`MOTIONS`), from its effects."""
    return [_motion_index(tuple(s.get("effects") or ())) for s in plan]


@lru_cache(maxsize=4096)
def _motion_index(effects: tuple[str, ...]) -> int:
    return MOTIONS.index(step_motion(effects))


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
    0 without: the recognisers trained before it). Slots 9 on are the hands' pose in
    the block of the step's motion (:func:`motion_evidence`)."""
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
    ev[:, 9:] = motion_evidence(plan_motions(plan), hand_layout(px))
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
    for i, m in enumerate(plan_motions(plan)):
        out[i, base + 5 + m] = 1.0
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
