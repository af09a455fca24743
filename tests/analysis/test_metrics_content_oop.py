"""Content-aware OOP metrics, net assistance, paired differences and the balanced
(PWR-comparable) decision metrics, on hand-made records."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_metrics_records import deviation, ev, make_record, msg

from proassist.analysis.metrics.balanced import anchor_points
from proassist.analysis.metrics.closed_loop import net_assistance_value, relative_time_lost
from proassist.analysis.metrics.oop import oop_detections, oop_precision_counts
from proassist.analysis.metrics.scores import score_episodes
from proassist.analysis.metrics.stats import assistance_effect, paired_difference
from proassist.analysis.metrics.timing import match_messages, sts_scores
from proassist.sim.gold import gold_content, gold_moments


def _sim(a: str, b: str) -> float:
    return 1.0 if a == b else 0.0


def _scores(records):
    return score_episodes(records, n_boot=0, text_sim=_sim)


def _one(*events, duration: float = 20.0):
    return make_record([deviation(6.0), *events], duration=duration)


# ---------------------------------------------------------------- content-aware OOP


def test_correction_naming_the_wrong_step_does_not_count() -> None:
    s = _scores([_one(msg(7.0, "correct_deviation", "c"))])
    assert s["oop_recall"] == 0.0 and s["oop_recall_any"] == 1.0
    assert s["oop_recall_omission"] == 0.0 and s["oop_recall_any_omission"] == 1.0
    assert s["oop_precision"] == 0.0


def test_correction_naming_the_step_or_a_recovery_step_counts() -> None:
    for step in ("b", "fix_b"):
        s = _scores([_one(msg(7.0, "correct_deviation", step))])
        assert s["oop_recall"] == 1.0 and s["oop_precision"] == 1.0, step
    # an instruction naming the right step is not a correcting message
    s = _scores([_one(msg(7.0, "instruct_next", "b"))])
    assert s["oop_recall"] == 0.0 and s["oop_recall_any"] == 0.0
    assert math.isnan(s["oop_precision"])


def test_re_engage_detects_attention_kinds_only() -> None:
    omission = _one(msg(7.0, "re_engage", "b"))
    assert _scores([omission])["oop_recall"] == 0.0
    assert _scores([omission])["oop_precision"] == 0.0
    distracted = make_record([deviation(6.0, kind="distraction"), msg(7.0, "re_engage", "b")])
    assert _scores([distracted])["oop_recall_distraction"] == 1.0
    warned = make_record([deviation(6.0, kind="distraction"), msg(7.0, "warn", "b")])
    assert _scores([warned])["oop_recall"] == 1.0


def test_detection_window_is_configurable() -> None:
    from proassist.sim.gold import GoldConfig

    rec = _one(msg(9.0, "warn", "b"))  # 3 s after onset
    assert [d["detected"] for d in oop_detections(rec)] == [False]
    assert [d["latency"] for d in oop_detections(rec)] == [3.0]
    assert [d["detected"] for d in oop_detections(rec, GoldConfig(oop_tolerance=3.0))] == [True]


def test_free_text_counts_when_the_person_understands_the_step() -> None:
    right = _one(msg(7.0, "", None, "You forgot to switch on the stove burner"))
    wrong = _one(msg(7.0, "", None, "You forgot to pour the hot water into the cup"))
    chat = _one(msg(7.0, "", None, "Nice weather today"))
    assert _scores([right])["oop_recall"] == 1.0
    assert _scores([wrong])["oop_recall"] == 0.0
    assert _scores([wrong])["oop_recall_any"] == 1.0  # content-blind: any free text
    assert _scores([chat])["oop_recall"] == 0.0


def test_free_text_uses_the_logged_reaction_when_there_is_one() -> None:
    said = msg(7.0, "", None, "That is wrong")  # correcting, but names no step
    assert _scores([_one(said)])["oop_recall"] == 0.0
    reaction = ev(7.5, "reaction", message_t=7.0, response="comply", delay=0.5, target="b")
    assert _scores([_one(said, reaction)])["oop_recall"] == 1.0
    ignored = ev(7.5, "reaction", message_t=7.0, response="ignore", intent=None, target="b")
    assert _scores([_one(said, ignored)])["oop_recall"] == 0.0  # understood no intent


def test_oop_precision_counts_messages_addressing_an_active_deviation() -> None:
    resolved = ev(9.0, "deviation_resolved", id="d0", kind="omission", by="assistant")
    rec = _one(
        msg(5.0, "correct_deviation", "b"),  # 1 s before onset: inside the tolerance
        msg(7.0, "correct_deviation", "c"),  # wrong step
        resolved,
        msg(12.0, "correct_deviation", "b"),  # after the deviation was resolved
        msg(13.0, "confirm_done", "b"),  # not correcting
    )
    assert oop_precision_counts(rec) == (3, 1)
    assert _scores([rec])["oop_precision"] == pytest.approx(1 / 3)


def test_only_visible_deviations_are_counted() -> None:
    hidden = deviation(8.0, "d1", step="c") | {"visible": False}
    late = deviation(30.0, "d2", step="a")  # after the episode end (20 s)
    rec = _one(hidden, late, msg(7.0, "correct_deviation", "b"))
    assert [d["id"] for d in oop_detections(rec)] == ["d0"]
    s = _scores([rec])
    assert s["oop_recall"] == 1.0 and s["n_deviations"] == 3  # closed loop: all three


# ---------------------------------------------------------------- time matching, STS


def test_matching_and_sts_require_step_and_intent_family() -> None:
    events = [
        ev(5.0, "step_end", step="a", index=0, recovery=False, deviation=None, duration=5.0),
        msg(5.0, "correct_deviation", "b"),  # right step, wrong family
    ]
    rec = make_record(events, duration=10.0)
    msgs = [e for e in rec["events"] if e["type"] == "assistant_message"]
    moments = gold_moments(rec)
    assert match_messages(msgs, moments, text_sim=_sim).n_matched == 0
    assert match_messages(msgs, moments, text_sim=_sim, strict=False).n_matched == 1
    assert sts_scores(msgs, moments, text_sim=_sim)[1] == 0.0
    assert sts_scores(msgs, moments, text_sim=_sim, strict=False)[1] > 0.5
    msgs[0] = msgs[0] | {"intent": "answer_question"}  # the instructing family
    assert match_messages(msgs, moments, text_sim=_sim).n_matched == 1


# ---------------------------------------------------------------- closed loop


def _ep(seed: int, success: bool, duration: float):
    return make_record([], duration=duration, success=success, seed=seed)


def test_net_assistance_value_by_hand() -> None:
    # the outcome changed: the outcome counts, not the time
    assert net_assistance_value(_ep(0, True, 30.0), _ep(0, False, 20.0)) == 1.0
    assert net_assistance_value(_ep(0, False, 10.0), _ep(0, True, 90.0)) == -1.0
    # same outcome: the time lost relative to the silent run's time
    assert net_assistance_value(_ep(0, True, 40.0), _ep(0, True, 20.0)) == pytest.approx(-1.0)
    assert net_assistance_value(_ep(0, True, 25.0), _ep(0, True, 20.0)) == pytest.approx(-0.25)
    assert net_assistance_value(_ep(0, False, 10.0), _ep(0, False, 90.0)) == 0.0  # no credit
    assert net_assistance_value(_ep(0, True, 25.0), _ep(0, True, 20.0), 0.5) == -0.125
    assert relative_time_lost(_ep(0, True, 100.0), _ep(0, True, 20.0)) == 1.0  # capped


def test_net_assistance_sign_and_ci() -> None:
    silent = [_ep(s, s % 2 == 0, 50.0) for s in range(20)]
    helper = [_ep(s, True, 52.0) for s in range(20)]
    spammer = [_ep(s, s % 2 == 0, 70.0) for s in range(20)]
    rng = np.random.default_rng(0)
    good = assistance_effect(helper, silent, rng, n_boot=500)
    bad = assistance_effect(spammer, silent, rng, n_boot=500)
    same = assistance_effect(silent, silent, rng, n_boot=500)
    assert good["net_assistance"] == pytest.approx((10 * 1.0 + 10 * -2.0 / 50.0) / 20)
    assert 0.0 < good["net_assistance_ci_low"] <= good["net_assistance"]
    assert good["net_assistance"] <= good["net_assistance_ci_high"]
    assert bad["net_assistance"] == pytest.approx(-0.4) and bad["net_assistance_ci_high"] < 0
    assert bad["assistance_effect_task_time"] == pytest.approx(20.0)
    assert bad["assistance_effect_task_success"] == 0.0
    assert same["net_assistance"] == 0.0 == same["net_assistance_ci_low"]


def test_paired_difference_between_two_assistants() -> None:
    silent = [_ep(s, False, 50.0) for s in range(10)]
    a = [_ep(s, s < 8, 55.0) for s in range(10)]
    b = [_ep(s, s < 4, 50.0) for s in range(10)]
    d = paired_difference(a, b, "task_success", rng=np.random.default_rng(0), n_boot=500)
    assert d["difference"] == pytest.approx(0.4) and d["n_pairs"] == 10
    assert d["ci_low"] <= 0.4 <= d["ci_high"]
    t = paired_difference(a, b, "task_time", n_boot=100)
    assert t["difference"] == pytest.approx(5.0) and t["ci_low"] == t["ci_high"] == 5.0
    n = paired_difference(a, b, "net_assistance", silent, n_boot=100)
    assert n["difference"] == pytest.approx((8 - 2 * 5.0 / 50.0) / 10 - 0.4)
    with pytest.raises(ValueError, match="records_silent"):
        paired_difference(a, b, "net_assistance")
    with pytest.raises(KeyError, match="did you mean"):
        paired_difference(a, b, "task_sucess")


# ---------------------------------------------------------------- balanced (PWR) metrics


def _stream(seed: int, interrupts=None, duration: float = 60.0):
    """Steps end every 6.3 s (anchors fall between decision points), one deviation."""
    events = [
        ev(6.3 * (k + 1), "step_end", step=s, index=k, recovery=False, deviation=None)
        for k, s in enumerate(("a", "b"))
    ]
    events.append(deviation(30.2, step="c"))
    return make_record(events, duration=duration, dt=0.5, seed=seed, interrupts=interrupts)


def test_anchor_point_is_the_first_decision_point_at_or_after_the_moment() -> None:
    rec = _stream(0)
    times = [d["t"] for d in rec["decisions"]]
    got = anchor_points(times, gold_content(rec), gold_moments(rec))
    assert [times[k] for k in got] == [0.0, 6.5, 13.0, 30.5]


def test_oracle_scores_one_and_always_interrupt_zero() -> None:
    oracle = {t: {"intent": "instruct_next"} for t in (0.0, 6.5, 13.0, 30.5)}
    s = _scores([_stream(seed, oracle) for seed in range(5)])
    assert s["pwr_g_mean"] == 1.0 and s["pwr_if1"] == 1.0 and s["pwr_sf1"] == 1.0
    always = {k * 0.5: {"intent": "warn"} for k in range(120)}
    s = _scores([_stream(seed, always) for seed in range(5)])
    assert s["pwr_g_mean"] == 0.0 and s["pwr_if1"] == pytest.approx(2 / 3)
    late = {t + 3.0: {"intent": "instruct_next"} for t in (0.0, 6.5, 13.0, 30.5)}
    assert _scores([_stream(0, late)])["pwr_g_mean"] == 0.0


def test_balanced_set_is_deterministic_and_balanced() -> None:
    from proassist.analysis.metrics.scores import episode_stats

    coin = {k * 0.5: {"intent": "warn"} for k in range(0, 120, 3)}
    keys = ("pwr_tp", "pwr_fn", "pwr_fp", "pwr_tn")
    runs = [
        [episode_stats(_stream(seed, coin), text_sim=_sim)[k] for k in keys] for seed in (7, 7, 8)
    ]
    assert runs[0] == runs[1]
    for tp, fn, fp, tn in runs:
        assert tp + fn == fp + tn == 4


def test_coin_flip_scores_about_one_half() -> None:
    rng = np.random.default_rng(123)
    records = []
    for seed in range(300):
        flips = rng.random(120) < 0.5
        records.append(_stream(seed, {k * 0.5: {"intent": "warn"} for k in np.flatnonzero(flips)}))
    s = _scores(records)
    assert s["pwr_g_mean"] == pytest.approx(0.5, abs=0.04)
    assert s["pwr_if1"] == pytest.approx(0.5, abs=0.05)
    assert s["pwr_sf1"] == pytest.approx(0.5, abs=0.05)
