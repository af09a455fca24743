"""Gold intervention moments on hand-made event logs."""

from __future__ import annotations

import pytest
from test_metrics_records import deviation, ev, make_record

from proassist.sim.gold import (
    GoldConfig,
    gold_content,
    gold_decisions,
    gold_moments,
    next_plan_step,
)


def _record():
    events = [
        ev(0.0, "step_start", step="a", index=0, recovery=False, deviation=None),
        ev(5.0, "step_end", step="a", index=0, recovery=False, deviation=None, duration=5.0),
        ev(8.0, "hesitation_start", step="b"),
        deviation(13.0, kind="safety"),
        ev(21.0, "person_utterance", text="what next?", act="question"),
    ]
    return make_record(events, duration=24.0, dt=1.0)


def test_moments_kinds_windows_intents_steps() -> None:
    got = [(m.kind, m.window, m.intent, m.step) for m in gold_moments(_record())]
    assert got == [
        ("opening", (0.0, 1.5), "instruct_next", "a"),
        ("step_done", (2.0, 6.5), "instruct_next", "b"),
        ("hesitation", (8.0, 11.0), "re_engage", "b"),
        ("deviation", (11.0, 15.0), "warn", "b"),
        ("question", (21.0, 24.0), "answer_question", "b"),
    ]


def test_moment_texts_and_deviation_fields() -> None:
    moments = gold_moments(_record())
    assert moments[1].text == "Switch on the stove burner"
    dev = moments[3]
    assert dev.text == "Go back and switch on the burner"
    assert (dev.deviation, dev.deviation_kind, dev.alt_steps) == ("d0", "safety", ("fix_b",))
    assert dev.is_step("fix_b") and dev.is_step("b") and not dev.is_step("a")


def test_gold_decisions_by_hand() -> None:
    gold = gold_decisions(_record())
    silent = [t for t, g in enumerate(gold) if not g]
    assert silent == [7, 16, 17, 18, 19, 20]


def test_gold_content_priority_deviation_over_hesitation() -> None:
    content = gold_content(_record())
    assert content[11].kind == "deviation"  # in hesitation (8, 11) and deviation (11, 15)
    assert content[9].kind == "hesitation"
    assert content[4].kind == "step_done"
    assert content[7] is None


def test_final_step_end_gives_no_moment_and_config_changes_windows() -> None:
    events = [
        ev(t, "step_end", step=s, index=i, recovery=False, deviation=None, duration=1.0)
        for i, (t, s) in enumerate([(4.0, "a"), (8.0, "b"), (12.0, "c")])
    ]
    cfg = GoldConfig(next_early=1.0, next_late=0.5, include_opening=False)
    moments = gold_moments(make_record(events), cfg)
    assert [(m.t, m.window, m.step) for m in moments] == [
        (4.0, (3.0, 4.5), "b"),
        (8.0, (7.0, 8.5), "c"),
    ]


def test_recovery_step_end_is_not_a_plan_completion() -> None:
    events = [ev(4.0, "step_end", step="a", index=-1, recovery=True, deviation="d0", duration=1)]
    assert [m.kind for m in gold_moments(make_record(events))] == ["opening"]


def test_distraction_is_re_engage_and_hesitation_deviation_absorbs_start() -> None:
    events = [
        deviation(6.0, "d1", kind="hesitation", step="b"),
        ev(6.5, "hesitation_start", step="b"),
        deviation(15.0, "d2", kind="distraction", step="c"),
        deviation(18.0, "d3", kind="order", step="c"),
    ]
    moments = gold_moments(make_record(events))
    assert [(m.kind, m.intent) for m in moments] == [
        ("opening", "instruct_next"),
        ("deviation", "re_engage"),
        ("deviation", "re_engage"),
        ("deviation", "correct_deviation"),
    ]


def test_next_plan_step_respects_partial_order() -> None:
    plan = [{"id": "x", "after": ["y"]}, {"id": "y", "after": []}, {"id": "z", "after": []}]
    assert next_plan_step(plan, set()) == "y"
    assert next_plan_step(plan, {"y"}) == "x"
    assert next_plan_step(plan, {"x", "y", "z"}) is None


def test_missing_fields_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="plan"):
        gold_moments({"events": []})
    with pytest.raises(ValueError, match="decisions"):
        gold_decisions({"plan": [], "events": []})
