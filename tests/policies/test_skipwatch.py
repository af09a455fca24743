"""A plan step passed over (policies/skipwatch.py) and its place in DependencyWatch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proassist.policies.skipwatch import SkipWatch
from proassist.policies.step_oracle import StepOraclePolicy
from proassist.policies.stepwatch import WATCH_SETTINGS, DependencyWatch, one_hot
from proassist.sim.messages import INTENTS
from proassist.sim.person.reactions import DONE_TEXT

#: Four steps with no order between them, 2 s each (4 points at dt 0.5).
PLAN = [{"id": s, "after": [], "optional": False, "duration_mean": 2.0} for s in "abcd"]


def _walk(watch: DependencyWatch, steps: list[int | None], plan: list = PLAN) -> list:
    return [watch.observe(one_hot(len(plan), s)) for s in steps]


def test_a_step_passed_over_is_named_once_when_the_next_one_starts() -> None:
    watch = DependencyWatch(PLAN, skip=0.2)
    said = _walk(watch, [0, 0, 0, 2, 2, 2])  # a, then c: b never begun
    assert said == [None, None, None, 1, None, None]
    assert watch.intent == "correct_deviation"
    off = DependencyWatch(PLAN)  # skip 0: no dependency broken, nothing said
    assert _walk(off, [0, 0, 0, 2, 2, 2]) == [None] * 6


def test_what_is_not_a_step_passed_over() -> None:
    in_order = DependencyWatch(PLAN, skip=0.2)
    assert _walk(in_order, [0, 0, 1, 1, 2, 2, 3]) == [None] * 7
    far = DependencyWatch(PLAN, skip=0.2)  # two steps ahead: more likely a misrecognition
    assert _walk(far, [0, 0, 3, 3]) == [None] * 4
    begun = DependencyWatch(PLAN, skip=0.2)  # 0.5 s of b (>= 0.2 * 2 s): begun, not skipped
    assert _walk(begun, [0, 0, 1, 2, 2]) == [None] * 5
    optional = [dict(s, optional=(s["id"] == "b")) for s in PLAN]
    assert _walk(DependencyWatch(optional, skip=0.2), [0, 0, 2, 2], optional) == [None] * 4


def test_a_step_refused_as_done_counts_as_worked_on() -> None:
    watch = DependencyWatch(PLAN, skip=0.2)
    assert _walk(watch, [0, 2]) == [None, 1]
    watch.hear(DONE_TEXT)
    assert 1 in watch.worked_on()
    assert _walk(watch, [3]) == [None]  # d after c: b is not named again


def test_the_dependency_rule_speaks_first() -> None:
    plan = [dict(s) for s in PLAN]
    plan[2]["after"] = ["b"]  # c needs b: "do b first" comes from the dependency rule
    watch = DependencyWatch(plan, skip=0.2)
    assert _walk(watch, [0, 2], plan) == [None, 1]
    assert watch.skips.named == set()  # the skip rule never fired


def test_skipwatch_checks_its_setting_and_asks_whether_a_step_may_be_named() -> None:
    with pytest.raises(ValueError, match="skip >= 0"):
        SkipWatch(PLAN, -0.1)
    watch = SkipWatch(PLAN, 0.2)
    mass = np.array([2.0, 0.0, 0.0, 0.0])
    assert watch.push(2, mass, {0}, lambda k: False) is None  # not doable, warned or held
    assert watch.push(2, mass, {0}, lambda k: True) == 1
    assert watch.push(2, mass, {0}, lambda k: True) is None  # once
    assert "skip" in WATCH_SETTINGS


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-1, max_value=3), max_size=40))
def test_skipwatch_names_each_step_at_most_once_and_only_never_begun_ones(seq: list) -> None:
    watch = DependencyWatch(PLAN, skip=0.2)  # no order in PLAN: only the skip rule speaks
    named = []
    for s in seq:
        before = watch.mass.copy()
        k = watch.observe(one_hot(len(PLAN), None if s < 0 else s))
        if k is not None:
            assert k not in named and before[k] < 0.2 * 2.0 and k < s
            named.append(k)
    assert set(named) == watch.skips.named


def test_step_oracle_names_a_step_passed_over() -> None:
    policy = StepOraclePolicy(place=False, attend=False, skip=0.2)
    policy.reset(env_info={"plan": PLAN, "dt": 0.5}, seed=0)
    obs = {"time": np.zeros(1), "utterance": ""}
    actions = [policy.act(obs, {"current_plan_step": s}) for s in ("a", "a", "c")]
    assert [a["decision"] for a in actions] == [0, 0, 1]
    assert INTENTS[int(actions[2]["intent"])] == "correct_deviation"
    assert actions[2]["step"] == 1
