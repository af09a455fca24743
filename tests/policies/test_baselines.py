"""Tests of the silent, random, periodic and plan-timer baselines."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proassist.policies import make_policy


def _run(policy, env_info: dict, seconds: float, seed: int = 0) -> list[tuple[float, dict]]:
    policy.reset(env_info=env_info, seed=seed)
    actions = []
    for k in range(int(seconds / env_info["dt"])):
        t = k * env_info["dt"]
        obs = {"time": np.array([t], dtype=np.float32), "utterance": "", "goal": env_info["goal"]}
        actions.append((t, policy.act(obs, {})))
    return actions


def _spoken(actions):
    return [(t, a) for t, a in actions if a["decision"] == 1]


def test_silent_never_speaks(env_info: dict) -> None:
    assert _spoken(_run(make_policy("silent"), env_info, 60)) == []


def test_random_rate_and_seeding(env_info: dict) -> None:
    a = _run(make_policy("random", p=0.3), env_info, 500, seed=3)
    b = _run(make_policy("random", p=0.3), env_info, 500, seed=3)
    c = _run(make_policy("random", p=0.3), env_info, 500, seed=4)
    assert a == b and a != c
    rate = len(_spoken(a)) / len(a)
    assert 0.24 < rate < 0.36
    steps = {act["step"] for _, act in _spoken(a)}
    assert steps == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="probability"):
        make_policy("random", p=1.5)


def test_periodic_walks_plan_every_period(env_info: dict) -> None:
    spoken = _spoken(_run(make_policy("periodic", period=7.0), env_info, 60))
    assert [t for t, _ in spoken] == [0.0, 7.0, 14.0, 21.0]
    assert [a["step"] for _, a in spoken] == [0, 1, 2, 3]
    assert all(a["intent"] == 0 and "step number" in a["text"] for _, a in spoken)


@settings(max_examples=25, deadline=None)
@given(
    durations=st.lists(st.floats(0.0, 20.0), min_size=1, max_size=8),
    speed=st.floats(0.5, 3.0),
)
def test_plan_timer_instructs_at_expected_completions(
    make_info, durations: list[float], speed: float
) -> None:
    info = make_info(len(durations))
    for step, d in zip(info["plan"], durations, strict=True):
        step["duration_mean"] = d
    spoken = _spoken(_run(make_policy("plan-timer", speed=speed), info, sum(durations) / speed + 2))
    steps = [a["step"] for _, a in spoken]
    assert steps == sorted(set(steps)) and steps[-1] == len(durations) - 1
    due = np.concatenate([[0.0], np.cumsum(durations)[:-1]]) / speed
    for t, action in spoken:
        assert due[action["step"]] <= t + 1e-6 < due[action["step"]] + info["dt"] + 1e-6


def test_plan_timer_skip_optional(env_info: dict) -> None:
    env_info["plan"][1]["optional"] = True
    spoken = _spoken(_run(make_policy("plan-timer", skip_optional=True), env_info, 30))
    assert [a["step"] for _, a in spoken] == [0, 2, 3]
