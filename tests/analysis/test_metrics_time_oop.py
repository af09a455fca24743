"""Time matching, STS, OOP detection and closed-loop metrics on hand-made records."""

from __future__ import annotations

import math

import pytest
from test_metrics_records import deviation, ev, make_record, msg

from proassist.analysis.metrics.scores import (
    false_alarms,
    match_messages,
    match_scores,
    oop_detections,
    recoveries,
    sts_scores,
)
from proassist.analysis.metrics.timing import sts_value
from proassist.sim.gold import GoldConfig, GoldMoment, gold_moments


def _match_record():
    # moments: opening [0, 1.5] a; step_done @5 [2, 6.5] b; deviation @14 [12, 16] b
    events = [
        ev(5.0, "step_end", step="a", index=0, recovery=False, deviation=None, duration=5.0),
        msg(3.0, "instruct_next", "b"),  # 2 s early
        msg(4.0, "instruct_next", "b"),  # 1 s early: the cheaper match
        msg(7.0, "instruct_next", "b"),  # 2 s late: beyond hi = 6.5, never matched
        deviation(14.0),
        msg(15.0, "correct_deviation", "b"),  # 1 s late, inside the window
    ]
    return make_record(events, duration=20.0)


def test_matching_by_hand() -> None:
    rec = _match_record()
    moments = gold_moments(rec)
    msgs = [e for e in rec["events"] if e["type"] == "assistant_message"]
    result = match_messages(msgs, moments)
    assert sorted((i, j) for i, j, _ in result.pairs) == [(1, 1), (3, 2)]
    s = match_scores(result)
    assert s["match_precision"] == 0.5 and s["match_recall"] == pytest.approx(2 / 3)
    assert s["match_f1"] == pytest.approx(4 / 7)
    assert s["match_redundant_rate"] == 0.5 and s["match_missed_rate"] == pytest.approx(1 / 3)
    assert s["match_time_diff"] == pytest.approx(0.0)
    assert s["match_abs_time_diff"] == pytest.approx(1.0)


def test_matching_is_one_to_one_and_respects_text_threshold() -> None:
    m = GoldMoment(5.0, (2.0, 6.5), "instruct_next", "b", "step_done", "Switch on the burner")
    msgs = [
        {"t": 5.0, "intent": "", "step": None, "text": "switch it on"},
        {"t": 5.5, "intent": "", "step": None, "text": "nice weather"},
    ]

    def sim(a, b):
        return 0.9 if "switch" in a else 0.1

    result = match_messages(msgs, [m], GoldConfig(), sim)
    assert [(i, j) for i, j, _ in result.pairs] == [(0, 0)]
    strict = match_messages(msgs, [m], GoldConfig(match_text_threshold=0.95), sim)
    assert strict.n_matched == 0


def test_sts_values() -> None:
    assert sts_value(2.0, 2.0, 6.0) == 1.0
    assert sts_value(6.0, 2.0, 6.0) == pytest.approx(math.exp(-1))
    assert sts_value(4.0, 2.0, 6.0) == pytest.approx(math.exp(-0.5))
    assert sts_value(None, 2.0, 6.0) == 0.0
    assert sts_value(7.0, 2.0, 6.0) == 0.0
    with pytest.raises(ValueError, match="e > s"):
        sts_value(1.0, 2.0, 2.0)


def test_sts_scores_first_right_step_trigger() -> None:
    rec = _match_record()
    moments = gold_moments(rec)
    msgs = [e for e in rec["events"] if e["type"] == "assistant_message"]
    got = sts_scores(msgs, moments)
    assert got[0] == 0.0  # opening: nothing said in [0, 1.5]
    assert got[1] == pytest.approx(math.exp(-(3.0 - 2.0) / 4.5))
    assert got[2] == pytest.approx(math.exp(-(15.0 - 12.0) / 4.0))


def _oop_record():
    events = [
        deviation(14.0, "d0", kind="omission"),
        msg(15.5, "correct_deviation", "b"),  # detected, latency 1.5
        ev(
            18.0,
            "deviation_resolved",
            id="d0",
            kind="omission",
            assisted=True,
            by="assistant",
            latency=4.0,
        ),
        msg(22.0, "re_engage", None),  # false alarm
        msg(23.0, "instruct_next", "c"),  # not correcting
        msg(25.0, "", None, "watch out"),  # free text: false alarm
        deviation(30.0, "d1", kind="safety", step="c"),
        msg(33.0, "warn", "c"),  # 3 s after onset: missed at ±2 s, latency 3
        ev(38.0, "deadline_missed", id="d1", kind="safety", consequence="fail"),
    ]
    return make_record(events, duration=40.0, success=False)


def test_oop_detection_and_latency() -> None:
    det = oop_detections(_oop_record())
    assert [(d["id"], d["detected"], d["latency"]) for d in det] == [
        ("d0", True, 1.5),
        ("d1", False, 3.0),
    ]
    assert [d["detected_any"] for d in det] == [True, False]
    wide = oop_detections(_oop_record(), GoldConfig(oop_tolerance=3.0))
    assert [d["detected"] for d in wide] == [True, True]


def test_false_alarms() -> None:
    assert false_alarms(_oop_record()) == 2


def test_recoveries() -> None:
    rec = recoveries(_oop_record())
    assert rec[0] | {} == {
        "id": "d0",
        "kind": "omission",
        "onset": 14.0,
        "recovered": True,
        "assisted": True,
        "by": "assistant",
        "time_to_recovery": 4.0,
        "deadline_missed": False,
    }
    assert (rec[1]["recovered"], rec[1]["by"], rec[1]["deadline_missed"]) == (False, None, True)
