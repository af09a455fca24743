"""Placement watching: an object resting where the plan does not put it (policies/placewatch.py)."""

from __future__ import annotations

import numpy as np
import pytest

import proassist.envs  # noqa: F401  (registers the ids)
from proassist.policies.placewatch import PlacementWatch, resting_on

IDS = {"counter": 1, "shelf": 2, "stove": 3, "bowl": 10, "tube": 11, "tyre": 12, "cup": 13}
INFO = {
    "segmentation_ids": IDS,
    # counter and shelf are worked at from one stand point: one place
    "stands": {"counter": [0.0, 0.5], "shelf": [0.0, 0.5], "stove": [1.0, 0.5]},
    # the cup is in no step: a look-alike of something a step uses
    "starts": {"bowl": "shelf", "tube": "counter", "tyre": "stove", "cup": "shelf"},
}
PLAN = [
    {"id": "get_bowl", "objects": ["bowl"], "location": "shelf", "effects": ["at(bowl,counter)"]},
    {"id": "pour", "objects": ["bowl"], "location": "stove", "effects": ["poured(bowl)"]},
    {"id": "fit", "objects": ["tube", "tyre"], "location": "stove", "effects": ["in(tube,tyre)"]},
]


def _frame(obj: int, under: int, gap: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A 16x16 frame: ``obj`` (4 columns) resting on ``under``, ``gap`` m in front of it."""
    seg = np.full((16, 16), -1, np.int32)
    depth = np.full((16, 16), 3.0, np.float32)
    seg[10:, :] = under
    depth[10:, :] = 1.0
    seg[6:10, 5:9] = obj
    depth[6:10, 5:9] = 1.0 - gap
    return seg, depth


def test_resting_on_counts_touching_columns_only() -> None:
    names = {v: k for k, v in IDS.items()}
    seg, depth = _frame(10, 3)
    assert resting_on(seg, depth, 10, names, 0.06) == {"stove": 4}
    seg, depth = _frame(10, 3, gap=0.5)  # held in front of the stove, not on it
    assert resting_on(seg, depth, 10, names, 0.06) == {}
    assert resting_on(seg, depth, 99, names, 0.06) == {}  # not in view


def test_watch_names_the_step_that_should_have_put_the_object_in_place() -> None:
    watch = PlacementWatch(PLAN, INFO)
    assert watch.observe(*_frame(10, 2), current=0, worked=set()) is None  # at its start
    assert watch.observe(*_frame(10, 1), current=0, worked={0}) is None  # where step 0 puts it
    assert watch.observe(*_frame(10, 3, gap=0.5), current=0, worked={0}) is None  # held
    assert watch.observe(*_frame(10, 3), current=0, worked={0}) == 0  # on the stove
    assert watch.observe(*_frame(10, 3), current=0, worked={0}) is None  # once per object


def test_watch_names_the_step_worked_on_not_the_next_one_moving_the_object() -> None:
    """Step 0 puts the bowl on the counter, step 1 moves it on to the table: a bowl seen
    on the stove while step 0 or step 1 runs is step 0's or step 1's error, never the
    step not reached yet (it may be done only by the recogniser's look-ahead)."""
    plan = [
        {"id": "get", "objects": ["bowl"], "location": "shelf", "effects": ["at(bowl,counter)"]},
        {"id": "serve", "objects": ["bowl"], "location": "table", "effects": ["at(bowl,table)"]},
    ]
    info = {**INFO, "stands": {**INFO["stands"], "table": [0.0, -1.0]}}
    assert PlacementWatch(plan, info).observe(*_frame(10, 3), current=0, worked={0}) == 0
    assert PlacementWatch(plan, info).observe(*_frame(10, 3), current=None, worked={0}) == 0
    assert PlacementWatch(plan, info).observe(*_frame(10, 3), current=1, worked={0, 1}) == 1


def test_watch_allows_where_the_current_step_works_with_the_object() -> None:
    watch = PlacementWatch(PLAN, INFO)
    assert watch.observe(*_frame(10, 3), current=1, worked={0}) is None  # pouring at the stove


def test_watch_does_not_judge_an_object_put_into_another() -> None:
    watch = PlacementWatch(PLAN, INFO)
    assert watch.observe(*_frame(11, 2), current=2, worked={0, 1}) is None  # tube on its stand
    assert watch.observe(*_frame(11, 3), current=None, worked={0, 1, 2}) is None  # in the tyre


def test_watch_names_the_step_that_took_an_object_no_step_uses() -> None:
    """A substitution: the cup, which no step uses, leaves its shelf during step 0 and
    is seen on the stove later; the step it was taken in is named."""
    watch = PlacementWatch(PLAN, INFO)
    assert watch.observe(*_frame(13, 2), current=0, worked=set()) is None  # at home
    assert watch.observe(*_frame(13, 3), current=1, worked={0}) == 0
    fresh = PlacementWatch(PLAN, INFO)  # never seen at home: the current step, if any
    assert fresh.observe(*_frame(13, 3), current=None, worked={0}) is None
    assert fresh.observe(*_frame(13, 3), current=1, worked={0}) == 1


def test_watch_sustain_and_argument_errors() -> None:
    watch = PlacementWatch(PLAN, INFO, sustain=2)
    assert watch.observe(*_frame(10, 3), current=0, worked={0}) is None
    assert watch.observe(*_frame(10, 3), current=0, worked={0}) == 0
    with pytest.raises(ValueError, match="delta > 0"):
        PlacementWatch(PLAN, INFO, delta=0.0)


def test_indicator_segments_belong_to_their_entity() -> None:
    """A bowl on the stove's flame ring rests on the stove; a bowl whose fill level
    shows is the bowl (its lowest pixels may be the fill's)."""
    ids = {**IDS, "stove_flame": 20, "bowl_fill": 21}
    info = {**INFO, "segmentation_ids": ids}
    seg, depth = _frame(10, 3)
    seg[10, :] = 20  # the flame ring right under the bowl
    seg[9, 5:9] = 21  # the bowl's lowest row is its fill
    assert PlacementWatch(PLAN, info).observe(seg, depth, current=0, worked={0}) == 0
    old_names = {v: k for k, v in ids.items()}  # raw names: the flame ring is no fixture
    assert resting_on(seg, depth, 10, old_names, 0.06) == {"bowl_fill": 4}  # on itself
    assert resting_on(seg, depth, [10, 21], {**old_names, 20: "stove"}, 0.06) == {"stove": 4}


def test_watch_reads_unsigned_segmentation() -> None:
    seg, depth = _frame(10, 3)
    seg[seg < 0] = 0  # no -1 background in an unsigned frame
    watch = PlacementWatch(PLAN, INFO)
    assert watch.observe(seg.astype(np.uint32), depth, current=0, worked={0}) == 0


HANDS = {**IDS, "hand_right": 20}


def _held(obj: int, hand_gap: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``obj`` lifted in front of the stove, a hand pixel column right of it
    (``hand_gap`` m nearer the camera than the object)."""
    seg, depth = _frame(obj, 3, gap=0.5)
    seg[6:10, 9] = 20
    depth[6:10, 9] = 0.5 - hand_gap
    return seg, depth


def test_regrasp_names_a_step_whose_object_is_taken_up_again() -> None:
    """A repetition: the bowl (step 0 carries it) taken, put down, taken again."""
    info = {**INFO, "segmentation_ids": HANDS}
    watch = PlacementWatch(PLAN, info)
    assert watch.observe(*_held(10), current=0, worked=set()) is None  # taken: once
    for _ in range(2):  # put down where step 0 puts it, no hand at it
        assert watch.observe(*_frame(10, 1), current=0, worked=set()) is None
    assert watch.observe(*_frame(10, 1), current=None, worked=set()) is None  # no step seen
    assert watch.observe(*_held(10), current=0, worked={0}) == 0  # taken up again
    assert watch.observe(*_frame(10, 1), current=0, worked={0}) is None
    assert watch.observe(*_held(10), current=0, worked={0}) is None  # once per step


def test_regrasp_needs_a_touch_at_depth_a_rest_and_the_same_step() -> None:
    info = {**INFO, "segmentation_ids": HANDS}
    far = PlacementWatch(PLAN, info)  # a hand next to it in the picture, a metre nearer
    brief = PlacementWatch(PLAN, info)  # put down for one point only
    other = PlacementWatch(PLAN, info)  # another step recognised in between
    off = PlacementWatch(PLAN, info, regrasp=False)
    for watch, hand_gap, rests, between in (
        (far, 1.0, 2, 0),
        (brief, 0.0, 1, 0),
        (other, 0.0, 2, 1),
        (off, 0.0, 2, 0),
    ):
        assert watch.observe(*_held(10, hand_gap), current=0, worked=set()) is None
        for _ in range(rests):
            assert watch.observe(*_frame(10, 1), current=between, worked=set()) is None
        assert watch.observe(*_held(10, hand_gap), current=0, worked={0}) is None
    with pytest.raises(ValueError, match="rest_points"):
        PlacementWatch(PLAN, info, rest_points=0)


def test_step_oracle_catches_stirring_done_twice(scripted_episode) -> None:
    """End to end: the spatula taken up again names stir_eggs, the person stops and
    fixes it; without the frame rules (and the time rule off) nobody does."""
    script = [{"kind": "repetition", "step": "stir_eggs"}]
    kwargs = {"repeat": 0.0, "remind": 0.0, "attend": False}
    modes = ("segmentation", "depth")
    with_rule = scripted_episode("step-oracle", {**kwargs, "place": True}, script, modes)
    named = [d for d in with_rule["decisions"] if d["decision"] and d["step"] == "stir_eggs"]
    dev = next(e for e in with_rule["events"] if e["type"] == "deviation")
    assert named and named[0]["intent"] == "correct_deviation"
    assert dev["onset"] <= named[0]["t"] <= dev["deadline"]
    fixed = [e for e in with_rule["events"] if e["type"] == "deviation_resolved"]
    assert fixed and fixed[0]["assisted"]
    for off in ({"place": False}, {"place": True, "regrasp": False}):
        without = scripted_episode("step-oracle", {**kwargs, **off}, script, modes)
        assert not any(d["decision"] and d["step"] == "stir_eggs" for d in without["decisions"])


def test_regrasp_waits_for_the_placement_rule_and_sees_every_side() -> None:
    """A repetition due at the point the placement rule speaks is said at the next
    touch, not lost; a hand on any side of the object counts."""
    info = {**INFO, "segmentation_ids": HANDS}
    watch = PlacementWatch(PLAN, info)
    assert watch.observe(*_held(10), current=0, worked=set()) is None
    for _ in range(2):
        assert watch.observe(*_frame(10, 1), current=0, worked=set()) is None
    seg, depth = _held(10)
    seg[2:4, 11:15], depth[2:4, 11:15] = 13, 1.0  # the cup, no step's, rests on the stove
    seg[4:, 11:15], depth[4:, 11:15] = 3, 1.0
    assert watch.observe(seg, depth, current=0, worked={0}) == 0  # the cup: placement
    assert watch.repeated == set()
    assert watch.observe(*_held(10), current=0, worked={0}) == 0  # then the repetition
    for side in ((slice(6, 10), 4), (5, slice(5, 9)), (10, slice(5, 9))):
        one = PlacementWatch(PLAN, info)
        for held in (True, False, False, True):
            seg, depth = _held(10) if held else _frame(10, 1)
            if held:  # move the hand to another side of the bowl
                seg[6:10, 9], depth[6:10, 9] = 3, 1.0
                seg[side], depth[side] = 20, 0.5
            got = one.observe(seg, depth, current=0, worked=set())
        assert got == 0, side


def _kitchen_misplaced(run, policy: str, kwargs: dict) -> dict:
    script = [{"kind": "placement", "step": "get_bowl", "params": {"wrong": "stove"}}]
    return run(policy, kwargs, script, ("segmentation", "depth"))


def test_step_oracle_with_place_catches_a_bowl_put_on_the_stove(scripted_episode) -> None:
    """End to end: the rule reads the frames, names get_bowl in time and the person
    fixes it; without the rule nobody does."""
    with_rule = _kitchen_misplaced(
        scripted_episode, "step-oracle", {"place": True, "attend": False}
    )
    named = [d for d in with_rule["decisions"] if d["decision"] and d["step"] == "get_bowl"]
    assert named and named[0]["intent"] == "correct_deviation"
    dev = next(e for e in with_rule["events"] if e["type"] == "deviation")
    assert dev["kind"] == "placement" and dev["onset"] <= named[0]["t"] <= dev["deadline"]
    fixed = [e for e in with_rule["events"] if e["type"] == "deviation_resolved"]
    assert fixed and fixed[0]["assisted"]
    without = _kitchen_misplaced(scripted_episode, "step-oracle", {"place": False, "attend": False})
    assert not any(d["decision"] and d["step"] == "get_bowl" for d in without["decisions"])


EFFECT_INFO = {
    **INFO,
    "stands": {**INFO["stands"], "table": [0.0, -1.0], "burner": [1.0, 0.5]},
    "segmentation_ids": {**IDS, "table": 4, "burner": 5},
}
EFFECT_PLAN = [
    # the counter shares the shelf's stand point (where the bowl starts): only the counter
    {"id": "get", "objects": ["bowl"], "location": "shelf", "effects": ["at(bowl,counter)"]},
    {"id": "serve", "objects": ["bowl"], "location": "table", "effects": ["at(bowl,table)"]},
    # two steps put the tube on the stove: its resting there credits neither
    {"id": "warm", "objects": ["tube"], "location": "stove", "effects": ["at(tube,stove)"]},
    {"id": "rewarm", "objects": ["tube"], "location": "stove", "effects": ["at(tube,stove)"]},
    # the burner shares the stove's stand point: only the burner itself credits this one
    {"id": "heat", "objects": ["tube"], "location": "stove", "effects": ["at(tube,burner)"]},
]


def test_effects_credit_only_a_place_one_step_puts_an_object_away_from_its_start() -> None:
    effects = {"bowl": {"counter": 0, "table": 1, (0.0, -1.0): 1}, "tube": {"burner": 4}}
    assert PlacementWatch(EFFECT_PLAN, EFFECT_INFO, credit=True).effects == effects
    assert PlacementWatch(EFFECT_PLAN, EFFECT_INFO).effects == {}  # credit off


def test_effects_credit_a_step_once_its_effect_is_seen_for_credit_points_in_a_row() -> None:
    watch = PlacementWatch(EFFECT_PLAN, EFFECT_INFO, credit=True)
    assert watch.credits(*_frame(10, 4)) == []  # one point on the table
    assert watch.credits(*_frame(10, 4, gap=0.5)) == []  # held in front of it: run broken
    assert watch.credits(*_frame(10, 4)) == []
    assert watch.credits(*_frame(10, 4)) == [1]  # two in a row
    assert watch.credits(*_frame(10, 4)) == []  # told once a run
    assert watch.credits(*_frame(10, 2)) == [] and watch.credits(*_frame(10, 2)) == []  # shelf
    assert watch.credits(*_frame(10, 1)) == [] and watch.credits(*_frame(10, 1)) == [0]  # counter
    assert watch.credits(*_frame(11, 3)) == [] and watch.credits(*_frame(11, 3)) == []  # ambiguous
    assert watch.credits(*_frame(11, 5)) == [] and watch.credits(*_frame(11, 5)) == [4]  # burner
    with pytest.raises(ValueError, match="credit_points"):
        PlacementWatch(EFFECT_PLAN, EFFECT_INFO, credit=True, credit_points=0)


def test_a_credited_step_counts_as_worked_on_before_the_rules_speak() -> None:
    """The bowl is seen on the table (serve's effect), first while no step is
    recognised, then while wash (after serve) is, at the point the credit is due: with
    the credit nothing is said (it counts before the rules speak); without it serve is
    named as missing, since the recogniser never gave it any time."""
    from proassist.policies.stepwatch import DependencyWatch, one_hot
    from proassist.policies.watchers import respond

    plan = [{**EFFECT_PLAN[1], "after": [], "duration_mean": 4.0}]
    plan.append({"id": "wash", "objects": ["bowl"], "after": ["serve"], "duration_mean": 4.0})
    seg, depth = _frame(10, 4)
    frames = {"segmentation": seg, "depth": depth}
    said = {}
    for credit in (True, False):
        watch = DependencyWatch(plan, worked=0.5)
        places = PlacementWatch(plan, EFFECT_INFO, credit=credit)
        acts = [respond(watch, places, None, one_hot(2, k), frames) for k in (None, 1)]
        said[credit] = [a["step"] for a in acts if a["decision"]]
        assert (0 in watch.worked_on()) == credit
    assert said == {True: [], False: [0]}


def _credits_and_steps(env_id: str, seed: int) -> tuple[list, dict, dict]:
    """A silent episode without deviations: every credit (time, step), and each plan
    step's start and end times."""
    import gymnasium as gym

    from proassist.policies.base import observation_time, silent_action
    from proassist.policies.rollout import env_info

    env = gym.make(env_id, obs_modes=("segmentation", "depth"), deviation_rates={})
    obs, _ = env.reset(seed=seed)
    info = env_info(env)
    watch, told, done = PlacementWatch(info["plan"], info, credit=True), [], False
    while not done:
        now = observation_time(obs)
        told += [(now, k) for k in watch.credits(obs["segmentation"], obs["depth"])]
        obs, _, term, trunc, _ = env.step(silent_action())
        done = term or trunc
    events = env.unwrapped.episode_record(policy="silent")["events"]
    env.close()
    start = {e["index"]: e["t"] for e in events if e["type"] == "step_start"}
    end = {e["index"]: e["t"] for e in events if e["type"] == "step_end"}
    return told, start, end


@pytest.mark.parametrize(
    "env_id", ["ProAssist-Kitchen-v0", "ProAssist-Assembly-v0", "ProAssist-Maintenance-v0"]
)
def test_effects_credit_steps_the_person_really_did(env_id: str) -> None:
    """End to end, no deviations: reading the rendered frames, the credit tells steps
    (several), each once the person put its object down: after the step started and
    at most 3 s before it ended (its last motion), never mid-way."""
    told, start, end = _credits_and_steps(env_id, seed=4)
    assert len({k for _, k in told}) >= 2
    assert all(start[k] <= t and t >= end[k] - 3.0 for t, k in told), (told, start, end)
