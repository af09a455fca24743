"""Decisions per second of the ``openai-compatible`` assistant through a real server.

Builds the tiny random vision-language chat model
(:func:`proassist.policies.remote.tiny_model.build_tiny_chat_model`), starts
``transformers serve`` on it (127.0.0.1, CPU, one torch thread, no continuous
batching), then runs ``evaluate("openai-compatible", ...)`` on the same kitchen seeds
at ``concurrency=1`` and ``concurrency=8``, twice each, interleaved (so that drift in
machine load hits both), and counts decisions per wall-clock second (rendering at
128x128, one PNG frame per request, the server's reply, parsing). The random model
never ends a reply early, so replies are capped at 8 tokens (a ``$silent$`` answer of
a real model is about that long). Needs the ``[serve]`` extra. The reference is the
sequential run; the ratio is concurrent / sequential.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

ENV_ID = "ProAssist-Kitchen-v0"
#: Reply token budget (see the module docstring).
MAX_TOKENS = 8


def _rate(server: Any, episodes: int, duration: float, concurrency: int) -> tuple[float, float]:
    """(decisions per second, mean request latency in s) of one evaluation."""
    from proassist.analysis.evaluation import evaluate

    kwargs = {"base_url": server.base_url, "model": server.model, "max_tokens": MAX_TOKENS}
    start = time.perf_counter()
    result = evaluate(
        "openai-compatible", ENV_ID, range(episodes), paired_silent=False,
        policy_kwargs=kwargs, concurrency=concurrency, max_duration=duration,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    decisions = sum(len(r["decisions"]) for r in result.records)
    return decisions / elapsed, float(result.scores["model_latency_mean_s"])


def _measure(server: Any, quick: bool) -> dict[int, list[tuple[float, float]]]:
    episodes, duration = (4, 8.0) if quick else (8, 15.0)
    _rate(server, 1, 2.0, 1)  # warm-up: imports, first render, first request
    runs: dict[int, list[tuple[float, float]]] = {1: [], 8: []}
    for _ in range(2):
        for concurrency in runs:
            runs[concurrency].append(_rate(server, episodes, duration, concurrency))
    return runs


def run(quick: bool = False) -> list[dict]:
    """Measure decisions/s at concurrency 1 and 8 (see the module docstring)."""
    from proassist.policies.remote.server import require_serve, start_server
    from proassist.policies.remote.tiny_model import build_tiny_chat_model

    require_serve("python -m bench server")
    with tempfile.TemporaryDirectory(prefix="proassist-bench-serve-") as tmp:
        model = build_tiny_chat_model(Path(tmp) / "model")
        with start_server(model, log_path=Path(tmp) / "server.log") as server:
            runs = _measure(server, quick)
    best = {n: max(r for r, _ in v) for n, v in runs.items()}
    latency = {n: 1000 * sum(lat for _, lat in v) / len(v) for n, v in runs.items()}
    return [
        {
            "name": "openai-compatible via transformers serve, concurrency 8 (tiny model)",
            "value": f"{best[8]:.1f} decisions/s (request {latency[8]:.0f} ms)",
            "reference": f"concurrency 1: {best[1]:.1f} decisions/s (request {latency[1]:.0f} ms)",
            "ratio": f"{best[8] / best[1]:.2f}x",
            "goal": ">= 20 decisions/s at concurrency 8",
        }
    ]
