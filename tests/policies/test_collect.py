"""Tests of the data engine (``proassist collect``): shards, labels, challenge export, and
that the recorded inputs are exactly what the learned model sees inside the duplex."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from proassist.analysis.challenge import export_run
from proassist.policies.learned.collect import (
    TRAIN_SEED_BASE,
    CollectOptions,
    collect,
    episode_specs,
    oracle_labels,
)
from proassist.policies.learned.dataset import InteractionDataset
from proassist.policies.learned.features import PERCEPT_DIM
from proassist.sim.messages import INTENTS

OPTS = CollectOptions(clip_len=3, frame_size=16, render_size=32, silent_keep=1.0, max_duration=25)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    """Two short episodes (kitchen, assembly), every decision point kept."""
    out = tmp_path_factory.mktemp("collect") / "data"
    summary = collect(out, 2, seed=3, domains=["kitchen", "assembly"], options=OPTS, progress=False)
    export_run(out, "gold")  # what ``proassist collect`` adds (the app layer)
    return out, summary


def _records(root: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (root / "episodes.jsonl").read_text().splitlines()]


def test_episode_specs_are_held_out_and_deterministic() -> None:
    a, b = episode_specs(9, 5), episode_specs(9, 5)
    assert a == b and len({s.seed for s in a}) == 9
    assert all(s.seed >= TRAIN_SEED_BASE for s in a)
    assert [s.domain for s in a[:3]] == ["kitchen", "assembly", "maintenance"]
    with pytest.raises(ValueError, match="unknown domain"):
        episode_specs(2, 0, ["garden"])


def test_shards_match_the_oracle_records(tiny) -> None:
    root, summary = tiny
    data = InteractionDataset(root)
    records = _records(root)
    assert summary["episodes"] == 2 and len(records) == 2
    assert [r["env_id"] for r in records] == ["ProAssist-Kitchen-v0", "ProAssist-Assembly-v0"]
    a = data.arrays
    assert a["clips"].shape[1:] == (3, 16, 16, 3) and len(data) == summary["n_samples"]
    for ep, record in enumerate(records):
        in_ep = a["episode"] == ep
        decisions = record["decisions"]
        assert in_ep.sum() == len(decisions)  # silent_keep=1: every decision point
        assert np.allclose(a["t"][in_ep], [d["t"] for d in decisions])
        assert list(a["decision"][in_ep]) == [d["decision"] for d in decisions]
        spoken = [d for d in decisions if d["decision"] == 1]
        assert spoken, "the oracle gives at least the opening instruction"
        got = [INTENTS[i] for i in a["intent"][in_ep & (a["decision"] == 1)]]
        assert got == [d["intent"] for d in spoken]
    silent = a["decision"] == 0
    assert (a["intent"][silent] == -1).all() and (a["offset"][silent] == -1).all()
    assert (a["fix"][~silent] >= 0).all()
    first = (a["intent"] == INTENTS.index("instruct_next")) & (a["t"] == 0.0)
    assert first.any() and (a["offset"][first] == 2).all()  # names the plan's current step


def test_challenge_export(tiny) -> None:
    root, _ = tiny
    lines = (root / "challenge.jsonl").read_text().splitlines()
    sessions = [json.loads(line) for line in lines]
    assert len(sessions) == 2
    for s in sessions:
        assert len(s["answers"]) == len(s["video_intervals"]) >= 1
        assert s["answers"][0].startswith("$interrupt$")
        assert all(a == "$silent$" or a.startswith("$interrupt$") for a in s["answers"])


def test_oracle_labels_offsets(make_info) -> None:
    from proassist.policies.base import make_action, silent_action
    from proassist.policies.duplex.plan_format import Plan, PlanStep

    proc = make_info(5)["plan"]
    steps = tuple(PlanStep(f"do {i}", f"s{i}") for i in range(1, 5))
    plan = Plan("normal", "g", (PlanStep("do 0", "s0"),), steps, 0)
    decision, labels = oracle_labels(make_action("instruct_next", 2, "go"), proc, plan)
    assert decision.step == "s2" and labels["offset"] == 1 + 2 and labels["fix"] == 0
    _, labels = oracle_labels(make_action("correct_deviation", 1, "fix"), proc, plan)
    assert labels["offset"] == 2 and labels["fix"] == 1
    _, labels = oracle_labels(make_action("instruct_next", 4, "far"), proc, plan)
    assert labels["offset"] == -1  # +3 is beyond MAX_OFFSET
    assert oracle_labels(silent_action(), proc, plan)[1] == {"decision": 0}


class _Teacher:
    """An interaction model that records its inputs and replays the oracle's decision."""

    def __init__(self, clip_len: int, frame_size: int) -> None:
        self.clip_len, self.frame_size = clip_len, frame_size
        self.next_action: dict[str, Any] = {}
        self.seen: list[tuple[np.ndarray, np.ndarray]] = []

    def reset(self, env_info: dict[str, Any]) -> None:
        from proassist.policies.learned.features import PerceptTracker, PlanStateTracker

        self.procedure = env_info["plan"]
        self.tracker = PlanStateTracker(self.procedure)
        self.percepts = PerceptTracker(env_info)

    def decide(self, obs_history, plan, dialogue):  # noqa: ANN001, ANN201
        from proassist.policies.learned.features import clip_from_frames, plan_features

        last = obs_history[-1]
        t = float(np.asarray(last["time"]).reshape(-1)[0])
        state = self.tracker.update(t, plan, dialogue, str(last.get("utterance", "")))
        feats = np.concatenate([plan_features(state), self.percepts.update(last, plan)])
        frames = [o["rgb"] for o in obs_history]
        self.seen.append((clip_from_frames(frames, self.clip_len, self.frame_size), feats))
        return oracle_labels(self.next_action, self.procedure, plan)[0]


def test_inputs_equal_what_the_duplex_gives_its_interaction_model(tiny) -> None:
    """Teacher forcing is faithful: the duplex, driven by the oracle's decisions, hands
    its interaction model the same clips and plan features that were recorded."""
    import gymnasium as gym

    from proassist.analysis.evaluation import env_info
    from proassist.policies import make_policy
    from proassist.policies.learned.collect import _make_env

    root, _ = tiny
    data = InteractionDataset(root)
    spec = episode_specs(2, 3, ["kitchen", "assembly"])[0]
    env = _make_env(spec, OPTS)
    duplex = make_policy("duplex")
    duplex.interaction = teacher = _Teacher(OPTS.clip_len, OPTS.frame_size)
    oracle = make_policy("oracle")
    obs, info = env.reset(seed=spec.seed)
    duplex.reset(env_info=env_info(env), seed=spec.seed)
    oracle.reset(env_info=env_info(env), seed=spec.seed)
    done = False
    while not done:
        teacher.next_action = oracle.act(obs, info)
        action = duplex.act(obs)
        assert action["decision"] == teacher.next_action["decision"]
        obs, _, term, trunc, info = env.step(action)
        done = term or trunc
    env.close()
    assert isinstance(env, gym.Env)
    in_ep = data.arrays["episode"] == 0
    assert len(teacher.seen) == in_ep.sum()
    clips = np.stack([c for c, _ in teacher.seen])
    feats = np.stack([f for _, f in teacher.seen])
    assert data.percepts and feats.shape[1] == data.arrays["feats"].shape[1]
    assert feats[:, -PERCEPT_DIM:].any()  # the percepts saw something
    assert np.array_equal(clips, data.arrays["clips"][in_ep])
    assert np.allclose(feats, data.arrays["feats"][in_ep])


def test_dagger_the_learned_duplex_acts_and_the_oracle_labels(tmp_path: Path, tiny) -> None:
    from dataclasses import replace

    from proassist.policies.learned.assets import default_checkpoint

    opts = replace(OPTS, driver=str(default_checkpoint()))
    out = tmp_path / "dagger"
    collect(out, 2, seed=3, domains=["kitchen", "assembly"], options=opts, progress=False)
    records, oracle_records = _records(out), _records(tiny[0])
    assert all(r["collect"]["driver"] for r in records)
    assert [r["seed"] for r in records] == [r["seed"] for r in oracle_records]
    data = InteractionDataset(out)
    executed = []
    for ep, record in enumerate(records):
        assert (data.arrays["episode"] == ep).sum() == len(record["decisions"])
        executed += [d["decision"] for d in record["decisions"]]
    # The record holds what the driver said; the labels are what the oracle would say.
    assert (np.array(executed) != data.arrays["decision"]).any()
    both = InteractionDataset([tiny[0], out])
    assert len(both) == len(InteractionDataset(tiny[0])) + len(data)
    assert set(np.unique(both.arrays["episode"]).tolist()) == set(range(4))


def test_dagger_with_beta_one_is_the_oracle_collect(tmp_path: Path, tiny) -> None:
    from dataclasses import replace

    opts = replace(OPTS, driver="never-loaded.pt", beta=1.0)
    out = tmp_path / "beta1"
    collect(out, 2, seed=3, domains=["kitchen", "assembly"], options=opts, progress=False)
    a, b = InteractionDataset(out).arrays, InteractionDataset(tiny[0]).arrays
    assert all(np.array_equal(a[k], b[k]) for k in ("decision", "intent", "t", "clips"))
