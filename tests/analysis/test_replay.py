"""Replaying a recorded episode: exactly the recorded inputs, or a refusal.

The duplex assistant with rule-based interaction reads segmentation; its episode must
replay identically from the record alone (env settings, seed, recorded decisions),
and any record the env cannot reproduce is refused with a one-line message.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from test_plots_helpers import run_cli

from proassist.analysis.evaluation import run_episode
from proassist.analysis.replay import (
    ReplayError,
    decision_action,
    render_video,
    replay_episode,
    replay_kwargs,
)
from proassist.envs.spaces import NO_STEP
from proassist.policies import make_policy

ENV_KWARGS = {
    "task": "kitchen_tea",
    "max_duration": 60,
    "deviation_rates": {"omission": 0.5, "order": 0.5},
    "max_random_deviations": None,
}


@functools.cache
def _duplex_record() -> str:
    """A duplex (rules) episode as stored in ``episodes.jsonl`` (JSON text)."""
    record = run_episode("duplex", {}, "ProAssist-Kitchen-v0", 3, ENV_KWARGS)
    return json.dumps(record)


def duplex_record() -> dict[str, Any]:
    """A fresh copy of the stored duplex record."""
    return json.loads(_duplex_record())


def _first_message(record: dict[str, Any]) -> int:
    return next(i for i, d in enumerate(record["decisions"]) if d["decision"])


def test_the_duplex_episode_needs_segmentation_and_speaks() -> None:
    assert "segmentation" in make_policy("duplex").obs_modes
    record = duplex_record()
    assert sum(e["type"] == "assistant_message" for e in record["events"]) >= 3
    assert sum(e["type"] == "deviation" for e in record["events"]) >= 1


def test_replayed_event_log_equals_the_stored_one() -> None:
    record = duplex_record()
    replayed = replay_episode(record)
    assert replayed["events"] == record["events"]
    assert replayed["decisions"] == record["decisions"]
    assert replayed["success"] == record["success"]
    assert replayed["duration"] == record["duration"]


def test_replay_does_not_run_the_policy_again() -> None:
    record = duplex_record()
    record["policy"] = "an-assistant-nobody-registered"
    record["policy_kwargs"] = {"checkpoint": "/nowhere/model.pt"}
    assert replay_episode(record)["events"] == record["events"]


def test_replay_kwargs_pass_every_recorded_setting() -> None:
    kw = replay_kwargs(duplex_record())
    assert kw["task"] == "kitchen_tea" and kw["domain"] == "kitchen"
    assert kw["max_random_deviations"] is None  # not dropped: None differs from the default
    assert kw["deviation_rates"] == ENV_KWARGS["deviation_rates"]
    assert "tasks" not in kw and "render" not in kw and "privileged" not in kw


def test_decision_action_inverts_the_recorded_decision() -> None:
    plan = ["a", "b", "c"]
    assert decision_action({"t": 0.0, "decision": 0}, plan)["decision"] == 0
    msg = {"t": 1.0, "decision": 1, "intent": "warn", "step": "c", "text": "careful"}
    assert decision_action(msg, plan) == {"decision": 1, "intent": 3, "step": 2, "text": "careful"}
    text = {"t": 1.0, "decision": 1, "intent": None, "step": None, "text": "hi"}
    assert decision_action(text, plan)["step"] == NO_STEP
    with pytest.raises(ReplayError, match="unknown intent"):
        decision_action({**msg, "intent": "sing"}, plan)
    with pytest.raises(ReplayError, match="not in the plan"):
        decision_action({**msg, "step": "z"}, plan)


def _drop_a_message(record: dict[str, Any]) -> None:
    i = _first_message(record)
    t = record["decisions"][i]["t"]
    record["decisions"][i] = {"t": t, "decision": 0, "intent": None, "step": None, "text": ""}


def _shift_an_event(record: dict[str, Any]) -> None:
    record["events"][-1]["t"] += 0.5


def _shorter_limit(record: dict[str, Any]) -> None:
    record["env_kwargs"]["max_duration"] = 30


def _other_seed(record: dict[str, Any]) -> None:
    record["seed"] = 4


def _no_decisions(record: dict[str, Any]) -> None:
    record["decisions"] = []


def _unknown_task(record: dict[str, Any]) -> None:
    record["env_kwargs"]["tasks"] = ["kitchen_no_such_task"]


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        (_drop_a_message, "does not reproduce the recorded episode: event"),
        (_shift_an_event, "does not reproduce the recorded episode: event"),
        (_shorter_limit, "replayed episode ended at t=30 s"),
        (_other_seed, "does not reproduce|replayed episode ended|decisions end at"),
        (_no_decisions, "no decisions"),
        (_unknown_task, "cannot rebuild the recorded env"),
    ],
)
def test_a_tampered_record_is_refused(tamper: Any, why: str) -> None:
    record = duplex_record()
    tamper(record)
    with pytest.raises(ReplayError, match=why) as info:
        replay_episode(record)
    assert "\n" not in str(info.value)


def test_render_video_writes_only_a_reproduced_episode(tmp_path: Path) -> None:
    path = render_video(duplex_record(), tmp_path / "episode.mp4")
    assert path == tmp_path / "episode.mp4" and path.stat().st_size > 10_000
    bad = duplex_record()
    _drop_a_message(bad)
    other = tmp_path / "other"
    with pytest.raises(ReplayError):
        render_video(bad, other / "episode.mp4")
    assert list(other.iterdir()) == []  # neither the video nor its temporary file


def _run_folder(tmp_path: Path, record: dict[str, Any]) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / "episodes.jsonl").write_text(json.dumps(record) + "\n")
    return run


def test_plot_video_of_a_duplex_episode(tmp_path: Path) -> None:
    run = _run_folder(tmp_path, duplex_record())
    code, out, err = run_cli(["plot", str(run), "--video", "--metrics", "g_mean"])
    assert code == 0, err
    text = (run / "plots" / "report.html").read_text(encoding="utf-8")
    assert "with its recorded decisions: identical event log" in text
    assert (run / "plots" / "episode.mp4").stat().st_size > 10_000 and "video" in out


def test_plot_video_refuses_a_record_it_cannot_reproduce(tmp_path: Path) -> None:
    record = duplex_record()
    _drop_a_message(record)
    run = _run_folder(tmp_path, record)
    code, out, err = run_cli(["plot", str(run), "--video"])
    assert code == 2 and out == ""
    assert err.startswith("error: --video: the replay does not reproduce the recorded episode")
    assert len(err.strip().splitlines()) == 1
    assert not (run / "plots" / "episode.mp4").exists()
    assert not (run / "plots" / "report.html").exists()
