"""Closed-loop tuning of a step recogniser's deployment settings (``proassist
tune-steps``): the grid is checked, the checkpoint's own settings are always a
candidate, the best net assistance is written to ``deploy`` and ``stepwatch`` uses it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from proassist.analysis.cli import main
from proassist.analysis.sanity import ROWS, stepwatch_learned
from proassist.analysis.watch_tuning import (
    TUNING_SEED_BASE,
    candidate_settings,
    choose,
    parse_grid,
    tune_watch,
    tuning_episodes,
    write_tuned,
)
from proassist.policies import make_policy
from proassist.policies.stepwatch import STEPS_CHECKPOINT, WATCH_DEFAULTS


@pytest.fixture()
def checkpoint(tmp_path: Path) -> Path:
    """A copy of the committed recogniser (its ``deploy`` is the base)."""
    out = tmp_path / "ck"
    out.mkdir()
    for name in ("steps.pt", "steps.json"):
        shutil.copyfile(Path(STEPS_CHECKPOINT) / name, out / name)
    return out


def test_parse_grid_types_values_like_the_defaults_and_rejects_bad_items() -> None:
    grid = parse_grid(["confidence=0.5,0.7", "sustain=1,3", "place=true,false"])
    assert grid == {"confidence": (0.5, 0.7), "sustain": (1, 3), "place": (True, False)}
    assert isinstance(grid["sustain"][0], int) and not isinstance(grid["sustain"][0], bool)
    with pytest.raises(ValueError, match="did you mean 'confidence'"):
        parse_grid(["confidnce=0.5"])
    with pytest.raises(ValueError, match="NAME=V1,V2"):
        parse_grid(["confidence"])
    with pytest.raises(ValueError, match="given twice"):
        parse_grid(["confidence=0.5", "confidence=0.6"])
    with pytest.raises(ValueError, match="not an integer"):
        parse_grid(["sustain=1.5"])
    with pytest.raises(ValueError, match="not true/false"):
        parse_grid(["place=maybe"])


def test_candidates_start_with_the_base_and_never_repeat() -> None:
    base = dict(WATCH_DEFAULTS)
    cands = candidate_settings({"confidence": (0.5, 0.6), "sustain": (1, 2)}, base)
    assert cands[0] == base  # 0.6 / 2 are the defaults: the base is also in the grid
    assert len(cands) == 4 and len({json.dumps(c, sort_keys=True) for c in cands}) == 4
    assert {(c["confidence"], c["sustain"]) for c in cands} == {
        (0.5, 1),
        (0.5, 2),
        (0.6, 1),
        (0.6, 2),
    }
    assert len(candidate_settings({"confidence": (0.9,)}, base)) == 2


def test_choose_takes_the_best_net_and_strictly_only_a_clear_gain() -> None:
    def row(net: float, ipm: float, lo: float) -> dict:
        return {"net_assistance": net, "interruptions_per_min": ipm, "vs_base": [0.0, lo, 1.0]}

    rows = [row(0.20, 2.0, 0.0), row(0.25, 2.0, -0.01), row(0.25, 1.5, -0.02)]
    assert choose(rows, strict=False) == 2  # a tie on net: fewer interruptions
    assert choose(rows) == 0  # its CI reaches zero: keep the base
    rows[2]["vs_base"][1] = 0.01
    assert choose(rows) == 2
    assert choose([row(0.2, 2.0, 0.0), row(0.2, 2.0, 0.0)], strict=False) == 0  # base first
    assert choose([row(0.3, 2.0, 0.0), row(0.2, 1.0, 0.05)]) == 0  # the best is the base


def test_stepwatch_learned_is_the_sanity_row_and_takes_watch_arguments() -> None:
    row = next(r for r in ROWS if r.label == "stepwatch+learned")
    assert stepwatch_learned() == row.kwargs
    tuned = stepwatch_learned({"confidence": 0.7})
    assert tuned["policies"][0] == {"policy": "stepwatch", "policy_kwargs": {"confidence": 0.7}}
    assert tuned["policies"][1:] == row.kwargs["policies"][1:]


def test_tune_watch_chooses_the_best_net_and_writes_a_deployable_copy(
    checkpoint: Path, tmp_path: Path
) -> None:
    seeds = [TUNING_SEED_BASE]
    result = tune_watch(
        checkpoint, ["ProAssist-Kitchen-v0"], seeds, {"confidence": (0.6, 0.99)},
        alone=True, strict=False, width=64, height=64,
    )  # fmt: skip
    grid = result["grid"]
    assert [r["settings"] for r in grid] == [{"confidence": 0.6}, {"confidence": 0.99}]
    assert grid[0]["vs_base"] == [0.0, 0.0, 0.0] and result["base"] is grid[0]
    # Each row is its candidate run as stepwatch: the 0.99 row, run again by hand.
    from proassist.analysis.evaluation import run_episode
    from proassist.analysis.metrics.scores import score_episodes

    deploy = json.loads((checkpoint / "steps.json").read_text())["deploy"]
    settings = {**WATCH_DEFAULTS, **deploy, "confidence": 0.99}
    again = run_episode(
        "stepwatch", {"checkpoint": str(checkpoint), **settings}, "ProAssist-Kitchen-v0",
        seeds[0], {"render": True, "width": 64, "height": 64},
    )  # fmt: skip
    by_hand = score_episodes([again], n_boot=0)["interruptions_per_min"]
    assert grid[1]["interruptions_per_min"] == pytest.approx(by_hand)
    best = max(r["net_assistance"] for r in grid)
    assert result["chosen"]["net_assistance"] == best
    assert result["deploy"]["confidence"] == result["chosen"]["settings"]["confidence"]
    assert result["assistant"] == "stepwatch" and result["seeds"] == seeds
    path = write_tuned(checkpoint, tmp_path / "tuned", result)
    meta = json.loads(path.read_text())
    assert meta["deploy"] == result["deploy"] and meta["tuning"]["grid"] == grid
    assert "net assistance" in meta["tuning"]["objective"]
    policy = make_policy("stepwatch", checkpoint=str(path.parent))
    assert policy.settings["confidence"] == result["deploy"]["confidence"]
    assert (path.parent / "steps.pt").read_bytes() == (checkpoint / "steps.pt").read_bytes()


MY_TASK = Path(__file__).resolve().parents[2] / "examples/my_lab/tasks/my_lab_pipetting.yaml"


def test_tuning_episodes_are_env_seeds_or_task_seeds() -> None:
    envs = ["ProAssist-Kitchen-v0", "ProAssist-Assembly-v0"]
    assert tuning_episodes(envs, [5, 6]) == [
        ("ProAssist-Kitchen-v0", 5, {}), ("ProAssist-Kitchen-v0", 6, {}),
        ("ProAssist-Assembly-v0", 5, {}), ("ProAssist-Assembly-v0", 6, {}),
    ]  # fmt: skip
    got = tuning_episodes(envs, [5], tasks=["kitchen_tea", str(MY_TASK)])
    assert got == [
        ("ProAssist-v0", 5, {"task": "kitchen_tea"}),
        ("ProAssist-v0", 5, {"task": str(MY_TASK)}),
    ]


def test_tune_watch_on_a_users_own_task_file(checkpoint: Path, monkeypatch) -> None:
    """A task file from outside the package (``examples/my_lab``, its own domain and
    layout) is a tuning task: each row's episodes run on it, with the env arguments."""
    import proassist.analysis.watch_tuning as wt

    ran, job = [], wt._episode_job
    monkeypatch.setattr(wt, "_episode_job", lambda j: ran.append(j) or job(j))
    result = tune_watch(
        checkpoint, [], [TUNING_SEED_BASE], {"confidence": (0.6, 0.99)}, tasks=[str(MY_TASK)],
        alone=True, width=64, height=64, max_duration=30.0,
    )  # fmt: skip
    assert [(name, env, kw) for name, _, env, _, kw in ran] == [
        (
            name,
            "ProAssist-v0",
            {"width": 64, "height": 64, "max_duration": 30.0, "task": str(MY_TASK)},
        )
        for name in ("silent", "stepwatch", "stepwatch")
    ]
    assert result["envs"] == ["ProAssist-v0"] and result["tasks"] == [str(MY_TASK)]
    assert [r["settings"] for r in result["grid"]] == [{"confidence": 0.6}, {"confidence": 0.99}]
    from proassist.analysis.cli.tune import table_lines

    assert table_lines(result)[0].startswith("stepwatch on 1 seeds x 1 tasks")


def test_tune_steps_cli_tunes_in_place_and_explains_bad_arguments(checkpoint: Path, capsys) -> None:
    base = ["tune-steps", "--checkpoint", str(checkpoint), "--out", str(checkpoint)]
    assert main([*base, "--grid", "confidnce=0.5"]) == 2
    assert "did you mean 'confidence'" in capsys.readouterr().err
    train = json.loads((checkpoint / "steps.json").read_text())["train"]
    lo, hi = train["seed"], train["seed"] + train["episodes"] - 1
    assert main([*base, "--seed", str(lo + 100)]) == 2
    assert f"overlaps the recogniser's training seeds {lo}-{hi}" in capsys.readouterr().err
    assert main([*base, "--episodes", "0"]) == 2
    assert main([*base, "--tasks", "kitchen_tae"]) == 2
    assert "--tasks:" in capsys.readouterr().err
    assert main([*base, "--tasks", "kitchen_tea", "kitchen_tea"]) == 2
    assert "--tasks: kitchen_tea given twice" in capsys.readouterr().err
    assert main([*base, "--grid", "confidence=0.6", "--episodes", "1", "--alone"]) == 0
    out = capsys.readouterr().out
    assert "| confidence=0.6 (base) **chosen** |" in out and "wrote" in out
    meta = json.loads((checkpoint / "steps.json").read_text())
    assert meta["tuning"]["seeds"] == [TUNING_SEED_BASE] and meta["deploy"]["confidence"] == 0.6
    assert len(meta["tuning"]["envs"]) == 3 and meta["tuning"]["tasks"] == []
    small = ["--grid", "confidence=0.6", "--episodes", "1", "--alone", "--tasks", "kitchen_tea"]
    assert main([*base, *small]) == 0
    assert "stepwatch on 1 seeds x 1 tasks" in capsys.readouterr().out
    meta = json.loads((checkpoint / "steps.json").read_text())
    assert meta["tuning"]["tasks"] == ["kitchen_tea"] and meta["tuning"]["envs"] == ["ProAssist-v0"]
