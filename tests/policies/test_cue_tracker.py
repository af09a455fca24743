"""Tests of the rule-based cue tracker (perception and rules, and one rendered run)."""

from __future__ import annotations

import numpy as np
import pytest

from proassist.analysis.evaluation import evaluate
from proassist.policies.duplex.components import DialogueTurn, PlanContext
from proassist.policies.duplex.cue_tracker import CueTracker, perceive
from proassist.policies.duplex.planners import TaskGraphPlanner

SEG = {
    "floor": 0,
    "walls": 1,
    "hand_left": 2,
    "hand_right": 3,
    "stove": 4,
    "sink": 5,
    "kettle": 6,
    "salt_jar": 7,
}


def _info(make_info) -> dict:
    info = make_info(3, duration=4.0)
    for step, loc in zip(info["plan"], ("sink", "stove", "sink"), strict=True):
        step["location"], step["objects"] = loc, ["kettle"]
    return info | {"segmentation_ids": SEG, "fixtures": ["stove", "sink"]}


def _obs(t: float, fixture: str | None, obj: str | None = None, hands: bool = False) -> dict:
    seg = np.full((64, 64), SEG["walls"], dtype=np.int32)
    if fixture is not None:
        seg[16:48, 16:48] = SEG[fixture]
    if obj is not None:
        seg[28:36, 28:36] = SEG[obj]
    if hands:
        seg[40:48, 16:48] = SEG["hand_right"]
    rgb = np.zeros((64, 64, 3), dtype=np.uint8)
    return {
        "time": np.array([t], dtype=np.float32),
        "segmentation": seg,
        "rgb": rgb,
        "utterance": "",
    }


def _plan(info: dict):
    return TaskGraphPlanner().replan([], None, None, PlanContext("g", info["plan"]))


def test_perceive_focus_objects_hands_away() -> None:
    names = {v: k for k, v in SEG.items()}
    p = perceive(_obs(1.0, "stove", "kettle", hands=True), names, frozenset({"stove", "sink"}))
    assert p.focus == "stove" and p.objects == {"kettle"} and p.hands and not p.away
    q = perceive(_obs(1.0, None), names, frozenset({"stove", "sink"}))
    assert q.focus is None and q.away and not q.hands


def _run(tracker, info, frames, dialogue=()):
    tracker.reset(info)
    plan = _plan(info)
    return [tracker.decide([f], plan, list(dialogue)) for f in frames]


def test_rules_question_away_foreign_done(make_info) -> None:
    info, tracker = _info(make_info), CueTracker()
    asked = DialogueTurn(1.0, "person", "What should I do next?")
    out = _run(tracker, info, [_obs(0.5, "sink"), _obs(1.0, "sink")], [asked])
    assert not out[0].interrupt and out[1].intent == "answer_question"
    away = _run(tracker, info, [_obs(t / 2, None) for t in range(4)])
    assert [d.intent for d in away if d.interrupt] == ["re_engage"]
    foreign = _run(tracker, info, [_obs(t / 2, "sink", "salt_jar", True) for t in range(4)])
    hits = [d for d in foreign if d.interrupt]
    assert len(hits) == 1 and hits[0].intent == "correct_deviation" and hits[0].step == "s0"
    done = _run(tracker, info, [_obs(t / 2, "sink", "kettle", True) for t in range(13)])
    said = [(k, d.intent, d.step) for k, d in enumerate(done) if d.interrupt]
    assert said[0] == (11, "instruct_next", "s1")  # 1.3 x 4 s of work at the sink


def test_leaving_early_is_a_deviation_leaving_late_a_completion(make_info) -> None:
    info, tracker = _info(make_info), CueTracker()
    early = _run(
        tracker, info, [_obs(t / 2, "sink" if t < 1 else "stove", None, True) for t in range(6)]
    )
    hits = [d for d in early if d.interrupt]
    assert hits and hits[0].intent == "correct_deviation" and hits[0].step == "s0"
    late = _run(
        tracker, info, [_obs(t / 2, "sink" if t < 6 else "stove", None, True) for t in range(9)]
    )
    hits = [d for d in late if d.interrupt]
    assert hits and hits[0].intent == "instruct_next" and hits[0].step == "s1"


def test_threshold_validated() -> None:
    with pytest.raises(ValueError, match="threshold"):
        CueTracker(threshold=0.0)


def test_rendered_distraction_is_detected() -> None:
    records, scores = evaluate(
        "duplex",
        "ProAssist-Kitchen-v0",
        [0],
        paired_silent=False,
        task="kitchen_tea",
        deviation_rates={},
        max_duration=60.0,
        deviation_script=[{"kind": "distraction", "step": "fill_kettle"}],
    )
    devs = [e for e in records[0]["events"] if e["type"] == "deviation"]
    assert devs and devs[0]["params"]["target"] == "window"  # the head turns to the window
    # The tracker notices the look-away (a correcting message within 2 s of onset)...
    assert scores["oop_recall_any"] == 1.0
    # ...a re-engagement that names no step, so the content-aware recall (the
    # distracted step, or its recovery) does not credit it.
    assert scores["oop_recall"] == 0.0


def test_indicator_segments_belong_to_their_entity() -> None:
    """A knob, flame ring or fill level is part of its fixture or object, never a
    foreign object, and its pixels add to its entity's."""
    from proassist.policies.duplex.cue_tracker import perceive
    from proassist.sim.render.indicators import segment_owners

    ids = {"floor": 0, "walls": 1, "hand_left": 2, "hand_right": 3, "stove": 4,
           "stove_knob": 5, "drill": 6, "drill_knob": 7, "tea_fill": 8}  # fmt: skip
    owners = segment_owners(ids)
    assert owners[5] == "stove" and owners[7] == "drill" and owners[8] == "tea_fill"
    seg = np.ones((64, 64), dtype=np.int32)
    seg[16:48, 16:48] = 4  # the stove fills the central window...
    seg[16:48, 16:32] = 5  # ...half of it its knob
    seg[20:26, 40:46] = 7
    p = perceive({"time": np.array([0.0]), "segmentation": seg}, owners, frozenset({"stove"}))
    assert p.focus == "stove" and p.objects == frozenset({"drill"})
