"""The correction gate of stepwatch (policies/gate.py) and the watch with a gate."""

from __future__ import annotations

import numpy as np
import pytest

from proassist.policies.gate import (
    GATE_FEATURES,
    LogisticGate,
    StepTrace,
    fit_logistic,
    gate_features,
)
from proassist.policies.stepwatch import DependencyWatch, one_hot

PLAN = [
    {"id": "a", "after": [], "duration_mean": 2.0},
    {"id": "b", "after": ["a"], "duration_mean": 4.0},
    {"id": "c", "after": ["b"], "duration_mean": 4.0},
]


class Fixed:
    """A gate that always answers the same and counts what it was asked."""

    def __init__(self, answer: bool) -> None:
        self.answer, self.asked = answer, []

    def passes(self, features: np.ndarray) -> bool:
        self.asked.append(features)
        return self.answer


def _stream() -> list[np.ndarray]:
    """The person skips a (an omission) and works on b, then c."""
    return [one_hot(3, None)] * 2 + [one_hot(3, 1)] * 8 + [one_hot(3, 2)] * 8


def _said(watch: DependencyWatch) -> list[tuple[float, int]]:
    out = []
    for p in _stream():
        k = watch.observe(p)
        if k is not None:
            out.append((watch.t, k))
    return out


def test_a_gate_that_passes_everything_changes_nothing_and_one_that_passes_nothing_silences() -> (
    None
):
    plain = _said(DependencyWatch(PLAN, 0.5, worked=0.5))
    assert plain == [(1.5, 0)]  # b needs a, never worked on: named at once
    yes, no = Fixed(True), Fixed(False)
    assert _said(DependencyWatch(PLAN, 0.5, worked=0.5, gate=yes)) == plain
    assert _said(DependencyWatch(PLAN, 0.5, worked=0.5, gate=no)) == []
    # the silenced watch asks again at every point b is current (a stays missing)
    assert len(no.asked) == 8 and all(f.shape == (len(GATE_FEATURES),) for f in no.asked)


def test_gate_features_describe_the_candidate() -> None:
    trace = StepTrace(PLAN, 0.5)
    mass = np.zeros(3)
    for i, p in enumerate(_stream()[:6]):
        mass += 0.5 * p[:3]
        trace.push(p, 0.5 * (i + 1))
    f = dict(zip(GATE_FEATURES, gate_features(trace, mass, set(), top=1, k=0), strict=True))
    assert f["k_mass_over_duration"] == 0.0 and f["top_mass_over_duration"] == pytest.approx(
        2.0 / 4.0
    )
    assert f["k_ever_top"] == 0.0 and f["since_k_top_min"] == 1.0  # a was never recognised
    assert f["k_is_plan_predecessor"] == 1.0 and f["plan_distance"] == pytest.approx(1 / 3)
    assert f["top_run_over_duration"] == pytest.approx(4 * 0.5 / 4.0)  # b for 4 points
    assert f["top_prob"] == 1.0 and f["top_prob_recent"] == 1.0 and f["none_prob_recent"] == 0.0


def test_fit_logistic_learns_which_way_a_feature_points() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, len(GATE_FEATURES)))
    y = (x[:, 0] - 0.5 * x[:, 3] + 0.3 * rng.normal(size=400)) > 0
    w = fit_logistic(x, y)
    assert w["features"] == list(GATE_FEATURES) and w["positives"] == int(y.sum())
    assert w["coef"][0] > 1.0 and w["coef"][3] < -0.5 and abs(w["coef"][5]) < 0.5
    gate = LogisticGate({**w, "threshold": 0.5})
    guess = np.array([gate.passes(row) for row in x])
    assert (guess == y).mean() > 0.9
    with pytest.raises(ValueError, match="both classes"):
        fit_logistic(x, np.zeros(400, bool))


def test_logistic_gate_checks_its_weights_and_threshold() -> None:
    w = fit_logistic(np.eye(len(GATE_FEATURES))[[0, 1, 0, 1]], np.array([1, 0, 1, 0]))
    with pytest.raises(ValueError, match="retrain"):
        LogisticGate({**w, "features": ["mass"]})
    with pytest.raises(ValueError, match="threshold"):
        LogisticGate(w, threshold=1.5)
    low, high = LogisticGate(w, threshold=0.0), LogisticGate(w, threshold=1.0)
    row = np.eye(len(GATE_FEATURES))[1]
    assert low.passes(row) and not high.passes(row)
    assert 0.0 < low.probability(row) < 0.5 < low.probability(np.eye(len(GATE_FEATURES))[0])
