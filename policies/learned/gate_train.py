"""Train the correction gate of ``stepwatch`` (:mod:`proassist.policies.gate`).

- :func:`replay` runs a trained step recogniser over a recorded stream
  (:func:`~proassist.policies.learned.steps_train.record_streams`) on its own history,
  as at deployment, and returns its candidate probabilities at every point.
- :func:`gate_candidates` runs the dependency rule over those probabilities without
  saying anything, and keeps every candidate correction (current step, missing step)
  at every point with its :func:`~proassist.policies.gate.gate_features` and its label:
  whether the named step addresses a deviation open at that point (the stream's
  privileged ``open`` steps; the same test as the OOP metrics' *addresses*).
- :func:`train_gate` fits :class:`~proassist.policies.gate.LogisticGate` weights on the
  candidates of training streams and reports, on validation streams, the area under
  the ROC curve and what the watch would say with each threshold.

The streams should come from seeds the recogniser was not trained on: on its own
training streams it is more confident than anywhere else. torch is imported lazily
(the ``[learn]`` extra).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from proassist.policies.gate import GATE_FEATURES, LogisticGate, fit_logistic
from proassist.policies.learned import require_torch
from proassist.policies.learned.steps import StepTracker
from proassist.policies.stepwatch import DependencyWatch
from proassist.policies.watch_settings import WATCH_SETTINGS

__all__ = ["gate_candidates", "offline_watch", "replay", "roc_auc", "train_gate"]

Stream = dict[str, Any]


class _Never:
    """A gate that lets nothing through (the watch then only proposes)."""

    @staticmethod
    def passes(features: np.ndarray) -> bool:  # noqa: ARG004
        return False


def replay(net: Any, stream: Stream, dt: float = 0.5, gaze: bool = False) -> np.ndarray:
    """The recogniser's probabilities at every point of ``stream``, on its own history
    (``gaze``: the recogniser reads the gaze window, its ``steps.json`` ``gaze``)."""
    torch = require_torch("the correction gate")
    tracker = StepTracker(stream["plan"], frozenset(stream["fixtures"]), dt, gaze)
    out = []
    with torch.no_grad():
        for px, _ in stream["rows"]:
            f = torch.from_numpy(tracker.features(px))
            probs = torch.softmax(net(f).squeeze(-1), 0).numpy().astype(np.float64)
            tracker.advance(int(probs.argmax()))
            out.append(probs)
    return np.array(out)


def _watch(stream: Stream, settings: Mapping[str, Any], gate: Any, dt: float) -> DependencyWatch:
    keep = {k: v for k, v in settings.items() if k in WATCH_SETTINGS}
    return DependencyWatch(stream["plan"], dt, gate=gate, **keep)


def gate_candidates(
    stream: Stream, probs: np.ndarray, settings: Mapping[str, Any], dt: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Every candidate correction of ``stream`` (module docstring): features, labels."""
    watch = _watch(stream, settings, _Never(), dt)
    xs, ys = [], []
    for p, opened in zip(probs, stream["open"], strict=True):
        watch.observe(p)
        if watch.current is None:
            continue
        for k in watch.missing(watch.current):
            xs.append(watch.candidate_features(watch.current, k))
            ys.append(k in opened)
    return np.array(xs).reshape(-1, len(GATE_FEATURES)), np.array(ys, dtype=bool)


def offline_watch(
    stream: Stream, probs: np.ndarray, settings: Mapping[str, Any], gate: Any, dt: float = 0.5
) -> tuple[int, int]:
    """What the watch says over a recorded stream with ``gate`` (None: no gate):
    (corrections, corrections addressing an open deviation). The person does not
    react (a recorded stream), so a wrong correction is never refused."""
    watch = _watch(stream, settings, gate, dt)
    said = right = 0
    for p, opened in zip(probs, stream["open"], strict=True):
        k = watch.observe(p)
        if k is not None:
            said, right = said + 1, right + (k in opened)
    return said, right


def roc_auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve (ties counted half)."""
    pos, neg = score[label], score[~label]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def _candidates(
    streams: Sequence[Stream], probs: Sequence[np.ndarray], settings: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    parts = [gate_candidates(s, p, settings) for s, p in zip(streams, probs, strict=True)]
    x = np.vstack([x for x, _ in parts]) if parts else np.zeros((0, len(GATE_FEATURES)))
    y = np.concatenate([y for _, y in parts]) if parts else np.zeros(0, bool)
    return x, y


def train_gate(
    net: Any,
    streams: Sequence[Stream],
    val: Sequence[Stream],
    settings: Mapping[str, Any],
    thresholds: Sequence[float] = (0.2, 0.3, 0.4, 0.5, 0.6),
    l2: float = 1.0,
    log: Any = print,
    gaze: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Fit the gate on ``streams``' candidates; report on ``val`` (module docstring).

    Args:
        net: The step recogniser (:func:`~proassist.policies.learned.steps_train.load_recognizer`).
        streams: Training streams (recorded with ``open`` steps).
        val: Validation streams.
        settings: The watch's settings (``confidence``, ``sustain``, ``worked``, ...).
        thresholds: Thresholds to report on ``val``.
        l2: Ridge penalty of the logistic regression.
        log: Called with one line per result.
        gaze: The recogniser reads the gaze window (its ``steps.json`` ``gaze``).

    Returns:
        The weights (:func:`~proassist.policies.gate.fit_logistic`, with ``val_auc``)
        and one ``{threshold, said, right}`` row per threshold (``threshold`` None: no gate).
    """
    x, y = _candidates(streams, [replay(net, s, gaze=gaze) for s in streams], settings)
    if y.all() or not y.any():
        raise ValueError(
            f"the gate needs candidate corrections that address an open deviation and some "
            f"that do not; {len(streams)} training streams gave {len(y)} candidates, "
            f"{int(y.sum())} addressing one: record more episodes"
        )
    weights = fit_logistic(x, y, l2=l2)
    log(f"gate: {len(y)} training candidates, {int(y.sum())} address an open deviation")
    vprobs = [replay(net, s, gaze=gaze) for s in val]
    vx, vy = _candidates(val, vprobs, settings)
    gate = LogisticGate({**weights, "threshold": 0.5})
    auc = roc_auc(np.array([gate.probability(f) for f in vx]), vy)
    weights["val_auc"] = None if np.isnan(auc) else round(auc, 4)
    log(f"gate: validation AUC {weights['val_auc']} on {len(vy)} candidates")
    rows = []
    for th in (None, *thresholds):
        g = None if th is None else LogisticGate(weights, threshold=th)
        said, right = np.sum(
            [offline_watch(s, p, settings, g) for s, p in zip(val, vprobs, strict=True)], 0
        )
        rows.append({"threshold": th, "said": int(said), "right": int(right)})
        log(f"threshold {th}: {int(said)} corrections on validation streams, {int(right)} right")
    return weights, rows
