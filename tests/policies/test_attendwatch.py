"""Attention watching: re-engage a person whose view settled off-task (policies/attendwatch.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import proassist.envs  # noqa: F401  (registers the ids)
from proassist.policies import make_policy
from proassist.policies.attendwatch import AttentionWatch, next_step
from proassist.sim.deviations.base import addressable_steps
from proassist.sim.messages import INTENTS

IDS = {"walls": 0, "counter": 1, "hand_left": 2, "hand_right": 3, "shelf": 4, "bowl": 10}
PLAN = [
    {"id": "get_bowl", "objects": ["bowl"], "location": "shelf"},
    {"id": "wash", "objects": ["bowl"], "location": "counter", "optional": True},
    {"id": "serve", "objects": ["bowl"], "location": "counter"},
    {"id": "put_away", "objects": ["bowl"], "location": "shelf"},
]
INFO = {"plan": PLAN, "segmentation_ids": IDS, "fixtures": ["counter", "shelf"]}


def _frame(top: int = 0, fill: int = 0, hands: bool = False, bowl: bool = False) -> np.ndarray:
    """A 32x32 frame: walls above row ``top``, counter below; hands or the bowl centred."""
    seg = np.full((32, 32), fill, np.int32)
    seg[top:, :] = IDS["counter"] if top else fill
    if hands:
        seg[10:22, 10:22] = IDS["hand_right"]
    if bowl:
        seg[13:19, 13:19] = IDS["bowl"]
    return seg


def _run(watch: AttentionWatch, frames: list[np.ndarray], worked: set[int]) -> list[int | None]:
    return [watch.observe(f, 0.5 * i, worked, PLAN) for i, f in enumerate(frames)]


def test_next_step_is_the_first_required_one_after_the_furthest_worked_on() -> None:
    assert next_step(PLAN, set()) == 0
    assert next_step(PLAN, {0}) == 2  # the optional wash is not named
    assert next_step(PLAN, {0, 2}) == 3
    assert next_step(PLAN, {2}) == 3  # get_bowl far behind: a short step never counted
    assert next_step(PLAN, {3}) == 0  # nothing required ahead: the first required left
    assert next_step(PLAN, {0, 2, 3}) == 1  # only the optional one is left
    assert next_step(PLAN, {0, 1, 2, 3}) is None


def test_next_step_after_counts_from_a_given_step() -> None:
    """From the step recognised last: past a step far ahead counted by mistake (put_away
    while the person got the bowl), and past the step recognised last, counted or not."""
    assert next_step(PLAN, {3}) == 0 and next_step(PLAN, {3}, after=0) == 2
    assert next_step(PLAN, set(), after=2) == 3 and next_step(PLAN, {2}, after=-1) == 0
    assert next_step(PLAN, {2}, after=3) == 0 and next_step(PLAN, {2}) == 3  # none ahead
    assert next_step(PLAN, {0, 2, 3}, after=0) == 1  # only the optional one is left


def test_a_still_view_without_hands_or_task_objects_re_engages_once_per_run() -> None:
    still = [_frame(top=20)] * 5
    said = _run(AttentionWatch(INFO), still, worked={0})
    assert said == [None, 2, None, None, None]  # the first frame has nothing to compare with
    moved = [_frame(top=20)] * 3 + [_frame(top=8)] + [_frame(top=8)] * 2
    assert _run(AttentionWatch(INFO), moved, worked={0}) == [None, 2, None, None, 2, None]


def test_hands_or_a_task_object_in_view_or_a_moving_view_is_work() -> None:
    for frame in (_frame(top=20, hands=True), _frame(top=20, bowl=True)):
        assert _run(AttentionWatch(INFO), [frame] * 4, worked=set()) == [None] * 4
    panning = [_frame(top=t) for t in (4, 10, 16, 22, 28)]
    assert _run(AttentionWatch(INFO), panning, worked=set()) == [None] * 5


def test_nothing_while_the_step_under_way_is_done_where_the_view_settled() -> None:
    watch = AttentionWatch(INFO)
    frames = [_frame(top=20)] * 6  # the view settles on the counter
    current = [None, 2, 2, 0, None, None]  # serving is done at the counter, get_bowl is not
    said = [
        watch.observe(f, 0.5 * i, {0}, PLAN, c)
        for i, (f, c) in enumerate(zip(frames, current, strict=True))
    ]
    assert said == [None, None, None, 2, None, None]


def test_remind_says_it_again_after_the_delay_and_nothing_when_all_is_done() -> None:
    watch = AttentionWatch(INFO, remind=1.0)
    said = _run(watch, [_frame(top=20)] * 6, worked=set())
    assert said == [None, 0, None, 0, None, 0]
    everything = {0, 1, 2, 3}
    assert _run(AttentionWatch(INFO), [_frame(top=20)] * 3, worked=everything) == [None] * 3


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 31), min_size=2, max_size=12),
    st.sets(st.integers(0, 3)),
)
def test_says_the_next_step_exactly_at_the_first_still_point_of_each_run(
    tops: list[int], worked: set[int]
) -> None:
    frames = [_frame(top=t) for t in tops]
    said = _run(AttentionWatch(INFO), frames, worked)
    for i, k in enumerate(said):
        still = i > 0 and tops[i] == tops[i - 1]  # one row of change is 6 % of the frame
        first = still and (i == 1 or tops[i - 1] != tops[i - 2])
        assert k == (next_step(PLAN, worked) if first else None)


def test_a_blind_watch_or_a_quiet_point_says_nothing() -> None:
    blind = AttentionWatch({"plan": PLAN})  # no segmentation ids: sees nothing
    assert _run(blind, [_frame(top=20)] * 4, worked=set()) == [None] * 4
    watch = AttentionWatch(INFO)
    frames = [_frame(top=20)] * 4
    quiet = [False, True, False, False]  # another rule speaks at the first still point
    said = [
        watch.observe(f, 0.5 * i, set(), PLAN, quiet=q)
        for i, (f, q) in enumerate(zip(frames, quiet, strict=True))
    ]
    assert said == [None, None, 0, None]
    resized = [_frame(top=20), np.zeros((16, 16), np.int32), np.zeros((16, 16), np.int32)]
    assert _run(AttentionWatch(INFO), resized, worked=set()) == [None, None, 0]
    sparse = AttentionWatch({**INFO, "segmentation_ids": {**IDS, "far": 2**40}})
    assert _run(sparse, [_frame(top=20)] * 2, worked=set()) == [None, 0]


def test_arguments_are_checked() -> None:
    for kwargs in ({"change": 0.0}, {"change": 1.5}, {"min_px": 0}, {"remind": -1.0}):
        with pytest.raises(ValueError, match="need 0 < change"):
            AttentionWatch(INFO, **kwargs)


def _distracted_kitchen(run, attend: bool) -> dict:
    script = [{"kind": "distraction", "step": "turn_on_burner", "params": {"target": "window"}}]
    return run("step-oracle", {"place": False, "attend": attend}, script, ("segmentation",))


def test_step_oracle_with_attend_re_engages_a_distracted_person_in_time(
    scripted_episode,
) -> None:
    """End to end: the view settles on the window, the rule names the interrupted step
    within the 2 s a detection has and the person gets back to work; without the rule
    the distraction runs to its deadline."""
    with_rule = _distracted_kitchen(scripted_episode, attend=True)
    dev = next(e for e in with_rule["events"] if e["type"] == "deviation")
    assert dev["kind"] == "distraction"
    said = [
        d
        for d in with_rule["decisions"]
        if d["decision"] and d["intent"] == "re_engage" and abs(d["t"] - dev["t"]) <= 2.0
    ]
    assert said and said[0]["step"] in addressable_steps(dev)
    fixed = [e for e in with_rule["events"] if e["type"] == "deviation_resolved"]
    assert fixed and fixed[0]["assisted"]
    without = _distracted_kitchen(scripted_episode, attend=False)
    assert not [e for e in without["events"] if e["type"] == "deviation_resolved"]


def test_both_step_watchers_attend_by_default_and_ask_for_the_segmentation() -> None:
    oracle = make_policy("step-oracle")
    assert oracle.attend and "segmentation" in oracle.obs_modes
    assert oracle.settings["hazard"]  # and warn of a passed-over safety step
    assert make_policy("step-oracle", place=False).obs_modes == ("segmentation",)
    off = make_policy("step-oracle", place=False, attend=False)
    assert not off.needs_pixels and off.obs_modes == ()
    pytest.importorskip("torch")
    watcher = make_policy("stepwatch")
    assert watcher.attend and watcher.settings["hazard"]  # the committed deploy says so
    assert not make_policy("stepwatch", attend=False).attend


def test_attention_waits_after_a_message_and_its_reply_is_not_taken_for_a_correction() -> None:
    from proassist.policies.stepwatch import DependencyWatch, one_hot
    from proassist.policies.watchers import REPLY_S, respond
    from proassist.sim.person.reactions import DONE_TEXT

    plan = [
        {"id": "a", "after": [], "location": "shelf"},
        {"id": "b", "after": ["a"], "location": "counter"},
        {"id": "c", "after": ["a"], "location": "counter"},
    ]
    watch, attention = DependencyWatch(plan), AttentionWatch({**INFO, "plan": plan})
    seen = [1, None, None, None, None, 2, None]  # b, then idle, then c
    said = []
    for i, step in enumerate(seen):
        obs = {"time": np.array([0.5 * i]), "segmentation": _frame(top=20)}
        obs["utterance"] = DONE_TEXT if i == 6 else ""  # the reply to the re-engagement
        act = respond(watch, None, attention, one_hot(3, step), obs)
        said.append((act["intent"], act["step"]) if act["decision"] else None)
    assert REPLY_S == 2.0  # 4 points at dt 0.5
    assert said[0] == (INTENTS.index("correct_deviation"), 0)  # b needs a
    assert said[1:4] == [None] * 3  # idle since point 1, but too soon after a message
    assert said[4] == (INTENTS.index("re_engage"), 2)  # c: the step after the furthest worked on
    assert said[5] == (INTENTS.index("correct_deviation"), 0)  # c needs a
    assert 0 not in watch.worked_on()  # "I already did that." answered the re-engagement


def test_watch_attention_counts_from_the_step_recognised_last_with_recent() -> None:
    """Through the step watchers' path (``watch_attention``): put_away counted by
    mistake, get_bowl recognised last; ``recent`` names serve, not get_bowl again."""
    from proassist.policies.stepwatch import DependencyWatch
    from proassist.policies.watchers import watch_attention

    said = {}
    for recent in (False, True):
        watch = DependencyWatch(PLAN, recent=recent)
        watch.mass[3], watch.last_step = 1.0, 0
        attention, got = AttentionWatch(INFO), []
        for i in range(3):
            watch.t = 5.0 + 0.5 * i
            seen = {"segmentation": _frame(top=20), "time": np.array([0.5 * i])}
            got.append(watch_attention(attention, watch, seen))
        said[recent] = got
    assert said == {False: [None, 0, None], True: [None, 2, None]}
