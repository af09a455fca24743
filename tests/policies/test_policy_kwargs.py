"""The policy keyword-argument validator and the learned duplex's default checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from proassist.policies import RegistryError, make_policy
from proassist.policies.base import (
    POLICIES,
    PolicyBase,
    check_policy_kwargs,
    register_policy,
)


def _messages(name: str, kwargs: dict) -> dict[tuple, str]:
    return dict(check_policy_kwargs(name, kwargs))


def test_valid_kwargs_have_no_problems() -> None:
    assert check_policy_kwargs("periodic", {"period": 3}) == []  # an int is a number
    assert check_policy_kwargs("duplex", {"threshold": 0.3, "checkpoint": None}) == []
    assert check_policy_kwargs("oracle", {"guide_steps": False, "max_repeats": 1}) == []
    assert check_policy_kwargs("silent", {}) == []


def test_unknown_kwarg_names_the_closest() -> None:
    problems = _messages("duplex", {"treshold": 0.3})
    assert list(problems) == [("treshold",)]
    assert "policy 'duplex' got unknown keyword argument 'treshold'" in problems[("treshold",)]
    assert "did you mean 'threshold'?" in problems[("treshold",)]
    assert "(accepted: none)" in _messages("silent", {"p": 1})[("p",)]


def test_unknown_policy() -> None:
    problems = check_policy_kwargs("periodc", {"period": 1.0})
    assert problems == [((), problems[0][1])]
    assert "unknown policy 'periodc' (did you mean 'periodic'?)" in problems[0][1]


@pytest.mark.parametrize(
    ("name", "key", "value", "expected"),
    [
        ("periodic", "period", "fast", "a finite number"),
        ("periodic", "period", True, "a finite number"),
        ("periodic", "period", float("nan"), "a finite number"),
        ("duplex", "clip_len", 2.5, "an integer"),
        ("oracle", "guide_steps", 1, "true or false"),
        ("duplex", "checkpoint", 3, "a string or null"),
        ("blind", "policy_kwargs", [1], "a mapping or null"),
    ],
)
def test_values_are_checked_against_annotations(
    name: str, key: str, value: object, expected: str
) -> None:
    message = _messages(name, {key: value})[(key,)]
    assert message == f"policy {name!r} argument {key!r} must be {expected}, got {value!r}"
    assert check_policy_kwargs(name, {key: value}, types=False) == []


def test_required_kwargs_are_reported() -> None:
    if "test-needs-arg" not in POLICIES:

        @register_policy("test-needs-arg")
        class NeedsArg(PolicyBase):
            def __init__(self, level: int) -> None:
                super().__init__()
                self.level = level

    assert _messages("test-needs-arg", {}) == {
        ("level",): "policy 'test-needs-arg' requires keyword argument 'level'"
    }
    assert check_policy_kwargs("test-needs-arg", {}, complete=False) == []
    with pytest.raises(RegistryError, match="requires keyword argument 'level'"):
        make_policy("test-needs-arg")
    assert make_policy("test-needs-arg", level=2).level == 2


def test_make_policy_uses_the_validator_but_not_its_type_checks() -> None:
    with pytest.raises(RegistryError, match=r"'perod' \(did you mean 'period'\?\)"):
        make_policy("periodic", perod=3.0)
    assert make_policy("periodic", period=np.float32(2.0)).period == 2.0


def test_learned_duplex_defaults_to_the_shipped_checkpoint() -> None:
    pytest.importorskip("torch")
    from proassist.policies.learned.assets import default_checkpoint
    from proassist.policies.learned.interaction import LearnedInteractionModel

    if default_checkpoint() is None:
        pytest.skip("the shipped checkpoint is not in this checkout")
    policy = make_policy("duplex", interaction="learned")
    assert isinstance(policy.interaction, LearnedInteractionModel)
    shipped = make_policy("duplex", interaction="learned", checkpoint=str(default_checkpoint()))
    assert policy.interaction.logit_bias == shipped.interaction.logit_bias


def test_learned_duplex_missing_checkpoint(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    with pytest.raises(FileNotFoundError, match="no_model.pt"):
        make_policy("duplex", interaction="learned", checkpoint=str(tmp_path / "no_model.pt"))
