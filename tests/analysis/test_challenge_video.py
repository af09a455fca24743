"""``proassist export-challenge`` with videos: each session's MP4 holds exactly the
observations the assistant saw, and an outside model can be scored on them."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from proassist.analysis.challenge import export_challenge, read_jsonl
from proassist.analysis.cli import main

ENV = "ProAssist-Kitchen-v0"
KW: dict[str, Any] = {"task": "kitchen_tea", "max_duration": 10.0, "width": 32, "height": 32}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """An eval run of two short oracle episodes (10 s each)."""
    from proassist.analysis.evaluation import evaluate

    records, _ = evaluate("oracle", ENV, [0, 1], paired_silent=False, **KW)
    run = tmp_path_factory.mktemp("run")
    (run / "episodes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return run


@pytest.fixture(scope="module")
def exported(run_dir: Path, tmp_path_factory) -> tuple[Path, list[dict[str, Any]]]:
    """The gold export at 48x32 (not the recorded 32x32, not square)."""
    out = tmp_path_factory.mktemp("challenge") / "gold.jsonl"
    assert main(["export-challenge", str(run_dir), str(out), "--resolution", "48x32"]) == 0
    return out, read_jsonl(out)


def _frames(path: Path) -> list[np.ndarray]:
    import imageio.v2 as imageio

    with imageio.get_reader(path, format="FFMPEG") as reader:
        return [np.asarray(f) for f in reader]


def test_videos_decode_with_one_frame_per_decision(run_dir, exported) -> None:
    out, sessions = exported
    records = read_jsonl(run_dir / "episodes.jsonl")
    assert len(sessions) == 2
    for s, r in zip(sessions, records, strict=True):
        assert s["fps"] == 2.0 and s["resolution"] == [48, 32]
        assert s["frame_times"] == [d["t"] for d in r["decisions"]]
        frames = _frames(out.parent / s["video_path"])
        assert len(frames) == len(r["decisions"]) == len(s["frame_times"])
        assert frames[0].shape == (32, 48, 3) and frames[0].dtype == np.uint8


def test_first_frame_is_the_reset_observation(run_dir, exported) -> None:
    import gymnasium as gym

    import proassist.envs  # noqa: F401

    out, sessions = exported
    for s in sessions:
        env = gym.make(ENV, **(KW | {"width": 48, "height": 32}))
        obs, _ = env.reset(seed=s["proassist"]["seed"])
        env.close()
        first = _frames(out.parent / s["video_path"])[0]
        mae = np.abs(first.astype(np.int16) - obs["rgb"].astype(np.int16)).mean()
        assert mae < 12, f"{s['video_path']}: mean absolute error {mae:.1f}"


def _outside_model(session: dict[str, Any], root: Path) -> dict[str, Any]:
    """A stand-in external model: reads the MP4, interrupts in a chunk whose frames
    change the most (a frame-difference detector), aligned by ``frame_times``."""
    frames = np.stack(_frames(root / session["video_path"])).astype(np.float32)
    change = np.r_[np.inf, np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))]
    chunk_s = session["proassist"]["chunk_s"]
    n = len(session["video_intervals"])
    score = np.zeros(n)
    for t, c in zip(session["frame_times"], change, strict=True):
        i = min(n - 1, math.floor(t / chunk_s))
        score[i] = max(score[i], c)
    answers = ["$interrupt$look" if v >= np.median(score) else "$silent$" for v in score]
    return {"video_path": session["video_path"], "query": session["query"], "answers": answers}


def test_an_outside_model_is_scored_on_the_videos(exported, capsys) -> None:
    out, sessions = exported
    pred = out.parent / "pred.jsonl"
    pred.write_text("".join(json.dumps(_outside_model(s, out.parent)) + "\n" for s in sessions))
    capsys.readouterr()
    assert main(["score-challenge", str(out), str(pred)]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["missing_sessions"] == [] and scores["n_chunks"] == 4
    assert 0.0 <= scores["if1"] <= 1.0 and scores["tp"] >= 1  # chunk 0 opens with a cut


def test_no_video_and_policy_export_pair_with_gold(run_dir, exported, tmp_path, capsys) -> None:
    _, gold = exported
    pred = tmp_path / "pred.jsonl"
    assert (
        main(["export-challenge", str(run_dir), str(pred), "--source", "policy", "--no-video"]) == 0
    )
    assert not list(tmp_path.rglob("*.mp4"))
    assert [s["video_path"] for s in read_jsonl(pred)] == [s["video_path"] for s in gold]
    capsys.readouterr()
    gold_path = exported[0]
    assert main(["score-challenge", str(gold_path), str(pred)]) == 0
    assert json.loads(capsys.readouterr().out)["missing_sessions"] == []


def test_duplicate_paths_and_bad_sizes(run_dir, tmp_path, capsys) -> None:
    record = read_jsonl(run_dir / "episodes.jsonl")[0]
    paths = [s["video_path"] for s in export_challenge([record, record])]
    assert paths == ["kitchen_tea/seed0.mp4", "kitchen_tea/seed0-1.mp4"]
    out = str(tmp_path / "g.jsonl")
    for flags in (["--resolution", "49x32"], ["--resolution", "big"], ["--width", "64"]):
        assert main(["export-challenge", str(run_dir), out, *flags]) == 2
        assert capsys.readouterr().err.startswith("error:")
    assert not list(tmp_path.iterdir())
