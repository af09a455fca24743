"""Long commands show progress: ``demo``'s bar over simulated seconds, with ETA."""

from __future__ import annotations

import gymnasium as gym
import pytest

import proassist.envs  # noqa: F401
from proassist.analysis.cli.demo import SimProgress
from proassist.analysis.evaluation import rollout
from proassist.policies import make_policy


@pytest.mark.parametrize(("policy", "done_early"), [("silent", False), ("oracle", True)])
def test_demo_progress_counts_simulated_seconds(
    policy: str, done_early: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    limit = 8.0 if policy == "silent" else 600.0
    env = gym.make(
        "ProAssist-Kitchen-v0",
        task="kitchen_tea",
        render=False,
        max_duration=limit,
        deviation_rates={},
        privileged=policy == "oracle",
    )
    progress = SimProgress(env, "kitchen_tea seed 0")
    try:
        record = rollout(env, make_policy(policy), 0, on_step=progress)
    finally:
        progress.close()
        env.close()
    assert progress.bar is not None and progress.bar.n == pytest.approx(record["duration"])
    err = capsys.readouterr().err
    assert "kitchen_tea seed 0:" in err and "sim s [" in err and "<" in err  # elapsed<ETA
    final = err.replace("\r", "\n").strip().splitlines()[-1]
    assert final.startswith("kitchen_tea seed 0: 100%")  # full even when done early
    assert (record["duration"] < limit) is done_early
