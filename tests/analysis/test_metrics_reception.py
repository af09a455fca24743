"""How the person received the messages (analysis/metrics/reception.py)."""

from __future__ import annotations

import math

import pytest
from test_metrics_records import ev, make_record

from proassist.analysis.metrics.reception import reception_counts
from proassist.analysis.metrics.scores import episode_scores, score_episodes
from proassist.sim.person.reactions import TUNED_OUT, USELESS

NAMES = ("helpful_share", "useless_share", "tuned_out_share", "trust_at_message")


def _reaction(t: float, verdict: str, trust: float) -> dict:
    return ev(t, "reaction", message_t=t - 1.0, verdict=verdict, trust_before=trust)


def test_counts_and_shares_by_hand() -> None:
    events = [
        _reaction(2.0, "helpful", 1.0),
        _reaction(4.0, "wrong", 1.0),
        _reaction(5.0, "redundant", 0.8),
        _reaction(6.0, "neutral", 0.6),
        _reaction(8.0, TUNED_OUT, 0.2),
    ]
    rec = make_record(events, duration=10.0)
    assert reception_counts(rec) == {
        "rx_n": 5.0,
        "rx_helpful": 1.0,
        "rx_useless": 2.0,
        "rx_tuned_out": 1.0,
        "rx_trust_sum": pytest.approx(3.6),
    }
    s = episode_scores(rec, text_sim=lambda a, b: 1.0)
    assert s["helpful_share"] == 0.2 and s["useless_share"] == 0.4
    assert s["tuned_out_share"] == 0.2 and s["trust_at_message"] == pytest.approx(0.72)


def test_pooled_over_episodes_and_nan_without_messages() -> None:
    quiet = make_record([], duration=10.0, seed=1)
    s = episode_scores(quiet, text_sim=lambda a, b: 1.0)
    assert all(math.isnan(s[name]) for name in NAMES)
    busy = make_record([_reaction(2.0, "helpful", 1.0)] * 3, duration=10.0, seed=2)
    other = make_record([_reaction(2.0, "wrong", 0.5)], duration=10.0, seed=3)
    pooled = score_episodes([quiet, busy, other], n_boot=50, text_sim=lambda a, b: 1.0)
    assert pooled["helpful_share"] == 0.75 and pooled["useless_share"] == 0.25  # 4 reactions
    assert pooled["trust_at_message"] == pytest.approx(3.5 / 4)
    assert pooled["helpful_share_ci_low"] <= 0.75 <= pooled["helpful_share_ci_high"]


def test_real_episodes_wrong_content_spends_trust() -> None:
    from proassist.analysis.evaluation import evaluate

    scores = {}
    for policy in ("oracle", "oracle-wrong-step"):  # same timing, right / wrong step
        out = evaluate(policy, "ProAssist-Kitchen-v0", range(3), paired_silent=False, render=False)
        scores[policy] = score_episodes(out.records, n_boot=0)
        verdicts = {
            e["verdict"] for r in out.records for e in r["events"] if e["type"] == "reaction"
        }
        assert verdicts <= {"helpful", "neutral", TUNED_OUT, *USELESS}
    right, wrong = scores["oracle"], scores["oracle-wrong-step"]
    assert right["helpful_share"] > wrong["helpful_share"] == 0.0
    assert right["useless_share"] < wrong["useless_share"]
    assert right["tuned_out_share"] < wrong["tuned_out_share"]
    assert 0.0 < wrong["trust_at_message"] < right["trust_at_message"] <= 1.0
