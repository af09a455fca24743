"""Tests of the policy protocol, action helpers and registry."""

from __future__ import annotations

import subprocess
import sys

import pytest

from proassist.policies import (
    NO_STEP,
    Policy,
    RegistryError,
    list_policies,
    make_action,
    make_policy,
    policy_kwargs,
    silent_action,
    step_index,
)
from proassist.sim.messages import INTENTS


def test_baselines_registered_and_follow_protocol() -> None:
    names = list_policies()
    for name in ("silent", "random", "periodic", "plan-timer"):
        assert name in names
        policy = make_policy(name)
        assert isinstance(policy, Policy)
        assert policy.privileged is False


def test_unknown_name_suggests_close_match() -> None:
    with pytest.raises(RegistryError, match="did you mean 'periodic'"):
        make_policy("periodc")


def test_unknown_kwarg_lists_accepted() -> None:
    with pytest.raises(RegistryError, match=r"did you mean 'period'.*accepted: period"):
        make_policy("periodic", perod=3.0)


def test_policy_kwargs_introspects_type_default_doc() -> None:
    kwargs = policy_kwargs("random")
    typ, default, doc = kwargs["p"]
    assert typ is float and default == 0.1
    assert "Probability" in doc
    assert policy_kwargs("silent") == {}


def test_make_action_and_silent() -> None:
    assert silent_action() == {"decision": 0, "intent": 0, "step": NO_STEP, "text": ""}
    action = make_action("warn", 2, "Careful\n now")
    assert action == {
        "decision": 1,
        "intent": INTENTS.index("warn"),
        "step": 2,
        "text": "Careful now",
    }
    assert make_action(0)["step"] == NO_STEP
    with pytest.raises(ValueError, match="unknown intent"):
        make_action("shout")
    with pytest.raises(ValueError, match="outside"):
        make_action("warn", NO_STEP + 1)


def test_step_index(env_info: dict) -> None:
    assert step_index(env_info["plan"], "s2") == 2
    assert step_index(env_info["plan"], None) == NO_STEP
    assert step_index(env_info["plan"], "nope") == NO_STEP


def test_reset_rejects_bad_plan() -> None:
    with pytest.raises(ValueError, match="list of step dicts"):
        make_policy("silent").reset(env_info={"plan": ["a"]}, seed=0)


def test_import_is_light() -> None:
    code = "import sys, proassist.policies; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
