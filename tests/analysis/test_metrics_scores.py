"""score_episodes: pooled values, CIs, order invariance, the MiniLM model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_metrics_records import deviation, ev, make_record, msg

from proassist.analysis.metrics.oop import kind_counts, kind_recalls
from proassist.analysis.metrics.scores import episode_scores, score_episodes, stats_matrix

REQUIRED = (
    "if1 sf1 g_mean macro_f1 pqs match_precision match_recall match_f1 sts oop_recall "
    "false_alarms_per_min recovery_rate task_success interruptions_per_min task_time "
    "oop_recall_any oop_precision pwr_if1 pwr_sf1 pwr_g_mean"
).split()


def _sim(a: str, b: str) -> float:
    return 1.0 if a == b else 0.0


def _episode(success: bool, seed: int, detect: bool):
    events = [deviation(6.0)]
    if detect:
        events += [
            msg(7.0, "correct_deviation", "b"),
            ev(
                9.0,
                "deviation_resolved",
                id="d0",
                kind="omission",
                assisted=True,
                by="assistant",
                latency=3.0,
            ),
        ]
    return make_record(events, duration=12.0, success=success, seed=seed)


def test_score_episodes_pooled_values_by_hand() -> None:
    recs = [_episode(True, 0, True), _episode(False, 1, False)]
    s = score_episodes(recs, rng=np.random.default_rng(1), n_boot=200, text_sim=_sim)
    for key in REQUIRED:
        assert key in s and f"{key}_ci_low" in s and f"{key}_ci_high" in s
    assert s["task_success"] == 0.5 and s["oop_recall"] == 0.5 and s["recovery_rate"] == 0.5
    assert s["oop_recall_omission"] == 0.5 and s["oop_recall_any_omission"] == 0.5
    assert s["oop_recall_any"] == 0.5 and s["oop_precision"] == 1.0
    assert s["task_time"] == 12.0
    assert s["interruptions_per_min"] == pytest.approx(1 / (24 / 60))
    assert s["false_alarms_per_min"] == 0.0
    assert s["time_to_recovery"] == 3.0
    assert s["n_episodes"] == 2 and s["n_deviations"] == 2 and s["n_decisions"] == 24
    assert 0.0 <= s["task_success_ci_low"] <= 0.5 <= s["task_success_ci_high"] <= 1.0
    json.dumps(s)


def test_episode_scores_single_episode() -> None:
    s = episode_scores(_episode(True, 0, True), text_sim=_sim)
    assert s["oop_recall"] == 1.0 and s["task_success"] == 1.0


def test_empty_records_raise() -> None:
    with pytest.raises(ValueError, match="at least one"):
        score_episodes([])


@settings(max_examples=15, deadline=None)
@given(st.permutations(range(4)))
def test_scores_invariant_to_record_order(order) -> None:
    recs = [_episode(i % 2 == 0, i, i < 3) for i in range(4)]
    base = score_episodes(recs, n_boot=0, text_sim=_sim)
    perm = score_episodes([recs[i] for i in order], n_boot=0, text_sim=_sim)
    assert perm.keys() == base.keys()
    for k, v in base.items():
        assert perm[k] == pytest.approx(v, nan_ok=True)


def test_minilm_similarity_ranks_paraphrase_above_unrelated() -> None:
    from proassist.analysis.metrics.text_similarity import text_score

    para = text_score("Put water in the kettle", "Fill the kettle with water")
    other = text_score("Tighten the four bolts", "Fill the kettle with water")
    assert 0.0 <= other < 0.5 < para <= 1.0


def test_precomputed_statistics_give_the_same_scores_and_must_fit() -> None:
    recs = [_episode(i % 2 == 0, i, i < 2) for i in range(3)]
    stats = stats_matrix(recs, text_sim=_sim)
    given_stats = score_episodes(recs, n_boot=50, text_sim=_sim, stats=stats)
    computed = score_episodes(recs, n_boot=50, text_sim=_sim)
    assert given_stats.keys() == computed.keys()
    for key, value in computed.items():
        assert given_stats[key] == pytest.approx(value, nan_ok=True)
    with pytest.raises(ValueError, match="2 rows for 3 records"):
        score_episodes(recs, n_boot=0, text_sim=_sim, stats=(stats[0], stats[1][:2]))


def test_kind_counts_sum_to_the_per_kind_recalls() -> None:
    recs = [_episode(True, 0, True), _episode(False, 1, False), _episode(True, 2, True)]
    counts = [kind_counts(r) for r in recs]
    keys = ("omission/visible", "omission/detected", "omission/detected_any")
    assert counts[0] == dict(zip(keys, (1, 1, 1), strict=True))
    assert counts[1] == dict(zip(keys, (1, 0, 0), strict=True))
    totals = {k: sum(c[k] for c in counts) for k in keys}
    scores = score_episodes(recs, n_boot=0, text_sim=_sim)
    recalls = kind_recalls(totals)
    assert recalls["oop_recall_omission"] == scores["oop_recall_omission"] == pytest.approx(2 / 3)
    assert recalls["oop_recall_any_omission"] == scores["oop_recall_any_omission"]
    boot = kind_recalls({"omission/visible": np.array([2.0, 0.0]), "omission/detected": 1})
    assert boot["oop_recall_omission"][0] == 0.5 and np.isnan(boot["oop_recall_omission"][1])
