"""``evaluate(..., concurrency=N)``: N episodes at once on threads, the sequential
records in seed order; the first failure is raised (the served-model runs are in
``tests/policies/test_remote_server.py``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from proassist.analysis.evaluation import evaluate, model_server_scores
from proassist.analysis.metrics.scores import stats_matrix
from proassist.policies import make_policy
from proassist.policies.baselines import SilentPolicy

SHORT: dict[str, Any] = {"max_duration": 10.0, "width": 48, "height": 48}


def test_threads_give_the_sequential_records_in_seed_order() -> None:
    seeds = [4, 0, 2, 1]
    runs = [
        evaluate(
            "duplex", "ProAssist-Kitchen-v0", seeds, paired_silent=False, concurrency=n, **SHORT
        )  # fmt: skip
        for n in (1, 3)
    ]
    assert [r["seed"] for r in runs[1].records] == seeds
    assert json.dumps(runs[0].records, sort_keys=True) == json.dumps(
        runs[1].records, sort_keys=True
    )
    assert runs[0].scores.keys() == runs[1].scores.keys()


def test_the_policy_object_is_copied_per_thread() -> None:
    policy = make_policy("periodic", period=2.0)
    result = evaluate(policy, "ProAssist-Assembly-v0", range(3), concurrency=8, **SHORT)
    assert [r["seed"] for r in result.records] == [0, 1, 2]
    assert len(result.silent_records) == 3
    keys, matrix = stats_matrix(result.records)  # the statistics behind the scores
    assert result.stats is not None and result.stats[0] == keys
    assert (result.stats[1] == matrix).all()


class _Fails(SilentPolicy):
    """Silent, except that it fails on seed 1 (from whichever thread runs it)."""

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        if seed == 1:
            raise RuntimeError("boom on seed 1")
        super().reset(env_info=env_info, seed=seed)


def test_a_failing_episode_is_raised() -> None:
    with pytest.raises(RuntimeError, match="boom on seed 1"):
        evaluate(_Fails(), "ProAssist-Kitchen-v0", range(4), paired_silent=False,
                 concurrency=2, render=False, max_duration=3.0)  # fmt: skip
    with pytest.raises(ValueError, match="concurrency"):
        evaluate("silent", "ProAssist-Kitchen-v0", [0], concurrency=0)


def test_model_server_scores() -> None:
    assert model_server_scores([{"model_outputs": [{"output": "x", "parsed": True}]}]) == {}
    outputs = [{"latency_s": 0.1, "error": None}, {"latency_s": 0.3, "error": "timeout: t"}]
    scores = model_server_scores([{"model_outputs": outputs, "model_server": {"latency": 0.5}}])
    assert scores["model_requests"] == 2 and scores["model_request_errors"] == 1
    assert scores["model_latency_mean_s"] == pytest.approx(0.2)
    assert scores["model_latency_mode"] == 0.5
