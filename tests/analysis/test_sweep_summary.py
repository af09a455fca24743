"""Sweep summary: per-label counts and mean ± bootstrap CI."""

from __future__ import annotations

import math

import numpy as np
import pytest

from proassist.analysis.sweeps.runner import report_text
from proassist.analysis.sweeps.summary import format_table, summarize


def _unit(uid: str, label: str) -> dict:
    return {"unit_id": uid, "label": label}


def _row(uid: str, status: str = "ok", **scores: object) -> dict:
    return {"unit_id": uid, "status": status, "scores": scores}


UNITS = [_unit("a", "x"), _unit("b", "x"), _unit("c", "x"), _unit("d", "y"), _unit("e", "y")]
ROWS = {
    "a": _row("a", score=1.0, ok=True, name="n"),
    "b": _row("b", score=2.0, ok=False),
    "c": _row("c", score=6.0, ok=True, other=math.nan),
    "d": _row("d", "failed"),
}


def test_counts_means_and_intervals() -> None:
    s = summarize("t", UNITS, ROWS)
    assert s["metrics"] == ["ok", "score"]  # numeric scores only; NaN-only 'other' is kept out
    x, y = s["labels"]
    assert (x["n"], x["ok"], x["failed"], x["pending"]) == (3, 3, 0, 0)
    assert (y["n"], y["ok"], y["failed"], y["pending"]) == (2, 0, 1, 1)
    assert (s["ok"], s["failed"], s["pending"]) == (3, 1, 1)
    score = x["metrics"]["score"]
    assert score["mean"] == 3.0 and score["n"] == 3
    assert 1.0 <= score["ci_low"] < 3.0 < score["ci_high"] <= 6.0
    assert x["metrics"]["ok"]["mean"] == 2 / 3
    empty = {"mean": None, "ci_low": None, "ci_high": None, "n": 0, "pooled": False}
    assert y["metrics"]["score"] == empty
    assert summarize("t", UNITS, ROWS) == s  # seeded bootstrap: reproducible


def test_table_and_report() -> None:
    s = summarize("t", UNITS, ROWS, metrics=["score"])
    table = format_table(s).splitlines()
    assert table[0].split() == ["label", "ok/n", "failed", "score"]
    assert table[2].startswith("x") and "3 ±" in table[2]
    assert table[3].split() == ["y", "0/2", "1", "n/a"]
    many = {"a": _row("a", **{f"m{i}": float(i) for i in range(9)})}
    text = report_text(summarize("t", UNITS[:1], many))
    assert "first 6 of 9 scores" in text and "m5" in text and "m6" not in text


def test_registered_metrics_are_pooled_over_the_episodes() -> None:
    import gymnasium as gym

    import proassist.envs  # noqa: F401
    from proassist.analysis.metrics.scores import episode_scores, score_episodes
    from proassist.policies import make_policy
    from proassist.policies.rollout import rollout

    env = gym.make("ProAssist-Kitchen-v0", render=False, deviation_rates={"omission": 0.3})
    try:
        records = [rollout(env, make_policy("spam-correct"), seed=s) for s in range(3)]
    finally:
        env.close()
    units = [{"unit_id": f"u{s}", "label": "L"} for s in range(3)]
    rows = {
        f"u{s}": {"unit_id": f"u{s}", "status": "ok", "scores": episode_scores(r)}
        for s, r in enumerate(records)
    }
    names = ["oop_precision", "interruptions_per_min"]
    episodes = {f"u{s}": r for s, r in enumerate(records)}
    pooled = summarize("t", units, rows, names, episodes=episodes)["labels"][0]["metrics"]
    per_unit = summarize("t", units, rows, names)["labels"][0]["metrics"]
    want = score_episodes(records, rng=np.random.default_rng(0))
    for m in names:
        assert pooled[m]["pooled"] and not per_unit[m]["pooled"]
        assert pooled[m]["mean"] == pytest.approx(want[m])
    # OOP precision is a ratio: pooled and mean-of-episodes differ here.
    assert pooled["oop_precision"]["mean"] != pytest.approx(per_unit["oop_precision"]["mean"])
