"""Planners: write the (revised) PWR plan at the start and after each interrupt.

``TaskGraphPlanner`` reads the procedure; ``HFPlanner`` (in
:mod:`proassist.policies.duplex.hf_planner`, registered as ``"hf"``) prompts any local causal
language model. Both implement :class:`~proassist.policies.duplex.components.Planner`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from proassist.policies.duplex.components import Decision, PlanContext
from proassist.policies.duplex.plan_format import Plan, PlanStep, clean_text
from proassist.scenarios.registry import Registry

__all__ = [
    "PLANNERS",
    "TaskGraphPlanner",
    "list_planners",
    "make_planner",
    "planner_kwargs",
    "register_planner",
]

#: Every planner class, by name (``"taskgraph"`` and its alias ``"task-graph"``, ``"hf"``).
PLANNERS: Registry[type] = Registry("planner")


def register_planner(name: str) -> Callable[[type], type]:
    """Class decorator registering a planner under ``name``."""
    return PLANNERS.register(name)


def make_planner(name: str, **kwargs: Any) -> Any:
    """Build the planner registered as ``name`` (raises with "did you mean" when unknown)."""
    return PLANNERS.make(name, **kwargs)


def planner_kwargs(name: str) -> dict[str, tuple[Any, Any, str]]:
    """``{kwarg: (type, default, doc)}`` accepted by planner ``name``."""
    return PLANNERS.kwargs(name)


def list_planners() -> list[str]:
    """Sorted names of the registered planners."""
    return sorted(PLANNERS.names())


def _step(proc_step: dict[str, Any], fix: bool = False, text: str | None = None) -> PlanStep:
    body = clean_text(text if text is not None else str(proc_step.get("instruction", "")))
    return PlanStep(text=body or str(proc_step["id"]), id=str(proc_step["id"]), fix=fix)


def _as_decision(utterance: Decision | str | None) -> Decision | None:
    if utterance is None or isinstance(utterance, Decision):
        return utterance
    return Decision(interrupt=True, text=str(utterance))


def infer_completed(prev_plan: Plan | None, utterance: Decision | None) -> list[str]:
    """Completed step ids implied by the previous plan and the utterance just made.

    The previous plan's completed steps stay completed; its current (non-fix) step
    becomes completed when the assistant confirmed it done or instructed another step.
    """
    if prev_plan is None:
        return []
    done = [s.id for s in prev_plan.completed if s.id is not None]
    current = prev_plan.current_step
    if current is None or current.fix or current.id is None or utterance is None:
        return done
    moved_on = utterance.intent == "instruct_next" and utterance.step not in (None, current.id)
    if utterance.intent == "confirm_done" or moved_on:
        done.append(current.id)
    return done


@register_planner("taskgraph")
class TaskGraphPlanner:
    """Plans from the procedure's task graph.

    The remaining steps keep procedure order; the current step is the one the
    assistant just instructed, else the first whose ``after`` steps are all completed.
    After a deviation (``context.deviation``, or an utterance that corrects a step)
    the recovery steps are injected first as ``(fix)`` steps and the current step is
    the first of them (mode ``recovery``). With probability ``1 - plan_quality`` the
    plan is corrupted: the current step moved to a wrong one, or the fix dropped.

    Args:
        plan_quality: Probability in [0, 1] that a plan is left uncorrupted (1 = oracle).
        rng: Generator for the corruption draws (a fixed seed 0 when omitted).
    """

    def __init__(self, plan_quality: float = 1.0, rng: np.random.Generator | None = None) -> None:
        if not 0.0 <= plan_quality <= 1.0:
            raise ValueError(f"plan_quality must be in [0, 1], got {plan_quality}")
        self.plan_quality = plan_quality
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.stats: dict[str, int] = {"calls": 0, "corrupted": 0}

    def replan(
        self,
        clip: Sequence[Any],
        prev_plan: Plan | None,
        utterance: Decision | str | None,
        context: PlanContext,
    ) -> Plan:
        """Return the revised plan (see the class docstring)."""
        self.stats["calls"] += 1
        said = _as_decision(utterance)
        procedure = list(context.procedure)
        done = (
            list(context.completed)
            if context.completed is not None
            else infer_completed(prev_plan, said)
        )
        plan = self._build(procedure, done, said, context)
        if self.plan_quality < 1.0 and self.rng.random() >= self.plan_quality:
            plan = self._corrupt(plan)
        return plan

    def _build(
        self, procedure: list[dict], done: list[str], said: Decision | None, context: PlanContext
    ) -> Plan:
        by_id = {str(s["id"]): s for s in procedure}
        completed = tuple(_step(by_id[i]) for i in done if i in by_id)
        remaining = [s for s in procedure if str(s["id"]) not in set(done)]
        current = self._current_index(remaining, set(done), said)
        fixes = self._fix_steps(by_id, said, context.deviation)
        steps = tuple(fixes) + tuple(_step(s) for s in remaining)
        if fixes:
            current = 0
        elif current is not None:
            current = min(current, len(steps) - 1)
        cue_src = by_id.get(steps[current].id or "") if current is not None else None
        return Plan(
            mode="recovery" if fixes else "normal",
            goal=clean_text(context.goal),
            completed=completed,
            steps=steps,
            current=current,
            cue_done=clean_text(str((cue_src or {}).get("done_cue", "") or "")),
            cue_todo=clean_text(str((cue_src or {}).get("todo_cue", "") or "")),
        )

    @staticmethod
    def _current_index(remaining: list[dict], done: set[str], said: Decision | None) -> int | None:
        if not remaining:
            return None
        if said is not None and said.intent == "instruct_next":
            for i, s in enumerate(remaining):
                if str(s["id"]) == said.step:
                    return i
        for i, s in enumerate(remaining):
            if all(str(a) in done for a in s.get("after", []) or []):
                return i
        return 0

    @staticmethod
    def _fix_steps(
        by_id: dict[str, dict], said: Decision | None, deviation: dict[str, Any] | None
    ) -> list[PlanStep]:
        affected = None
        recovery: list[dict] = []
        if deviation is not None:
            affected = deviation.get("step")
            recovery = list(deviation.get("recovery_steps") or [])
        elif said is not None and (said.fix or said.intent == "correct_deviation"):
            affected = said.step
        if affected is None or str(affected) not in by_id:
            return []
        base = by_id[str(affected)]
        if not recovery:
            return [_step(base, fix=True, text=f"Redo: {base.get('instruction', affected)}")]
        return [_step(base, fix=True, text=str(r.get("instruction", ""))) for r in recovery]

    def _corrupt(self, plan: Plan) -> Plan:
        options = []
        if len(plan.steps) > 1 and plan.current is not None:
            options.append("wrong_current")
        if any(s.fix for s in plan.steps):
            options.append("drop_fix")
        if not options:
            return plan
        self.stats["corrupted"] += 1
        choice = options[int(self.rng.integers(len(options)))]
        if choice == "drop_fix":
            steps = tuple(s for s in plan.steps if not s.fix)
            current = 0 if steps else None
            return Plan("normal", plan.goal, plan.completed, steps, current, "", "")
        others = [i for i in range(len(plan.steps)) if i != plan.current]
        wrong = others[int(self.rng.integers(len(others)))]
        return Plan(plan.mode, plan.goal, plan.completed, plan.steps, wrong, "", "")


PLANNERS.add("task-graph", TaskGraphPlanner)  # alias

# The HF planner registers itself as "hf"; its module is light (transformers is lazy)
# and imports this one, hence the import at the end.
from proassist.policies.duplex import hf_planner as _hf_planner  # noqa: E402, F401
