"""The grasp rule (policies/graspwatch.py): a step's own object in the hands early."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import proassist.envs  # noqa: F401  (registers the ids)
from proassist.policies import make_policy
from proassist.policies.graspwatch import GraspWatch
from proassist.policies.rollout import env_info
from proassist.policies.stepwatch import DependencyWatch, one_hot

PLAN = [
    {"id": "a", "after": [], "objects": ["cup"], "duration_mean": 2.0},
    {"id": "b", "after": ["a"], "objects": ["tea"], "duration_mean": 2.0},
    {"id": "c", "after": ["b"], "objects": ["spoon", "cup"], "tools": ["kettle"]},
]
HELD = {"spoon": (40, 20, 6)}  # pixels: in the frame, in the centre, within reach of a hand


def _watches(theta: float = 0.1, hold: int = 1) -> tuple[DependencyWatch, GraspWatch]:
    watch = DependencyWatch(PLAN, ready=True)
    watch.observe(one_hot(3, 0))  # a worked on (worked=0: one point)
    return watch, GraspWatch(PLAN, theta=theta, hold=hold)


def _probs(c: float) -> np.ndarray:
    return np.array([1.0 - c, 0.0, c, 0.0])  # the recogniser still says a


def test_an_object_of_a_step_not_due_names_its_missing_step_once() -> None:
    watch, grasp = _watches()
    assert grasp.uses == {"cup": [0, 2], "tea": [1], "spoon": [2], "kettle": [2]}
    assert grasp.observe(HELD, _probs(0.3), watch) == 1  # c's spoon in hand, b never worked on
    assert watch.said == {(2, 1): watch.t} and watch.named == 1
    assert grasp.observe(HELD, _probs(0.3), watch) is None  # once per pair
    assert watch.observe(one_hot(3, 2)) is None  # the dependency rule shares the pair


def test_it_needs_the_recogniser_to_give_the_step_some_probability() -> None:
    watch, grasp = _watches(theta=0.2)
    assert grasp.observe(HELD, _probs(0.1), watch) is None
    assert grasp.observe(HELD, _probs(0.2), watch) == 1


def test_an_object_in_turn_or_seen_only_away_from_the_hands_is_left_alone() -> None:
    watch, grasp = _watches()
    assert grasp.observe({"spoon": (40, 20, 0)}, _probs(0.5), watch) is None  # not in reach
    assert grasp.observe({"tea": (40, 20, 6)}, _probs(0.5), watch) is None  # b is due
    assert grasp.observe({"cup": (40, 20, 6)}, _probs(0.5), watch) is None  # a used the cup
    assert grasp.observe({**HELD, "tea": (9, 0, 2)}, _probs(0.5), watch) is None  # b's tea too
    watch.observe(one_hot(3, 1))  # b worked on: c is due now
    assert grasp.observe(HELD, _probs(0.5), watch) is None


def test_hold_needs_points_in_a_row_and_quiet_is_kept() -> None:
    watch, grasp = _watches(hold=2)
    assert grasp.observe(HELD, _probs(0.5), watch) is None
    assert grasp.observe({}, _probs(0.5), watch) is None  # the streak breaks
    assert grasp.observe(HELD, _probs(0.5), watch) is None
    watch.mute_until = watch.t + 1.0
    assert grasp.observe(HELD, _probs(0.5), watch) is None  # muted ("Please stop.")
    watch.mute_until = 0.0
    assert grasp.observe(HELD, _probs(0.5), watch) == 1


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="theta"):
        GraspWatch(PLAN, theta=1.5)
    with pytest.raises(ValueError, match="hold"):
        GraspWatch(PLAN, hold=0)


def test_stepwatch_with_the_grasp_rule_names_an_after_step(tiny_checkpoint) -> None:
    """In an episode, every correction of the grasp or dependency rule names a required
    step of a plan step (the grasp rule's from the recogniser's pixel counts)."""
    policy = make_policy("stepwatch", checkpoint=tiny_checkpoint, place=False, grasp=True)
    assert policy.grasp and policy.grasp_theta == 0.1
    env = gym.make("ProAssist-Kitchen-v0", obs_modes=policy.obs_modes, width=64, height=64)
    obs, _ = env.reset(seed=7)
    policy.reset(env_info=env_info(env), seed=7)
    plan, done = env_info(env)["plan"], False
    needed = {a for s in plan for a in s.get("after") or ()}
    while not done:
        action = policy.act(obs, None)
        assert not action["decision"] or plan[int(action["step"])]["id"] in needed
        obs, _, term, trunc, _ = env.step(action)
        done = term or trunc
    assert policy.recognizer.counts and policy.grasps is not None
    env.close()
