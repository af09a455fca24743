"""A plan step passed over (policies/skipwatch.py) and its place in DependencyWatch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proassist.policies.skipwatch import SkipWatch
from proassist.policies.step_oracle import StepOraclePolicy
from proassist.policies.stepwatch import WATCH_DEFAULTS, WATCH_SETTINGS, DependencyWatch, one_hot
from proassist.sim.messages import INTENTS

#: Four steps with no order between them, 2 s each (4 points at dt 0.5).
PLAN = [{"id": s, "after": [], "optional": False, "duration_mean": 2.0} for s in "abcd"]


def _walk(watch: DependencyWatch, steps: list[int | None], plan: list = PLAN) -> list:
    return [watch.observe(one_hot(len(plan), s)) for s in steps]


def _plan(**changes: dict) -> list[dict]:
    """PLAN with some steps' fields changed (step id -> fields)."""
    return [{**s, **changes.get(s["id"], {})} for s in PLAN]


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
    optional = _plan(c={"optional": True})  # c optional: not a next required step
    assert _walk(DependencyWatch(optional, skip=0.2), [0, 2, 2], optional) == [None] * 3
    later = _plan(b={"after": ["d"]})  # b needs d first: not doable yet
    assert _walk(DependencyWatch(later, skip=0.2), [0, 2, 2], later) == [None] * 3


def test_skip_is_the_share_of_its_duration_under_which_a_step_was_never_begun() -> None:
    seq = [0, 0, 0, 0, 1, 2, 2]  # a for 2 s (worked on), b for 0.5 s (not: under 1 s), c
    begun = DependencyWatch(PLAN, worked=0.5, skip=0.2)  # 0.5 s >= 0.2 * 2 s: begun
    assert _walk(begun, seq) == [None] * 7
    never = DependencyWatch(PLAN, worked=0.5, skip=0.3)  # 0.5 s < 0.3 * 2 s: never begun
    assert _walk(never, seq) == [None] * 5 + [1, None]


def test_a_step_another_rule_named_is_not_named_again() -> None:
    plan = _plan(c={"after": ["b"]})  # c needs b: "do b first" from the dependency rule
    watch = DependencyWatch(plan, skip=0.2)
    assert _walk(watch, [0, 2, 2, 2], plan) == [None, 1, None, None]
    assert watch.told == {1} and watch.said == {(2, 1): 1.0}  # named once, by the dependency rule
    hazard = _plan(b={"safety_critical": True})  # warned of as a safety step, once
    watch = DependencyWatch(hazard, skip=0.2, hazard=True)
    assert _walk(watch, [0, 2], hazard) == [None, 1] and watch.intent == "warn"
    assert _walk(watch, [2, 2], hazard) == [None, None]


def test_a_wait_cut_short_is_not_named_again_as_passed_over() -> None:
    plan = _plan(b={"min_time": 10.0, "duration_mean": 20.0})
    watch = DependencyWatch(plan, worked=0.5, wait=0.9, skip=0.5)
    said = _walk(watch, [0] * 4 + [1] * 7 + [2] * 4, plan)  # b left after 3.5 s of 10
    assert said == [None] * 11 + [1, None, None, None]


def test_a_step_with_no_expected_duration_counts_as_begun_once_seen() -> None:
    plan = [{k: v for k, v in s.items() if k != "duration_mean"} for s in PLAN]
    assert _walk(DependencyWatch(plan, skip=0.2), [0, 2], plan) == [None, 1]


def test_a_step_held_back_is_not_named() -> None:
    watch = DependencyWatch(PLAN, skip=0.2)
    watch.held[1] = 2.0  # the person called b fine: held back until 2 s
    assert _walk(watch, [0, 2, 2, 2, 2]) == [None, None, None, 1, None]  # named at 2 s


def test_skip_is_a_setting() -> None:
    with pytest.raises(ValueError, match="skip >= 0"):
        SkipWatch(PLAN, -0.1)
    assert "skip" in WATCH_SETTINGS and WATCH_DEFAULTS["skip"] == 0.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-1, max_value=3), max_size=40))
def test_skipwatch_names_each_step_at_most_once_and_only_never_begun_ones(seq: list) -> None:
    watch = DependencyWatch(PLAN, worked=0.5, skip=0.2)  # no order: only the skip rule speaks
    named = []
    for s in seq:
        before = watch.mass.copy()
        k = watch.observe(one_hot(len(PLAN), None if s < 0 else s))
        if k is not None:
            assert k not in named and before[k] < 0.2 * 2.0 and k == s - 1
            named.append(k)
    assert set(named) == watch.told


def test_step_oracle_names_a_step_passed_over() -> None:
    policy = StepOraclePolicy(place=False, attend=False, skip=0.2)
    policy.reset(env_info={"plan": PLAN, "dt": 0.5}, seed=0)
    obs = {"time": np.zeros(1), "utterance": ""}
    actions = [policy.act(obs, {"current_plan_step": s}) for s in ("a", "a", "c")]
    assert [a["decision"] for a in actions] == [0, 0, 1]
    assert INTENTS[int(actions[2]["intent"])] == "correct_deviation"
    assert actions[2]["step"] == 1
