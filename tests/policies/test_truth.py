"""Tests of the deviation-detector data (``proassist collect --labels deviations``): the
labels follow the ground truth, the recorded inputs are the learned model's, and a
detector trained on them deploys as corrections only on the tracked plan."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from proassist.policies.duplex.plan_format import Plan, PlanStep
from proassist.policies.learned.collect import CollectOptions, collect
from proassist.policies.learned.dataset import InteractionDataset
from proassist.policies.learned.features import MAX_OFFSET, offset_steps
from proassist.policies.learned.truth import deviation_labels, named_offset
from proassist.sim.messages import INTENTS

OPTS = CollectOptions(
    clip_len=3, frame_size=16, render_size=32, silent_keep=1.0, labels="deviations"
)

PLAN = Plan(
    mode="normal",
    goal="g",
    completed=(PlanStep("a", "a"), PlanStep("b", "b")),
    steps=(PlanStep("c", "c"), PlanStep("d", "d"), PlanStep("e", "e"), PlanStep("f", "f")),
    current=0,
)


def _dev(kind: str, step: str, onset: float = 1.0, status: str = "active", **kw: Any) -> dict:
    return {"kind": kind, "step": step, "onset": onset, "status": status, **kw}


def test_offsets_count_completed_steps_under_history() -> None:
    steps, current = offset_steps(PLAN, "history")
    assert [s.id for s in steps] == list("abcdef") and current == 2
    assert offset_steps(PLAN, "plan")[1] == 0
    assert named_offset(PLAN, ["b"]) == MAX_OFFSET - 1  # a step the plan took for done
    assert named_offset(PLAN, ["b"], base="plan") == -1
    assert named_offset(PLAN, ["e"]) == MAX_OFFSET + 2
    assert named_offset(PLAN, ["f"]) == -1  # beyond MAX_OFFSET
    assert named_offset(replace(PLAN, current=None, steps=()), ["a"]) == -1
    with pytest.raises(ValueError, match="offset base"):
        offset_steps(PLAN, "procedure")


@pytest.mark.parametrize(
    ("kind", "intent"),
    [("omission", "correct_deviation"), ("safety", "warn"), ("distraction", "re_engage")],
)
def test_an_active_deviation_is_an_interrupt_with_its_gold_intent(kind: str, intent: str) -> None:
    labels = deviation_labels([_dev(kind, "d")], PLAN)
    assert labels["decision"] == 1 and INTENTS[labels["intent"]] == intent
    assert labels["offset"] == MAX_OFFSET + 1
    assert labels["fix"] == int(intent != "re_engage")


def test_recovering_unnameable_and_invisible_deviations_are_silent() -> None:
    assert deviation_labels([], PLAN) == {"decision": 0}
    assert deviation_labels([_dev("omission", "c", status="recovering")], PLAN)["decision"] == 0
    assert deviation_labels([_dev("omission", "zz")], PLAN)["decision"] == 0
    assert deviation_labels([_dev("omission", "c", visible=False)], PLAN)["decision"] == 0
    fix_only = _dev("order", "zz", recovery_steps=[{"id": "e", "instruction": "Undo e"}])
    assert deviation_labels([fix_only], PLAN)["offset"] == MAX_OFFSET + 2


def test_the_latest_onset_is_named_first() -> None:
    devs = [_dev("omission", "c", onset=1.0), _dev("placement", "d", onset=5.0)]
    assert deviation_labels(devs, PLAN)["offset"] == MAX_OFFSET + 1
    devs[1]["step"] = "zz"  # the latest cannot be named: the earlier one is
    assert deviation_labels(devs, PLAN)["offset"] == MAX_OFFSET


@pytest.fixture(scope="module")
def detector_data(tmp_path_factory) -> Path:
    """Three silent-driven episodes with frequent deviations, every point kept."""
    out = tmp_path_factory.mktemp("truth") / "data"
    collect(out, 3, seed=4, options=OPTS, progress=False, rate_range=(0.3, 0.3))
    return out


def _spans(record: dict[str, Any]) -> list[tuple[float, float]]:
    """``[onset, end]`` of each deviation: until resolved or the end (a deviation whose
    deadline passed is still open: a correction may still get it put right)."""
    ends: dict[Any, float] = {}
    for e in record["events"]:
        if e["type"] == "deviation_resolved":
            ends.setdefault(e.get("id"), float(e["t"]))
    last = float(record["decisions"][-1]["t"]) + 1.0
    return [
        (float(e["onset"]), ends.get(e.get("id"), last))
        for e in record["events"]
        if e["type"] == "deviation"
    ]


def test_positives_lie_in_deviation_spans_and_the_silent_driver_says_nothing(
    detector_data: Path,
) -> None:
    data = InteractionDataset(detector_data)
    assert data.labels == "deviations"
    records = [json.loads(x) for x in (detector_data / "episodes.jsonl").read_text().splitlines()]
    a = data.arrays
    assert int(a["decision"].sum()) > 0
    for ep, record in enumerate(records):
        assert not record["collect"]["driver"]
        assert all(d["decision"] == 0 for d in record["decisions"])  # silent driver
        in_ep = a["episode"] == ep
        assert in_ep.sum() == len(record["decisions"])  # silent_keep 1
        spans = _spans(record)
        for t in a["t"][in_ep & (a["decision"] == 1)]:
            assert any(lo - 1e-6 <= t <= hi + 1e-6 for lo, hi in spans)
    codes = {INTENTS.index(i) for i in ("correct_deviation", "warn", "re_engage")}
    assert set(a["intent"][a["decision"] == 1].tolist()) <= codes


def test_detector_and_oracle_data_do_not_mix(detector_data: Path, tmp_path: Path) -> None:
    oracle = tmp_path / "oracle"
    collect(oracle, 1, seed=4, options=replace(OPTS, labels="oracle"), progress=False)
    with pytest.raises(ValueError, match="labels 'oracle' differ"):
        InteractionDataset([detector_data, oracle])
    with pytest.raises(ValueError, match="labels must be one of"):
        CollectOptions(labels="truth")


def test_a_trained_detector_deploys_as_tracked_corrections(
    detector_data: Path, tmp_path: Path
) -> None:
    pytest.importorskip("torch")
    from proassist.policies import make_policy
    from proassist.policies.learned.train import train

    result = train(
        detector_data, tmp_path / "m", epochs=1, progress=False,
        model_config={"embed_dim": 16, "hidden": 16},
    )  # fmt: skip
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["train_args"]["labels"] == "deviations" and meta["train_args"]["min_gap_s"] == 0
    assert result["config"]["offsets"] == "history"
    duplex = make_policy("duplex", interaction="learned", checkpoint=result["model_path"])
    assert duplex.plan_mode == "tracked" and duplex.progress is not None
    assert duplex.interaction.intents == frozenset(("correct_deviation", "warn", "re_engage"))
    asked = make_policy(
        "duplex", interaction="learned", checkpoint=result["model_path"], plan_mode="predicted"
    )
    assert asked.plan_mode == "predicted"
    mono = make_policy("monolithic", interaction="learned", checkpoint=result["model_path"])
    assert mono.plan_mode == "predicted"


def test_active_deviations_carry_their_status() -> None:
    import gymnasium as gym

    import proassist.envs  # noqa: F401

    env = gym.make(
        "ProAssist-Kitchen-v0", privileged=True, render=False, deviation_rates={"omission": 1.0}
    )
    env.reset(seed=0)
    statuses: set[str] = set()
    for _ in range(400):
        *_, term, trunc, info = env.step(env.unwrapped.action_space.sample() | {"decision": 0})
        statuses |= {d["status"] for d in info["active_deviations"]}
        if term or trunc:
            break
    env.close()
    assert statuses and statuses <= {"active", "recovering"}
    assert np.isin(list(statuses), ["active"]).any()


def test_the_label_horizon_drops_late_span_points() -> None:
    dev = _dev("omission", "c", onset=1.0)
    assert deviation_labels([dev], PLAN, now=5.0, horizon=6.0)["decision"] == 1
    assert deviation_labels([dev], PLAN, now=9.0, horizon=6.0) == {"decision": 0, "skip": True}
    assert deviation_labels([dev], PLAN, now=9.0)["decision"] == 1  # no horizon: the span
    assert deviation_labels([], PLAN, now=9.0, horizon=6.0) == {"decision": 0}
    with pytest.raises(ValueError, match="label_horizon_s"):
        CollectOptions(labels="deviations", label_horizon_s=0.0)


def test_a_label_horizon_keeps_fewer_positives(detector_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "horizon"
    collect(
        out,
        3,
        seed=4,
        options=replace(OPTS, label_horizon_s=2.0),
        rate_range=(0.3, 0.3),
        progress=False,
    )
    short, full = InteractionDataset(out).arrays, InteractionDataset(detector_data).arrays
    assert 0 < short["decision"].sum() < full["decision"].sum()
    assert len(short["t"]) < len(full["t"])  # late-span points are not samples
