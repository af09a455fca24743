"""Tests of the symbolic world and its planner (sim/world.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_testkit import TASKS, scenario

from proassist.scenarios.model import Duration, Procedure, Step
from proassist.sim.world import WorldState, split_effects


def _proc() -> Procedure:
    """A small procedure: a -> b, optional o supplies what c needs, goal needs c."""
    steps = (
        Step("a", "Do a.", effects=("pa(x)",), duration=Duration(2.0)),
        Step("b", "Do b.", after=("a",), requires=("pa(x)",), effects=("pb(x)", "not pa(x)")),
        Step("o", "Optional o.", optional=True, effects=("po(x)",), duration=Duration(3.0)),
        Step("o2", "Pricier o2.", optional=True, effects=("po(x)",), duration=Duration(9.0)),
        Step("c", "Do c.", optional=True, requires=("po(x)",), effects=("pc(x)",)),
    )
    return Procedure("t", "kitchen", "T", "goal", steps, (), ("init(x)",), ("pb(x)", "pc(x)"))


def test_split_effects() -> None:
    assert split_effects(["a(x)", "not b(x)"]) == (("a(x)",), ("b(x)",))


def test_can_apply_lists_unmet_after_and_requires() -> None:
    w = WorldState(_proc())
    assert w.can_apply("a") == []
    assert w.can_apply("b") == ["a", "pa(x)"]
    assert w.can_apply("c") == ["po(x)"]


def test_apply_adds_and_removes_and_force() -> None:
    w = WorldState(_proc())
    with pytest.raises(ValueError, match="unmet"):
        w.apply("b")
    assert w.apply("a") == []
    assert "pa(x)" in w.predicates and "a" in w.done
    w.apply("b")
    assert "pa(x)" not in w.predicates and "pb(x)" in w.predicates
    forced = WorldState(_proc())
    assert forced.apply("c", force=True) == ["po(x)"]
    assert "pc(x)" in forced.predicates


def test_holds_not_and_done() -> None:
    w = WorldState(_proc())
    w.apply("a")
    assert w.holds("done(a)") and not w.holds("done(b)")
    assert w.holds("not pb(x)") and w.holds_all(["pa(x)", "init(x)"])


def test_available_steps_and_optional_rule() -> None:
    w = WorldState(_proc())
    assert w.available_steps() == ["a", "o", "o2"]
    w.apply("a")
    assert "b" in w.available_steps()


def test_shortest_completion_adds_cheapest_needed_optional() -> None:
    w = WorldState(_proc())
    plan = w.shortest_completion()
    assert plan == ["a", "b", "o", "c"]  # o (3 s) preferred over o2 (9 s); o2 not needed
    assert w.goal_reachable()
    for sid in plan:
        w.apply(sid)
    assert w.goal_reached() and w.shortest_completion() == []


def test_goal_unreachable_when_a_predicate_is_gone() -> None:
    steps = (
        Step("a", "a", effects=("p(x)",)),
        Step("b", "b", after=("a",), requires=("q(x)",), effects=("g(x)",)),
    )
    proc = Procedure("u", "kitchen", "U", "g", steps, (), (), ("g(x)",))
    w = WorldState(proc)
    assert w.shortest_completion() is None and not w.goal_reachable()


def test_copy_is_independent_and_snapshot_frozen() -> None:
    w = WorldState(_proc())
    c = w.copy()
    c.apply("a")
    assert "pa(x)" not in w.predicates and "a" not in w.done
    snap = c.snapshot()
    assert isinstance(snap, frozenset) and "done(a)" in snap and "pa(x)" in snap


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(TASKS), picks=st.lists(st.integers(0, 50), max_size=40))
def test_any_valid_prefix_keeps_goal_reachable(name: str, picks: list[int]) -> None:
    """Following available steps never makes the goal unreachable; the plan completes it."""
    proc = scenario(name).procedure
    w = WorldState(proc)
    for k in picks:
        avail = w.available_steps()
        if not avail:
            break
        w.apply(avail[k % len(avail)])
    plan = w.shortest_completion()
    assert plan is not None
    required = {s.id for s in proc.steps if not s.optional}
    assert required - set(w.done) <= set(plan)
    for sid in plan:
        assert w.can_apply(sid) == [], (sid, plan)
        w.apply(sid)
    assert w.goal_reached()
