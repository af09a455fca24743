"""Loading scenarios, layouts and person profiles from the YAML library or from paths.

``load_*`` functions validate strictly (see :mod:`.validate`) and raise one
:class:`~proassist.scenarios.errors.ScenarioError` listing every problem. Results are
cached per file path and content hash, so repeated loads (one per env reset) are cheap
(a task's cache entry does not notice a later edit of its layout or profile file).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from pathlib import Path

from proassist.scenarios.errors import Problem, ScenarioError, did_you_mean
from proassist.scenarios.library import (
    LAYOUTS_DIR,
    PROFILES_DIR,
    TASKS_DIR,
    library_names,
    resolve,
)
from proassist.scenarios.model import (
    DEVIATION_KINDS,
    DOMAINS,
    Layout,
    PersonProfile,
    Scenario,
    ScriptedDeviation,
)
from proassist.scenarios.validation.validate import read_layout, read_profile, read_task

_CACHE: dict[tuple[str, str, str], object] = {}


def list_scenarios(domain: str | None = None) -> list[str]:
    """Sorted names of the library's scenarios, optionally of one domain only.

    Args:
        domain: ``kitchen``, ``assembly`` or ``maintenance``; ``None`` for all.

    Raises:
        ValueError: On an unknown domain.
    """
    names = library_names(TASKS_DIR)
    if domain is None:
        return names
    if domain not in DOMAINS:
        raise ValueError(
            f"unknown domain {domain!r}{did_you_mean(domain, DOMAINS)}; expected one of {DOMAINS}"
        )
    return [n for n in names if n.startswith(domain + "_")]


def list_profiles() -> list[str]:
    """Sorted names of the library's person profiles."""
    return library_names(PROFILES_DIR)


def list_layouts() -> list[str]:
    """Sorted names of the library's layouts."""
    return library_names(LAYOUTS_DIR)


def _find(name_or_path: str | Path, folder: Path, what: str) -> Path:
    path = resolve(name_or_path, folder)
    if path is None:
        hint = did_you_mean(str(name_or_path), library_names(folder))
        known = ", ".join(library_names(folder))
        msg = f"unknown {what} {str(name_or_path)!r}{hint}; known: {known}"
        raise ScenarioError([Problem(str(name_or_path), 0, f"<{what}>", msg)])
    return path


def _cached(kind: str, path: Path, read):  # noqa: ANN001, ANN202
    try:
        digest = hashlib.sha1(path.read_bytes()).hexdigest()
        key = (kind, str(path.resolve()), digest)
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
    return _cached("task", _find(name_or_path, TASKS_DIR, "scenario"), read_task)


def load_layout(name_or_path: str | Path) -> Layout:
    """Load and validate a layout by library name (``kitchen``) or path."""
    return _cached("layout", _find(name_or_path, LAYOUTS_DIR, "layout"), read_layout)


def load_profile(name_or_path: str | Path) -> PersonProfile:
    """Load and validate a person profile by library name (``typical``) or path."""
    return _cached("profile", _find(name_or_path, PROFILES_DIR, "profile"), read_profile)


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
