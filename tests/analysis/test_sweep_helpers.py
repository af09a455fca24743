"""Unit functions and spec builders shared by the sweep tests (no tests here).

Worker processes import this module by name (``test_sweep_helpers:ok_unit``): spawned
local workers inherit the driver's ``sys.path`` (pytest puts this folder on it), the
Ray backend puts the module's folder on its workers' ``PYTHONPATH`` and subprocess tests
pass ``PYTHONPATH=HERE``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
MODULE = "test_sweep_helpers"


def ok_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """Deterministic scores and a small episode record from the unit's seed and config."""
    rate = unit["env_kwargs"].get("deviation_rates", {}).get("omission", 0.0)
    rng = np.random.default_rng([unit["seed"], int(rate * 1000), len(unit["policy"])])
    score = float(rng.random())
    episode = {
        "env_id": unit["env_id"],
        "seed": unit["seed"],
        "policy": unit["policy"],
        "success": score > 0.5,
        "duration": round(10 + 5 * score, 3),
        "events": [],
        "decisions": [],
    }
    return {"scores": {"score": score, "success": score > 0.5}, "episode": episode, "n": 1}


def crash_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """Raises for seed 1, otherwise :func:`ok_unit`."""
    if unit["seed"] == 1:
        raise RuntimeError(f"boom at seed {unit['seed']}")
    return ok_unit(unit)


def die_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """Kills its own worker process for seed 2 (as a segfault would)."""
    if unit["seed"] == 2:
        os._exit(3)
    return ok_unit(unit)


def slow_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """Sleeps ``SWEEP_TEST_SLEEP`` s; blocks for a minute on seed ``SWEEP_TEST_BLOCK``."""
    if str(unit["seed"]) == os.environ.get("SWEEP_TEST_BLOCK"):
        time.sleep(60)
    time.sleep(float(os.environ.get("SWEEP_TEST_SLEEP", "0.05")))
    return ok_unit(unit)


def flaky_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """Fails on odd seeds while the file ``$SWEEP_TEST_FAIL_FILE`` exists."""
    marker = os.environ.get("SWEEP_TEST_FAIL_FILE")
    if marker and Path(marker).exists() and unit["seed"] % 2:
        raise ValueError("flaky failure")
    return ok_unit(unit)


def spec_text(name: str = "t", seeds: int = 4, unit: str = "ok_unit", extra: str = "") -> str:
    """A valid sweep file: 2 policies x 2 omission rates x ``seeds`` seeds."""
    return (
        f"name: {name}\n"
        "env: ProAssist-Kitchen-v0\n"
        f"episodes: {{count: {seeds}}}\n"
        f"unit: {MODULE}:{unit}\n"
        "grid:\n"
        "  policy: [silent, periodic]\n"
        "  env_kwargs.deviation_rates.omission: [0.1, 0.3]\n"
        "metrics: [score, success]\n" + extra
    )


def write_spec(path: Path, **kwargs: Any) -> Path:
    """Write :func:`spec_text` to ``path`` and return it."""
    path.write_text(spec_text(**kwargs))
    return path
