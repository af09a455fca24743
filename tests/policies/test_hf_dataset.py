"""``proassist collect --format hf``: a Hugging Face ``datasets`` DatasetDict with every
collected field, exact frames, seed splits and a dataset card."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from proassist.analysis.cli import main
from proassist.policies.learned.collect import episode_specs
from proassist.policies.learned.hf_dataset import SPLITS, require_datasets, split_of
from proassist.sim.messages import INTENTS

datasets = pytest.importorskip("datasets")


def _seed_with_two_splits() -> int:
    """A ``--seed`` whose two maintenance episodes fall in different splits."""
    for seed in range(200):
        a, b = (split_of(s.seed) for s in episode_specs(2, seed, ["maintenance"]))
        if a != b:
            return seed
    raise AssertionError("no seed splits two episodes")


def _argv(out: Path, seed: int) -> list[str]:
    argv = ["collect", "--out", str(out), "--episodes", "2", "--seed", str(seed), "--quiet"]
    argv += ["--domains", "maintenance", "--clip-len", "2", "--frame-size", "16"]
    return argv + ["--render-size", "32", "--max-duration", "8", "--silent-keep", "0.6"]


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> dict[str, Any]:
    """The same two short episodes collected as npz and as hf (summary printed by hf)."""
    root, seed = tmp_path_factory.mktemp("hf"), _seed_with_two_splits()
    assert main(_argv(root / "npz", seed)) == 0
    capture = pytest.MonkeyPatch()
    lines: list[str] = []
    capture.setattr("builtins.print", lambda *a, **k: lines.append(" ".join(map(str, a))))
    try:
        assert main([*_argv(root / "hf", seed), "--format", "hf"]) == 0
    finally:
        capture.undo()
    return {"npz": root / "npz", "hf": root / "hf", "summary": json.loads(lines[-1])}


def _npz(root: Path) -> dict[str, np.ndarray]:
    from proassist.policies.learned.dataset import InteractionDataset

    return InteractionDataset(root).arrays


def test_splits_rows_and_fields(collected) -> None:
    dd = datasets.load_from_disk(str(collected["hf"]))
    assert list(dd) == list(SPLITS)
    arrays = _npz(collected["npz"])
    n = sum(d.num_rows for d in dd.values())
    assert n == collected["summary"]["n_samples"] == len(arrays["decision"]) > 0
    assert collected["summary"]["hf"]["rows"] == {k: d.num_rows for k, d in dd.items()}
    assert sum(1 for d in dd.values() if d.num_rows) == 2  # the two episodes split apart
    derived = {"plan", "dialogue", "gold_interrupt", "gold_text", "active_deviations"}
    derived |= {"gt_current_step", "plan_current_step", "seed", "deviations", "utterance"}
    for name, d in dd.items():
        assert set(arrays) | derived <= set(d.column_names)
        assert all(split_of(s) == name for s in d["seed"])
    assert not (collected["hf"] / ".collect-npz").exists()
    assert (collected["hf"] / "episodes.jsonl").is_file()
    assert (collected["hf"] / "challenge.jsonl").is_file()


def test_frames_and_arrays_round_trip_exactly(collected) -> None:
    arrays = _npz(collected["npz"])
    key = {
        (int(e), float(t)): i
        for i, (e, t) in enumerate(zip(arrays["episode"], arrays["t"], strict=True))
    }
    index = json.loads((collected["npz"] / "index.json").read_text())
    for d in datasets.load_from_disk(str(collected["hf"])).values():
        rows = d.with_format("numpy")[:]
        for j in range(d.num_rows):
            i = key[(int(rows["episode"][j]), float(rows["t"][j]))]
            assert rows["clips"][j].dtype == np.uint8
            assert np.array_equal(rows["clips"][j], arrays["clips"][i])
            assert np.array_equal(rows["feats"][j], arrays["feats"][i])
            assert len(rows["feats"][j]) == len(index["feature_names"])
            for name in ("decision", "intent", "offset", "fix", "text"):
                assert rows[name][j] == arrays[name][i]


def test_ground_truth_columns(collected) -> None:
    records = [
        json.loads(x) for x in (collected["hf"] / "episodes.jsonl").read_text().split("\n") if x
    ]
    by_seed = {r["seed"]: r for r in records}
    for d in datasets.load_from_disk(str(collected["hf"])).values():
        for row in d:
            record = by_seed[row["seed"]]
            plan_ids = [s["id"] for s in record["plan"]]
            assert [s["id"] for s in row["plan"]] == plan_ids
            assert row["plan_current_step"] in plan_ids + [""]
            assert row["gt_current_step"] in plan_ids + [""]
            assert all(turn["time"] <= row["t"] for turn in row["dialogue"])
            devs = {d["id"]: d for d in row["deviations"]}
            for active in row["active_deviations"]:
                assert active["onset"] <= row["t"] and active["id"] in devs
            named = INTENTS[row["intent"]] if row["decision"] else ""
            assert row["intent_name"] == named
            if row["t"] == 0.0:  # the opening (or an earlier deviation) is gold
                assert row["gold_interrupt"] and row["gold_kind"] in ("opening", "deviation")
                assert row["dialogue"] == [] and row["decision"] == 1


def test_dataset_card_names_the_config(collected) -> None:
    card = (collected["hf"] / "README.md").read_text()
    for text in ("load_from_disk", "ProAssist-Maintenance-v0", "collect_arguments"):
        assert text in card
    assert '"render_size": 32' in card and '"format": "hf"' in card and '"version"' in card
    for record in (collected["hf"] / "episodes.jsonl").read_text().splitlines():
        assert str(json.loads(record)["seed"]) in card
    assert "`clips`" in card and "`cur_none`" in card


def test_split_rule_is_deterministic_and_about_80_10_10() -> None:
    got = [split_of(s) for s in range(3000)]
    assert got == [split_of(s) for s in range(3000)]
    shares = {name: got.count(name) / len(got) for name in SPLITS}
    assert abs(shares["train"] - 0.8) < 0.03 and abs(shares["test"] - 0.1) < 0.03


def test_missing_datasets_names_the_extra(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(ImportError, match=r"proassist\[data\]"):
        require_datasets()
    assert main([*_argv(tmp_path / "x", 0), "--format", "hf"]) == 2
    assert "proassist[data]" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
