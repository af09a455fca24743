"""``proassist sanity``'s CI of a row's mean over envs (:func:`mean_ci_bound`).

A row's value is the mean of its per-env values; its 95 % CI must be that of this mean,
not the mean of the per-env bounds (up to sqrt(n) times too wide).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from proassist.analysis.metrics.stats import bootstrap_ci
from proassist.analysis.sanity import aggregate, mean_ci_bound


def _env(mean: float, low: float, high: float) -> dict[str, float]:
    return {"m": mean, "m_ci_low": low, "m_ci_high": high}


def test_bounds_combine_as_standard_errors() -> None:
    per_env = {"a": _env(0.2, 0.1, 0.4), "b": _env(0.4, 0.3, 0.5)}
    out = aggregate(per_env)
    assert out["m"] == pytest.approx(0.3)
    assert out["m_ci_low"] == pytest.approx(0.3 - math.sqrt(0.1**2 + 0.1**2) / 2)
    assert out["m_ci_high"] == pytest.approx(0.3 + math.sqrt(0.2**2 + 0.1**2) / 2)


def test_matches_a_bootstrap_over_the_pooled_episodes() -> None:
    """Three envs with different means and spreads, the same number of episodes each:
    the combined per-env CIs agree with a bootstrap over all episodes pooled (whose mean
    is the mean of the env means), and the mean of the bounds does not."""
    rng = np.random.default_rng(3)
    episodes = {
        "a": rng.choice([-1.0, 0.0, 1.0], size=200, p=[0.1, 0.5, 0.4]),
        "b": rng.normal(0.1, 0.3, size=200),
        "c": rng.choice([0.0, 1.0], size=200, p=[0.7, 0.3]),
    }
    per_env = {}
    for env, values in episodes.items():
        low, high = bootstrap_ci(list(values))
        per_env[env] = _env(float(values.mean()), low, high)
    low, high = bootstrap_ci(list(np.concatenate(list(episodes.values()))))
    out = aggregate(per_env)
    width = high - low
    assert abs(out["m_ci_low"] - low) < 0.1 * width
    assert abs(out["m_ci_high"] - high) < 0.1 * width
    averaged = np.mean([e["m_ci_high"] - e["m_ci_low"] for e in per_env.values()])
    assert averaged > 1.4 * width  # what averaging the bounds used to report


def test_a_missing_bound_gives_none_and_an_env_without_the_metric_is_left_out() -> None:
    assert mean_ci_bound({"a": _env(0.2, 0.1, 0.3), "b": {"m": 0.4}}, "m_ci_low") is None
    only_a = {"a": _env(0.2, 0.1, 0.3), "b": {"other": 1.0}}
    assert mean_ci_bound(only_a, "m_ci_high") == pytest.approx(0.3)
    assert mean_ci_bound({"a": {"other": 1.0}}, "m_ci_low") is None
    nan_mean = {"a": _env(0.2, 0.1, 0.3), "b": _env(float("nan"), 0.0, 1.0)}
    assert mean_ci_bound(nan_mean, "m_ci_low") == pytest.approx(0.1)


_value = st.floats(-1.0, 1.0)
_span = st.floats(0.0, 1.0)


@given(st.lists(st.tuples(_value, _span, _span), min_size=1, max_size=5))
def test_the_mean_lies_inside_and_the_interval_is_no_wider_than_the_averaged_one(
    envs: list[tuple[float, float, float]],
) -> None:
    per_env = {str(i): _env(m, m - lo, m + hi) for i, (m, lo, hi) in enumerate(envs)}
    out = aggregate(per_env)
    assert out["m_ci_low"] - 1e-12 <= out["m"] <= out["m_ci_high"] + 1e-12
    n = len(envs)
    assert out["m"] - out["m_ci_low"] <= sum(lo for _, lo, _ in envs) / n + 1e-12
    assert out["m_ci_high"] - out["m"] <= sum(hi for _, _, hi in envs) / n + 1e-12
