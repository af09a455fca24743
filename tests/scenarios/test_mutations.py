"""Hypothesis: mutated library files never raise anything but ScenarioError."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

import yaml
from fuzz_corpus import _get, _paths  # the corpus generator's YAML walkers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proassist.scenarios import ScenarioError, list_scenarios, load_scenario
from proassist.scenarios.library import LAYOUTS_DIR, PROFILES_DIR, TASKS_DIR
from proassist.scenarios.validation.validate import validate_file

TASK_TEXT = {n: (TASKS_DIR / f"{n}.yaml").read_text(encoding="utf-8") for n in list_scenarios()}
TASK_DATA = {n: yaml.safe_load(t) for n, t in TASK_TEXT.items()}
OTHER = sorted(LAYOUTS_DIR.glob("*.yaml")) + sorted(PROFILES_DIR.glob("*.yaml"))
JUNK_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 100),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.sampled_from(
        ["not at(x,y)", "at(kettle,sink)", "filled()", "get_mug", "kitchen", "omission"]
    ),
)
_COUNTER = itertools.count()
_TMP = tempfile.TemporaryDirectory(prefix="proassist-mut-")


def _mutate(doc: Any, data: st.DataObject) -> Any:
    paths = _paths(doc)
    path = data.draw(st.sampled_from(paths[1:]))
    parent, key = _get(doc, path[:-1]), path[-1]
    op = data.draw(st.sampled_from(["delete", "retype", "rename", "junk_key", "duplicate"]))
    if op == "delete":
        del parent[key]
    elif op == "retype":
        parent[key] = data.draw(JUNK_VALUES)
    elif op == "rename" and any(p and p[-1] == "id" for p in paths):
        ids = [p for p in paths if p and p[-1] == "id"]
        target = data.draw(st.sampled_from(ids))
        _get(doc, target[:-1])["id"] = data.draw(
            st.sampled_from(["x", "get_mug", "Bad Id", "seat", "counter"])
        )
    elif op == "junk_key" and isinstance(parent, dict):
        parent[data.draw(st.text(min_size=1, max_size=8))] = data.draw(JUNK_VALUES)
    elif op == "duplicate" and isinstance(parent, list):
        parent.append(parent[key])
    return doc


def _write(name: str, text: str) -> Path:
    folder = Path(_TMP.name) / str(next(_COUNTER))
    folder.mkdir()
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _check(path: Path) -> None:
    problems = validate_file(path)
    try:
        load_scenario(path)
    except ScenarioError as err:
        assert err.problems, "ScenarioError without problems"
        assert err.problems == problems
        for p in err.problems:
            assert str(p).startswith(f"{path}:") or p.file != str(path)
    else:
        assert problems == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(TASK_DATA)), data=st.data(), n=st.integers(1, 3))
def test_data_mutations_raise_only_scenario_error(name: str, data: st.DataObject, n: int) -> None:
    doc = yaml.safe_load(TASK_TEXT[name])
    for _ in range(n):
        doc = _mutate(doc, data)
    _check(_write(name, yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(TASK_TEXT)),
    where=st.floats(0, 1),
    junk=st.one_of(
        st.text(max_size=30),
        st.sampled_from(
            [
                "\t",
                "- [",
                "{",
                "&a [*a]",
                "key: value",
                "  - id: x",
                "!!python/object:os.system x",
                ": :",
            ]
        ),
    ),
)
def test_text_junk_raises_only_scenario_error(name: str, where: float, junk: str) -> None:
    text = TASK_TEXT[name]
    cut = int(where * len(text))
    _check(_write(name, text[:cut] + junk + text[cut:]))


@settings(max_examples=25, deadline=None)
@given(path=st.sampled_from(OTHER), data=st.data())
def test_layout_and_profile_mutations_report_problems(path: Path, data: st.DataObject) -> None:
    doc = _mutate(yaml.safe_load(path.read_text(encoding="utf-8")), data)
    mutated = _write(path.stem, yaml.safe_dump(doc, sort_keys=False))
    if path.parent.name == "profiles":
        mutated = mutated.parent / "profiles" / mutated.name
        mutated.parent.mkdir()
        mutated.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    problems = validate_file(mutated)
    assert all(p.file == str(mutated) and p.line >= 0 for p in problems)
