"""Tests of the task-graph planner and the planner registry."""

from __future__ import annotations

import numpy as np
import pytest

from proassist.policies.duplex.components import Decision, PlanContext, Planner
from proassist.policies.duplex.planners import TaskGraphPlanner, list_planners, make_planner
from proassist.scenarios.registry import RegistryError


def _ctx(env_info: dict, **kw) -> PlanContext:
    return PlanContext(goal=env_info["goal"], procedure=env_info["plan"], **kw)


def test_registry() -> None:
    assert {"taskgraph", "task-graph", "hf"} <= set(list_planners())
    assert isinstance(make_planner("task-graph"), Planner)
    assert isinstance(make_planner("taskgraph"), Planner)
    with pytest.raises(RegistryError, match="did you mean 'taskgraph'"):
        make_planner("taskgrap")


def test_initial_plan(env_info: dict) -> None:
    plan = TaskGraphPlanner().replan([], None, None, _ctx(env_info))
    assert plan.mode == "normal" and plan.current == 0 and plan.completed == ()
    assert [s.id for s in plan.steps] == ["s0", "s1", "s2", "s3"]
    assert plan.cue_done == "cue 0 done" and plan.cue_todo == "cue 0 todo"


def test_completed_from_context_and_inferred(env_info: dict) -> None:
    planner = TaskGraphPlanner()
    plan = planner.replan([], None, None, _ctx(env_info, completed=["s0", "s1"]))
    assert plan.current_step.id == "s2" and [s.id for s in plan.completed] == ["s0", "s1"]
    said = Decision(True, "instruct_next", "s3", "Next do step 3")
    plan2 = planner.replan([], plan, said, _ctx(env_info))
    assert [s.id for s in plan2.completed] == ["s0", "s1", "s2"]
    assert plan2.current_step.id == "s3"
    assert planner.stats["calls"] == 2


def test_deviation_injects_fix_step(env_info: dict) -> None:
    planner = TaskGraphPlanner()
    deviation = {
        "step": "s1",
        "kind": "omission",
        "recovery_steps": [{"id": "r", "instruction": "Go back and do step 1", "step": "s1"}],
    }
    plan = planner.replan([], None, None, _ctx(env_info, completed=["s0"], deviation=deviation))
    assert plan.mode == "recovery" and plan.current == 0
    assert plan.current_step.fix and plan.current_step.id == "s1"
    assert plan.current_step.text == "Go back and do step 1"
    said = Decision(True, "correct_deviation", "s2", "That's wrong", fix=True)
    plan2 = planner.replan([], None, said, _ctx(env_info, completed=["s0"]))
    assert plan2.current_step == plan2.steps[0] and plan2.current_step.text.startswith("Redo")
    # the next non-correcting utterance resolves the fix
    plan3 = planner.replan([], plan2, Decision(True, "instruct_next", "s1"), _ctx(env_info))
    assert not any(s.fix for s in plan3.steps) and plan3.current_step.id == "s1"


def test_plan_quality_corrupts_at_rate(env_info: dict) -> None:
    deviation = {"step": "s1", "kind": "omission", "recovery_steps": []}
    oracle = TaskGraphPlanner(1.0).replan(
        [], None, None, _ctx(env_info, completed=["s0"], deviation=deviation)
    )
    planner = TaskGraphPlanner(0.7, rng=np.random.default_rng(1))
    plans = [
        planner.replan([], None, None, _ctx(env_info, completed=["s0"], deviation=deviation))
        for _ in range(400)
    ]
    wrong = sum(p != oracle for p in plans)
    assert planner.stats["corrupted"] == wrong
    assert 0.22 < wrong / 400 < 0.38
    assert any(not any(s.fix for s in p.steps) for p in plans)  # dropped fix
    assert any(p.current not in (None, 0) for p in plans)  # wrong current step
    with pytest.raises(ValueError, match="plan_quality"):
        TaskGraphPlanner(1.2)
