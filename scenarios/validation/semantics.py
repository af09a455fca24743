"""Semantic checks of a type-checked task document: ids, references, predicates, cycles.

Every function takes the cleaned task ``dict`` produced by :mod:`.schema` (bad values
replaced by defaults, bad list items by ``None``) and reports into a :class:`Ctx`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from proassist.scenarios.errors import KeyPath, did_you_mean
from proassist.scenarios.model import DEVIATION_KINDS, DOMAIN_RE, MAX_STEPS, PREDICATE_RE
from proassist.scenarios.validation.typecheck import Ctx

#: Arity of the predicates the renderer draws (others are free).
KNOWN_ARITY: dict[str, int] = {
    "at": 2,
    "in": 2,
    "on": 2,
    "filled": 1,
    "heated": 1,
    "switched_on": 1,
    "cut": 1,
    "attached": 2,
    "open": 1,
}


def items(task: dict, key: str) -> Iterator[tuple[int, dict]]:
    """Yield ``(index, item)`` for the well-formed mapping items of ``task[key]``."""
    for i, item in enumerate(task.get(key) or []):
        if isinstance(item, dict):
            yield i, item


def strip_not(pred: str) -> tuple[bool, str]:
    """Split ``"not p(x)"`` into ``(True, "p(x)")``; ``"p(x)"`` into ``(False, "p(x)")``."""
    if pred.startswith("not "):
        return True, pred[4:].strip()
    return False, pred


def check_header(task: dict, stem: str, ctx: Ctx) -> None:
    """Check ``id`` against the file name, ``domain`` and the number of steps."""
    tid, domain = task.get("id") or "", task.get("domain") or ""
    if tid and tid != stem:
        ctx.report(("id",), f"task id {tid!r} must equal the file name stem {stem!r}")
    if domain and not DOMAIN_RE.match(domain):
        ctx.report(("domain",), f"domain {domain!r} must be an identifier (a-z, 0-9, _)")
    elif domain and tid and not tid.startswith(domain + "_"):
        ctx.report(("id",), f"task id {tid!r} must start with its domain '{domain}_'")
    n = len(task.get("steps") or [])
    if n > MAX_STEPS:
        ctx.report(("steps",), f"{n} steps; a procedure has at most MAX_STEPS={MAX_STEPS}")
    elif "steps" in task and n == 0:
        ctx.report(("steps",), "a procedure needs at least one step")


def unique_ids(task: dict, key: str, what: str, ctx: Ctx) -> dict[str, int]:
    """Map each id of ``task[key]`` to its index, reporting duplicates."""
    seen: dict[str, int] = {}
    for i, item in items(task, key):
        ident = item.get("id") or ""
        if not ident:
            continue
        if ident in seen:
            ctx.report(
                (key, i, "id"), f"duplicate {what} id {ident!r} (first at {key}[{seen[ident]}])"
            )
        else:
            seen[ident] = i
    return seen


def check_objects(task: dict, objects: dict[str, int], fixtures: set[str], ctx: Ctx) -> None:
    """Check object start fixtures, alternatives, id clashes with fixtures, lying spheres."""
    for i, obj in items(task, "objects"):
        oid = obj.get("id") or ""
        if obj.get("lying") and obj.get("shape") == "sphere":
            ctx.report(("objects", i, "lying"), "a sphere has no height axis to lie along")
        if oid in fixtures:
            ctx.report(("objects", i, "id"), f"object id {oid!r} is also a fixture id")
        start = obj.get("start") or ""
        if start and fixtures and start not in fixtures:
            hint = did_you_mean(start, sorted(fixtures))
            ctx.report(("objects", i, "start"), f"unknown fixture {start!r}{hint}")
        for j, alt in enumerate(obj.get("alternatives") or []):
            if alt is None:
                continue
            if alt == oid:
                ctx.report(
                    ("objects", i, "alternatives", j), "an object is not its own alternative"
                )
            elif alt not in objects:
                hint = did_you_mean(alt, list(objects))
                ctx.report(("objects", i, "alternatives", j), f"unknown object {alt!r}{hint}")


def check_predicate(
    pred: str, path: KeyPath, names: dict[str, set[str]], ctx: Ctx, *, negatable: bool
) -> str | None:
    """Check one predicate string; returns it without ``not`` when well-formed."""
    neg, body = strip_not(pred)
    if neg and not negatable:
        ctx.report(path, f"negation is only allowed in effects, got {pred!r}")
        return None
    m = PREDICATE_RE.match(body)
    if not m:
        hint = ""
        if body.count("(") != body.count(")"):
            hint = ' (in a [flow, list] quote predicates with commas: "at(a,b)")'
        ctx.report(path, f"not a predicate 'name(arg,...)' (no spaces): {pred!r}{hint}")
        return None
    name, args = m.group(1), m.group(2).split(",")
    arity = KNOWN_ARITY.get(name)
    if arity is not None and arity != len(args):
        ctx.report(path, f"{name}() takes {arity} argument(s), got {len(args)} in {pred!r}")
        return None
    ok = _check_args(name, args, path, names, ctx)
    return body if ok else None


def _check_args(name: str, args: list[str], path: KeyPath, names: dict, ctx: Ctx) -> bool:
    objects, fixtures = names["objects"], names["fixtures"]
    ok = True
    for k, arg in enumerate(args):
        if arg not in objects and arg not in fixtures:
            hint = did_you_mean(arg, sorted(objects | fixtures))
            ctx.report(
                path, f"argument {arg!r} of {name}() is neither an object nor a fixture{hint}"
            )
            ok = False
        elif name == "at" and k == 0 and arg not in objects:
            ctx.report(path, f"at(o,f): first argument must be an object, {arg!r} is not")
            ok = False
        elif name == "at" and k == 1 and arg not in fixtures:
            ctx.report(path, f"at(o,f): second argument must be a fixture, {arg!r} is not")
            ok = False
    return ok


def check_step_refs(task: dict, steps: dict[str, int], names: dict, ctx: Ctx) -> None:
    """Check the references of every step: after, objects, tools, location, params."""
    optional = {s["id"] for _, s in items(task, "steps") if s.get("optional") and s.get("id")}
    for i, step in items(task, "steps"):
        sid = step.get("id") or ""
        for j, dep in enumerate(step.get("after") or []):
            path = ("steps", i, "after", j)
            if dep is None:
                continue
            if dep == sid:
                ctx.report(path, f"step {sid!r} cannot come after itself")
            elif dep not in steps:
                ctx.report(path, f"unknown step {dep!r}{did_you_mean(dep, list(steps))}")
            elif dep in optional and not step.get("optional"):
                msg = f"required step {sid!r} cannot wait for optional step {dep!r} (skipping it would block)"
                ctx.report(path, msg)
        for key in ("objects", "tools"):
            for j, oid in enumerate(step.get(key) or []):
                if oid is not None and oid not in names["objects"]:
                    hint = did_you_mean(oid, sorted(names["objects"]))
                    ctx.report(("steps", i, key, j), f"unknown object {oid!r}{hint}")
        loc = step.get("location") or ""
        if loc and names["fixtures"] and loc not in names["fixtures"]:
            hint = did_you_mean(loc, sorted(names["fixtures"]))
            ctx.report(("steps", i, "location"), f"unknown fixture {loc!r}{hint}")
        check_params(step.get("params") or {}, ("steps", i, "params"), ctx)


def check_params(params: dict[str, Any], path: KeyPath, ctx: Ctx) -> None:
    """Check the step parameters the deviation engine reads.

    Checked: ``amount``, ``setting``, ``min_time``, ``skip_prob`` and ``hazard_time``
    (the hazard clock of a safety-critical step, in seconds).
    """
    if "amount" in params:
        if not isinstance(params["amount"], str):
            ctx.report(path + ("amount",), "expected a string like '250 ml'")
        value = params.get("amount_value")
        if not _is_pos_number(value):
            ctx.report(
                path + ("amount_value",), "params.amount needs a positive number amount_value"
            )
    if "setting" in params and not isinstance(params["setting"], str):
        ctx.report(path + ("setting",), "expected a string like 'medium'")
    if "min_time" in params and not _is_pos_number(params["min_time"]):
        ctx.report(path + ("min_time",), "expected a positive number of seconds")
    if "hazard_time" in params and not _is_pos_number(params["hazard_time"]):
        ctx.report(path + ("hazard_time",), "expected a positive number of seconds")
    skip = params.get("skip_prob", 0.0)
    if not (_is_number(skip) and 0 <= skip <= 1):
        ctx.report(path + ("skip_prob",), f"expected a probability in [0, 1], got {skip!r:.60}")


#: Parameters of scripted deviations the built-in kinds read: what each must name.
SCRIPT_PARAM_REFS: dict[str, str] = {
    "before": "steps",
    "object": "objects",
    "substitute": "objects",
    "fixture": "fixtures",
    "wrong": "fixtures",
}
#: Numeric parameters of scripted deviations (seconds or factors, >= 0).
SCRIPT_PARAM_NUMBERS = (
    "duration",
    "fraction",
    "factor",
    "min_time",
    "actual",
    "time",
    "hazard_time",
)
#: Text parameters of scripted deviations.
SCRIPT_PARAM_TEXTS = ("target", "amount", "wrong_amount", "setting", "wrong_setting")


def check_script_params(task: dict, names: dict[str, set[str]], ctx: Ctx) -> None:
    """Check the parameters of scripted deviations that the built-in kinds read.

    Args:
        task: The cleaned task document.
        names: ``steps``, ``objects`` and ``fixtures`` id sets.
        ctx: Where problems go.
    """
    for i, sd in items(task.get("deviations") or {}, "scripted"):
        for key, value in (sd.get("params") or {}).items():
            path = ("deviations", "scripted", i, "params", key)
            problem = _script_param_problem(key, value, names)
            if problem:
                ctx.report(path, problem)


def _script_param_problem(key: str, value: Any, names: dict[str, set[str]]) -> str:
    if key in SCRIPT_PARAM_REFS:
        known = names[SCRIPT_PARAM_REFS[key]]
        if not isinstance(value, str) or value not in known:
            what = SCRIPT_PARAM_REFS[key][:-1]
            hint = did_you_mean(value, sorted(known)) if isinstance(value, str) else ""
            return f"expected the id of a {what} of this task, got {value!r:.60}{hint}"
    elif key in SCRIPT_PARAM_NUMBERS and not (_is_number(value) and 0 <= value < 1e9):
        return f"expected a number in [0, 1e9), got {value!r:.60}"
    elif key in SCRIPT_PARAM_TEXTS and not isinstance(value, str):
        return f"expected a string, got {value!r:.60}"
    return ""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 1e300


def _is_pos_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1e9


def check_cycles(task: dict, steps: dict[str, int], ctx: Ctx) -> bool:
    """Report every cycle of the ``after`` relation once; True when there is none.

    The depth-first search keeps its own stack, so a long ``after`` chain cannot hit
    Python's recursion limit.
    """
    graph = {
        s["id"]: [d for d in s.get("after") or [] if d in steps] for _, s in items(task, "steps")
    }
    state: dict[str, int] = {}
    found = False
    for sid in graph:
        if sid not in state:
            found = _visit(sid, graph, state, steps, ctx) or found
    return not found


def _visit(
    root: str, graph: dict[str, list[str]], state: dict[str, int], steps: dict, ctx: Ctx
) -> bool:
    """Depth-first search from ``root``; reports each back edge; True if one was found."""
    found = False
    trail, iters = [root], [iter(graph.get(root, []))]
    state[root] = 1
    while trail:
        dep = next(iters[-1], None)
        if dep is None:
            state[trail.pop()] = 2
            iters.pop()
        elif state.get(dep) == 1:
            cycle = trail[trail.index(dep) :] + [dep]
            first = min(cycle[:-1], key=lambda s: steps[s])
            ctx.report(("steps", steps[first], "after"), "cycle in 'after': " + " -> ".join(cycle))
            found = True
        elif dep not in state:
            state[dep] = 1
            trail.append(dep)
            iters.append(iter(graph.get(dep, [])))
    return found


def check_deviations(task: dict, steps: dict[str, int], ctx: Ctx) -> None:
    """Check the deviation kinds of ``rates`` and ``scripted`` and scripted step ids."""
    dev = task.get("deviations") or {}
    for kind in dev.get("rates") or {}:
        if kind not in DEVIATION_KINDS:
            hint = did_you_mean(kind, DEVIATION_KINDS)
            ctx.report(
                ("deviations", "rates", kind), f"unknown deviation kind {kind!r}{hint}", at_key=True
            )
    for i, sd in enumerate(dev.get("scripted") or []):
        if not isinstance(sd, dict):
            continue
        kind, step = sd.get("kind") or "", sd.get("step") or ""
        if kind and kind not in DEVIATION_KINDS:
            hint = did_you_mean(kind, DEVIATION_KINDS)
            ctx.report(
                ("deviations", "scripted", i, "kind"), f"unknown deviation kind {kind!r}{hint}"
            )
        if step and step not in steps:
            hint = did_you_mean(step, list(steps))
            ctx.report(("deviations", "scripted", i, "step"), f"unknown step {step!r}{hint}")
