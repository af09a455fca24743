"""Issue 11's goals read from sanity results (``analysis/goals.py``, ``proassist goals``).

Synthetic ``sanity.json`` results with known per-seed values: a paired goal is the
bootstrap over seeds of ``row - fraction * other``; pooled results are one larger seed
set; a CI on both sides of the target is undecided, not met.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proassist.analysis.cli import main
from proassist.analysis.cli.sanity import _report
from proassist.analysis.goals import GOAL_ROW, GOALS, Goal, check_goals, goal_lines
from proassist.analysis.metrics.stats import bootstrap_ci
from proassist.analysis.sanity import CONTENT_BLIND, aggregate
from proassist.analysis.sanity_ci import PER_SEED_KEY, STATS_KEY

ENVS = ("a", "b")
HALF = GOALS[0]
BLIND = GOALS[1]


def _row(label: str, seeds: list[int], net: dict[str, list[float]], **plain: float) -> dict:
    """A sanity row: per env its per-seed net values (and plain metrics with CIs)."""
    per_env = {}
    for env in ENVS:
        values = net[env]
        scores = {
            "net_assistance": float(np.mean(values)),
            PER_SEED_KEY: list(zip(seeds, values, strict=True)),
        }
        for key, value in plain.items():
            scores.update({key: value, f"{key}_ci_low": value - 0.1, f"{key}_ci_high": value + 0.1})
        per_env[env] = scores
    return {"label": label, "scores": aggregate(per_env), "per_env": per_env, "errors": {}}


def _result(seeds: list[int], rows: dict[str, dict[str, list[float]]], **plain: float) -> dict:
    return {
        "envs": list(ENVS),
        "seeds": seeds,
        "rows": [_row(label, seeds, net, **plain) for label, net in rows.items()],
    }


def _nets(rng: np.random.Generator, n: int, mean: float, spread: float = 0.3) -> dict:
    return {env: list(rng.normal(mean, spread, size=n)) for env in ENVS}


def _blind(rng: np.random.Generator, n: int) -> dict[str, dict[str, list[float]]]:
    return {label: _nets(rng, n, -0.1, 0.05) for label in CONTENT_BLIND}


def test_the_paired_goal_is_the_bootstrap_of_the_per_seed_differences() -> None:
    rng = np.random.default_rng(0)
    seeds = list(range(40))
    rows = {GOAL_ROW: _nets(rng, 40, 0.3), "oracle": _nets(rng, 40, 0.7)}
    check = check_goals([_result(seeds, rows)], goals=[HALF])[0]
    mine = np.mean([rows[GOAL_ROW][e] for e in ENVS], axis=0)
    oracle = np.mean([rows["oracle"][e] for e in ENVS], axis=0)
    diffs = mine - 0.5 * oracle
    assert check.value == pytest.approx(diffs.mean())
    assert (check.low, check.high) == pytest.approx(bootstrap_ci(list(diffs)))
    assert check.versus == "oracle"
    assert check.status == {True: "unmet", False: "undecided"}[check.high < 0.0]
    assert "over 40 seeds" in check.detail and f"{mine.mean() / oracle.mean():.2f}" in check.detail


@pytest.mark.parametrize(("mean", "status"), [(0.5, "met"), (0.1, "unmet"), (0.35, "undecided")])
def test_met_unmet_undecided_by_where_the_ci_lies(mean: float, status: str) -> None:
    rng = np.random.default_rng(1)
    rows = {GOAL_ROW: _nets(rng, 60, mean, 0.2), "oracle": _nets(rng, 60, 0.7, 0.05)}
    assert check_goals([_result(list(range(60)), rows)], goals=[HALF])[0].status == status


def test_above_blind_needs_the_cis_apart_and_the_worst_row_decides() -> None:
    rng = np.random.default_rng(2)
    rows = {GOAL_ROW: _nets(rng, 60, 0.4), **_blind(rng, 60)}
    # always 0.08 below the row: paired above it, the CIs overlapping
    rows["periodic-20s"] = {e: list(np.array(rows[GOAL_ROW][e]) - 0.08) for e in ENVS}
    check = check_goals([_result(list(range(60)), rows)], goals=[BLIND])[0]
    assert check.versus == "periodic-20s"
    assert check.low == pytest.approx(0.08)
    assert check.status == "undecided" and "CIs overlap" in check.detail
    rows["periodic-20s"] = _nets(rng, 60, -0.1, 0.05)
    check = check_goals([_result(list(range(60)), rows)], goals=[BLIND])[0]
    assert check.status == "met" and "CIs apart" in check.detail


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 39))
def test_pooled_results_are_one_larger_seed_set(split: int) -> None:
    rng = np.random.default_rng(3)
    rows = {GOAL_ROW: _nets(rng, 40, 0.3), "oracle": _nets(rng, 40, 0.6), **_blind(rng, 40)}
    whole = _result(list(range(40)), rows, oop_recall=0.5)
    parts = [
        _result(list(range(a, b)), {k: {e: v[e][a:b] for e in ENVS} for k, v in rows.items()})
        for a, b in ((0, split), (split, 40))
    ]
    for i, part in enumerate(parts):
        for row in part["rows"]:
            n = len(part["seeds"])
            value = 0.4 if i == 0 else 0.7
            row["scores"].update(oop_recall=value, oop_recall_ci_low=value - 0.1)
            row["scores"]["oop_recall_ci_high"] = value + 0.1 * n / 40
    pooled, one = check_goals(parts), check_goals([whole])
    for a, b in zip(pooled[:2], one[:2], strict=True):
        assert (a.status, a.value, a.low, a.high) == (b.status, b.value, b.low, b.high)
    recall = pooled[3]
    assert recall.value == pytest.approx((0.4 * split + 0.7 * (40 - split)) / 40)
    assert recall.low == pytest.approx(recall.value - 0.1 * np.hypot(split, 40 - split) / 40)


def _with_stats(result: dict, rng: np.random.Generator) -> dict:
    """Give every row per-seed episode statistics (deviations detected, minutes...)."""
    keys = ["messages", "minutes", "n_dev_visible", "oop_detected"]
    for row in result["rows"]:
        for scores in row["per_env"].values():
            n = rng.integers(1, 4, size=len(result["seeds"]))
            values = np.stack(
                [rng.poisson(4, n.size), rng.uniform(1, 3, n.size), n, rng.binomial(n, 0.5)], 1
            )
            scores[STATS_KEY] = {"keys": keys, "seeds": result["seeds"], "values": values.tolist()}
            sums = values.sum(axis=0)
            for metric, value in (
                ("interruptions_per_min", sums[0] / sums[1]),
                ("oop_recall", sums[3] / sums[2]),
            ):
                scores.update({metric: value, f"{metric}_ci_low": 0.0, f"{metric}_ci_high": 9.0})
    return result


def test_pooled_statistics_give_the_whole_runs_plain_goals() -> None:
    rng = np.random.default_rng(10)
    rows = {GOAL_ROW: _nets(rng, 30, 0.3), "oracle": _nets(rng, 30, 0.6)}
    whole = _with_stats(_result(list(range(30)), rows), rng)
    parts = []
    for a, b in ((0, 12), (12, 30)):
        part = _result(
            list(range(a, b)), {k: {e: v[e][a:b] for e in ENVS} for k, v in rows.items()}
        )
        for prow, wrow in zip(part["rows"], whole["rows"], strict=True):
            for env, scores in prow["per_env"].items():
                full = wrow["per_env"][env][STATS_KEY]
                scores[STATS_KEY] = {
                    **full,
                    "seeds": full["seeds"][a:b],
                    "values": full["values"][a:b],
                }
        parts.append(part)
    for row in whole["rows"]:
        row["scores"] = aggregate(row["per_env"])
    goals = [g for g in GOALS if g.name in ("interruptions", "oop-recall")]
    pooled, one = check_goals(parts, goals=goals), check_goals([whole], goals=goals)
    for a, b in zip(pooled, one, strict=True):
        assert (a.status, a.value, a.low, a.high) == (b.status, b.value, b.low, b.high)
        assert a.value is not None


def test_pooling_refuses_shared_seeds_and_other_envs() -> None:
    rng = np.random.default_rng(4)
    rows = {GOAL_ROW: _nets(rng, 10, 0.3), "oracle": _nets(rng, 10, 0.6)}
    a, b = _result(list(range(10)), rows), _result(list(range(5, 15)), rows)
    with pytest.raises(ValueError, match="share seeds"):
        check_goals([a, b])
    b = _result(list(range(10, 20)), rows)
    b["envs"] = ["a", "c"]
    with pytest.raises(ValueError, match="different envs"):
        check_goals([a, b])
    b["envs"], b["env_kwargs"] = list(ENVS), {"difficulty": "hard"}
    with pytest.raises(ValueError, match="different env kwargs"):
        check_goals([a, b])
    b["env_kwargs"] = {}
    for result, backend in ((a, "minilm"), (b, "tokens")):
        result["rows"][0]["per_env"]["a"]["text_sim_backend"] = backend
    with pytest.raises(ValueError, match="different text similarities"):
        check_goals([a, b])


def test_a_missing_or_errored_row_does_not_hide_an_unmet_goal() -> None:
    rng = np.random.default_rng(8)
    rows = {GOAL_ROW: _nets(rng, 40, 0.1, 0.05), **_blind(rng, 40)}
    rows["coin"] = _nets(rng, 40, 0.5, 0.05)  # far above the row
    result = _result(list(range(40)), rows)
    result["rows"] = [r for r in result["rows"] if r["label"] != "timer-instruct"]
    result["rows"][2]["errors"] = {"a": "ValueError: boom"}
    check = check_goals([result], goals=[BLIND])[0]
    assert (check.status, check.versus) == ("unmet", "coin")
    rows["coin"] = _nets(rng, 40, -0.1, 0.05)
    result = _result(list(range(40)), rows)
    result["rows"][1]["errors"] = {"b": "ValueError: boom"}
    check = check_goals([result], goals=[BLIND])[0]
    assert (check.status, check.detail) == ("n/a", "coin errored in b")
    result["rows"][0]["errors"] = {"a": "x"}
    assert check_goals([result])[0].detail == f"{GOAL_ROW} errored in a"


def test_nan_values_and_bad_goals() -> None:
    rows = {
        GOAL_ROW: {e: [float("nan")] * 5 for e in ENVS},
        "oracle": _nets(np.random.default_rng(9), 5, 0.5),
    }
    check = check_goals([_result(list(range(5)), rows)], goals=[HALF])[0]
    assert check.status == "n/a" and "no seed with values" in check.detail
    with pytest.raises(ValueError, match="op must be"):
        Goal("x", "x", "oop_recall", "==", 0.5)


def test_missing_rows_or_per_seed_values_are_not_applicable() -> None:
    rng = np.random.default_rng(5)
    result = _result(list(range(10)), {GOAL_ROW: _nets(rng, 10, 0.3)}, interruptions_per_min=2.0)
    checks = check_goals([result])
    assert [c.status for c in checks] == ["n/a", "n/a", "met", "n/a"]
    assert "oracle" in checks[0].detail
    for env in result["rows"][0]["per_env"].values():
        del env[PER_SEED_KEY]
    assert "no per-seed values" in check_goals([result], goals=[HALF])[0].detail
    assert all(c.status == "n/a" for c in check_goals([result], row="nobody"))


def test_the_plain_goals_read_the_ci_in_the_result() -> None:
    rng = np.random.default_rng(6)
    result = _result(list(range(10)), {GOAL_ROW: _nets(rng, 10, 0.3)}, interruptions_per_min=5.95)
    rate = Goal("r", "rate", "interruptions_per_min", "<=", 6.0)
    check = check_goals([result], goals=[rate])[0]
    assert check.status == "undecided"  # 5.95 with a CI reaching 6.02
    assert check.high == pytest.approx(5.95 + 0.1 / np.sqrt(2))
    assert goal_lines([check])[0].startswith(f"~ {GOAL_ROW}: rate: UNDECIDED (5.950 [")


def _files(tmp_path: Path, recall: float = 0.8) -> list[str]:
    rng = np.random.default_rng(7)
    rows = {GOAL_ROW: _nets(rng, 30, 0.35, 0.1), "oracle": _nets(rng, 30, 0.6, 0.1)}
    rows.update(_blind(rng, 30))
    plain = {"interruptions_per_min": 2.0, "oop_recall": recall}
    paths = []
    for i, seeds in enumerate((list(range(30)), list(range(100, 130)))):
        folder = tmp_path / f"r{recall}-{i}"
        folder.mkdir()
        (folder / "sanity.json").write_text(json.dumps(_result(seeds, rows, **plain)))
        paths.append(str(folder))
    return paths


def test_cli_checks_each_run_then_the_pool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _files(tmp_path)
    assert main(["goals", *paths]) == 0
    out = capsys.readouterr().out
    assert "pooled (60 seeds): seeds 0..29 (30); 100..129 (30)" in out
    assert out.count("✔") == 12 and "over 60 seeds" in out
    assert main(["goals", *_files(tmp_path, recall=0.5)]) == 1
    assert "✖ stepwatch+learned: content-aware OOP recall >= 0.6: UNMET (0.500" in (
        capsys.readouterr().out
    )


def test_cli_bad_input_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _files(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert main(["goals", str(bad)]) == 2
    assert "bad.json: not JSON" in capsys.readouterr().err
    assert main(["goals", paths[0], "--row", "stepwatch+learnd"]) == 2
    assert "did you mean 'stepwatch+learned'?" in capsys.readouterr().err
    assert main(["goals", paths[0], paths[0]]) == 2
    assert "share seeds" in capsys.readouterr().err
    assert main(["goals", str(tmp_path / "nowhere")]) == 2


def test_sanity_writes_the_goals_when_their_row_ran(tmp_path: Path) -> None:
    result = json.loads((Path(_files(tmp_path)[0]) / "sanity.json").read_text())
    result.update(env_kwargs={}, checks=[], all_hold=True)
    _report(result, tmp_path / "out")
    text = (tmp_path / "out" / "sanity.md").read_text()
    assert "Issue 11's goals" in text and f"- ✔ {GOAL_ROW}: net assistance >= half" in text
    saved = json.loads((tmp_path / "out" / "sanity.json").read_text())
    assert [c["status"] for c in saved["goals"]["checks"]] == ["met"] * 4
    result["rows"] = [r for r in result["rows"] if r["label"] != GOAL_ROW]
    _report(result, tmp_path / "out2")
    assert "goals" not in (tmp_path / "out2" / "sanity.md").read_text()
