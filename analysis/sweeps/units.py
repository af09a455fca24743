"""Unit functions for sweeps (see :mod:`proassist.analysis.sweeps.backends` for the protocol).

- :func:`episode_unit` (the default): one closed-loop episode through
  ``proassist.analysis.evaluation.run_episode`` (imported lazily, in the worker).
- :func:`cpu_unit`: a fixed, deterministic CPU-bound numpy computation (about 0.2 s
  on one core) to measure the sweep machinery itself or smoke-test a Ray cluster.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from typing import Any

import numpy as np

EVALUATE_MODULE = "proassist.analysis.evaluation"
DEFAULT_UNIT = "proassist.analysis.sweeps.units:episode_unit"
#: Size of the array and number of passes of :func:`cpu_unit` (about 0.2 s on one core).
CPU_UNIT_SIZE = 200_000
CPU_UNIT_PASSES = 20


def check_episode_unit() -> None:
    """Raise ``ImportError`` when the evaluation module the default unit needs is missing."""
    spec = importlib.util.find_spec(EVALUATE_MODULE)
    if spec is None or not hasattr(importlib.import_module(EVALUATE_MODULE), "run_episode"):
        raise ImportError(
            f"the default unit function needs {EVALUATE_MODULE}.run_episode, which is not "
            "available; set 'unit: package.module:function' in the sweep file or pass unit_fn"
        )


def episode_unit(unit: Mapping[str, Any]) -> dict[str, Any]:
    """Run one episode of ``unit`` and score it.

    Scores are every registered metric on this one episode
    (``proassist.analysis.metrics.scores.episode_scores``) and the counts of
    ``proassist.analysis.metrics.content.run_info``; its ``text_sim_backend`` (the
    free-text scorer) goes in the row's extras.

    Returns:
        ``{"scores": {...}, "episode": record, "text_sim_backend": name}``.
    """
    from proassist.analysis.metrics.content import run_info
    from proassist.analysis.metrics.scores import episode_scores

    evaluate = importlib.import_module(EVALUATE_MODULE)
    record = evaluate.run_episode(
        unit["policy"], unit["policy_kwargs"], unit["env_id"], unit["seed"], unit["env_kwargs"]
    )
    info = run_info([record])
    backend = info.pop("text_sim_backend")
    return {"scores": episode_scores(record) | info, "episode": record, "text_sim_backend": backend}


def cpu_unit(unit: Mapping[str, Any]) -> dict[str, Any]:
    """A fixed CPU-bound computation seeded by ``unit["seed"]`` (single-threaded numpy).

    Returns:
        ``{"scores": {"value": ..., "spread": ...}}``, deterministic per seed.
    """
    rng = np.random.default_rng(unit["seed"])
    x = rng.random(CPU_UNIT_SIZE)
    for _ in range(CPU_UNIT_PASSES):
        x = np.sort(np.sin(x * 3.7) + 0.5 * np.cos(x * 1.3))
        x = np.cumsum(x) / np.arange(1, x.size + 1)
    return {"scores": {"value": float(x.mean()), "spread": float(x.std())}}
