"""The procedural task generator: every generated task is a valid, varied task file."""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proassist.scenarios import MAX_STEPS, load_layout, load_scenario, validate_file
from proassist.scenarios.generate import generate_task, generate_tasks, write_task
from proassist.scenarios.model import DEVIATION_KINDS

LAYOUTS = {"kitchen": "kitchen", "workbench": "assembly", "maintenance_bench": "maintenance"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layout=st.sampled_from(sorted(LAYOUTS)), seed=st.integers(0, 2**31))
def test_every_generated_task_validates(tmp_path_factory, layout: str, seed: int) -> None:
    doc = generate_task(load_layout(layout), seed, domain=LAYOUTS[layout])
    path = write_task(doc, tmp_path_factory.mktemp("gen"))
    assert validate_file(path) == []
    proc = load_scenario(path).procedure
    assert proc.id == f"{LAYOUTS[layout]}_gen_{seed}" and 5 <= len(proc.steps) <= MAX_STEPS
    assert (
        proc.goal_predicates and proc.goal == proc.step(f"bring_{proc.objects[0].id}").instruction
    )
    ids = {s.id for s in proc.steps}
    assert all(set(s.after) <= ids for s in proc.steps)
    # every goal predicate is made by a step that is not optional
    made = {p for s in proc.steps if not s.optional for p in s.effects}
    assert set(proc.goal_predicates) <= made


def test_same_seed_same_task_other_seed_other_task() -> None:
    layout = load_layout("kitchen")
    a, b = (generate_task(layout, 7, domain="kitchen") for _ in range(2))
    assert a == b
    others = [generate_task(layout, s, domain="kitchen") for s in range(8, 14)]
    assert all(o["steps"] != a["steps"] for o in others)


def test_the_tasks_are_varied_and_every_kind_applies_somewhere(tmp_path: Path) -> None:
    from proassist.sim.deviations.base import applicable_steps

    covered: collections.Counter = collections.Counter()
    sizes, orders = set(), set()
    for layout, domain in LAYOUTS.items():
        for path in generate_tasks(load_layout(layout), range(12), tmp_path, domain=domain):
            proc = load_scenario(path).procedure
            sizes.add(len(proc.steps))
            orders.add(tuple(s.id.split("_")[0] for s in proc.steps))
            covered.update(k for k in DEVIATION_KINDS if applicable_steps(k, proc))
    assert set(covered) == set(DEVIATION_KINDS), covered
    assert len(sizes) >= 5 and len(orders) >= 30
    # optional side branches and free order (steps with no `after`) both occur
    docs = [yaml.safe_load(p.read_text()) for p in tmp_path.glob("*.yaml")]
    assert any(s.get("optional") for d in docs for s in d["steps"])
    assert all(sum(not s.get("after") for s in d["steps"]) >= 3 for d in docs)


def test_a_layout_without_enough_surfaces_is_refused() -> None:
    layout = load_layout("kitchen")
    tiny = dataclasses.replace(
        layout,
        fixtures=tuple(dataclasses.replace(f, size=(0.1, 0.1, 0.1)) for f in layout.fixtures),
    )
    with pytest.raises(ValueError, match="layout 'kitchen' has 0 fixtures .* at least 3"):
        generate_task(tiny, 0, domain="kitchen")


def test_a_user_layout_file_by_path(tmp_path: Path) -> None:
    """A layout outside the package: the task names it, and resolves it beside itself."""
    from proassist.scenarios.library import find

    library = find("layout", "workbench")
    assert library is not None
    text = library.read_text()
    (tmp_path / "my_bench.yaml").write_text(text.replace("id: workbench", "id: my_bench"))
    layout = load_layout(tmp_path / "my_bench.yaml")
    path = write_task(generate_task(layout, 3, domain="lab"), tmp_path)
    assert path.name == "lab_gen_3.yaml"
    assert load_scenario(path).procedure.domain == "lab"


def test_a_noun_with_every_colour_taken_falls_back_to_another_noun() -> None:
    import numpy as np

    from proassist.scenarios.generate import COLOURS, _Draft, _new_object

    draft = _Draft(np.random.default_rng(0), "counter", ["counter", "shelf", "table"])
    used = {(c, "box") for c in COLOURS}
    obj = _new_object(draft, used, noun="box")
    assert not obj["id"].endswith("_box") and obj["start"] in ("shelf", "table")
    assert len(used) == len(COLOURS) + 1
