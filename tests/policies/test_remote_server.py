"""Assistants behind a REAL OpenAI-compatible server: ``transformers serve`` started on
127.0.0.1 with a tiny random Llava saved locally (``save_pretrained``, no downloads).

Short episodes run through ``evaluate`` with the ``openai-compatible`` policy and the
duplex's served components; raw replies, latencies and failures must be in the
records, and ``--concurrency`` must not change them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from proassist.analysis.cli import main
from proassist.analysis.evaluation import evaluate
from proassist.policies import make_policy
from proassist.policies.remote.server import (
    SERVE_EXTRA,
    ServerProcess,
    missing_serve_modules,
    start_server,
)

KITCHEN = "ProAssist-Kitchen-v0"
#: Short episodes at a small resolution.
SHORT: dict[str, Any] = {"max_duration": 4.0, "width": 64, "height": 64}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random vision-language chat model, built offline."""
    missing = missing_serve_modules()
    if missing:
        pytest.skip(f"the [serve] extra is not installed ({', '.join(missing)}): {SERVE_EXTRA}")
    from proassist.policies.remote.tiny_model import build_tiny_chat_model

    return build_tiny_chat_model(tmp_path_factory.mktemp("tiny-chat") / "model")


@pytest.fixture(scope="session")
def server(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``transformers serve`` on a free port (killed at the end of the session)."""
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with start_server(tiny_model, log_path=log) as process:
        yield process


def _kwargs(server: ServerProcess, **extra: Any) -> dict[str, Any]:
    return {"base_url": server.base_url, "model": server.model, **extra}


def _without_latency(records: list[dict[str, Any]]) -> str:
    """The records as JSON with the wall-clock fields dropped."""
    out = []
    for record in records:
        outputs = [
            {k: v for k, v in o.items() if k != "latency_s"} for o in record["model_outputs"]
        ]
        out.append(record | {"model_outputs": outputs})
    return json.dumps(out, sort_keys=True)


def test_episodes_record_replies_latency_and_scores(server: ServerProcess) -> None:
    result = evaluate(
        "openai-compatible", KITCHEN, [0, 1], paired_silent=False,
        policy_kwargs=_kwargs(server, max_tokens=12), **SHORT,
    )  # fmt: skip
    for record in result.records:
        outputs = record["model_outputs"]
        assert len(outputs) == len(record["decisions"]) == 8  # one request per point
        assert all(o["component"] == "interaction" and o["error"] is None for o in outputs)
        assert all(o["latency_s"] > 0 and o["charged_s"] == 0 for o in outputs)
        assert all(isinstance(o["output"], str) and o["output"] for o in outputs)
        assert record["model_server"]["latency"] == "paused"
        assert record["render"] is True
    scores = result.scores
    assert {"g_mean", "if1", "n_model_outputs", "n_unparseable"} <= set(scores)
    assert scores["model_requests"] == 16 and scores["model_request_errors"] == 0
    assert scores["model_latency_mean_s"] > 0 and scores["model_latency_mode"] == "paused"
    parsed = sum(o["parsed"] for r in result.records for o in r["model_outputs"])
    assert scores["n_unparseable"] == 16 - parsed


def test_concurrency_gives_the_sequential_records(server: ServerProcess) -> None:
    kwargs = _kwargs(server, max_tokens=8)
    runs = [
        evaluate(
            "openai-compatible",
            KITCHEN,
            [3, 1, 2],
            paired_silent=False,
            policy_kwargs=kwargs,
            concurrency=n,
            **SHORT,
        )  # fmt: skip
        for n in (1, 3)
    ]
    assert [r["seed"] for r in runs[1].records] == [3, 1, 2]
    assert _without_latency(runs[0].records) == _without_latency(runs[1].records)


def test_timed_out_requests_are_recorded_and_silent(server: ServerProcess) -> None:
    kwargs = _kwargs(server, max_tokens=64, timeout=0.005, retries=1, backoff=0.0)
    (record,) = evaluate(
        "openai-compatible", KITCHEN, [0], paired_silent=False, policy_kwargs=kwargs, **SHORT
    ).records
    outputs = record["model_outputs"]
    assert len(record["decisions"]) == 8 and record["events"][-1]["type"] == "task_end"
    assert all(o["error"].startswith("timeout") and o["attempts"] == 2 for o in outputs)
    assert all(not o["parsed"] and o["output"] == "" for o in outputs)
    assert not any(d["decision"] for d in record["decisions"])


def test_text_only_structured_fixed_latency(server: ServerProcess) -> None:
    kwargs = _kwargs(server, n_frames=0, output="structured", latency=1.0, max_tokens=8)
    policy = make_policy("openai-compatible", **kwargs)
    assert policy.needs_pixels is False
    (record,) = evaluate(
        policy, KITCHEN, [0], paired_silent=False, policy_kwargs=kwargs, **SHORT
    ).records
    assert record["render"] is False
    # one call every 1.0 s of simulated time at most: 8 points, at most 4 requests
    assert 1 <= len(record["model_outputs"]) <= 4
    assert all(o["charged_s"] == 1.0 for o in record["model_outputs"])
    assert record["model_server"] | {"base_url": None} == {
        "base_url": None, "model": server.model, "latency": 1.0, "output": "structured",
        "n_frames": 0,
    }  # fmt: skip


def test_duplex_with_served_interaction_model(server: ServerProcess) -> None:
    interaction = _kwargs(server, n_frames=2, max_tokens=8, latency="charged")
    policy = make_policy("duplex", interaction="openai-compatible", clip_len=2,
                         interaction_kwargs=interaction)  # fmt: skip
    (record,) = evaluate(policy, KITCHEN, [0], paired_silent=False, **SHORT).records
    outputs = record["model_outputs"]
    assert outputs and all(o["component"] == "interaction" for o in outputs)
    assert all(o["charged_s"] == pytest.approx(o["latency_s"]) for o in outputs)


def test_cli_eval_with_concurrency(server: ServerProcess, tmp_path: Path, capsys) -> None:
    argv = ["eval", "--env", KITCHEN, "--policy", "openai-compatible", "--episodes", "2"]
    argv += ["-k", f"base_url={server.base_url}", "-k", f"model={server.model}"]
    argv += ["-k", "max_tokens=8", "-e", "max_duration=3", "-e", "width=48", "-e", "height=48"]
    argv += ["--no-paired", "--concurrency", "2", "--out", str(tmp_path)]
    assert main(argv) == 0
    assert "model server: 12 requests, 0 failed" in capsys.readouterr().out
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["model_requests"] == 12
    lines = (tmp_path / "episodes.jsonl").read_text().splitlines()
    assert [json.loads(line)["seed"] for line in lines] == [0, 1]


@pytest.mark.slow
def test_duplex_with_served_planner_end_to_end(server: ServerProcess) -> None:
    planner = _kwargs(server, latency=2.0, max_new_tokens=48)
    policy = make_policy("duplex", planner="openai-compatible", planner_kwargs=planner)
    result = evaluate(policy, KITCHEN, [0], paired_silent=False, max_duration=60.0)
    (record,) = result.records
    calls = [o for o in record["model_outputs"] if o["component"] == "planner"]
    assert len(calls) == record["policy_stats"]["planner_calls"] >= 2
    assert all(o["latency_s"] > 0 and o["charged_s"] == 2.0 for o in calls)
    # a malformed plan keeps the previous one: the episode still ends
    assert record["events"][-1]["type"] == "task_end"
    assert result.scores["model_requests"] == len(calls)


@pytest.mark.slow
def test_server_dying_mid_run_makes_silent_decisions(tiny_model: Path) -> None:
    with start_server(tiny_model) as dying:
        policy = make_policy("openai-compatible", **_kwargs(dying, retries=1, backoff=0.01))
    assert not dying.alive()
    (record,) = evaluate(policy, KITCHEN, [0], paired_silent=False, **SHORT).records
    outputs = record["model_outputs"]
    assert len(outputs) == 8 and all(o["error"].startswith("connection") for o in outputs)
    assert not any(d["decision"] for d in record["decisions"])
