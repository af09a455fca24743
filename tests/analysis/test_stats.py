"""Bootstrap CIs and the paired assistance effect."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_metrics_records import deviation, ev, make_record

from proassist.analysis.metrics.stats import assistance_effect, bootstrap_ci, pair_records


def test_bootstrap_ci_contains_mean_and_is_seeded() -> None:
    values = [0.1, 0.5, 0.2, 0.9, 0.4, 0.7, 0.3]
    lo, hi = bootstrap_ci(values, np.random.default_rng(3))
    assert lo < np.mean(values) < hi
    assert (lo, hi) == bootstrap_ci(values, np.random.default_rng(3))
    assert all(math.isnan(x) for x in bootstrap_ci([], np.random.default_rng(0)))
    assert bootstrap_ci([2.0, 2.0], np.random.default_rng(0)) == (2.0, 2.0)
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci(values, level=1.5)


def _rec(seed, success, duration, recovered):
    events = [deviation(3.0)]
    if recovered:
        events.append(
            ev(
                5.0,
                "deviation_resolved",
                id="d0",
                kind="omission",
                assisted=True,
                by="assistant",
                latency=2.0,
            )
        )
    return make_record(events, duration=duration, success=success, seed=seed)


def test_assistance_effect_on_constructed_pairs() -> None:
    policy = [_rec(0, True, 10.0, True), _rec(1, True, 12.0, True), _rec(2, False, 20.0, False)]
    silent = [_rec(2, False, 20.0, False), _rec(0, False, 14.0, False), _rec(1, True, 12.0, False)]
    out = assistance_effect(policy, silent, np.random.default_rng(0), n_boot=500)
    assert out["n_pairs"] == 3
    assert out["assistance_effect_task_success"] == pytest.approx(1 / 3)
    assert out["assistance_effect_recovery_rate"] == pytest.approx(2 / 3)
    assert out["assistance_effect_task_time"] == pytest.approx(-4 / 3)
    # seed 0 gained a success and lost no time; kitchen_tea's time limit is 300 s
    assert out["net_assistance"] == pytest.approx(1 / 3)
    for k in ("task_success", "recovery_rate", "task_time"):
        lo, hi = out[f"assistance_effect_{k}_ci_low"], out[f"assistance_effect_{k}_ci_high"]
        assert lo <= out[f"assistance_effect_{k}"] <= hi
    assert out["net_assistance_ci_low"] <= out["net_assistance"] <= out["net_assistance_ci_high"]


def test_unpaired_or_duplicate_seeds_raise() -> None:
    with pytest.raises(ValueError, match="only in policy: \\[\\('kitchen_tea', 1\\)\\]"):
        pair_records([_rec(0, True, 1, 0), _rec(1, True, 1, 0)], [_rec(0, True, 1, 0)])
    with pytest.raises(ValueError, match="duplicate"):
        pair_records([_rec(0, True, 1, 0), _rec(0, True, 1, 0)], [_rec(0, True, 1, 0)])
    with pytest.raises(ValueError, match="at least one"):
        assistance_effect([], [])
