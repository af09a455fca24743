"""Predicate-level checks: dangling predicates, the initial state, goal reachability.

Reachability is checked by simulation: steps run in file order whenever their
``after`` steps are done and their ``requires`` hold; effects add predicates and
``not p(x)`` effects remove them. The run is done twice, with every step and with the
required steps only (skipping optional steps is never a deviation, so the goal must
hold either way).
"""

from __future__ import annotations

from dataclasses import dataclass

from proassist.scenarios.errors import did_you_mean
from proassist.scenarios.validation.semantics import check_predicate, items, strip_not
from proassist.scenarios.validation.typecheck import Ctx


def check_predicates(task: dict, names: dict[str, set[str]], ctx: Ctx) -> None:
    """Check the syntax and arguments of every predicate of the task."""
    for key in ("initial", "goal_predicates"):
        for k, pred in enumerate(task.get(key) or []):
            if pred is not None:
                check_predicate(pred, (key, k), names, ctx, negatable=False)
    for i, step in items(task, "steps"):
        for key in ("requires", "effects"):
            for k, pred in enumerate(step.get(key) or []):
                if pred is not None:
                    check_predicate(
                        pred, ("steps", i, key, k), names, ctx, negatable=key == "effects"
                    )


def initial_state(task: dict, ctx: Ctx) -> set[str]:
    """The initial predicates plus ``at(o,start)`` for each object placed nowhere else.

    Reports an ``at(o,f)`` in ``initial`` that contradicts the object's ``start``.
    """
    state = {p for p in task.get("initial") or [] if p and not p.startswith("not ")}
    placed: dict[str, str] = {}
    for k, pred in enumerate(task.get("initial") or []):
        if pred and pred.startswith("at(") and pred.endswith(")") and "," in pred:
            obj, fix = pred[3:-1].split(",", 1)
            placed[obj] = fix
            for _, o in items(task, "objects"):
                if o.get("id") == obj and o.get("start") and o["start"] != fix:
                    msg = f"{pred!r} contradicts object {obj!r} start {o['start']!r}"
                    ctx.report(("initial", k), msg)
    for _, obj in items(task, "objects"):
        if obj.get("id") and obj.get("start") and obj["id"] not in placed:
            state.add(f"at({obj['id']},{obj['start']})")
    return state


def check_dangling(task: dict, initial: set[str], ctx: Ctx) -> None:
    """Report required predicates that are neither initial nor made true by any effect."""
    made = set(initial)
    for _, step in items(task, "steps"):
        made.update(p for p in step.get("effects") or [] if p and not strip_not(p)[0])
    for k, pred in enumerate(task.get("goal_predicates") or []):
        if pred and pred not in made:
            hint = did_you_mean(pred, sorted(made))
            ctx.report(
                ("goal_predicates", k),
                f"predicate {pred!r} is neither initial nor an effect of any step{hint}",
            )
    for i, step in items(task, "steps"):
        for k, pred in enumerate(step.get("requires") or []):
            if pred and pred not in made:
                hint = did_you_mean(pred, sorted(made))
                msg = f"predicate {pred!r} is neither initial nor an effect of any step{hint}"
                ctx.report(("steps", i, "requires", k), msg)


@dataclass
class Run:
    """The outcome of one simulated run."""

    order: list[str]
    state: set[str]
    blocked: dict[int, list[int]]  # step index -> indices of requires that fail


def simulate(task: dict, initial: set[str], *, skip_optional: bool = False) -> Run:
    """Run the steps greedily in file order (see module docstring).

    Args:
        task: The cleaned task document.
        initial: The initial state.
        skip_optional: Leave out optional steps.

    Returns:
        The order the steps ran in, the final state, and for each step that never
        ran while all its ``after`` steps had, the indices of its failing ``requires``.
    """
    steps = [(i, s) for i, s in items(task, "steps") if not (skip_optional and s.get("optional"))]
    state, done, order = set(initial), set(), []
    progress = True
    while progress:
        progress = False
        for i, s in steps:
            if i in done or not _ready(s, done, steps, state):
                continue
            _apply(s, state)
            done.add(i)
            order.append(s.get("id") or "")
            progress = True
            break
    blocked = {}
    for i, s in steps:
        if i not in done and _after_done(s, done, steps):
            blocked[i] = [k for k, p in enumerate(s.get("requires") or []) if p and p not in state]
    return Run(order, state, blocked)


def _after_done(step: dict, done: set[int], steps: list[tuple[int, dict]]) -> bool:
    ids = {s.get("id"): i for i, s in steps}
    return all(ids[d] in done for d in step.get("after") or [] if d in ids)


def _ready(step: dict, done: set[int], steps: list, state: set[str]) -> bool:
    reqs = [p for p in step.get("requires") or [] if p]
    return _after_done(step, done, steps) and all(p in state for p in reqs)


def _apply(step: dict, state: set[str]) -> None:
    for pred in step.get("effects") or []:
        if not pred:
            continue
        neg, body = strip_not(pred)
        if neg:
            state.discard(body)
    for pred in step.get("effects") or []:
        if pred and not strip_not(pred)[0]:
            state.add(pred)


def check_reachability(task: dict, initial: set[str], ctx: Ctx) -> None:
    """Report never-satisfiable preconditions and an unreachable or trivial goal."""
    goal = [p for p in task.get("goal_predicates") or [] if p]
    if goal and all(p in initial for p in goal):
        ctx.report(("goal_predicates",), "the goal already holds in the initial state")
    full = simulate(task, initial)
    for i, reqs in full.blocked.items():
        for k in reqs or [None]:
            path = ("steps", i, "requires", k) if k is not None else ("steps", i)
            what = (
                f"precondition {task['steps'][i]['requires'][k]!r}" if k is not None else "the step"
            )
            ctx.report(
                path, f"{what} can never hold: no order of the steps before it makes it true"
            )
    if full.blocked or _report_goal(task, full, "after running every step", ctx):
        return
    lean = simulate(task, initial, skip_optional=True)
    for i, reqs in lean.blocked.items():
        for k in reqs:
            pred = task["steps"][i]["requires"][k]
            ctx.report(
                ("steps", i, "requires", k),
                f"precondition {pred!r} only holds when an optional step is done",
            )
    _report_goal(task, lean, "when the optional steps are skipped", ctx)


def _report_goal(task: dict, run: Run, when: str, ctx: Ctx) -> bool:
    """Report the first goal predicate that fails after ``run``; True if one did."""
    for k, pred in enumerate(task.get("goal_predicates") or []):
        if pred and pred not in run.state:
            order = ", ".join(run.order) or "none"
            ctx.report(
                ("goal_predicates", k), f"goal {pred!r} does not hold {when} (order: {order})"
            )
            return True
    return False
