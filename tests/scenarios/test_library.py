"""The YAML task library: every file is valid and rich enough for the deviation engine."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

import proassist.scenarios as sc
from proassist.scenarios import (
    DEVIATION_KINDS,
    MAX_STEPS,
    ScenarioError,
    ScriptedDeviation,
    list_scenarios,
    load_layout,
    load_profile,
    load_scenario,
)
from proassist.scenarios.library import LAYOUTS_DIR, PROFILES_DIR, TASKS_DIR
from proassist.scenarios.model import parse_predicate
from proassist.scenarios.validation.validate import validate_file

NAMES = list_scenarios()
RENDERED = {"at", "in", "on", "filled", "heated", "switched_on", "cut", "attached", "open"}


def test_library_size_per_domain() -> None:
    assert len(list_scenarios("kitchen")) >= 5
    assert len(list_scenarios("assembly")) >= 3
    assert len(list_scenarios("maintenance")) >= 2
    assert sorted(NAMES) == NAMES
    per_domain = sum((list_scenarios(d) for d in sc.list_domains()), [])
    assert sorted(per_domain) == NAMES
    for name in ("kitchen_tea", "kitchen_pour_over_coffee", "kitchen_sandwich"):
        assert name in NAMES
    for name in ("kitchen_salad", "kitchen_scrambled_eggs", "assembly_stool"):
        assert name in NAMES
    for name in ("assembly_wall_shelf", "assembly_desk_lamp", "maintenance_bike_tyre"):
        assert name in NAMES
    assert "maintenance_printer_cartridge" in NAMES


def test_unknown_domain_suggests() -> None:
    with pytest.raises(ValueError, match="did you mean 'kitchen'"):
        list_scenarios("kitchn")


def test_unknown_scenario_name_suggests() -> None:
    with pytest.raises(ScenarioError, match="did you mean 'kitchen_tea'"):
        load_scenario("kitchen_te")


@pytest.mark.parametrize("path", sorted(TASKS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_task_file_validates(path) -> None:  # noqa: ANN001
    assert validate_file(path) == []
    scenario = load_scenario(path)
    assert scenario.name == path.stem == scenario.procedure.id
    assert scenario.domain == path.stem.split("_")[0]
    assert scenario.source == str(path)


@pytest.mark.parametrize(
    "path",
    sorted(LAYOUTS_DIR.glob("*.yaml")) + sorted(PROFILES_DIR.glob("*.yaml")),
    ids=lambda p: p.stem,
)
def test_every_layout_and_profile_validates(path) -> None:  # noqa: ANN001
    assert validate_file(path) == []


def test_step_counts() -> None:
    counts = {n: len(load_scenario(n).procedure.steps) for n in NAMES}
    assert all(8 <= c <= MAX_STEPS for c in counts.values()), counts
    assert sum(c >= 15 for c in counts.values()) >= 2, counts


def _run(procedure: sc.Procedure, rng: np.random.Generator, skip_optional: bool) -> set[str]:
    """Execute the steps in a random order consistent with after/requires."""
    state, done = set(procedure.initial), set()
    todo = [s for s in procedure.steps if not (skip_optional and s.optional)]
    while len(done) < len(todo):
        ready = [
            s
            for s in todo
            if s.id not in done and set(s.after) <= done and set(s.requires) <= state
        ]
        assert ready, f"{procedure.id}: stuck after {sorted(done)}"
        step = ready[rng.integers(len(ready))]
        state -= {e[4:] for e in step.effects if e.startswith("not ")}
        state |= {e for e in step.effects if not e.startswith("not ")}
        done.add(step.id)
    return state


@pytest.mark.parametrize("name", NAMES)
def test_goal_reachable_in_random_valid_orders(name: str) -> None:
    procedure = load_scenario(name).procedure
    assert not set(procedure.goal_predicates) <= set(procedure.initial)
    rng = np.random.default_rng(0)
    for k in range(12):
        state = _run(procedure, rng, skip_optional=bool(k % 2))
        assert set(procedure.goal_predicates) <= state, (name, k)


def _has_partial_order(procedure: sc.Procedure) -> bool:
    before = {s.id: set(s.after) for s in procedure.steps}
    changed = True
    while changed:  # transitive closure
        changed = False
        for deps in before.values():
            extra = set().union(*(before[d] for d in deps)) - deps if deps else set()
            if extra:
                deps |= extra
                changed = True
    required = [s.id for s in procedure.steps if not s.optional]
    return any(
        a not in before[b] and b not in before[a] for a, b in itertools.combinations(required, 2)
    )


@pytest.mark.parametrize("name", NAMES)
def test_every_deviation_kind_has_somewhere_to_apply(name: str) -> None:
    scenario = load_scenario(name)
    p = scenario.procedure
    steps = p.steps
    required = [s for s in steps if not s.optional]  # a skipped optional step hosts nothing
    assert any(
        isinstance(s.params.get("amount"), str) and s.params.get("amount_value", 0) > 0
        for s in required
    )
    assert any(isinstance(s.params.get("setting"), str) for s in required)
    assert any(s.params.get("min_time", 0) > 0 for s in required)
    with_alternatives = {o.id for o in p.objects if o.alternatives}
    assert any(with_alternatives & set(s.objects) for s in required)
    for s in steps:
        if "min_time" in s.params:  # sim durations stay short: min_time ~ the mean
            assert 0.5 * s.duration.mean <= s.params["min_time"] <= 1.5 * s.duration.mean
    alts = [(o, a) for o in p.objects for a in o.alternatives]
    assert alts and all(a in {x.id for x in p.objects} for _, a in alts)
    fixtures = {f.id for f in scenario.layout.fixtures}
    assert any(
        parse_predicate(e)[0] == "at" and parse_predicate(e)[1][1] in fixtures
        for s in steps
        for e in s.effects
        if not e.startswith("not ")
    )
    assert any(s.safety_critical for s in steps)
    assert any(s.optional for s in steps)
    assert any(s.after for s in steps)
    assert _has_partial_order(p), name
    assert set(scenario.deviations.rates) == set(DEVIATION_KINDS)
    assert all(0 < r <= 0.1 for r in scenario.deviations.rates.values())
    assert scenario.deviations.max_random == 2


@pytest.mark.parametrize("name", NAMES)
def test_steps_are_described_and_timed(name: str) -> None:
    scenario = load_scenario(name)
    p = scenario.procedure
    means = [s.duration.mean for s in p.steps]
    assert sum(4 <= m <= 20 for m in means) >= 0.7 * len(means)
    assert 60 <= sum(means) <= 240, sum(means)
    assert scenario.max_duration >= 1.5 * sum(means)
    for s in p.steps:
        assert s.instruction[0].isupper() and s.instruction.endswith(".")
        assert s.done_cue and s.todo_cue and s.done_cue != s.todo_cue
        assert s.location in {f.id for f in scenario.layout.fixtures}
        assert s.duration.min <= s.duration.mean and s.duration.std < s.duration.mean
        assert set(s.tools) <= set(s.objects)
    used = {parse_predicate(e.removeprefix("not "))[0] for s in p.steps for e in s.effects}
    assert used & RENDERED


@pytest.mark.parametrize("name", NAMES)
def test_objects_are_distinguishable(name: str) -> None:
    p = load_scenario(name).procedure
    looks = {}
    for o in p.objects:
        assert o.shape in {"box", "cylinder", "sphere", "capsule"}
        assert o.category in {"container", "tool", "ingredient", "appliance", "part", "utensil"}
        assert all(0 < x < 0.5 for x in o.size)
        looks.setdefault((o.shape, o.size, o.color), []).append(o.id)
    # identical-looking objects must be interchangeable parts (legs, brackets), nothing else
    for ids in looks.values():
        if len(ids) > 1:
            assert len({i.rsplit("_", 1)[0] for i in ids}) == 1, ids
    for o in p.objects:
        for alt in o.alternatives:
            assert p.object(alt).color != o.color


def test_layouts() -> None:
    kitchen = load_layout("kitchen")
    kinds = {f.kind for f in kitchen.fixtures}
    assert {"counter", "stove", "burner", "sink", "fridge", "shelf", "table"} <= kinds
    stove, burner = kitchen.fixture("stove"), kitchen.fixture("burner")
    assert abs(burner.position[0] - stove.position[0]) <= stove.size[0]
    assert burner.position[2] >= stove.position[2]
    assert 0.85 <= kitchen.fixture("counter").position[2] <= 0.95
    for name in ("kitchen", "workbench", "maintenance_bench"):
        for fx in load_layout(name).fixtures:
            dist = np.hypot(fx.position[0] - fx.stand[0], fx.position[1] - fx.stand[1])
            assert 0.3 <= dist <= 0.8, (name, fx.id, dist)
            assert len(fx.color) == 4


def test_profiles_by_name_and_in_tasks() -> None:
    names = sc.list_profiles()
    assert {"careful", "typical", "distractible", "stubborn"} <= set(names)
    careful, distractible = load_profile("careful"), load_profile("distractible")
    assert careful.error_proneness < distractible.error_proneness
    assert load_profile("stubborn").compliance < load_profile("typical").compliance
    assert load_scenario("kitchen_tea").person == load_profile("typical")
    assert load_scenario("kitchen_salad").person.name == "careful"


def test_with_script_supplied_by_code() -> None:
    base = load_scenario("kitchen_tea")
    script = [
        ScriptedDeviation("omission", "add_tea_bag", time=10.0),
        ScriptedDeviation("safety", "turn_off_burner"),
    ]
    scenario = sc.with_script(base, script)
    assert scenario.deviations.scripted == tuple(script)
    assert scenario.deviations.rates == base.deviations.rates
    assert base.deviations.scripted == ()
    with pytest.raises(ScenarioError) as err:
        sc.with_script(base, [ScriptedDeviation("omision", "add_teabag", time=-1.0)])
    fields = [p.field for p in err.value.problems]
    assert fields == ["script[0].kind", "script[0].step", "script[0].time"]
    assert "did you mean 'omission'" in str(err.value)


def test_loads_are_cached_and_frozen() -> None:
    a, b = load_scenario("kitchen_tea"), load_scenario("kitchen_tea")
    assert a is b
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.name = "x"  # type: ignore[misc]


def test_public_exports() -> None:
    for name in (
        "Scenario Procedure Step ObjectSpec Layout Fixture PersonProfile DeviationSpec "
        "ScriptedDeviation Duration DEVIATION_KINDS MAX_STEPS load_scenario list_scenarios "
        "load_layout load_profile ScenarioError"
    ).split():
        assert name in sc.__all__ and hasattr(sc, name)
    assert issubclass(ScenarioError, ValueError)


def test_import_is_light() -> None:
    import subprocess
    import sys

    code = "import sys, proassist.scenarios; print(sorted(m for m in ('numpy','torch','scipy','pybullet') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
