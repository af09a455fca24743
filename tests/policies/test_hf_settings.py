"""HF component settings without a model: stop rules, prompt templates, output log,
and the errors naming the extras when torch is hidden."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from proassist.policies.duplex.components import Decision, DialogueTurn, PlanContext
from proassist.policies.duplex.hf_common import load_template, logged_call
from proassist.policies.duplex.hf_planner import (
    DEFAULT_PLANNER_TEMPLATE,
    PLANNER_FIELDS,
    build_planner_prompt,
    plan_answer_done,
)
from proassist.policies.duplex.hf_vlm import (
    DEFAULT_VLM_TEMPLATE,
    VLM_FIELDS,
    build_vlm_prompt,
    vlm_answer_done,
)
from proassist.policies.duplex.plan_format import render_plan
from proassist.policies.duplex.planners import TaskGraphPlanner


@pytest.mark.parametrize(
    ("text", "done"),
    [
        ("", False),
        ("<mode>normal</mode><goal>g</goal><plan>\n1. a (Current)\n</plan>", False),
        ("<mode>normal</mode> ... <cue_todo>dark</cue_todo>", True),
        ("<mode>normal</mode><goal>g</goal><mode>", True),  # a section repeated
        ("<mode>sideways</mode>", True),  # not a mode
        ("<mode>recovery", False),
    ],
)
def test_plan_answer_done(text: str, done: bool) -> None:
    assert plan_answer_done(text) is done


def test_plan_answer_done_on_a_rendered_plan(env_info: dict) -> None:
    ctx = PlanContext(env_info["goal"], env_info["plan"])
    text = render_plan(TaskGraphPlanner().replan([], None, None, ctx))
    assert plan_answer_done(text) and not plan_answer_done(text[: text.index("<cue_todo>")])


@pytest.mark.parametrize(
    ("text", "done"),
    [
        ("", False),
        ("  $sil", False),
        ("$silent$", True),
        ("\n$silent$ and more", True),
        ("$interrupt$", False),
        ("$interrupt$ Turn the burner off.", False),
        ("$interrupt$ Turn the burner off.\nuser:", True),
        ("I think", True),  # neither tag: malformed whatever follows
        ("$x", True),
    ],
)
def test_vlm_answer_done(text: str, done: bool) -> None:
    assert vlm_answer_done(text) is done


def test_load_template_inline_file_and_errors(tmp_path: Path) -> None:
    fields = ("goal", "plan")
    assert load_template(None, "D {goal}", fields) == "D {goal}"
    assert load_template("G: {goal} {{literal}}", "D", fields) == "G: {goal} {{literal}}"
    path = tmp_path / "t.txt"
    path.write_text("From a file: {plan}\n")
    assert load_template(str(path), "D", fields) == "From a file: {plan}\n"
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_template(str(tmp_path / "missing.txt"), "D", fields)
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['nope'\]"):
        load_template("{goal} {nope}", "D", fields)
    with pytest.raises(ValueError, match="malformed"):
        load_template("{goal", "D", fields)
    with pytest.raises(TypeError, match="quote"):
        load_template({"goal": None}, "D", fields)  # type: ignore[arg-type]


def test_default_templates_use_only_their_fields(env_info: dict) -> None:
    assert load_template(DEFAULT_PLANNER_TEMPLATE, "", PLANNER_FIELDS)
    assert load_template(DEFAULT_VLM_TEMPLATE, "", VLM_FIELDS)
    ctx = PlanContext(env_info["goal"], env_info["plan"], clip_description="a kettle")
    said = Decision(True, "warn", "s1", "Careful")
    custom = build_planner_prompt(None, said, ctx, "{goal}|{utterance}|{clip}")
    assert custom == "Finish the toy task|[warn s1] Careful|a kettle"
    turns = [DialogueTurn(0.0, "person", "hi")]
    assert (
        build_vlm_prompt("g", None, turns, "{goal}/{dialogue}/{silent}") == "g/person: hi/$silent$"
    )


class _FakeModel:
    """Counts calls like the HF components; every other output is malformed."""

    def __init__(self) -> None:
        self.stats = {"calls": 0, "malformed": 0}
        self.last_output = ""

    def __call__(self) -> str:
        self.stats["calls"] += 1
        self.last_output = f"out {self.stats['calls']}"
        if self.stats["calls"] % 2 == 0:
            self.stats["malformed"] += 1
        return self.last_output


def test_logged_call_logs_raw_outputs_and_parse_failures() -> None:
    log: list[dict] = []
    model = _FakeModel()
    results = [logged_call(log, t, "planner", model, model) for t in (0.0, 0.5, 1.0)]
    assert [bad for _, bad in results] == [0, 1, 0]
    assert log == [
        {"t": 0.0, "component": "planner", "output": "out 1", "parsed": True},
        {"t": 0.5, "component": "planner", "output": "out 2", "parsed": False},
        {"t": 1.0, "component": "planner", "output": "out 3", "parsed": True},
    ]
    assert logged_call(log, 2.0, "rules", object(), lambda: 7) == (7, 0) and len(log) == 3


@pytest.fixture
def no_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch (and transformers) cannot be imported, as in a basic install."""
    for name in ("torch", "transformers"):
        monkeypatch.setitem(sys.modules, name, None)


def test_learned_model_names_the_extra_without_torch(no_torch: None, tmp_path: Path) -> None:
    from proassist.policies import make_policy
    from proassist.policies.learned import torch_available
    from proassist.policies.learned.train import load_model

    assert not torch_available()
    with pytest.raises(ImportError, match=r"pip install 'proassist\[learn\]'"):
        make_policy("duplex", interaction="learned", checkpoint=str(tmp_path / "model.pt"))
    with pytest.raises(ImportError, match=r"proassist\[learn\]"):
        load_model(tmp_path / "model.pt")


def test_hf_components_name_the_extra_without_torch(no_torch: None, tmp_path: Path) -> None:
    from proassist.policies import make_policy

    with pytest.raises(ImportError, match=r"pip install 'proassist\[hf\]'"):
        make_policy("duplex", planner="hf", planner_path=str(tmp_path))
    with pytest.raises(ImportError, match=r"pip install 'proassist\[hf\]'"):
        make_policy("duplex", interaction="hf", model_path=str(tmp_path))


def test_demo_falls_back_to_rules_without_torch(no_torch: None) -> None:
    from proassist.analysis.cli.demo import _default_policy

    assert _default_policy() == ("duplex", {})
