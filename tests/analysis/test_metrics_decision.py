"""Decision-level metrics, content score and PQS: hand-computed cases and properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_metrics_records import deviation, ev, make_record

from proassist.analysis.metrics.scores import (
    chunk_labels,
    chunked_decision_scores,
    content_score,
    decision_scores,
    get_metric,
    list_metrics,
    pqs_values,
)
from proassist.sim.gold import GoldMoment

T, F = True, False


def test_decision_scores_hand_case() -> None:
    s = decision_scores([T, T, F, F], [T, F, T, F])
    assert (s["if1"], s["sf1"], s["g_mean"], s["macro_f1"]) == (0.5, 0.5, 0.5, 0.5)
    assert (s["precision"], s["recall"], s["tp"], s["fp"], s["tn"], s["fn"]) == (
        0.5,
        0.5,
        1,
        1,
        1,
        1,
    )


def test_decision_scores_asymmetric_case() -> None:
    s = decision_scores([T, T, T, F, F], [T, T, F, T, F])  # tp 2, fn 1, fp 1, tn 1
    assert s["if1"] == pytest.approx(4 / 6)
    assert s["sf1"] == pytest.approx(2 / 4)
    assert s["g_mean"] == pytest.approx(math.sqrt(4 / 6 * 2 / 4))
    assert s["macro_f1"] == pytest.approx((4 / 6 + 2 / 4) / 2)


def test_degenerate_policies() -> None:
    gold = [T, F, F, T, F]
    never = decision_scores(gold, [F] * 5)
    assert never["if1"] == 0.0 and never["g_mean"] == 0.0
    assert never["sf1"] == pytest.approx(6 / 8)
    always = decision_scores(gold, [T] * 5)
    assert always["sf1"] == 0.0 and always["g_mean"] == 0.0
    perfect = decision_scores(gold, gold)
    assert perfect["if1"] == perfect["sf1"] == perfect["g_mean"] == perfect["macro_f1"] == 1.0


def test_length_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="same length"):
        decision_scores([T], [T, F])


def test_chunks() -> None:
    assert chunk_labels([0, 4, 8.0, 12, 16.5], [F, T, F, F, T]) == [T, F, T]
    # episode 1 chunks gold [T, F], pred [T, T]; episode 2 gold [F], pred [F]
    s = chunked_decision_scores([([0, 9], [T, F], [F, T]), ([1], [F], [F])])
    assert (s["tp"], s["fp"], s["tn"], s["fn"]) == (0, 1, 1, 1)
    s = chunked_decision_scores([([0, 1, 9], [T, F, F], [F, T, T]), ([1], [F], [F])])
    assert (s["tp"], s["fp"], s["tn"], s["fn"]) == (1, 1, 1, 0)


MOMENT = GoldMoment(5.0, (2.0, 6.5), "instruct_next", "b", "step_done", "Switch on the burner")


@pytest.mark.parametrize(
    ("action", "g"),
    [
        ({"intent": "instruct_next", "step": "b"}, 1.0),
        ({"intent": "warn", "step": "b"}, 0.5),
        ({"intent": "instruct_next", "step": "c"}, 0.25),
        ({"intent": "instruct_next", "step": None}, 0.25),
        ({"intent": "warn", "step": "a"}, 0.0),
        ({"intent": None, "step": None, "text": ""}, 0.0),
    ],
)
def test_structured_content_score(action, g) -> None:
    assert content_score(action, MOMENT) == g


def test_free_text_content_score_is_clipped_similarity() -> None:
    def sim(a, b):
        return -0.3 if "cat" in a else 0.8

    assert content_score({"intent": "", "text": "turn it on"}, MOMENT, sim) == 0.8
    assert content_score({"intent": "", "text": "a cat"}, MOMENT, sim) == 0.0


def test_pqs_values_by_hand() -> None:
    # gold windows: opening [0, 1.5]; step_done (a ends at 5) [2, 6.5] step b
    events = [ev(5.0, "step_end", step="a", index=0, recovery=False, deviation=None, duration=5)]
    acts = {
        0.0: {"intent": "instruct_next", "step": "a"},  # correct, g = 1
        3.0: {"intent": "warn", "step": "b"},  # correct interrupt, g = 0.5
        4.0: {"intent": "instruct_next", "step": "c"},  # g = 0.25
        8.0: {"intent": "instruct_next", "step": "b"},  # false alarm: 0
    }
    rec = make_record(events, duration=10.0, dt=1.0, interrupts=acts)
    vals = pqs_values(rec)
    # t: 0..9; gold True at 0,1,2..6; silent 1,2,5,6 are misses (0); 7, 9 correct silences
    assert vals == [1.0, 0.0, 0.0, 0.5, 0.25, 0.0, 0.0, 1.0, 0.0, 1.0]


def test_registry_lists_and_suggests() -> None:
    names = list_metrics()
    for key in ("if1", "sf1", "g_mean", "macro_f1", "pqs", "match_f1", "sts", "oop_recall"):
        assert key in names
    with pytest.raises(KeyError, match="did you mean.*oop_recall"):
        get_metric("oop_recal")


bools = st.lists(st.booleans(), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_scores_in_unit_interval_symmetric_and_gmean_below_macro(data) -> None:
    gold = data.draw(bools)
    pred = data.draw(st.lists(st.booleans(), min_size=len(gold), max_size=len(gold)))
    s = decision_scores(gold, pred)
    for k in ("if1", "sf1", "g_mean", "macro_f1", "precision", "recall"):
        assert 0.0 <= s[k] <= 1.0
    assert s["g_mean"] <= s["macro_f1"] + 1e-12
    swapped = decision_scores([not g for g in gold], [not p for p in pred])
    assert swapped["if1"] == pytest.approx(s["sf1"])
    assert swapped["sf1"] == pytest.approx(s["if1"])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_adding_a_false_alarm_never_raises_precision(data) -> None:
    gold = data.draw(bools)
    pred = data.draw(st.lists(st.booleans(), min_size=len(gold), max_size=len(gold)))
    before = decision_scores(gold, pred)["precision"]
    after = decision_scores(gold + [False], pred + [True])["precision"]
    assert after <= before


def test_perfect_policy_on_a_record_scores_one() -> None:
    events = [
        deviation(9.0),
        ev(5.0, "step_end", step="a", index=0, recovery=False, deviation=None, duration=5),
    ]
    rec = make_record(events, duration=14.0, dt=0.5)
    from proassist.sim.gold import gold_content

    for d, m in zip(rec["decisions"], gold_content(rec), strict=True):
        if m is not None:
            d.update(decision=1, intent=m.intent, step=m.step)
    assert set(pqs_values(rec)) == {1.0}
