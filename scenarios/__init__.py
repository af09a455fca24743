"""ProAssist scenarios: the data model of procedures and the YAML task library.

Pure data, no simulation; importing it needs only PyYAML.

Example::

    from proassist.scenarios import list_scenarios, load_scenario
    for name in list_scenarios("kitchen"):
        scenario = load_scenario(name)   # raises ScenarioError listing every problem
"""

from __future__ import annotations

from proassist.scenarios.errors import Problem, ScenarioError
from proassist.scenarios.library import add_search_path, remove_search_path, search_paths
from proassist.scenarios.loader import (
    list_domains,
    list_layouts,
    list_profiles,
    list_scenarios,
    load_layout,
    load_profile,
    load_scenario,
    script_problems,
    with_script,
)
from proassist.scenarios.model import (
    DEVIATION_KINDS,
    MAX_STEPS,
    DeviationSpec,
    Duration,
    Fixture,
    Layout,
    ObjectSpec,
    PersonProfile,
    Procedure,
    Scenario,
    ScriptedDeviation,
    Step,
    parse_predicate,
)
from proassist.scenarios.validation.validate import validate_file

__all__ = [
    "DEVIATION_KINDS",
    "MAX_STEPS",
    "DeviationSpec",
    "Duration",
    "Fixture",
    "Layout",
    "ObjectSpec",
    "PersonProfile",
    "Problem",
    "Procedure",
    "Scenario",
    "ScenarioError",
    "ScriptedDeviation",
    "Step",
    "add_search_path",
    "list_domains",
    "list_layouts",
    "list_profiles",
    "list_scenarios",
    "load_layout",
    "load_profile",
    "load_scenario",
    "parse_predicate",
    "remove_search_path",
    "search_paths",
    "script_problems",
    "validate_file",
    "with_script",
]
