"""Every user error of the ``proassist`` command line is one ``error:`` line and exit 2.

Each subcommand gets a wrong env id, policy, policy kwarg, missing file or unusable
``--out``; the run must stop before any work with exit code 2 and exactly one stderr
line without a traceback. Real bugs keep their traceback, and ``eval`` never overwrites
results without ``--force``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_sweep_helpers import write_spec

from proassist.analysis.cli import main

KITCHEN = ["--env", "ProAssist-Kitchen-v0"]
#: A real but tiny evaluation: one short episode without pixels, no paired silent run.
TINY = ["--episodes", "1", "--no-paired", "-e", "render=false", "-e", "max_duration=5"]


def one_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the command line; assert exit 2 and one ``error:`` line; return that line."""
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    """A plain file, unusable as an output folder."""
    path = tmp_path / "a_file.txt"
    path.write_text("not a folder\n")
    return path


# ---------------------------------------------------------------------------- eval


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["--env", "ProAssist-Kitchn-v0", "--policy", "silent"], ["did you mean"]),
        ([*KITCHEN, "--policy", "silnt"], ["unknown policy 'silnt'", "'silent'"]),
        ([*KITCHEN, "--policy", "periodic", "-k", "perod=3"], ["'perod'", "'period'"]),
        ([*KITCHEN, "--policy", "periodic", "-k", "period=fast"], ["'period'", "number"]),
        ([*KITCHEN, "--policy", "duplex", "-k", "threshold=2"], ["threshold"]),
        ([*KITCHEN, "--policy", "periodic", "-k", "period"], ["-k", "NAME=VALUE"]),
        ([*KITCHEN, "--policy", "silent", "-e", "widht=32"], ["-e widht", "'width'"]),
        ([*KITCHEN, "--policy", "silent", "--task", "kitchen_te"], ["'kitchen_tea'"]),
        (["--policy", "silent"], ["--env", "--task"]),
        ([*KITCHEN, "--policy", "silent", "--episodes", "0"], ["--episodes"]),
    ],
    ids=[
        "env",
        "policy",
        "kwarg",
        "kwarg-type",
        "kwarg-value",
        "kwarg-syntax",
        "env-kwarg",
        "task",
        "no-env",
        "episodes",
    ],
)
def test_eval_user_errors(
    argv: list[str], needles: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error(["eval", *argv, "--out", str(tmp_path / "out")], capsys)
    for needle in needles:
        assert needle in line
    assert not (tmp_path / "out").exists()  # nothing was written


def test_eval_missing_task_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    task = tmp_path / "no_such_task.yaml"
    line = one_error(["eval", "--task", str(task), "--policy", "silent"], capsys)
    assert "no_such_task.yaml" in line and "not found" in line


def test_eval_unreadable_out(a_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for out in (a_file, a_file / "below"):
        line = one_error(["eval", *KITCHEN, "--policy", "silent", "--out", str(out)], capsys)
        assert str(out) in line


def test_eval_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["eval", *KITCHEN, "--policy", "silent", *TINY, "--out", str(out)]
    assert main(argv) == 0
    assert "silent:   0%" in capsys.readouterr().err  # the bar names the policy
    first = (out / "episodes.jsonl").read_text()
    (out / "scores.json").write_text('{"mine": 1}')
    line = one_error([*argv, "--seed", "1"], capsys)
    assert "--force" in line and "scores.json" in line
    assert (out / "scores.json").read_text() == '{"mine": 1}'
    assert (out / "episodes.jsonl").read_text() == first
    assert main([*argv, "--seed", "1", "--force"]) == 0
    assert json.loads((out / "scores.json").read_text())["n_episodes"] == 1
    assert json.loads((out / "episodes.jsonl").read_text())["seed"] == 1


def test_eval_default_out_takes_the_next_free_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["eval", *KITCHEN, "--policy", "silent", *TINY]
    assert main(argv) == 0 and main(argv) == 0
    assert "runs/eval-2/scores.json" in capsys.readouterr().out
    first = json.loads((tmp_path / "runs/eval/episodes.jsonl").read_text())
    second = json.loads((tmp_path / "runs/eval-2/episodes.jsonl").read_text())
    assert first["policy"] == second["policy"] == "silent"


def test_eval_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An exception after the checks (a bug, even a ValueError) is not swallowed."""
    import proassist.analysis.evaluation as evaluation

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a bug in the evaluation loop")

    monkeypatch.setattr(evaluation, "evaluate", broken)
    argv = ["eval", *KITCHEN, "--policy", "silent", *TINY, "--out", str(tmp_path / "o")]
    with pytest.raises(ValueError, match="a bug in the evaluation loop"):
        main(argv)


def test_eval_error_in_a_real_process_has_no_traceback(tmp_path: Path) -> None:
    argv = ["eval", "--env", "Bad-v0", "--policy", "silent", "--out", str(tmp_path / "o")]
    proc = subprocess.run(
        [sys.executable, "-m", "proassist.analysis.cli", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: unknown env 'Bad-v0'; known: ProAssist-Kitchen-v0, ProAssist-Assembly-v0, "
        "ProAssist-Maintenance-v0, ProAssist-v0"
    ]


# ---------------------------------------------------------------------------- demo


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--policy", "silnt"], "did you mean 'silent'"),
        (["--policy", "periodic", "-k", "perod=2"], "did you mean 'period'"),
        (["-k", "period=2"], "--policy"),
        (["--task", "kitchen_te"], "'kitchen_tea'"),
        (["--task", "assembly_stool"], "kitchen"),
        (["--seed", "-1"], "--seed"),
    ],
    ids=["policy", "kwarg", "kwarg-without-policy", "task", "other-domain", "seed"],
)
def test_demo_user_errors(
    argv: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error(["demo", *argv, "--out", str(tmp_path / "demo")], capsys)
    assert needle in line
    assert not (tmp_path / "demo").exists()


def test_demo_bad_out_and_missing_checkpoint(
    a_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error(["demo", "--policy", "silent", "--out", str(a_file)], capsys)
    assert "not a folder" in line
    ckpt = tmp_path / "missing" / "model.pt"
    argv = ["demo", "--policy", "duplex", "-k", "interaction=learned", "-k", f"checkpoint={ckpt}"]
    line = one_error([*argv, "--out", str(tmp_path / "demo")], capsys)
    assert "model.pt" in line or "torch" in line


# ---------------------------------------------------------------------------- sweep


def test_sweep_missing_file_and_bad_workers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error(["sweep", str(tmp_path / "nope.yaml")], capsys)
    assert "nope.yaml" in line and "no such file" in line
    spec = write_spec(tmp_path / "s.yaml", seeds=1)
    assert "--workers" in one_error(["sweep", str(spec), "--workers", "-1"], capsys)


def test_sweep_bad_out(a_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path / "s.yaml", seeds=1)
    line = one_error(["sweep", str(spec), "--out", str(a_file), "--no-progress"], capsys)
    assert str(a_file) in line


def test_sweep_check_rejects_a_misspelt_policy_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "typo.yaml"
    spec.write_text(
        "name: typo\n"
        "env: ProAssist-Kitchen-v0\n"
        "episodes: {count: 1}\n"
        "policy: duplex\n"
        "grid:\n"
        "  policy_kwargs.treshold: [0.25, 0.5]\n"
    )
    assert main(["sweep", str(spec), "--check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"{spec}:6: grid.policy_kwargs.treshold: ")
    assert "did you mean 'threshold'" in err


# ---------------------------------------------------------------------------- collect, train


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--episodes", "0"], "--episodes"),
        (["--silent-keep", "2"], "--silent-keep"),
        (["--render-size", "4"], "--render-size"),
        (["--rate-range", "0.5", "0.2"], "--rate-range"),
        (["--tasks", "kitchen_te"], "did you mean 'kitchen_tea'"),
        (["--labels", "deviations", "--label-horizon", "0"], "--label-horizon"),
        (["--label-horizon", "4"], "--label-horizon needs --labels deviations"),
    ],
)
def test_collect_bad_numbers(
    argv: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error(["collect", "--out", str(tmp_path / "d"), *argv], capsys)
    assert needle in line
    assert not (tmp_path / "d").exists()


def test_collect_bad_out(a_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert str(a_file) in one_error(["collect", "--out", str(a_file)], capsys)


def test_train_missing_data_and_val(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = ["--out", str(tmp_path / "model")]
    line = one_error(["train", str(tmp_path / "no_data"), *out], capsys)
    assert "no_data" in line and "no such folder" in line
    data = tmp_path / "data"
    data.mkdir()
    (data / "index.json").write_text("{}")
    line = one_error(["train", str(data), *out, "--val", str(tmp_path / "no_val")], capsys)
    assert line.startswith("error: --val") and "no_val" in line
    line = one_error(["train", str(data), *out, "--calibrate-gaps", "4", "-1"], capsys)
    assert line.startswith("error: --calibrate-gaps")
    assert not (tmp_path / "model").exists()


# ---------------------------------------------------------------------------- the others


def test_scenarios_list_unknown_domain(capsys: pytest.CaptureFixture[str]) -> None:
    line = one_error(["scenarios", "list", "--domain", "kitchn"], capsys)
    assert "did you mean 'kitchen'" in line


def test_scenarios_generate_bad_layout_and_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ["--out", str(tmp_path / "gen")]
    line = one_error(["scenarios", "generate", "--layout", "kitchn", "--domain", "k", *out], capsys)
    assert "did you mean 'kitchen'" in line
    line = one_error(
        ["scenarios", "generate", "--layout", "kitchen", "--domain", "K!", *out], capsys
    )
    assert "--domain" in line
    assert not (tmp_path / "gen").exists()
    (tmp_path / "file").write_text("")
    bad = ["--out", str(tmp_path / "file" / "sub")]
    line = one_error(
        ["scenarios", "generate", "--layout", "kitchen", "--domain", "k", *bad], capsys
    )
    assert "file" in line


def test_scenarios_generate_writes_valid_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["scenarios", "generate", "--layout", "workbench", "--domain", "assembly"]
    assert main([*argv, "--seeds", "3", "--seed", "5", "--out", str(tmp_path)]) == 0
    paths = capsys.readouterr().out.split()
    assert [Path(p).name for p in paths] == [f"assembly_gen_{s}.yaml" for s in (5, 6, 7)]
    assert main(["scenarios", "validate", *paths]) == 0
    assert capsys.readouterr().out.split() == [w for p in paths for w in ("ok", p)]
    # a layout file outside the library: the tasks name it by a relative path
    from proassist.scenarios.library import find

    mine = tmp_path / "layouts_elsewhere" / "my_bench.yaml"
    mine.parent.mkdir()
    library = find("layout", "workbench")
    assert library is not None
    mine.write_text(library.read_text().replace("id: workbench", "id: my_bench"))
    out = tmp_path / "mine"
    argv = ["scenarios", "generate", "--layout", str(mine), "--domain", "lab", "--out", str(out)]
    assert main([*argv, "--seeds", "1"]) == 0
    made = capsys.readouterr().out.split()
    assert "layout: ../layouts_elsewhere/my_bench.yaml" in Path(made[0]).read_text()
    assert main(["scenarios", "validate", *made]) == 0


def test_challenge_missing_files_and_bad_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error(["export-challenge", str(tmp_path / "no_run"), str(tmp_path / "x")], capsys)
    assert "no_run" in line
    gold = tmp_path / "gold.jsonl"
    gold.write_text("")
    line = one_error(["score-challenge", str(gold), str(tmp_path / "no_pred.jsonl")], capsys)
    assert "no_pred.jsonl" in line and "Errno" not in line
    line = one_error(["score-challenge", str(gold), str(gold), "--out", str(tmp_path)], capsys)
    assert "is a folder" in line


def test_plot_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "no_run" in one_error(["plot", str(tmp_path / "no_run")], capsys)
