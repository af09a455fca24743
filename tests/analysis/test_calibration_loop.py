"""Closed-loop calibration of the learned interaction model (issue 11): the inference
settings are chosen by net assistance, which charges for talking."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from proassist.analysis.calibration import VALIDATION_SEED_BASE, calibrate_closed_loop
from proassist.policies.learned.assets import default_checkpoint


def test_closed_loop_calibration_writes_the_best_net_assistance(tmp_path: Path) -> None:
    src = Path(default_checkpoint())
    shutil.copyfile(src, tmp_path / "model.pt")
    shutil.copyfile(src.with_suffix(".json"), tmp_path / "model.json")
    seeds = range(VALIDATION_SEED_BASE, VALIDATION_SEED_BASE + 2)
    result = calibrate_closed_loop(
        tmp_path / "model.pt",
        ["ProAssist-Kitchen-v0"],
        seeds,
        biases=(0.0,),
        gaps=(2.0, 60.0),
        width=32,
        height=32,
    )
    grid = result["grid"]
    assert [(r["bias"], r["gap"]) for r in grid] == [(0.0, 2.0), (0.0, 60.0)]
    # A minute of silence after each message cannot make the assistant talk more.
    assert grid[1]["interruptions_per_min"] <= grid[0]["interruptions_per_min"]
    best = max(r["net_assistance"] for r in grid)
    assert result["val"]["net_assistance"] == best
    meta = json.loads((tmp_path / "model.json").read_text())
    assert meta["inference"] == {
        "logit_bias": result["logit_bias"],
        "min_gap_s": result["min_gap_s"],
    }
    assert "net assistance" in meta["calibration"]["objective"]
    assert meta["calibration"]["seeds"] == list(seeds)
