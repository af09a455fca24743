"""The one env-argument validator: the env, sweep --check and the CLI agree."""

from __future__ import annotations

import gymnasium as gym
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import proassist.envs  # noqa: F401
from proassist.envs.arguments import ENV_ARGUMENTS, check_env_kwargs, check_env_setting
from proassist.envs.proassist_env import ProAssistEnv


def test_every_constructor_argument_has_a_check() -> None:
    import inspect

    params = [p for p in inspect.signature(ProAssistEnv.__init__).parameters if p != "self"]
    assert sorted(params) == sorted(ENV_ARGUMENTS)


@pytest.mark.parametrize(
    ("kwargs", "path", "needle"),
    [
        ({"width": 8}, ("width",), "[16, 4096]"),
        ({"obs_modes": ["rgb", "rgbd"]}, ("obs_modes", 1), "did you mean 'rgb'"),
        ({"deviation_rates": {"omision": 0.5}}, ("deviation_rates", "omision"), "'omission'"),
        ({"deviation_rates": {"order": 1.5}}, ("deviation_rates", "order"), "[0.0, 1.0]"),
        ({"deviation_kinds": ["swap"]}, ("deviation_kinds", 0), "unknown deviation kind"),
        ({"deviation_script": [{"kind": "omision", "step": "x"}]}, ("deviation_script", 0, "kind"), "'omission'"),
        ({"person": {"complience": 0.5}}, ("person", "complience"), "did you mean 'compliance'"),
        ({"person": "carefull"}, ("person",), "did you mean 'careful'"),
        ({"person": {"base": "stubborn_"}}, ("person", "base"), "did you mean 'stubborn'"),
        ({"reward_weights": {"sucess": 1.0}}, ("reward_weights", "sucess"), "'success'"),
        ({"decision_dt": 0}, ("decision_dt",), "(0.0, inf]"),
        ({"widht": 64}, ("widht",), "did you mean 'width'"),
    ],
)  # fmt: skip
def test_problems_name_the_field(kwargs: dict, path: tuple, needle: str) -> None:
    problems = check_env_kwargs(kwargs)
    assert [p for p, m in problems if p == path and needle in m], problems


def test_dotted_settings_are_checked_as_the_mapping_they_set() -> None:
    assert check_env_setting(("person", "compliance"), 0.5) == []
    assert "did you mean 'order'" in check_env_setting(("deviation_rates", "ordr"), 0.1)[0][1]


def test_constructor_raises_every_problem_at_once() -> None:
    with pytest.raises(ValueError) as info:
        gym.make("ProAssist-Kitchen-v0", width=8, deviation_kinds=["swap"], render=False)
    assert "width" in str(info.value) and "swap" in str(info.value)


_VALUES = {
    "width": st.sampled_from([8, 15, 16, 64, 5000, 32.5, True]),
    "decision_dt": st.sampled_from([0, -1, 0.25, 0.5, 1.0, float("nan")]),
    "deviation_rates": st.dictionaries(
        st.sampled_from(["omission", "order", "omision", "safety"]),
        st.sampled_from([0.0, 0.3, 1.0, 1.5, -0.1]),
        max_size=2,
    ),
    "deviation_kinds": st.lists(st.sampled_from(["omission", "hesitation", "swap"]), max_size=2),
    "person": st.sampled_from([None, "careful", "carefull", {"compliance": 0.5}, {"x": 1}]),
    "max_duration": st.sampled_from([None, 5.0, 0, -3]),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({}, optional=_VALUES))
def test_validator_accepts_exactly_what_gym_make_accepts(kwargs: dict) -> None:
    valid = not check_env_kwargs(kwargs)
    try:
        env = gym.make("ProAssist-Kitchen-v0", render=False, **kwargs)
        env.reset(seed=0)
        env.close()
        made = True
    except ValueError:
        made = False
    assert valid == made, (kwargs, check_env_kwargs(kwargs))
