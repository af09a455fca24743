"""Strict validation: broken files name the right file, line and field, all at once."""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import yaml

from proassist.analysis.cli import main
from proassist.scenarios import ScenarioError, load_scenario
from proassist.scenarios.errors import Problem, format_path
from proassist.scenarios.library import TASKS_DIR
from proassist.scenarios.validation.validate import validate_file

TEA = (TASKS_DIR / "kitchen_tea.yaml").read_text(encoding="utf-8")
REPO = Path(__file__).resolve().parents[2]


def edit(text: str, old: str, new: str) -> str:
    """Replace the first ``old`` (which must exist) with ``new``."""
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


# (case id, old, new, expected field, line marker, expected words in the message)
CASES = [
    (
        "unknown_key",
        "  - id: fill_kettle\n",
        "  - id: fill_kettle\n    colour: red\n",
        "steps[1].colour",
        "colour: red",
        "unknown key 'colour'",
    ),
    (
        "missing_field",
        "    instruction: Put the kettle on the burner.\n",
        "",
        "steps[2].instruction",
        "- id: place_kettle",
        "missing required field 'instruction'",
    ),
    (
        "wrong_type",
        "max_duration: 300",
        "max_duration: soon",
        "max_duration",
        "max_duration: soon",
        "expected a finite number",
    ),
    (
        "wrong_type_bool",
        '    optional: true\n    effects: ["at(milk',
        '    optional: maybe\n    effects: ["at(milk',
        "steps[10].optional",
        "optional: maybe",
        "expected true or false",
    ),
    (
        "duplicate_step_id",
        "  - id: return_milk",
        "  - id: get_milk",
        "steps[12].id",
        "- id: get_milk\n    instruction: Put the milk back",
        "duplicate step id 'get_milk'",
    ),
    (
        "duplicate_object_id",
        "  - {id: salt_jar,",
        "  - {id: spoon,",
        "objects[6].id",
        "- {id: spoon, name: teaspoon",
        "duplicate object id 'spoon'",
    ),
    (
        "dangling_step",
        "after: [fill_kettle]",
        "after: [fil_kettle]",
        "steps[2].after[0]",
        "after: [fil_kettle]",
        "did you mean 'fill_kettle'",
    ),
    (
        "dangling_object",
        "    objects: [mug]\n    location: shelf",
        "    objects: [cup]\n    location: shelf",
        "steps[0].objects[0]",
        "objects: [cup]",
        "unknown object 'cup'",
    ),
    (
        "dangling_fixture",
        "    location: sink\n",
        "    location: snk\n",
        "steps[1].location",
        "location: snk",
        "did you mean 'sink'",
    ),
    (
        "dangling_predicate",
        'requires: ["steeped(mug)"]',
        'requires: ["brewed(mug)"]',
        "steps[15].requires[0]",
        'requires: ["brewed(mug)"]',
        "neither initial nor an effect",
    ),
    (
        "dangling_predicate_arg",
        '"filled(kettle)", "at(kettle,sink)"',
        '"filled(pot)", "at(kettle,sink)"',
        "steps[1].effects[0]",
        '"filled(pot)"',
        "argument 'pot'",
    ),
    (
        "bad_predicate",
        '"filled(kettle)", "at(kettle,sink)"',
        '"filled kettle", "at(kettle,sink)"',
        "steps[1].effects[0]",
        '"filled kettle"',
        "not a predicate",
    ),
    (
        "cycle",
        'after: [boil_water]\n    requires: ["switched_on(burner)"]',
        'after: [serve_tea]\n    requires: ["switched_on(burner)"]',
        "steps[6].after",
        "after: [serve_tea]",
        "cycle in 'after': turn_off_burner -> serve_tea -> turn_off_burner",
    ),
    (
        "unreachable_goal",
        '"at(mug,table)"]',
        '"at(mug,table)", "at(mug,counter)"]',
        "goal_predicates[5]",
        "goal_predicates:",
        "goal 'at(mug,counter)' does not hold",
    ),
    (
        "goal_needs_optional",
        '"at(mug,table)"]',
        '"at(mug,table)", "sweetened(mug)"]',
        "goal_predicates[5]",
        "goal_predicates:",
        "when the optional steps are skipped",
    ),
    (
        "never_satisfiable",
        '    location: shelf\n    effects: ["at(mug,counter)"',
        '    location: shelf\n    requires: ["filled(mug)"]\n    effects: ["at(mug,counter)"',
        "steps[0].requires[0]",
        'requires: ["filled(mug)"]',
        "can never hold",
    ),
    (
        "bad_yaml_tab",
        "layout: kitchen\n",
        "layout: kitchen\n\tperson: x\n",
        "<yaml>",
        "\tperson: x",
        "invalid YAML",
    ),
    (
        "bad_yaml_indent",
        "  - id: get_mug\n",
        "  - id: get_mug\n   bad: indent\n",
        "<yaml>",
        "bad: indent",
        "invalid YAML",
    ),
    (
        "unknown_deviation_kind",
        "    safety: 0.05",
        "    safty: 0.05",
        "deviations.rates.safty",
        "safty: 0.05",
        "did you mean 'safety'",
    ),
    (
        "rate_out_of_range",
        "    omission: 0.04",
        "    omission: 1.5",
        "deviations.rates.omission",
        "omission: 1.5",
        "in [0.0, 1.0]",
    ),
    (
        "scripted_unknown_step",
        "  scripted: []",
        "  scripted:\n    - {kind: omission, step: add_teabag}",
        "deviations.scripted[0].step",
        "step: add_teabag",
        "did you mean 'add_tea_bag'",
    ),
    (
        "scripted_unknown_kind",
        "  scripted: []",
        "  scripted:\n    - {kind: skip, step: add_tea_bag}",
        "deviations.scripted[0].kind",
        "kind: skip",
        "unknown deviation kind 'skip'",
    ),
    (
        "unknown_layout",
        "layout: kitchen",
        "layout: kitchn",
        "layout",
        "layout: kitchn",
        "did you mean 'kitchen'",
    ),
    (
        "unknown_profile",
        "person: typical",
        "person: typcal",
        "person",
        "person: typcal",
        "did you mean 'typical'",
    ),
    (
        "duplicate_yaml_key",
        "max_duration: 300\n",
        "max_duration: 300\nmax_duration: 200\n",
        "max_duration",
        "max_duration: 200",
        "duplicate key",
    ),
    (
        "negated_requires",
        'requires: ["steeped(mug)"]',
        'requires: ["not steeped(mug)"]',
        "steps[15].requires[0]",
        'requires: ["not steeped(mug)"]',
        "negation is only allowed in effects",
    ),
    (
        "wrong_arity",
        '"filled(kettle)", "at(kettle,sink)"',
        '"filled(kettle,sink)", "at(kettle,sink)"',
        "steps[1].effects[0]",
        '"filled(kettle,sink)"',
        "takes 1 argument",
    ),
    (
        "at_needs_fixture",
        '"filled(kettle)", "at(kettle,sink)"',
        '"filled(kettle)", "at(kettle,mug)"',
        "steps[1].effects[1]",
        '"at(kettle,mug)"',
        "second argument must be a fixture",
    ),
    (
        "self_after",
        "after: [fill_kettle]",
        "after: [place_kettle]",
        "steps[2].after[0]",
        "after: [place_kettle]",
        "cannot come after itself",
    ),
    (
        "required_after_optional",
        'after: [remove_tea_bag]\n    requires: ["filled(mug)"]',
        'after: [remove_tea_bag, add_sugar]\n    requires: ["filled(mug)"]',
        "steps[14].after[1]",
        "after: [remove_tea_bag, add_sugar]",
        "optional step 'add_sugar'",
    ),
    (
        "id_not_stem",
        "id: kitchen_tea",
        "id: kitchen_coffee",
        "id",
        "id: kitchen_coffee",
        "must equal the file name stem",
    ),
    (
        "unknown_alternative",
        "alternatives: [salt_jar]",
        "alternatives: [salt]",
        "objects[4].alternatives[0]",
        "alternatives: [salt]",
        "unknown object 'salt'",
    ),
    (
        "amount_without_value",
        "params: {amount: 500 ml, amount_value: 500}",
        "params: {amount: 500 ml}",
        "steps[1].params.amount_value",
        "params: {amount: 500 ml}",
        "amount_value",
    ),
    (
        "root_not_mapping",
        None,
        "- just\n- a list\n",
        "<root>",
        "- just",
        "expected a mapping (task)",
    ),
]


def _write(tmp_path: Path, text: str, name: str = "kitchen_tea.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_broken_file_names_field_and_line(tmp_path: Path, case: tuple) -> None:
    _, old, new, field, marker, words = case
    text = new if old is None else edit(TEA, old, new)
    path = _write(tmp_path, text)
    problems = validate_file(path)
    expected_line = (
        line_of(text, marker.split("\n")[0]) if "\n" not in marker else _line_of_block(text, marker)
    )
    matching = [p for p in problems if p.field == field]
    assert matching, [str(p) for p in problems]
    assert matching[0].line == expected_line, [str(p) for p in problems]
    assert words in matching[0].message
    assert matching[0].file == str(path)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.problems == problems
    assert f"{path}:{expected_line}: {field}: " in str(err.value)


def _line_of_block(text: str, block: str) -> int:
    return text[: text.index(block)].count("\n") + 1


@pytest.mark.parametrize(
    "case_id",
    [
        "unknown_key",
        "wrong_type",
        "dangling_step",
        "cycle",
        "unknown_deviation_kind",
        "never_satisfiable",
    ],
)
def test_single_fault_gives_a_single_problem(tmp_path: Path, case_id: str) -> None:
    _, old, new, field, _, _ = next(c for c in CASES if c[0] == case_id)
    problems = validate_file(_write(tmp_path, edit(TEA, old, new)))
    assert [p.field for p in problems] == [field]


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    chosen = [
        "unknown_key",
        "wrong_type",
        "dangling_step",
        "dangling_object",
        "cycle",
        "unknown_deviation_kind",
        "duplicate_object_id",
        "scripted_unknown_step",
    ]
    text = TEA
    for case in CASES:
        if case[0] in chosen:
            text = edit(text, case[1], case[2])
    problems = validate_file(_write(tmp_path, text))
    fields = {p.field for p in problems}
    expected = {c[3] for c in CASES if c[0] in chosen}
    assert expected <= fields, sorted(fields)
    lines = [p.line for p in problems]
    assert lines == sorted(lines)


def test_too_many_steps(tmp_path: Path) -> None:
    data = yaml.safe_load(TEA)
    base = data["steps"][0]
    data["steps"] += [dict(base, id=f"extra_{i}", effects=[]) for i in range(20)]
    problems = validate_file(_write(tmp_path, yaml.safe_dump(data, sort_keys=False)))
    assert [p.field for p in problems] == ["steps"]
    assert "at most MAX_STEPS=32" in problems[0].message


def test_broken_layout_is_reported_with_its_own_file(tmp_path: Path) -> None:
    layout = tmp_path / "kitchen2.yaml"
    layout.write_text(
        "id: kitchen2\nfixtures:\n  - {id: counter, kind: counter, position: [0, 0], size: [1, 1, 1], stand: [0, 0]}\n"
    )
    text = edit(TEA, "layout: kitchen", f"layout: {layout}")
    problems = validate_file(_write(tmp_path, text))
    assert any(
        p.file == str(layout) and p.line == 3 and p.field == "fixtures[0].position"
        for p in problems
    )
    assert (
        str(Problem(str(layout), 3, "fixtures[0].position", "x"))
        == f"{layout}:3: fixtures[0].position: x"
    )


def test_format_path() -> None:
    assert format_path(("steps", 3, "after")) == "steps[3].after"
    assert format_path(()) == "<root>"


def _cli(args: list[str]) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(args)
    return code, buf.getvalue()


def test_cli_validate_ok_and_broken(tmp_path: Path) -> None:
    good = TASKS_DIR / "kitchen_tea.yaml"
    code, out = _cli(["scenarios", "validate", str(good)])
    assert code == 0 and out.strip() == f"ok {good}"
    bad = _write(
        tmp_path,
        edit(
            edit(TEA, "max_duration: 300", "max_duration: soon"),
            "    safety: 0.05",
            "    safty: 0.05",
        ),
    )
    code, out = _cli(["scenarios", "validate", str(good), str(bad)])
    lines = out.strip().splitlines()
    assert code == 2
    assert lines[0] == f"ok {good}"
    assert lines[1].startswith(f"{bad}:{line_of(TEA, 'max_duration')}: max_duration: ")
    assert lines[2].startswith(f"{bad}:") and ": deviations.rates.safty: " in lines[2]
    assert len(lines) == 3


def test_cli_list(tmp_path: Path) -> None:
    code, out = _cli(["scenarios", "list", "--domain", "assembly", "--names-only"])
    assert code == 0
    assert out.split() == ["assembly_desk_lamp", "assembly_stool", "assembly_wall_shelf"]
    code, out = _cli(["scenarios", "list"])
    assert code == 0 and "kitchen_tea\t16 steps" in out


@pytest.mark.parametrize("args", [["scenarios"], ["scenarios", "list"], ["scenarios", "validate"]])
def test_cli_help(args: list[str]) -> None:
    buf = io.StringIO()
    with redirect_stdout(buf), pytest.raises(SystemExit) as exc:
        main([*args, "--help"])
    assert exc.value.code == 0 and "usage: proassist scenarios" in buf.getvalue()


def test_cli_subprocess_no_traceback(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "proassist"
    if not exe.exists():
        exe = REPO / ".venv" / "bin" / "proassist"
    bad = _write(tmp_path, "id: [unclosed\n")
    missing = tmp_path / "missing.yaml"
    proc = subprocess.run(
        [str(exe), "scenarios", "validate", str(bad), str(missing)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0].startswith(f"{bad}:2: <yaml>: invalid YAML")
    assert proc.stdout.splitlines()[1].startswith(f"{missing}:0: <file>: cannot read")


def test_person_by_name_base_and_overrides(tmp_path: Path) -> None:
    text = edit(TEA, "person: typical", "person: {base: careful, compliance: 0.5, name: nervous}")
    person = load_scenario(_write(tmp_path, text)).person
    assert (person.name, person.compliance) == ("nervous", 0.5)
    assert (
        person.error_proneness == load_scenario("kitchen_salad").person.error_proneness
    )  # careful
    text = edit(TEA, "person: typical", "person: {speed: 1.3}")
    person = load_scenario(_write(tmp_path, text, "kitchen_tea.yaml")).person
    assert person.speed == 1.3 and person.name == "default"
    text = edit(TEA, "person: typical", "person: {base: carefull, compliance: 2}")
    problems = validate_file(_write(tmp_path, text))
    by_field = {p.field: p for p in problems}
    assert set(by_field) == {"person.base", "person.compliance"}
    assert "did you mean 'careful'" in by_field["person.base"].message
