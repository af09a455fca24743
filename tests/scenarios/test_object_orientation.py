"""The optional ``lying`` and ``yaw`` of task objects: loaded, and strictly validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from proassist.scenarios import ScenarioError, load_scenario
from proassist.scenarios.library import TASKS_DIR
from proassist.scenarios.validation.validate import validate_file

TEA = (TASKS_DIR / "kitchen_tea.yaml").read_text(encoding="utf-8")
SPOON = "  - {id: spoon, name: teaspoon, shape: box, size: [0.07, 0.01, 0.004]"


def _with_spoon(tmp_path: Path, extra: str, shape: str = "box") -> Path:
    """kitchen_tea with ``extra`` keys added to the spoon's flow mapping."""
    line = next(x for x in TEA.splitlines() if x.startswith(SPOON))
    new = line.replace("shape: box", f"shape: {shape}")[:-1] + f", {extra}}}"
    path = tmp_path / "kitchen_tea.yaml"
    path.write_text(TEA.replace(line, new), encoding="utf-8")
    return path


def _spoon_line() -> int:
    return next(i for i, x in enumerate(TEA.splitlines(), 1) if x.startswith(SPOON))


def test_defaults_and_given_values_load(tmp_path: Path) -> None:
    spoon = next(o for o in load_scenario("kitchen_tea").procedure.objects if o.id == "spoon")
    assert spoon.lying is None and spoon.yaw == 0.0
    sc = load_scenario(_with_spoon(tmp_path, "lying: true, yaw: -45"))
    spoon = next(o for o in sc.procedure.objects if o.id == "spoon")
    assert spoon.lying is True and spoon.yaw == -45.0


def test_library_marks_its_long_objects_lying() -> None:
    objs = {o.id: o for o in load_scenario("assembly_stool").procedure.objects}
    assert all(objs[f"leg_{i}"].lying is True for i in range(1, 5))
    salad = {o.id: o for o in load_scenario("kitchen_salad").procedure.objects}
    assert salad["cucumber"].lying is True and salad["olive_oil"].lying is False


@pytest.mark.parametrize(
    ("extra", "shape", "field", "words"),
    [
        ("lying: yes please", "box", "lying", "expected true or false"),
        ("lying: null", "box", "lying", "expected true or false"),
        ("yaw: 400", "box", "yaw", "a number in [-360.0, 360.0]"),
        ("yaw: north", "box", "yaw", "expected a finite number"),
        ("lying: true", "sphere", "lying", "a sphere has no height axis"),
        ("lyng: true", "box", "lyng", "did you mean 'lying'"),
    ],
)
def test_bad_values_name_file_line_and_field(
    tmp_path: Path, extra: str, shape: str, field: str, words: str
) -> None:
    path = _with_spoon(tmp_path, extra, shape)
    problems = validate_file(path)
    index = [o.split(",")[0] for o in TEA.split("objects:")[1].split("- {id: ")[1:]].index("spoon")
    expected = f"objects[{index}].{field}"
    assert [p.field for p in problems] == [expected], [str(p) for p in problems]
    assert problems[0].line == _spoon_line() and problems[0].file == str(path)
    assert words in problems[0].message
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert f"{path}:{_spoon_line()}: {expected}: " in str(err.value)
