"""The README's extension examples (``examples/``), run from a copy outside the repository.

A new domain (``my_lab``: its own task file and layout) through ``ProAssist-v0`` with
every shipped policy, ``proassist eval --task PATH --plugin ...`` and a sweep with
``plugins:``; the plugin deviation kind at rate 1.0, recovered with the oracle; and
plugin errors (a built-in name re-registered) that leave the registries usable.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import proassist.envs  # noqa: F401  (registers the ids)
from proassist.analysis.cli import main
from proassist.analysis.metrics.scores import METRICS
from proassist.analysis.plugins import PluginError, load_plugin, load_plugins
from proassist.analysis.sanity import CONTENT_BLIND
from proassist.analysis.sanity_ci import KINDS_KEY, PER_SEED_KEY, seed_table
from proassist.policies import make_policy
from proassist.policies.base import POLICIES
from proassist.policies.learned.assets import default_checkpoint
from proassist.policies.rollout import rollout
from proassist.scenarios.model import DEVIATION_KINDS

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TASK = "my_lab/tasks/my_lab_pipetting.yaml"
SHORT = {"max_duration": 12.0, "width": 32, "height": 32}


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of ``examples/`` in a temporary folder, with both plugins loaded."""
    root = tmp_path_factory.mktemp("user") / "examples"
    shutil.copytree(EXAMPLES, root)
    registries = (DEVIATION_KINDS, POLICIES, METRICS)
    before = [set(r.names()) for r in registries]
    load_plugins([str(root / "plugins/my_kind.py"), str(root / "plugins/my_assistant.py")])
    yield root
    for registry, names in zip(registries, before, strict=True):  # later tests see none
        for name in set(registry.names()) - names:
            registry.remove(name)


def _policies() -> list[tuple[str, dict[str, Any]]]:
    learned = default_checkpoint()
    out: list[tuple[str, dict[str, Any]]] = [
        ("silent", {}),
        ("random", {}),
        ("periodic", {}),
        ("plan-timer", {}),
        ("oracle", {}),
        ("duplex", {"interaction": "rules"}),
        ("monolithic", {}),
        ("step-announcer", {}),
    ]
    if learned is not None:
        out.append(("duplex", {"interaction": "learned", "checkpoint": str(learned)}))
    return out


@pytest.mark.parametrize(("name", "kwargs"), _policies(), ids=lambda x: str(x))
def test_new_domain_runs_with_every_policy(examples: Path, name: str, kwargs: dict) -> None:
    policy = make_policy(name, **kwargs)
    env = gym.make(
        "ProAssist-v0",
        task=str(examples / TASK),
        privileged=bool(policy.privileged),
        render=bool(getattr(policy, "needs_pixels", True)),
        obs_modes=tuple(getattr(policy, "obs_modes", ("rgb",))),
        **SHORT,
    )
    try:
        record = rollout(env, policy, seed=0)
    finally:
        env.close()
    assert record["task"] == "my_lab_pipetting" and record["domain"] == "my_lab"
    assert len(record["decisions"]) >= 2


def test_plugin_kind_fires_and_the_oracle_recovers_it(examples: Path) -> None:
    env = gym.make(
        "ProAssist-v0",
        task=str(examples / TASK),
        privileged=True,
        render=False,
        deviation_rates={"contamination": 1.0},
        deviation_kinds=["contamination"],
        max_duration=120.0,
    )
    try:
        # No step guidance: just-in-time guidance could prevent the deviation.
        record = rollout(env, make_policy("oracle", guide_steps=False), seed=0)
    finally:
        env.close()
    kinds = [e["kind"] for e in record["events"] if e["type"] == "deviation"]
    resolved = [e for e in record["events"] if e["type"] == "deviation_resolved"]
    assert kinds and set(kinds) == {"contamination"}
    assert len(resolved) == len(kinds) and all(e.get("by") == "assistant" for e in resolved)
    said = [d for d in record["decisions"] if d["intent"] == "correct_deviation"]
    assert said and record["success"]


def test_plugin_kind_in_scripted_deviations(examples: Path) -> None:
    script = [{"kind": "contamination", "step": "attach_tip"}]
    env = gym.make("ProAssist-v0", task=str(examples / TASK), render=False, deviation_script=script)
    try:
        record = rollout(env, make_policy("silent"), seed=1)
    finally:
        env.close()
    devs = [e for e in record["events"] if e["type"] == "deviation"]
    assert [(e["kind"], e["step"]) for e in devs][:1] == [("contamination", "attach_tip")]


def test_eval_cli_with_task_path_and_plugins(examples: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    argv = ["eval", "--task", str(examples / TASK), "--policy", "step-announcer"]
    argv += ["--episodes", "2", "--out", str(out), "--no-paired", "-e", "max_duration=15"]
    argv += ["--plugin", str(examples / "plugins/my_assistant.py")]
    assert main(argv) == 0
    scores = json.loads((out / "scores.json").read_text())
    assert scores["n_episodes"] == 2 and scores["messages_per_episode"] > 0
    record = json.loads((out / "episodes.jsonl").read_text().splitlines()[0])
    assert record["env_id"] == "ProAssist-v0" and record["task"] == "my_lab_pipetting"


def test_sanity_with_an_added_row_from_a_plugin(examples: Path, tmp_path: Path) -> None:
    """``proassist sanity --add-row``: the plugin's assistant next to the floors on the
    same seeds, its goals checked in sanity.md and sanity.json."""
    out = tmp_path / "sanity"
    rows = ",".join(["silent", "oracle", *CONTENT_BLIND, "mine"])  # an added label is allowed
    argv = ["sanity", "--env", "ProAssist-Kitchen-v0", "--seeds", "2", "--rows", rows]
    argv += ["--add-row", "mine=step-announcer slack=2", "--out", str(out)]
    assert main([*argv, "--plugin", str(examples / "plugins/my_assistant.py")]) in (0, 1)
    result = json.loads((out / "sanity.json").read_text())
    mine = result["rows"][-1]
    assert (mine["label"], mine["policy"], mine["kwargs"]) == (
        "mine",
        "step-announcer",
        {"slack": 2},
    )
    assert mine["pixels"] is False and mine["scores"]["messages_per_episode"] > 0
    seeds = mine["per_env"]["ProAssist-Kitchen-v0"]["net_assistance_per_seed"]
    assert [s for s, _ in seeds] == [0, 1]  # the floors' seeds
    (goals,) = result["goals_added"]
    assert goals["row"] == "mine" and len(goals["checks"]) == 4
    assert goals["checks"][1]["status"] != "n/a"  # every content-blind row ran
    text = (out / "sanity.md").read_text(encoding="utf-8")
    assert text.count("- ✖ mine: ") + text.count("- ✔ mine: ") + text.count("- ~ mine: ") == 4


def test_compare_reads_a_plugin_kinds_recall(examples: Path, tmp_path: Path, capsys) -> None:
    """``proassist compare --plugin``: a plugin's deviation kind is a per-kind metric."""
    seeds = list(range(8))
    rows = []
    for label, hits in (("x", 1), ("y", 0)):
        kinds = [{"contamination/visible": 1, "contamination/detected": hits} for _ in seeds]
        net = [[s, 0.1 * hits] for s in seeds]
        env = {PER_SEED_KEY: net, KINDS_KEY: seed_table(seeds, kinds)}
        rows.append({"label": label, "scores": {}, "per_env": {"e": env}, "errors": {}})
    (tmp_path / "sanity.json").write_text(json.dumps({"envs": ["e"], "seeds": seeds, "rows": rows}))
    argv = ["compare", str(tmp_path), "--rows", "x,y", "--metric", "oop_recall_contamination"]
    assert main([*argv, "--plugin", str(examples / "plugins/my_kind.py")]) == 0
    assert (
        "x - y = +1.000 [+1.000, +1.000] over 8 seeds, 1 env: x higher" in capsys.readouterr().out
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("oracle=silent", "the label 'oracle' is taken"),
        ("mine", "expected 'LABEL=POLICY [NAME=VALUE ...]'"),
        ("mine=step-anouncer", "did you mean 'step-announcer'"),
        ("mine=step-announcer slack=-1", "--add-row mine: slack must be >= 0"),
        ("mine=step-announcer slak=1", "did you mean 'slack'"),
        ("mine=step-announcer 'slack=1", "No closing quotation"),
    ],
)
def test_a_bad_added_row_is_one_clear_line(
    examples: Path, tmp_path: Path, capsys: pytest.CaptureFixture, spec: str, message: str
) -> None:
    argv = ["sanity", "--rows", "silent", "--add-row", spec, "--out", str(tmp_path / "s")]
    assert main([*argv, "--plugin", str(examples / "plugins/my_assistant.py")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "s").exists()


def test_sweep_with_plugins_and_a_task_path(examples: Path, tmp_path: Path) -> None:
    sweep = examples / "my_lab" / "sweep.yaml"
    sweep.write_text(
        "name: my_lab_smoke\n"
        "env: ProAssist-v0\n"
        "episodes: {seeds: [0, 1]}\n"
        "env_kwargs: {task: tasks/my_lab_pipetting.yaml, max_duration: 15,"
        " render: false, deviation_rates: {contamination: 1.0}}\n"
        "plugins: [../plugins/my_kind.py, ../plugins/my_assistant.py]\n"
        "metrics: [messages_per_episode, oop_recall]\n"
        "variants:\n"
        "  - {policy: step-announcer}\n"
        "  - {policy: oracle, env_kwargs.privileged: true}\n"
    )
    out = tmp_path / "sweep"
    argv = ["sweep", str(sweep), "--workers", "2", "--out", str(out), "--no-progress"]
    assert main([*argv[:2], "--check"]) == 0
    assert main(argv) == 0
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows)
    assert all("messages_per_episode" in r["scores"] for r in rows)


def test_bad_plugin_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "clash.py"
    bad.write_text(
        "from proassist.policies import PolicyBase, register_policy\n"
        "@register_policy('oracle')\n"
        "class Mine(PolicyBase):\n"
        "    pass\n"
    )
    with pytest.raises(PluginError, match=r"clash\.py.*'oracle' is already registered") as err:
        load_plugin(str(bad))
    assert "\n" not in str(err.value)
    assert make_policy("oracle").privileged  # the built-in is untouched
    argv = ["eval", "--env", "ProAssist-Kitchen-v0", "--policy", "silent", "--plugin", str(bad)]
    assert main(argv) == 2
    assert capsys.readouterr().err.count("\n") == 1
    with pytest.raises(PluginError, match="no_such_plugin_module"):
        load_plugin("no_such_plugin_module")


def test_builtin_kind_clash_leaves_the_registry_usable(tmp_path: Path) -> None:
    bad = tmp_path / "kind_clash.py"
    bad.write_text(
        "from proassist.sim.deviations.base import register_deviation\n"
        "from proassist.sim.deviations.step_kinds import Omission\n"
        "@register_deviation('omission')\n"
        "class Mine(Omission):\n"
        "    pass\n"
    )
    before = DEVIATION_KINDS.names()
    with pytest.raises(PluginError, match="deviation kind 'omission' is already registered"):
        load_plugin(str(bad))
    assert DEVIATION_KINDS.names() == before
    assert type(DEVIATION_KINDS.get("omission")).__module__.startswith("proassist.sim")


def test_plugin_kind_in_a_task_file(examples: Path) -> None:
    from proassist.scenarios import load_scenario

    text = (
        (examples / TASK)
        .read_text()
        .replace("  scripted: []", "  scripted: [{kind: contamination, step: pipette_sample}]")
    )
    path = examples / "my_lab/tasks/my_lab_scripted.yaml"
    path.write_text(text.replace("id: my_lab_pipetting", "id: my_lab_scripted"))
    scenario = load_scenario(str(path))
    assert [s.kind for s in scenario.deviations.scripted] == ["contamination"]


def test_sweep_runs_every_shipped_policy_on_the_new_domain(examples: Path, tmp_path: Path) -> None:
    learned = default_checkpoint()
    variants = [
        "{policy: silent}",
        "{policy: random}",
        "{policy: periodic}",
        "{policy: plan-timer}",
        "{policy: oracle}",
        "{policy: duplex, policy_kwargs.interaction: rules}",
        "{policy: monolithic}",
    ]
    if learned is not None:
        variants.append(
            f"{{policy: duplex, policy_kwargs.interaction: learned,"
            f" policy_kwargs.checkpoint: '{learned}'}}"
        )
    sweep = examples / "my_lab" / "every_policy.yaml"
    sweep.write_text(
        "name: my_lab_every_policy\nenv: ProAssist-v0\nepisodes: {seeds: [0]}\n"
        "env_kwargs: {task: tasks/my_lab_pipetting.yaml, max_duration: 10,"
        " width: 32, height: 32}\n"
        "variants:\n" + "".join(f"  - {v}\n" for v in variants)
    )
    out = tmp_path / "every"
    assert main(["sweep", str(sweep), "--workers", "2", "--out", str(out), "--no-progress"]) == 0
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == len(variants) and all(r["status"] == "ok" for r in rows), rows


def test_heldout_layout_example_writes_the_kitchen_tasks_in_a_mirrored_layout(
    tmp_path: Path,
) -> None:
    """``examples/heldout_layout.py``: the five kitchen tasks, same procedures, in a
    layout mirrored along x that no assistant was trained on; they run by path."""
    import importlib.util

    from proassist.scenarios.loader import load_scenario
    from proassist.sim.render.indicators import front_axis

    spec = importlib.util.spec_from_file_location("heldout", EXAMPLES / "heldout_layout.py")
    heldout = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(heldout)
    paths = heldout.write_heldout(tmp_path)
    assert len(paths) == 5
    for path in paths:
        new = load_scenario(path)
        old = load_scenario(path.stem.removesuffix("_b"))
        assert new.layout.id == "kitchen_b" and new.name == f"{old.name}_b"
        assert [s.id for s in new.procedure.steps] == [s.id for s in old.procedure.steps]
        before = {f.id: f for f in old.layout.fixtures}
        for fx in new.layout.fixtures:
            was, shift = before[fx.id], heldout.TABLE_SHIFT if fx.id == "table" else 0.0
            assert fx.position[0] == pytest.approx(-was.position[0] + shift)
            assert fx.stand[0] == pytest.approx(-was.stand[0] + shift)
            assert fx.position[1:] == was.position[1:] and fx.size == was.size
            (ax, ay), (bx, by) = front_axis(fx), front_axis(was)  # the front faces the person
            assert (ax, ay) == pytest.approx((-bx, by))
    env = gym.make("ProAssist-v0", task=str(paths[-1]), **SHORT)
    obs, _ = env.reset(seed=0)
    for _ in range(4):
        obs, *_ = env.step({"decision": 0})
    assert obs["rgb"].shape == (32, 32, 3) and obs["rgb"].any()
    env.close()


def test_heldout_layout_example_pairs_the_layouts_by_task_and_seed(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("heldout", EXAMPLES / "heldout_layout.py")
    heldout = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(heldout)
    rows = {"oracle": ("oracle", {})}
    got = heldout.evaluate_layouts(tmp_path, range(2), rows, max_duration=40.0)["oracle"]
    assert got["pairs"] == [(t, s) for t in heldout.TASKS for s in range(2)]
    assert len(got["shipped"]) == len(got["held-out"]) == len(got["pairs"])
    diff = np.subtract(got["held-out"], got["shipped"])
    assert np.allclose(got["held-out minus shipped"], diff)


def _example(name: str) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_heldout_tasks_example_splits_the_library_and_pairs_recognisers(tmp_path: Path) -> None:
    """``examples/heldout_tasks.py``: six training tasks, the other four held out; the
    same recogniser twice pairs to a difference of exactly zero."""
    from proassist.policies.stepwatch import STEPS_CHECKPOINT
    from proassist.scenarios.library import TASKS_DIR, library_names

    held = _example("heldout_tasks")
    assert not set(held.TRAIN) & set(held.HELD_OUT)
    assert sorted(held.TRAIN + held.HELD_OUT) == library_names(TASKS_DIR)  # the built-in ten
    argv = held.train_argv("split", generated=0)
    assert argv[0] == "train-steps" and argv[argv.index("--tasks") + 1 :] == list(held.TRAIN)
    assert "--generated" not in argv
    argv = held.train_argv("split", seed=3000)  # the committed recipe: generated tasks too
    assert argv[argv.index("--generated") + 1] == "80" and argv[argv.index("--seed") + 1] == "3000"
    assert argv[argv.index("--tasks") + 1 :] == list(held.TRAIN)
    assert held.parse_checkpoints(["a", "b=x=y"]) == {
        "all ten tasks (committed)": None,
        "a": "a",
        "b": "x=y",
    }
    for bad in (["a", "a"], ["lab="], ["=p"], ["silent=p"]):
        with pytest.raises(ValueError, match="LABEL=PATH"):
            held.parse_checkpoints(bad)
    with pytest.raises(ValueError, match="row must be 'stepwatch' or"):
        held.row_with("oracle", None)
    assert held.row_with("stepwatch", "ck") == ("stepwatch", {"checkpoint": "ck"})
    kwargs = held.row_with("stepwatch+learned", "ck")[1]
    assert kwargs["policies"][0] == {"policy": "stepwatch", "policy_kwargs": {"checkpoint": "ck"}}
    checkpoints = {"committed": None, "again": str(STEPS_CHECKPOINT)}
    got = held.evaluate_tasks(checkpoints, range(1), "stepwatch", max_duration=30.0)
    assert [r["task"] for r in got["again"]["records"]] == list(held.HELD_OUT)
    assert got["again"]["vs_first"]["difference"] == 0.0
    assert got["again"]["vs_first"]["n_pairs"] == 4
    assert got["committed"]["net_assistance"] == got["again"]["net_assistance"]
    got = held.evaluate_tasks(
        {"committed": None}, range(1), "stepwatch", "oracle", max_duration=30.0
    )
    assert got["committed"]["vs_reference"]["n_pairs"] == 4
    assert "vs_first" not in got["oracle"] and "vs_reference" not in got["oracle"]
    assert [r["task"] for r in got["oracle"]["records"]] == list(held.HELD_OUT)
    assert got["committed"]["vs_reference"]["difference"] == pytest.approx(
        got["committed"]["net_assistance"] - got["oracle"]["net_assistance"]
    )
    with pytest.raises(ValueError, match="'silent' labels the paired silent"):
        held.evaluate_tasks({"silent": None}, range(1))
    with pytest.raises(ValueError, match="'oracle' labels the reference"):
        held.evaluate_tasks({"oracle": None}, range(1), reference="oracle")
    for bad in ("silent", "stepwatch", "stepwatch+learned"):
        with pytest.raises(ValueError, match="without a step recogniser"):
            held.reference_row(bad)
    with pytest.raises(ValueError, match="did you mean 'step-oracle'"):
        held.reference_row("step-orcale")
    with pytest.raises(ValueError, match="not a sanity row"):  # before any episode runs
        held.evaluate_tasks({"c": "no/such/folder"}, range(1), "stepwatch", "step-orcale")
    assert held.reference_row("step-oracle+learned")[0] == "first-of"
    with pytest.raises(FileNotFoundError, match="steps.json"):  # the checkpoint is read
        held.evaluate_tasks({"empty folder": str(tmp_path)}, range(1), "stepwatch")


def test_heldout_tasks_example_trains_and_pairs_a_held_out_detector() -> None:
    """``detector_argv``: the committed two-round recipe on the six tasks; with
    ``--detector`` each recogniser is paired with the reference sharing its detector."""
    from proassist.policies.learned.assets import default_checkpoint

    held = _example("heldout_tasks")
    argvs = held.detector_argv("d6")
    assert [a[0] for a in argvs] == ["collect", "train", "collect", "train"]
    for collect in argvs[0], argvs[2]:
        assert collect[collect.index("--tasks") + 1 :] == list(held.TRAIN)
        assert collect[collect.index("--labels") + 1] == "deviations"
    assert argvs[2][argvs[2].index("--driver") + 1] == "d6/m4/model.pt"
    assert argvs[3][1:3] == ["d6/r0h", "d6/r1h"]
    assert argvs[3][-2:] == ["--inference-from", str(default_checkpoint())]
    with pytest.raises(ValueError, match="needs a row with the learned duplex"):
        held.row_with("stepwatch", None, "d.pt")
    ref, held_ref = "step-oracle+learned", held.held_reference("step-oracle+learned")
    checkpoints = {"committed": None, "split": "split"}
    assert held._pairings(checkpoints, ref, "d.pt") == {
        "committed": {"vs_first": "committed", "vs_reference": ref},
        "split": {"vs_first": "committed", "vs_reference": held_ref},
        ref: {},
        held_ref: {"vs_reference": ref},
    }
    assert held._pairings(checkpoints, ref, None) == {
        "committed": {"vs_first": "committed", "vs_reference": ref},
        "split": {"vs_first": "committed", "vs_reference": ref},
        ref: {},
    }
    with pytest.raises(ValueError, match="labels the reference with the held-out detector"):
        held.evaluate_tasks({held_ref: None}, range(1), reference=ref)


def test_heldout_tasks_example_runs_every_row_with_its_detector(tmp_path: Path) -> None:
    """The committed recogniser's row keeps the committed detector, the others and the
    second reference read ``--detector`` (here: the committed weights, talking more);
    a detector that does not load fails before any episode runs."""
    from proassist.policies.learned.assets import default_checkpoint
    from proassist.policies.stepwatch import STEPS_CHECKPOINT

    held = _example("heldout_tasks")
    detector = tmp_path / "model.pt"
    detector.write_bytes(default_checkpoint().read_bytes())
    meta = json.loads(default_checkpoint().with_suffix(".json").read_text())
    (tmp_path / "model.json").write_text(json.dumps(meta | {"inference": {"logit_bias": 4.0}}))
    checkpoints = {"committed": None, "again": str(STEPS_CHECKPOINT)}
    ref, held_ref = "step-oracle+learned", held.held_reference("step-oracle+learned")
    rows = held._rows(checkpoints, "stepwatch+learned", ref, str(detector))
    assert str(detector) not in repr(rows["committed"]) and str(detector) in repr(rows["again"])
    assert str(detector) not in repr(rows[ref]) and str(detector) in repr(rows[held_ref])
    got = held.evaluate_tasks(
        checkpoints, range(1), "stepwatch+learned", ref, str(detector), max_duration=20.0
    )

    def said(label: str) -> int:
        return sum(
            e["type"] == "assistant_message" for r in got[label]["records"] for e in r["events"]
        )

    assert said(held_ref) > said(ref) and said("again") > said("committed")  # its detector speaks
    for label, other in (("again", held_ref), ("committed", ref), (held_ref, ref)):
        assert got[label]["vs_reference"]["difference"] == pytest.approx(
            got[label]["net_assistance"] - got[other]["net_assistance"]
        )
    with pytest.raises(FileNotFoundError, match="--detector"):
        held.evaluate_tasks(checkpoints, range(1), "stepwatch+learned", ref, "no/such.pt")
    (tmp_path / "model.json").unlink()  # a model.pt without its model.json does not load
    with pytest.raises(FileNotFoundError, match="model.json"):
        held.evaluate_tasks(checkpoints, range(1), "stepwatch+learned", ref, str(detector))


def test_onset_lookahead_example_prints_one_row_per_lookahead(
    capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``examples/onset_lookahead.py`` end to end on two short episodes per env; each
    stream's features are computed once, whatever the number of lookaheads."""
    from proassist.policies.learned import steps_seq

    look = _example("onset_lookahead")
    calls: list[int] = []
    real = steps_seq.stream_arrays
    monkeypatch.setattr(
        steps_seq, "stream_arrays", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    argv = ["--episodes", "1", "--val-episodes", "1", "--epochs", "1", "--hidden", "8"]
    assert look.main([*argv, "--lookahead", "0", "2", "--max-duration", "20"]) == 0
    assert len(calls) == 6  # 3 envs x (1 training + 1 validation) streams
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("|")]
    assert lines[0] == "| lookahead | all | first 3 s | 0-1 s | 1-2 s | 2-3 s | 3-5 s |"
    assert [x.split(" | ")[0] for x in lines[2:]] == ["| 0.0 s", "| 1.0 s"]
    overall = [x.split(" | ")[1].split(" (") for x in lines[2:]]
    assert all(0.0 <= float(v) <= 1.0 and int(n.rstrip(")")) > 0 for v, n in overall)
    assert look.table({0: {"all": (0.5, 40), "x": (0.25, 8)}}) == [
        "| lookahead | all | x |",
        "|---|---|---|",
        "| 0.0 s | 0.500 (40) | 0.250 (8) |",
    ]
