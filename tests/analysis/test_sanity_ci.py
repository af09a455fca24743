"""``proassist sanity``'s CI of a row's mean over envs (``analysis/sanity_ci.py``).

A row's value is the mean of its per-env values; its 95 % CI must be that of this mean,
not the mean of the per-env bounds (up to sqrt(n) times too wide): from the seeds for
net assistance, from the envs' bounds for the other metrics.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from proassist.analysis.metrics.stats import N_BOOT, bootstrap_ci, bootstrap_counts
from proassist.analysis.sanity import ROWS, aggregate, evaluate_row
from proassist.analysis.sanity_ci import (
    KINDS_KEY,
    PAIRED_KEY,
    PER_SEED_KEY,
    STATS_KEY,
    mean_ci_bound,
    seed_block_ci,
    seed_block_means,
    seed_block_metrics,
    seed_table,
)
from proassist.analysis.sanity_report import compact_json


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


def test_a_bound_on_the_wrong_side_counts_as_zero_and_keys_are_checked() -> None:
    assert mean_ci_bound({"a": _env(0.5, 0.6, 0.7)}, "m_ci_low") == pytest.approx(0.5)
    assert mean_ci_bound({"a": _env(0.5, 0.4, 0.7)}, "m_ci_low") == pytest.approx(0.4)
    two = {"a": _env(0.5, 0.6, 0.7), "b": _env(0.3, 0.2, 0.4)}
    assert mean_ci_bound(two, "m_ci_low") == pytest.approx(0.4 - 0.1 / 2)
    with_underscores = {"a": {"a_b_c": 1.0, "a_b_c_ci_high": 1.5}}
    assert mean_ci_bound(with_underscores, "a_b_c_ci_high") == pytest.approx(1.5)
    with pytest.raises(ValueError, match="not a CI bound"):
        mean_ci_bound(two, "m")


def _seeded(columns: np.ndarray) -> dict[str, dict[str, object]]:
    """``{env: scores}`` with the per-seed net values of each column (seeds 0..n-1)."""
    return {
        f"env{j}": {
            "net_assistance": float(col.mean()),
            PER_SEED_KEY: [[s, float(v)] for s, v in enumerate(col)],
        }
        for j, col in enumerate(columns.T)
    }


def test_seed_blocks_keep_the_envs_correlation() -> None:
    """Envs that move together by seed: resampling seeds keeps that (the CI of one env);
    combining the envs' CIs as if independent would be about sqrt(3) too narrow."""
    rng = np.random.default_rng(5)
    base = rng.choice([-1.0, 0.0, 1.0], size=150, p=[0.1, 0.5, 0.4])
    together = np.stack([base, base, base], axis=1)
    low, high = seed_block_ci(_seeded(together))
    one_low, one_high = bootstrap_ci(list(base))
    assert abs((high - low) - (one_high - one_low)) < 0.1 * (one_high - one_low)
    apart = np.stack([base, rng.permutation(base), rng.permutation(base)], axis=1)
    a_low, a_high = seed_block_ci(_seeded(apart))
    assert (high - low) > 1.4 * (a_high - a_low)
    assert low < together.mean() < high and a_low < apart.mean() < a_high


def test_aggregate_takes_the_headline_ci_from_the_seeds() -> None:
    rng = np.random.default_rng(6)
    per_env = _seeded(rng.normal(0.2, 0.5, size=(80, 3)))
    for env in per_env.values():
        env["net_assistance_ci_low"], env["net_assistance_ci_high"] = -9.0, 9.0
    out = aggregate(per_env)
    assert PER_SEED_KEY not in out
    assert (out["net_assistance_ci_low"], out["net_assistance_ci_high"]) == seed_block_ci(per_env)
    del per_env["env2"][PER_SEED_KEY]  # one env without seeds: the envs' bounds instead
    assert aggregate(per_env)["net_assistance_ci_low"] < -5.0
    assert seed_block_ci({"a": {PER_SEED_KEY: [[0, 1.0]]}, "b": {PER_SEED_KEY: [[1, 1.0]]}}) is None


def test_evaluate_row_gives_each_seeds_net_assistance() -> None:
    row = {r.label: r for r in ROWS}["periodic-5s"]
    scores = evaluate_row(row, "ProAssist-Kitchen-v0", [0, 1, 2])
    pairs = scores[PER_SEED_KEY]
    assert [s for s, _ in pairs] == [0, 1, 2]
    assert np.mean([v for _, v in pairs]) == pytest.approx(scores["net_assistance"])
    assert scores[STATS_KEY]["seeds"] == [0, 1, 2]
    for metric in ("interruptions_per_min", "pwr_g_mean", "trust_at_message", "task_success"):
        value, low, high = seed_block_metrics({"e": scores}, [metric])[metric]
        assert value == pytest.approx(scores[metric]) and low <= value <= high
    paired = scores[PAIRED_KEY]
    assert paired["seeds"] == [0, 1, 2]
    for j, outcome in enumerate(paired["keys"]):
        column = [np.nan if row[j] is None else row[j] for row in paired["values"]]
        assert np.nanmean(column) == pytest.approx(scores[f"assistance_effect_{outcome}"])
    kinds = scores[KINDS_KEY]
    totals = dict(zip(kinds["keys"], np.sum(kinds["values"], axis=0), strict=True))
    for kind in {k.rpartition("/")[0] for k in kinds["keys"]}:
        hits = totals[f"{kind}/detected"] / totals[f"{kind}/visible"]
        assert hits == pytest.approx(scores[f"oop_recall_{kind}"])
    bounds = seed_block_means({"e": scores})
    assert "assistance_effect_task_success" in bounds and len(bounds) > 3


def _stats_env(rng: np.random.Generator, seeds: list[int], rate: float) -> dict:
    minutes = rng.uniform(1.0, 3.0, size=len(seeds))
    messages = rng.poisson(rate * minutes)
    values = [[float(a), float(b)] for a, b in zip(messages, minutes, strict=True)]
    return {STATS_KEY: {"keys": ["messages", "minutes"], "seeds": seeds, "values": values}}


def test_resamples_where_an_env_has_no_value_are_dropped() -> None:
    """Env a has deviations at 2 of 40 seeds (none detected), env b at every seed (90 %
    detected): recall 0.45; a resample missing a's 2 seeds has no value, and must not
    count as b's alone (0.9)."""
    keys = ["n_dev_visible", "oop_detected"]
    a = [[1.0, 0.0] if s in (3, 17) else [0.0, 0.0] for s in range(40)]
    b = [[10.0, 9.0] for _ in range(40)]
    per_env = {
        e: {STATS_KEY: {"keys": keys, "seeds": list(range(40)), "values": v}}
        for e, v in (("a", a), ("b", b))
    }
    value, low, high = seed_block_metrics(per_env, ["oop_recall"])["oop_recall"]
    assert (value, low, high) == pytest.approx((0.45, 0.45, 0.45))


def test_seed_blocks_of_a_metric_resample_seeds_in_every_env_together() -> None:
    rng = np.random.default_rng(11)
    seeds = list(range(40))
    per_env = {"a": _stats_env(rng, seeds, 2.0), "b": _stats_env(rng, seeds, 6.0)}
    value, low, high = seed_block_metrics(per_env, ["interruptions_per_min"])[
        "interruptions_per_min"
    ]
    mats = [np.array(e[STATS_KEY]["values"]) for e in per_env.values()]
    assert value == pytest.approx(np.mean([m[:, 0].sum() / m[:, 1].sum() for m in mats]))
    counts = bootstrap_counts(40, np.random.default_rng(0), N_BOOT)
    boots = np.mean([(counts @ m[:, 0]) / (counts @ m[:, 1]) for m in mats], axis=0)
    assert (low, high) == pytest.approx(tuple(np.percentile(boots, [2.5, 97.5])))
    shuffled = {"a": per_env["a"], "b": {STATS_KEY: {**per_env["b"][STATS_KEY]}}}
    shuffled["b"][STATS_KEY]["seeds"] = seeds[::-1]  # pairs other seeds: another CI
    rate = ["interruptions_per_min"]
    assert seed_block_metrics(shuffled, rate)["interruptions_per_min"][1:] != (low, high)
    assert seed_block_metrics(per_env, ["net_assistance", "oop_recall"]) == {}  # not held
    assert seed_block_metrics({"a": per_env["a"], "b": {}}, rate) == {}
    out = aggregate({e: {**v, "interruptions_per_min_ci_low": 0.0} for e, v in per_env.items()})
    assert out["interruptions_per_min_ci_low"] == pytest.approx(low)


def test_paired_and_kind_cis_resample_seeds_in_every_env_together() -> None:
    """By hand: one bootstrap over seeds; per env a resample's mean of its paired
    differences (NaN left out) or ratio of its summed counts; the mean over envs."""
    rng = np.random.default_rng(12)
    seeds = list(range(30))
    diffs = {e: rng.choice([-1.0, 0.0, 1.0, np.nan], size=30) for e in ("a", "b")}
    hits = {e: rng.integers(0, 2, size=30).astype(float) for e in ("a", "b")}
    per_env = {}
    for e in ("a", "b"):
        rows = [
            {"task_success": float(d), "omission/visible": 1.0, "omission/detected": float(h)}
            for d, h in zip(diffs[e], hits[e], strict=True)
        ]
        paired = [{"task_success": r["task_success"]} for r in rows]
        kinds = [{k: v for k, v in r.items() if "/" in k} for r in rows]
        per_env[e] = {PAIRED_KEY: seed_table(seeds, paired), KINDS_KEY: seed_table(seeds, kinds)}
    out = seed_block_means(per_env)
    counts = bootstrap_counts(30, np.random.default_rng(0), N_BOOT)
    means = [(counts @ np.nan_to_num(d)) / (counts @ ~np.isnan(d)) for d in diffs.values()]
    want = tuple(np.percentile(np.mean(means, axis=0), [2.5, 97.5]))
    assert out["assistance_effect_task_success"] == pytest.approx(want)
    ratios = [(counts @ h) / 30.0 for h in hits.values()]
    want = tuple(np.percentile(np.mean(ratios, axis=0), [2.5, 97.5]))
    assert out["oop_recall_omission"] == pytest.approx(want)
    assert "oop_recall_any_omission" in out  # no detected_any given: counted as 0
    assert aggregate(per_env)["oop_recall_omission_ci_low"] == pytest.approx(want[0])


def test_a_kind_one_env_lacks_is_its_envs_alone_and_rare_resamples_drop() -> None:
    """Kind y only env b has: b's alone. Env a has kind x at 2 of 40 seeds: resamples
    without them have no value for a and are dropped, not counted as b's alone."""
    seeds = list(range(40))
    rare = [{"x/visible": 1.0, "x/detected": 1.0} if s in (3, 17) else {} for s in seeds]
    often = [{"x/visible": 1.0, "x/detected": 0.0, "y/visible": 1.0} for _ in seeds]
    per_env = {
        "a": {KINDS_KEY: seed_table(seeds, rare)},
        "b": {KINDS_KEY: seed_table(seeds, often)},
    }
    out = seed_block_means(per_env)
    assert out["oop_recall_x"] == pytest.approx((0.5, 0.5))
    assert out["oop_recall_y"] == pytest.approx((0.0, 0.0))
    assert seed_block_means({"a": per_env["a"], "b": {}}) == {}
    table = seed_table([2, 1], [{"u": np.nan}, {"v": 1.0, "w": 3}])
    assert table == {
        "keys": ["u", "v", "w"],
        "seeds": [1, 2],
        "values": [[0, 1.0, 3], [None, 0, 0]],
    }
    text = compact_json({"t": table})
    assert '"values": [\n' in text and "[0, 1.0, 3]" in text and "[null, 0, 0]" in text
    assert json.loads(text) == {"t": table}
