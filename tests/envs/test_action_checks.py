"""Action checking against the plan, and out-of-range integers."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import proassist.envs  # noqa: F401
from proassist.envs.spaces import NO_STEP, ActionError, action_space, check_action
from proassist.policies.base import make_action


@pytest.fixture
def env() -> gym.Env:
    env = gym.make("ProAssist-Kitchen-v0", render=False, task="kitchen_tea")
    env.reset(seed=0)
    yield env
    env.close()


def test_step_past_the_plan_is_an_action_error(env: gym.Env) -> None:
    n = len(env.unwrapped.plan)
    assert n < 20 < NO_STEP
    action = {"decision": 1, "intent": 0, "step": 20, "text": ""}
    with pytest.raises(ActionError, match=rf"plan has {n} steps.*\[0, {n - 1}\].*{NO_STEP}"):
        env.step(action)
    assert env.unwrapped.episode_record()["decisions"] == []  # nothing was recorded


@pytest.mark.parametrize("step", [0, "last", NO_STEP])
def test_plan_steps_and_no_step_are_accepted(env: gym.Env, step: int | str) -> None:
    index = len(env.unwrapped.plan) - 1 if step == "last" else step
    env.step({"decision": 1, "intent": 0, "step": index, "text": ""})


def test_silent_action_ignores_step(env: gym.Env) -> None:
    env.step({"decision": 0, "intent": 0, "step": 20, "text": ""})


def test_non_strict_env_treats_a_step_past_the_plan_as_none(env: gym.Env) -> None:
    env.unwrapped.strict_steps = False
    env.step({"decision": 1, "intent": 0, "step": 20, "text": ""})
    assert env.unwrapped.episode_record()["decisions"][0]["step"] is None


@pytest.mark.parametrize(
    "value",
    [2**70, -(2**70), 2**63, np.uint64(2**64 - 1), np.array(2**70, dtype=object), 1e30],
)
@pytest.mark.parametrize("field", ["decision", "intent", "step"])
def test_huge_ints_are_action_errors(field: str, value: object) -> None:
    action = {"decision": 1, field: value}
    with pytest.raises(ActionError, match=field):
        check_action(action, action_space())


def test_huge_decision_in_the_env_is_an_action_error(env: gym.Env) -> None:
    with pytest.raises(ActionError, match="decision"):
        env.step({"decision": 2**70})


def test_make_action_text_is_accepted_by_the_env(env: gym.Env) -> None:
    action = make_action("warn", None, "Wait \u2014 caf\u00e9\u2026")
    assert action["text"] == "Wait - cafe..."
    assert env.action_space.contains(action)
    env.step(action)
