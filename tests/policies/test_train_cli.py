"""Tests of ``proassist collect`` / ``proassist train`` on the command line and of the
committed checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proassist.analysis.cli import main

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "data"
    argv = ["collect", "--out", str(out), "--episodes", "2", "--seed", "7", "--quiet"]
    argv += ["--domains", "maintenance", "--clip-len", "2", "--frame-size", "16"]
    argv += ["--render-size", "32", "--max-duration", "12", "--silent-keep", "1.0"]
    assert main(argv) == 0
    return out


def test_collect_cli_writes_a_dataset(tiny_data: Path, capsys) -> None:
    index = json.loads((tiny_data / "index.json").read_text())
    assert index["clip_len"] == 2 and index["frame_size"] == 16
    assert index["n_samples"] == 2 * 24  # 12 s at 2 Hz, every point kept
    assert index["meta"]["seed"] == 7 and index["meta"]["domains"] == ["maintenance"]
    assert len((tiny_data / "challenge.jsonl").read_text().splitlines()) == 2


def test_collect_cli_task_split_and_rates(tmp_path: Path, capsys) -> None:
    out = tmp_path / "split"
    argv = ["collect", "--out", str(out), "--episodes", "2", "--quiet", "--max-duration", "4"]
    argv += ["--tasks", "kitchen_tea", "assembly_stool", "--rate-range", "0.5", "0.5"]
    argv += ["--clip-len", "2", "--frame-size", "16", "--render-size", "32"]
    argv += ["--correction-delay", "1.5"]
    assert main(argv) == 0
    records = [json.loads(x) for x in (out / "episodes.jsonl").read_text().splitlines()]
    assert [r["task"] for r in records] == ["kitchen_tea", "assembly_stool"]
    options = json.loads((out / "index.json").read_text())["meta"]["options"]
    assert options["oracle_kwargs"] == {"correction_delay": 1.5}
    assert all(r["collect"]["deviation_rate"] == 0.5 for r in records)
    meta = json.loads((out / "index.json").read_text())["meta"]
    assert meta["tasks"] == ["kitchen_tea", "assembly_stool"] and meta["rate_range"] == [0.5, 0.5]


def test_train_one_epoch_then_resume(tiny_data: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "model"
    base = ["train", str(tiny_data), "--out", str(out), "--quiet", "--threads", "1"]
    assert main([*base, "--epochs", "1"]) == 0
    first = json.loads((out / "model.json").read_text())
    assert [h["epoch"] for h in first["history"]] == [1]
    assert (out / "checkpoints" / "epoch_001.pt").is_file()
    assert main([*base, "--epochs", "2", "--resume", "--val", str(tiny_data)]) == 0
    printed = capsys.readouterr().out
    second = json.loads((out / "model.json").read_text())
    assert [h["epoch"] for h in second["history"]] == [1, 2]
    assert second["history"][0] == first["history"][0]  # epoch 1 kept, not retrained
    assert "val " in printed and "balanced_accuracy" in printed
    from proassist.policies.learned.train import load_model

    assert load_model(out / "model.pt").config["frame_size"] == 16


def test_calibration_is_stored_and_used(tiny_data: Path, tmp_path: Path, capsys) -> None:
    from proassist.analysis.calibration import calibrate
    from proassist.policies.learned.interaction import LearnedInteractionModel

    out = tmp_path / "model"
    argv = ["train", str(tiny_data), "--out", str(out), "--quiet", "--threads", "1"]
    assert main([*argv, "--epochs", "1", "--calibrate", str(tiny_data)]) == 0
    assert "calibrated" in capsys.readouterr().out
    meta = json.loads((out / "model.json").read_text())
    chosen = meta["inference"]
    assert chosen["logit_bias"] in (0.0, -2.0, -4.0, -6.0, -8.0)
    assert chosen["min_gap_s"] in (0.0, 2.0, 3.0, 4.0, 6.0)
    result = calibrate(out / "model.pt", tiny_data, biases=(-1.0, -3.0), gaps=(2.5,), write=False)
    assert len(result["grid"]) == 2 and result["min_gap_s"] == 2.5
    assert all(0.0 <= row["g_mean"] <= 1.0 for row in result["grid"])
    model = LearnedInteractionModel(out / "model.pt")
    assert model.min_gap_s == chosen["min_gap_s"] and model.logit_bias == chosen["logit_bias"]
    assert LearnedInteractionModel(out / "model.pt", min_gap_s=1.0).min_gap_s == 1.0


def test_inference_settings_taken_from_another_model(
    tiny_data: Path, tmp_path: Path, capsys
) -> None:
    from proassist.analysis.calibration import take_inference
    from proassist.policies.learned.assets import default_checkpoint
    from proassist.policies.learned.interaction import LearnedInteractionModel

    source = default_checkpoint()
    committed = json.loads(source.with_suffix(".json").read_text())["inference"]
    out = tmp_path / "split"
    argv = ["train", str(tiny_data), "--out", str(out), "--quiet", "--threads", "1"]
    assert main([*argv, "--epochs", "1", "--inference-from", str(source)]) == 0
    assert "inference settings from" in capsys.readouterr().out
    meta = json.loads((out / "model.json").read_text())
    assert meta["inference"] == committed
    assert meta["calibration"] == {"taken_from": str(source.with_suffix(".json"))}
    model = LearnedInteractionModel(out / "model.pt")
    assert (model.logit_bias, model.min_gap_s) == (committed["logit_bias"], committed["min_gap_s"])
    persisting = tmp_path / "persisting.json"  # every setting is taken, persist too
    persisting.write_text(
        json.dumps({"inference": {"logit_bias": -1, "min_gap_s": 2, "persist": 3}})
    )
    take_inference(out / "model.pt", persisting)
    assert LearnedInteractionModel(out / "model.pt").persist == 3


def test_inference_from_is_checked_before_training(tiny_data: Path, tmp_path: Path, capsys) -> None:
    base = ["train", str(tiny_data), "--out", str(tmp_path / "o"), "--epochs", "1"]
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"config": {}}))
    assert main([*base, "--inference-from", str(bare)]) == 2
    assert "has no inference settings" in capsys.readouterr().err
    (tmp_path / "null.json").write_text(
        json.dumps({"inference": {"logit_bias": None, "min_gap_s": 8}})
    )
    assert main([*base, "--inference-from", str(tmp_path / "null.pt")]) == 2
    assert "must be numbers" in capsys.readouterr().err
    (tmp_path / "torn.json").write_text("{")
    assert main([*base, "--inference-from", str(tmp_path / "torn.pt")]) == 2
    assert "not a readable model.json" in capsys.readouterr().err
    assert main([*base, "--inference-from", str(tmp_path / "nope.pt")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main([*base, "--inference-from", str(bare), "--calibrate", str(tiny_data)]) == 2
    assert "choose one of" in capsys.readouterr().err
    assert not (tmp_path / "o" / "model.pt").exists()


def test_train_cli_rejects_a_folder_without_index(tmp_path: Path, capsys) -> None:
    assert main(["train", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "has no index.json" in capsys.readouterr().err


def test_committed_checkpoint_drives_the_duplex() -> None:
    import gymnasium as gym

    import proassist.envs  # noqa: F401
    from proassist.analysis.evaluation import rollout
    from proassist.policies import make_policy
    from proassist.policies.learned.assets import default_checkpoint
    from proassist.policies.learned.train import load_model

    ckpt = default_checkpoint()
    assert ckpt is not None, "policies/checkpoints/model.pt (+ model.json) must be committed"
    assert ckpt.stat().st_size <= 5 * 2**20
    assert load_model(ckpt).config["encoder"] in ("cnn", "efficientnet-lite0")
    policy = make_policy("duplex", interaction="learned", checkpoint=str(ckpt))
    env = gym.make("ProAssist-Kitchen-v0", max_duration=10.0)
    try:
        record = rollout(env, policy, seed=0)
    finally:
        env.close()
    assert len(record["decisions"]) == 20
    assert policy.interaction.stats["calls"] == 20
    # the plan is revised after every message, and silently too when tracked
    assert policy.plan_mode == (policy.interaction.plan_mode or "predicted")
    calls, said = policy.stats["planner_calls"], policy.stats["interrupts"]
    assert calls == 1 + said if policy.plan_mode == "predicted" else calls >= 1 + said


def test_one_dagger_round_on_the_command_line(tiny_data: Path, tmp_path: Path, capsys) -> None:
    """Train on the oracle data, let that model drive a DAgger collection, retrain on both."""
    model = tmp_path / "m0"
    argv = ["train", str(tiny_data), "--out", str(model), "--quiet", "--threads", "1"]
    assert main([*argv, "--epochs", "1"]) == 0
    dagger = tmp_path / "dagger"
    argv = ["collect", "--out", str(dagger), "--episodes", "2", "--seed", "8", "--quiet"]
    argv += ["--domains", "maintenance", "--clip-len", "2", "--frame-size", "16"]
    argv += ["--render-size", "32", "--max-duration", "12", "--silent-keep", "1.0"]
    assert main([*argv, "--driver", str(model / "model.pt"), "--beta", "0"]) == 0
    records = [json.loads(x) for x in (dagger / "episodes.jsonl").read_text().splitlines()]
    assert all(r["collect"]["driver"] for r in records)
    both = tmp_path / "m1"
    argv = ["train", str(tiny_data), str(dagger), "--out", str(both), "--quiet"]
    assert main([*argv, "--epochs", "1", "--threads", "1"]) == 0
    meta = json.loads((both / "model.json").read_text())
    assert meta["train_args"]["dataset_dir"] == [str(tiny_data), str(dagger)]


def test_collect_rejects_a_bad_beta_or_driver(tmp_path: Path, capsys) -> None:
    base = ["collect", "--out", str(tmp_path / "d"), "--episodes", "1"]
    assert main([*base, "--beta", "1.5"]) == 2
    assert main([*base, "--driver", str(tmp_path / "missing.pt")]) == 2
    err = capsys.readouterr().err
    assert "--beta" in err and "missing.pt" in err
