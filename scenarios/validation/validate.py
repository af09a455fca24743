"""Strict validation of task, layout and profile files.

Every problem of a file is collected (not just the first) and located as
``FILE:LINE: field: message``. The passes, in order:

1. YAML syntax and duplicate keys (:mod:`.source`);
2. types, unknown keys, missing required fields (:mod:`.specs`);
3. ids, references, predicates, cycles, deviation kinds (:mod:`.checks`, :mod:`.reach`);
4. only when 1-3 found nothing: the simulated run that checks that every precondition
   can hold and that the goal is reachable with and without the optional steps
   (on broken data that run would only repeat earlier problems).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from proassist.scenarios.build import (
    build_deviations,
    build_layout,
    build_procedure,
    build_profile,
)
from proassist.scenarios.errors import Problem, did_you_mean, sort_problems
from proassist.scenarios.library import find, names
from proassist.scenarios.model import DEVIATION_KINDS, Layout, PersonProfile, Scenario
from proassist.scenarios.validation import reachability as reach
from proassist.scenarios.validation import semantics as checks
from proassist.scenarios.validation.file_formats import LAYOUT, PROFILE, TASK
from proassist.scenarios.validation.typecheck import INVALID, Ctx, Record
from proassist.scenarios.validation.yaml_source import Source, read_source


def _check(path: str | Path, record: Record, src: Source | None = None) -> tuple[Any, Ctx]:
    src = src if src is not None else read_source(path)
    ctx = Ctx(src, list(src.problems))
    if src.data is None and src.problems:
        return None, ctx
    doc = record(src.data, (), ctx)
    return (None if doc is INVALID else doc), ctx


def read_layout(path: str | Path, src: Source | None = None) -> tuple[Layout | None, list[Problem]]:
    """Validate a layout file; returns the layout (``None`` if invalid) and the problems.

    Args:
        path: The layout file.
        src: The file already parsed by :func:`read_source`, if it was.
    """
    doc, ctx = _check(path, LAYOUT, src)
    if doc is None:
        return None, sort_problems(ctx.problems)
    stem = Path(path).stem
    if doc["id"] and doc["id"] != stem:
        ctx.report(("id",), f"layout id {doc['id']!r} must equal the file name stem {stem!r}")
    checks.unique_ids(doc, "fixtures", "fixture", ctx)
    if not any(f is not None for f in doc["fixtures"]) and "fixtures" in (ctx.src.data or {}):
        ctx.report(("fixtures",), "a layout needs at least one fixture")
    if ctx.problems:
        return None, sort_problems(ctx.problems)
    return build_layout(doc), []


def read_profile(
    path: str | Path, src: Source | None = None
) -> tuple[PersonProfile | None, list[Problem]]:
    """Validate a person profile file (a mapping of :class:`PersonProfile` fields).

    Args:
        path: The profile file.
        src: The file already parsed by :func:`read_source`, if it was.
    """
    doc, ctx = _check(path, PROFILE, src)
    if doc is None:
        return None, sort_problems(ctx.problems)
    if doc.get("base") is not None:
        ctx.report(("base",), "'base' is only allowed in a task's person mapping", at_key=True)
    if ctx.problems:
        return None, sort_problems(ctx.problems)
    return build_profile(doc, PersonProfile(), Path(path).stem), []


def _task_layout(doc: dict, ctx: Ctx) -> Layout | None:
    name = doc.get("layout") or ""
    if not name:
        return None
    path = find("layout", name, relative_to=Path(ctx.src.file).parent)
    if path is None:
        hint = did_you_mean(name, names("layout"))
        ctx.report(("layout",), f"unknown layout {name!r}{hint}")
        return None
    layout, problems = read_layout(path)
    ctx.problems.extend(problems)
    return layout


def _task_person(doc: dict, ctx: Ctx) -> PersonProfile | None:
    person = doc.get("person")
    data = person if isinstance(person, dict) else {"base": person or "typical"}
    base = PersonProfile()
    if data.get("base"):
        path = find("profile", data["base"], relative_to=Path(ctx.src.file).parent)
        if path is None:
            hint = did_you_mean(data["base"], names("profile"))
            where = ("person", "base") if isinstance(person, dict) else ("person",)
            ctx.report(where, f"unknown person profile {data['base']!r}{hint}")
            return None
        loaded, problems = read_profile(path)
        ctx.problems.extend(problems)
        if loaded is None:
            return None
        base = loaded
    return build_profile(data, base, base.name)


def read_task(path: str | Path, src: Source | None = None) -> tuple[Scenario | None, list[Problem]]:
    """Validate a task file; returns the scenario (``None`` if invalid) and every problem.

    Args:
        path: The task file (also the name used in problems).
        src: The file already parsed by :func:`read_source`, if it was.
    """
    doc, ctx = _check(path, TASK, src)
    if doc is None:
        return None, sort_problems(ctx.problems)
    layout = _task_layout(doc, ctx)
    person = _task_person(doc, ctx)
    fixtures = {f.id for f in layout.fixtures} if layout else set()
    initial = _semantics(doc, Path(path).stem, fixtures, ctx)
    if ctx.problems or layout is None or person is None:
        return None, sort_problems(ctx.problems)
    scenario = Scenario(
        name=doc["id"],
        procedure=build_procedure(doc, initial),
        layout=layout,
        person=person,
        deviations=build_deviations(doc["deviations"]),
        max_duration=float(doc["max_duration"]),
        source=str(path),
    )
    _check_script_applies(doc, scenario, ctx)
    if ctx.problems:
        return None, sort_problems(ctx.problems)
    return scenario, []


def _check_script_applies(doc: dict, scenario: Scenario, ctx: Ctx) -> None:
    """Report scripted deviations whose kind cannot affect their step (the sim refuses them)."""
    procedure = scenario.procedure
    for i, sd in checks.items(doc["deviations"], "scripted"):
        kind, step = sd.get("kind") or "", sd.get("step") or ""
        if kind not in DEVIATION_KINDS or not step:
            continue
        if not DEVIATION_KINDS.get(kind).applies(procedure.step(step), procedure):
            msg = f"deviation kind {kind!r} does not apply to step {step!r}"
            ctx.report(("deviations", "scripted", i, "step"), msg)


def _semantics(doc: dict, stem: str, fixtures: set[str], ctx: Ctx) -> set[str]:
    checks.check_header(doc, stem, ctx)
    objects = checks.unique_ids(doc, "objects", "object", ctx)
    steps = checks.unique_ids(doc, "steps", "step", ctx)
    names = {"objects": set(objects), "fixtures": fixtures}
    checks.check_objects(doc, objects, fixtures, ctx)
    checks.check_step_refs(doc, steps, names, ctx)
    checks.check_deviations(doc, steps, ctx)
    checks.check_script_params(doc, {**names, "steps": set(steps)}, ctx)
    acyclic = checks.check_cycles(doc, steps, ctx)
    reach.check_predicates(doc, names, ctx)
    initial = reach.initial_state(doc, ctx)
    reach.check_dangling(doc, initial, ctx)
    if acyclic and not ctx.problems:
        reach.check_reachability(doc, initial, ctx)
    return initial


def file_kind(path: str | Path, data: Any) -> str:
    """Guess what a file is: ``task``, ``layout`` or ``profile``."""
    if isinstance(data, dict) and "fixtures" in data and "steps" not in data:
        return "layout"
    if Path(path).parent.name == "profiles" or (isinstance(data, dict) and "compliance" in data):
        return "profile" if not (isinstance(data, dict) and "steps" in data) else "task"
    return "task"


def validate_file(path: str | Path) -> list[Problem]:
    """Every problem of one task, layout or profile file (empty when valid)."""
    src = read_source(path)
    if src.data is None and src.problems:
        return sort_problems(src.problems)
    kind = file_kind(path, src.data)
    if kind == "layout":
        return read_layout(path, src)[1]
    if kind == "profile":
        return read_profile(path, src)[1]
    return read_task(path, src)[1]
