"""Tests of the learned interaction model, its dataset format, recipe and training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proassist.policies.learned.dataset import (
    DatasetWriter,
    InteractionDataset,
    eligible_silent,
    recipe_indices,
)
from proassist.policies.learned.features import FEATURE_DIM, PlanState, plan_features
from proassist.sim.messages import INTENTS

torch = pytest.importorskip("torch")

K, S = 4, 32


def _write_synthetic(root: Path, n_episodes: int, seed: int) -> Path:
    """Episodes of noise frames; at interrupt samples a bright square appears in the last
    frame. Intent follows the plan feature ``current_is_fix`` (fix → correct_deviation)."""
    rng = np.random.default_rng(seed)
    writer = DatasetWriter(root, clip_len=K, frame_size=S, shard_size=150)
    for ep in range(n_episodes):
        times = np.arange(0, 40, 0.5)
        hits = set(np.round(rng.choice(times[4:], size=4, replace=False), 1))
        for t in times:
            interrupt = round(float(t), 1) in hits
            clip = rng.integers(0, 120, size=(K, S, S, 3), dtype=np.uint8)
            fix = bool(rng.random() < 0.5)
            if interrupt:
                y, x = rng.integers(0, S - 10, size=2)
                clip[-1, y : y + 10, x : x + 10] = 250
            state = PlanState(int(rng.integers(4)), 4, 1, 3, fix, None, float(t), 5.0)
            labels = {"decision": int(interrupt), "t": float(t), "episode": ep}
            if interrupt:
                intent = INTENTS.index("correct_deviation" if fix else "instruct_next")
                labels.update(intent=intent, offset=2, fix=int(fix), text="do it")
            writer.add(clip, plan_features(state), labels)
    return writer.close()


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("data")
    return _write_synthetic(root / "train", 12, 0), _write_synthetic(root / "test", 4, 1)


def test_dataset_round_trip(datasets) -> None:
    train_dir, _ = datasets
    data = InteractionDataset(train_dir)
    index = json.loads((train_dir / "index.json").read_text())
    assert len(data) == index["n_samples"] == 12 * 80 and len(index["shards"]) == 7
    item = data[5]
    assert item["clips"].shape == (K, S, S, 3) and item["feats"].shape == (FEATURE_DIM,)
    silent = data.arrays["decision"] == 0
    assert (data.arrays["intent"][silent] == -1).all() and (data.arrays["text"][silent] == "").all()
    assert (data.arrays["intent"][~silent] >= 0).all()


@settings(max_examples=40, deadline=None)
@given(
    hits=st.lists(st.integers(0, 200), min_size=0, max_size=15),
    n_episodes=st.integers(1, 3),
    gap=st.floats(0.0, 5.0),
    seed=st.integers(0, 10),
)
def test_recipe_ratio_and_exclusion(
    hits: list[int], n_episodes: int, gap: float, seed: int
) -> None:
    t = np.tile(np.arange(201) * 0.5, n_episodes)
    episode = np.repeat(np.arange(n_episodes), 201)
    decision = np.zeros_like(episode)
    for h in hits:
        decision[h] = 1  # interrupts in episode 0 only
    idx = recipe_indices(decision, t, episode, np.random.default_rng(seed), 1.0, gap)
    assert len(set(idx.tolist())) == len(idx)
    pos = int(decision.sum())
    n_silent = int((decision[idx] == 0).sum())
    eligible = eligible_silent(decision, t, episode, gap)
    assert (decision[idx] == 1).sum() == pos
    assert n_silent == (min(pos, int(eligible.sum())) if pos else int(eligible.sum()))
    hit_times = t[decision == 1]
    for i in idx[decision[idx] == 0]:
        if episode[i] == 0 and hit_times.size:
            assert np.abs(hit_times - t[i]).min() >= gap - 1e-9


def _model_config() -> dict:
    return {"embed_dim": 32, "hidden": 32}


def test_forward_shapes() -> None:
    from proassist.policies.learned.net import MAX_OFFSET, InteractionNet

    for temporal in ("gru", "transformer"):
        net = InteractionNet(
            {"clip_len": K, "frame_size": S, "temporal": temporal, **_model_config()}
        )
        out = net(torch.zeros(3, K, S, S, 3, dtype=torch.uint8), torch.zeros(3, FEATURE_DIM))
        shapes = {k: tuple(v.shape) for k, v in out.items()}
        assert shapes == {
            "decision": (3, 2),
            "intent": (3, len(INTENTS)),
            "offset": (3, 2 * MAX_OFFSET + 1),
            "fix": (3, 2),
        }
    with pytest.raises(ValueError, match="encoder must be"):
        InteractionNet({"encoder": "resnet"})


def test_training_learns_and_resumes(datasets, tmp_path: Path) -> None:
    from proassist.policies.learned.train import evaluate_model, load_model, train

    torch.set_num_threads(1)
    train_dir, test_dir = datasets
    kw = {
        "batch_size": 32,
        "lr": 3e-3,
        "seed": 0,
        "model_config": _model_config(),
        "progress": False,
    }
    full = train(train_dir, tmp_path / "full", epochs=20, **kw)
    assert [h["epoch"] for h in full["history"]] == list(range(1, 21))
    model = load_model(full["model_path"])
    scores = evaluate_model(model, test_dir)
    assert scores["balanced_accuracy"] > 0.85, scores
    assert scores["intent_accuracy"] > 0.6, scores
    assert Path(full["model_path"]).stat().st_size < 5 * 2**20
    # interrupted after 10 epochs, then resumed: same weights as the uninterrupted run
    train(train_dir, tmp_path / "split", epochs=10, **kw)
    resumed = train(train_dir, tmp_path / "split", epochs=20, **kw)
    assert [h["epoch"] for h in resumed["history"]] == list(range(1, 21))
    a = torch.load(full["model_path"], weights_only=True)
    b = torch.load(resumed["model_path"], weights_only=True)
    assert all(torch.allclose(a[k].float(), b[k].float()) for k in a)


def test_learned_interaction_model_decides(datasets, tmp_path: Path, make_info) -> None:
    from proassist.policies.duplex.components import DialogueTurn, InteractionModel, PlanContext
    from proassist.policies.duplex.planners import TaskGraphPlanner
    from proassist.policies.learned.interaction import LearnedInteractionModel
    from proassist.policies.learned.train import train

    torch.set_num_threads(1)
    train_dir, test_dir = datasets
    kw = {
        "batch_size": 32,
        "lr": 3e-3,
        "seed": 0,
        "model_config": _model_config(),
        "progress": False,
    }
    result = train(train_dir, tmp_path / "m", epochs=20, **kw)
    model = LearnedInteractionModel(result["model_path"])
    assert isinstance(model, InteractionModel)
    info = make_info()
    model.reset(info)
    plan = TaskGraphPlanner().replan([], None, None, PlanContext(info["goal"], info["plan"]))
    data = InteractionDataset(test_dir)
    agree = 0
    for i in range(0, 80):
        frames = np.repeat(np.repeat(data[i]["clips"], 2, axis=1), 2, axis=2)  # 64x64 frames
        history = [
            {"rgb": f, "time": np.array([100.0 * i + k]), "utterance": ""}
            for k, f in enumerate(frames)
        ]
        decision = model.decide(history, plan, [DialogueTurn(0.0, "assistant", "hi")])
        agree += decision.interrupt == bool(data[i]["decision"])
        if decision.interrupt:
            assert decision.intent is not None and decision.step in {s["id"] for s in info["plan"]}
            assert decision.text
    assert agree >= 72
    assert model.stats["calls"] == 80


def test_correction_boost_repeats_only_correcting_samples() -> None:
    from proassist.policies.learned.train import _boost
    from proassist.sim.messages import INTENTS

    intent = np.array([-1, INTENTS.index("instruct_next"), INTENTS.index("correct_deviation")])
    intent = np.concatenate([intent, [INTENTS.index("warn"), -1]])
    idx = np.arange(5)
    rng = np.random.default_rng(0)
    assert np.array_equal(_boost(idx, intent, 1, rng), idx)
    boosted = _boost(idx, intent, 3, rng)
    counts = np.bincount(boosted, minlength=5)
    assert counts.tolist() == [1, 1, 3, 3, 1]
