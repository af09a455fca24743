"""Loading scenarios, layouts and person profiles from the YAML library or from paths.

``load_*`` functions validate strictly (see :mod:`.validate`) and raise one
:class:`~proassist.scenarios.errors.ScenarioError` listing every problem. Results are
cached per file path, modification time and size, so repeated loads (one per env reset)
read nothing (a task's cache entry does not notice a later edit of its layout or
profile file).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from proassist.scenarios.errors import Problem, ScenarioError, did_you_mean
from proassist.scenarios.library import find, looks_like_path, names
from proassist.scenarios.model import (
    DEVIATION_KINDS,
    Layout,
    PersonProfile,
    Scenario,
    ScriptedDeviation,
)
from proassist.scenarios.validation.validate import read_layout, read_profile, read_task
from proassist.scenarios.validation.yaml_source import read_source

_CACHE: dict[tuple[str, str, int, int], object] = {}


def list_scenarios(domain: str | None = None) -> list[str]:
    """Sorted names of the scenarios of the library and the search paths.

    Args:
        domain: Only the tasks of this domain (names ``<domain>_*``); ``None`` for all.

    Raises:
        ValueError: When no task has that domain ("did you mean").
    """
    all_names = names("task")
    if domain is None:
        return all_names
    found = [n for n in all_names if n.startswith(f"{domain}_")]
    if not found:
        known = list_domains()
        raise ValueError(
            f"no tasks in domain {domain!r}{did_you_mean(domain, known)}; domains: {known}"
        )
    return found


def list_domains() -> list[str]:
    """Sorted domains of every task in the library and the search paths (read from
    the files' ``domain`` keys; a file that does not parse is skipped)."""
    domains = set()
    for name in names("task"):
        path = find("task", name)
        doc = read_source(path).data if path else None  # bounded: no alias bombs
        if isinstance(doc, dict) and isinstance(doc.get("domain"), str):
            domains.add(doc["domain"])
    return sorted(domains)


def list_profiles() -> list[str]:
    """Sorted names of the person profiles of the library and the search paths."""
    return names("profile")


def list_layouts() -> list[str]:
    """Sorted names of the layouts of the library and the search paths."""
    return names("layout")


def _find(name_or_path: str | Path, kind: str, what: str) -> Path:
    path = find(kind, name_or_path)
    if path is None:
        known = names(kind)
        hint = did_you_mean(str(name_or_path), known) if not looks_like_path(name_or_path) else ""
        where = "no such file" if looks_like_path(name_or_path) else f"known: {', '.join(known)}"
        msg = f"unknown {what} {str(name_or_path)!r}{hint}; {where}"
        raise ScenarioError([Problem(str(name_or_path)[:200], 0, f"<{what}>", msg[:600])])
    return path


def _cached(kind: str, path: Path, read):  # noqa: ANN001, ANN202
    try:  # keyed on the file's identity and stat, so a reset never re-reads the file
        st = path.stat()
        key = (kind, str(path.resolve()), st.st_mtime_ns, st.st_size)
    except OSError:
        key = None
    if key is not None and key in _CACHE:
        return _CACHE[key]
    value, problems = read(path)
    if problems:
        raise ScenarioError(problems)
    if key is not None:
        _CACHE[key] = value
    return value


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load and validate one scenario.

    Args:
        name_or_path: A library name (``kitchen_tea``) or a path to a task YAML file.

    Returns:
        The :class:`Scenario`.

    Raises:
        ScenarioError: When the name is unknown or the file (or its layout or
            profile) has problems; ``err.problems`` lists them all.
    """
    return _cached("task", _find(name_or_path, "task", "scenario"), read_task)


def load_layout(name_or_path: str | Path) -> Layout:
    """Load and validate a layout by library name (``kitchen``) or path."""
    return _cached("layout", _find(name_or_path, "layout", "layout"), read_layout)


def load_profile(name_or_path: str | Path) -> PersonProfile:
    """Load and validate a person profile by library name (``typical``) or path."""
    return _cached("profile", _find(name_or_path, "profile", "profile"), read_profile)


def script_problems(scenario: Scenario, script: Iterable[ScriptedDeviation]) -> list[Problem]:
    """Problems of a scripted-deviation list supplied by code (unknown kinds and steps)."""
    steps = [s.id for s in scenario.procedure.steps]
    out = []
    for i, sd in enumerate(script):
        field = f"script[{i}]"
        if sd.kind not in DEVIATION_KINDS:
            hint = did_you_mean(sd.kind, DEVIATION_KINDS)
            out.append(
                Problem("<script>", 0, f"{field}.kind", f"unknown deviation kind {sd.kind!r}{hint}")
            )
        if sd.step not in steps:
            hint = did_you_mean(sd.step, steps)
            out.append(
                Problem(
                    "<script>",
                    0,
                    f"{field}.step",
                    f"unknown step {sd.step!r} of {scenario.name}{hint}",
                )
            )
        if sd.time is not None and not sd.time >= 0:
            out.append(
                Problem("<script>", 0, f"{field}.time", f"expected a time >= 0, got {sd.time!r}")
            )
    return out


def with_script(scenario: Scenario, script: Iterable[ScriptedDeviation]) -> Scenario:
    """A copy of ``scenario`` whose scripted deviations are ``script``.

    Raises:
        ScenarioError: When a deviation names an unknown kind or step.
    """
    script = tuple(script)
    problems = script_problems(scenario, script)
    if problems:
        raise ScenarioError(problems)
    deviations = dataclasses.replace(scenario.deviations, scripted=script)
    return dataclasses.replace(scenario, deviations=deviations)
