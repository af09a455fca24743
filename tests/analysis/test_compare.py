"""Two sanity rows compared paired over seeds (``analysis/compare.py``, ``proassist
compare``): net assistance from each seed's values, registered metrics from each seed's
episode statistics with one bootstrap over seeds for both rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from proassist.analysis.cli import main
from proassist.analysis.compare import compare_rows, difference_lines
from proassist.analysis.goals import merged_stats
from proassist.analysis.metrics.stats import N_BOOT, bootstrap_ci, bootstrap_counts
from proassist.analysis.sanity import aggregate
from proassist.analysis.sanity_ci import (
    KINDS_KEY,
    PER_SEED_KEY,
    STATS_KEY,
    join_tables,
    seed_block_difference,
    seed_table,
)

ENVS = ("a", "b")


def _env(rng: np.random.Generator, seeds: list[int], net: float, rate: float) -> dict:
    """One env of a row: per-seed net values and message/minute statistics."""
    minutes = rng.uniform(1.0, 3.0, size=len(seeds))
    stats = [
        [float(m), float(t)] for m, t in zip(rng.poisson(rate * minutes), minutes, strict=True)
    ]
    nets = rng.normal(net, 0.3, size=len(seeds))
    return {
        PER_SEED_KEY: [[s, float(v)] for s, v in zip(seeds, nets, strict=True)],
        STATS_KEY: {"keys": ["messages", "minutes"], "seeds": seeds, "values": stats},
    }


def _result(seeds: list[int], rows: dict[str, tuple[float, float]], seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    out = []
    for label, (net, rate) in rows.items():
        per_env = {e: _env(rng, seeds, net, rate) for e in ENVS}
        out.append({"label": label, "scores": aggregate(per_env), "per_env": per_env, "errors": {}})
    return {"envs": list(ENVS), "seeds": seeds, "env_kwargs": {}, "rows": out}


def _rates(row: dict) -> list[np.ndarray]:
    return [np.array(row["per_env"][e][STATS_KEY]["values"]) for e in ENVS]


def _part(whole: dict, a: int, b: int) -> dict:
    """``whole`` cut to seeds ``a..b-1`` (every per-seed value and table)."""
    part = json.loads(json.dumps(whole))
    part["seeds"] = list(range(a, b))
    for row in part["rows"]:
        for env in row["per_env"].values():
            env[PER_SEED_KEY] = [p for p in env[PER_SEED_KEY] if a <= p[0] < b]
            for table in (env.get(k) for k in (STATS_KEY, KINDS_KEY) if k in env):
                keep = [i for i, s in enumerate(table["seeds"]) if a <= s < b]
                table["seeds"] = [table["seeds"][i] for i in keep]
                table["values"] = [table["values"][i] for i in keep]
    return part


def test_a_metric_difference_is_one_bootstrap_over_seeds_for_both_rows() -> None:
    result = _result(list(range(40)), {"x": (0.2, 3.0), "y": (0.1, 5.0)})
    x, y = (_rates(r) for r in result["rows"])
    got = seed_block_difference(
        result["rows"][0]["per_env"], result["rows"][1]["per_env"], "interruptions_per_min"
    )
    counts = bootstrap_counts(40, np.random.default_rng(0), N_BOOT)

    def rate(mats: list[np.ndarray], c: np.ndarray) -> np.ndarray:
        return np.mean([(c @ m[:, 0]) / (c @ m[:, 1]) for m in mats], axis=0)

    full = np.ones(40)
    assert got[0] == pytest.approx(rate(x, full) - rate(y, full)) and got[3] == 40
    boots = rate(x, counts) - rate(y, counts)
    assert got[1:3] == pytest.approx(tuple(np.percentile(boots, [2.5, 97.5])))


def test_compare_rows_pairs_net_by_seed_and_is_antisymmetric() -> None:
    result = _result(list(range(30)), {"x": (0.3, 2.0), "y": (0.1, 2.0)})
    net, rate = compare_rows([result], "x", "y", ["net_assistance", "interruptions_per_min"])
    per_seed = [
        np.mean([[v for _, v in r["per_env"][e][PER_SEED_KEY]] for e in ENVS], axis=0)
        for r in result["rows"]
    ]
    diffs = per_seed[0] - per_seed[1]
    assert (net.value, net.seeds) == (pytest.approx(diffs.mean()), 30)
    assert (net.low, net.high) == pytest.approx(bootstrap_ci(list(diffs)))
    back = compare_rows([result], "y", "x", ["interruptions_per_min"])[0]
    assert back.value == pytest.approx(-rate.value)
    same = compare_rows([result], "x", "x", ["interruptions_per_min"])[0]
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)
    with pytest.raises(KeyError, match="did you mean"):
        compare_rows([result], "x", "y", ["interuptions_per_min"])


def test_pooled_results_are_one_larger_seed_set_and_lines_say_which_is_higher() -> None:
    whole = _result(list(range(40)), {"x": (0.6, 2.0), "y": (0.0, 2.0)})
    parts = [_part(whole, 0, 15), _part(whole, 15, 40)]
    metrics = ["net_assistance", "interruptions_per_min"]
    pooled, one = compare_rows(parts, "x", "y", metrics), compare_rows([whole], "x", "y", metrics)
    for p, w in zip(pooled, one, strict=True):
        assert (p.value, p.seeds) == (pytest.approx(w.value), w.seeds)
    line = difference_lines(pooled, "x", "y")[0]
    assert line.startswith("net_assistance: x - y = +0.") and line.endswith("x higher")
    del whole["rows"][1]["per_env"]["a"][STATS_KEY]
    assert compare_rows([whole], "x", "y", metrics)[1].value is None
    assert "n/a" in difference_lines(compare_rows([whole], "x", "y", metrics), "x", "y")[1]


def test_cli_compares_each_run_and_the_pooled_seeds(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    paths = []
    for i, seeds in enumerate((list(range(20)), list(range(100, 130)))):
        path = tmp_path / f"run{i}" / "sanity.json"
        path.parent.mkdir()
        path.write_text(json.dumps(_result(seeds, {"x": (0.4, 2.0), "y": (0.0, 4.0)}, seed=i)))
        paths.append(str(path.parent))
    assert main(["compare", *paths, "--rows", "x,y", "--metric", "net_assistance"]) == 0
    out = capsys.readouterr().out
    assert out.count("net_assistance: x - y") == 3 and "pooled (50 seeds)" in out
    assert main(["compare", paths[0], paths[0], "--rows", "x,y"]) == 2  # shared seeds
    assert main(["compare", paths[0], "--rows", "x"]) == 2
    assert main(["compare", paths[0], "--rows", "x,z"]) == 2
    err = capsys.readouterr().err
    assert "pool disjoint sets" in err and "two different labels" in err and "no row 'z'" in err


def test_an_env_where_a_row_has_no_value_is_left_out_not_the_whole_difference() -> None:
    """Row y sends no message in env b (its rate is NaN there): the difference is env
    a's alone, as y's own value is; a metric neither row has anywhere is n/a."""
    result = _result(list(range(30)), {"x": (0.2, 3.0), "y": (0.1, 2.0)})
    for stats in result["rows"][1]["per_env"]["b"][STATS_KEY]["values"]:
        stats[1] = 0.0  # no minutes: interruptions a minute undefined in env b
    (rate,) = compare_rows([result], "x", "y", ["interruptions_per_min"])
    alone = seed_block_difference(
        {"a": result["rows"][0]["per_env"]["a"]},
        {"a": result["rows"][1]["per_env"]["a"]},
        "interruptions_per_min",
    )
    assert (rate.value, rate.low, rate.high, rate.seeds) == pytest.approx(alone[:4])
    assert rate.envs == 1 and "1 env:" in difference_lines([rate], "x", "y")[0]
    for row in result["rows"]:
        for env in row["per_env"].values():
            for stats in env[STATS_KEY]["values"]:
                stats[1] = 0.0
    (none,) = compare_rows([result], "x", "y", ["interruptions_per_min"])
    assert none.value is None and "not defined for both rows" in none.reason


def test_cli_refuses_a_crashed_row_and_an_unknown_metric_before_printing(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    result = _result(list(range(10)), {"x": (0.4, 2.0), "y": (0.0, 4.0)})
    (tmp_path / "sanity.json").write_text(json.dumps(result))
    assert main(["compare", str(tmp_path), "--rows", "x,y", "--metric", "interuptions"]) == 2
    result["rows"][1]["errors"] = {"b": "RuntimeError: boom"}
    (tmp_path / "sanity.json").write_text(json.dumps(result))
    assert main(["compare", str(tmp_path), "--rows", "x,y"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "did you mean 'interruptions_per_min'" in err
    assert "row 'y' crashed in b; nothing to compare" in err


def _with_kinds(result: dict, rng: np.random.Generator, hit: dict[str, float]) -> dict:
    """Give every row per-seed detections of kind ``omission`` (a row's chance in ``hit``) and,
    at some seeds only, of kind ``order``."""
    for row in result["rows"]:
        for env in row["per_env"].values():
            rows = []
            for _ in result["seeds"]:
                counts = {
                    "omission/visible": 1,
                    "omission/detected": int(rng.random() < hit[row["label"]]),
                }
                if rng.random() < 0.3:
                    counts |= {"order/visible": 1, "order/detected": 1}
                rows.append(counts)
            env[KINDS_KEY] = seed_table(result["seeds"], rows)
    return result


def test_a_per_kind_recall_difference_and_its_pooling() -> None:
    rng = np.random.default_rng(7)
    whole = _with_kinds(
        _result(list(range(40)), {"x": (0.2, 2.0), "y": (0.1, 2.0)}), rng, {"x": 0.8, "y": 0.3}
    )
    (got,) = compare_rows([whole], "x", "y", ["oop_recall_omission"])
    hits = [
        np.mean([np.array(r["per_env"][e][KINDS_KEY]["values"])[:, 0] for e in ENVS], axis=1)
        for r in whole["rows"]
    ]  # column 0: omission/detected (keys sorted), one visible per seed
    assert got.value == pytest.approx(np.mean(hits[0]) - np.mean(hits[1])) and got.envs == 2
    assert got.low < got.value < got.high and got.low > 0  # 0.8 against 0.3
    parts = [_part(whole, 0, 25), _part(whole, 25, 40)]
    assert {"order/visible"} <= set(parts[0]["rows"][0]["per_env"]["a"][KINDS_KEY]["keys"])
    (pooled,) = compare_rows(parts, "x", "y", ["oop_recall_omission"])
    assert (pooled.value, pooled.seeds) == (pytest.approx(got.value), 40)
    with pytest.raises(KeyError, match="did you mean 'omission'"):
        compare_rows([whole], "x", "y", ["oop_recall_omision"])


def test_join_tables_appends_seeds_and_unites_kinds_only_when_asked() -> None:
    one = {"keys": ["a", "b"], "seeds": [0], "values": [[1, 2]]}
    two = {"keys": ["b", "c"], "seeds": [5], "values": [[3, 4]]}
    assert join_tables([one, one]) == {
        "keys": ["a", "b"],
        "seeds": [0, 0],
        "values": [[1, 2], [1, 2]],
    }
    assert join_tables([one, two]) is None
    united = join_tables([one, two], united=True)
    assert united == {"keys": ["a", "b", "c"], "seeds": [0, 5], "values": [[1, 2, 0], [0, 3, 4]]}


def test_a_kind_one_row_never_met_in_an_env_leaves_that_env_out() -> None:
    rng = np.random.default_rng(8)
    result = _with_kinds(
        _result(list(range(30)), {"x": (0.2, 2.0), "y": (0.1, 2.0)}), rng, {"x": 0.9, "y": 0.2}
    )
    table = result["rows"][1]["per_env"]["b"][KINDS_KEY]
    table["values"] = [[0] * len(table["keys"]) for _ in table["values"]]  # y met none in b
    (got,) = compare_rows([result], "x", "y", ["oop_recall_omission"])
    alone = seed_block_difference(
        {"a": result["rows"][0]["per_env"]["a"]},
        {"a": result["rows"][1]["per_env"]["a"]},
        "oop_recall_omission",
    )
    assert got.envs == 1 and (got.value, got.low, got.high) == pytest.approx(alone[:3])
    table = result["rows"][1]["per_env"]["a"][KINDS_KEY]
    table["values"] = [[0] * len(table["keys"]) for _ in table["values"]]  # and none in a
    (none,) = compare_rows([result], "x", "y", ["oop_recall_omission"])
    assert none.value is None and "no deviation of the kind" in none.reason


def test_merged_stats_still_needs_the_same_statistics_in_the_same_envs() -> None:
    one = _result(list(range(5)), {"x": (0.2, 2.0)})["rows"][0]
    two = _result(list(range(5, 9)), {"x": (0.2, 2.0)}, seed=1)["rows"][0]
    merged = merged_stats([one, two])
    assert merged["a"][STATS_KEY]["seeds"] == list(range(9))
    other = json.loads(json.dumps(two))
    other["per_env"]["a"][STATS_KEY]["keys"] = ["messages", "seconds"]
    assert merged_stats([one, other]) is None
    del other["per_env"]["b"]
    assert merged_stats([one, other]) is None
    assert merged_stats([one, two], KINDS_KEY) is None  # no kind tables
