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
    {"id": "d", "after": ["a"], "objects": ["sugar"]},
    {"id": "e", "after": ["c"], "objects": ["sugar", "lid"]},
]
HELD = {"spoon": (40, 20, 6)}  # pixels: in the frame, in the centre, within reach of a hand


def _watches(theta: float = 0.1, points: int = 1) -> tuple[DependencyWatch, GraspWatch]:
    watch = DependencyWatch(PLAN, ready=True)
    watch.observe(one_hot(5, 0))  # a worked on (worked=0: one point)
    return watch, GraspWatch(PLAN, theta=theta, points=points)


def _probs(step: int = 2, p: float = 0.3) -> np.ndarray:
    out = np.zeros(6)
    out[0], out[step] = 1.0 - p, p  # the recogniser still says a
    return out


def test_an_object_of_a_step_not_due_names_its_missing_step_once() -> None:
    watch, grasp = _watches()
    assert grasp.uses["cup"] == [0, 2] and grasp.uses["kettle"] == [2]
    assert grasp.observe(HELD, _probs(), watch) == 1  # c's spoon in hand, b never worked on
    assert watch.said == {(2, 1): watch.t} and watch.named == 1
    assert grasp.observe(HELD, _probs(), watch) is None  # once per pair
    assert watch.observe(one_hot(5, 2)) is None  # the dependency rule shares the pair


def test_it_needs_the_recogniser_to_give_the_step_some_probability() -> None:
    watch, grasp = _watches(theta=0.2)
    assert grasp.observe(HELD, _probs(p=0.1), watch) is None
    assert grasp.observe(HELD, _probs(p=0.2), watch) == 1


def test_objects_in_turn_away_from_the_hands_or_shared_with_the_step_to_name() -> None:
    watch, grasp = _watches()
    assert grasp.observe({"spoon": (40, 20, 0)}, _probs(), watch) is None  # not in reach
    assert grasp.observe({"cup": (40, 20, 6)}, _probs(), watch) is None  # a used the cup
    # sugar: e is not due (c missing), but d, which could be done now, uses it too
    assert grasp.out_of_turn("sugar", watch, watch.worked_on()) == []
    assert grasp.observe({"sugar": (9, 0, 3)}, _probs(4, 0.9), watch) is None
    # the lid is e's alone: e needs c, c needs b (missing), so c is not ready: nothing
    assert grasp.observe({"lid": (9, 0, 3)}, _probs(4, 0.9), watch) is None
    # b's tea in the hands too: the person may be doing b, so b is not named
    assert grasp.observe({**HELD, "tea": (9, 0, 2)}, _probs(), watch) is None
    assert grasp.observe(HELD, _probs(), watch) == 1
    watch.observe(one_hot(5, 1))  # b worked on: c is due now
    assert grasp.out_of_turn("spoon", watch, watch.worked_on()) == []


def test_points_in_a_row_quiet_and_mute() -> None:
    watch, grasp = _watches(points=2)
    assert grasp.observe(HELD, _probs(), watch) is None
    assert grasp.observe({}, _probs(), watch) is None  # the streak breaks
    assert grasp.observe(HELD, _probs(), watch, quiet=True) is None  # another rule speaks
    assert grasp.streak["spoon"] == 1  # but the frame still counts
    watch.mute_until = watch.t + 1.0
    assert grasp.observe(HELD, _probs(), watch) is None  # muted ("Please stop.")
    watch.mute_until = 0.0
    assert grasp.observe(HELD, _probs(), watch) == 1


def test_bad_settings_and_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="theta"):
        GraspWatch(PLAN, theta=1.5)
    with pytest.raises(ValueError, match="points"):
        GraspWatch(PLAN, points=0)
    watch, grasp = _watches()
    with pytest.raises(ValueError, match="expected 6 probabilities"):
        grasp.observe(HELD, np.ones(3), watch)
    with pytest.raises(ValueError, match="grasp_theta"):
        make_policy("stepwatch", grasp_theta=2.0)


def test_stepwatch_feeds_the_grasp_rule_its_pixel_counts(tiny_checkpoint) -> None:
    """In an episode the rule sees the recogniser's pixel counts at every point, objects
    in the hands among them, and every correction names a required step."""
    policy = make_policy("stepwatch", checkpoint=tiny_checkpoint, place=False, grasp=True)
    assert policy.grasp and policy.grasp_theta == 0.1
    env = gym.make("ProAssist-Kitchen-v0", obs_modes=policy.obs_modes, width=64, height=64)
    obs, _ = env.reset(seed=7)
    policy.reset(env_info=env_info(env), seed=7)
    seen: list[dict] = []
    observe = policy.grasps.observe
    policy.grasps.observe = lambda counts, *a, **k: seen.append(counts) or observe(counts, *a, **k)
    plan, done, steps = env_info(env)["plan"], False, 0
    needed = {a for s in plan for a in s.get("after") or ()}
    while not done:
        action = policy.act(obs, None)
        assert not action["decision"] or plan[int(action["step"])]["id"] in needed
        obs, _, term, trunc, _ = env.step(action)
        done, steps = term or trunc, steps + 1
    assert len(seen) == steps  # every point
    assert any(v[2] > 0 for c in seen for o, v in c.items() if o in policy.grasps.uses)
    env.close()
