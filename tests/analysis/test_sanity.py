"""``proassist sanity``: the ordering checker, the CLI outputs, the orderings that hold.

The small run (the three envs, ten seeds each, every row that needs no pixels) goes
through the CLI once per module, and every required ordering must hold on it: this is
the CI guard of the instrument (issue 10, item 12). The full table (60 seeds, pixel
rows included) is in the README.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from proassist.analysis.cli import main
from proassist.analysis.sanity import (
    CONTENT_BLIND,
    ORDERINGS,
    ROWS,
    WRONG_CONTENT,
    Ordering,
    check_ordering,
    check_orderings,
)
from proassist.analysis.sanity_ci import seed_block_means
from proassist.analysis.sanity_report import format_value

ENVS = ("ProAssist-Kitchen-v0", "ProAssist-Assembly-v0", "ProAssist-Maintenance-v0")
SEEDS = 10
#: Rows of the CI run: all but the pixel ones and the zero-frame ablations.
FAST_ROWS = [r.label for r in ROWS if not r.pixels and r.policy != "blind"]

CHAIN = Ordering("c", "a > b > c", "m", ("a", "b", "c"), ">")
BOUND = Ordering("b", "a, b <= 0", "m", ("a", "b"), "<=", 0.0)


def test_chain_ordering_holds_and_fails_on_hand_made_scores() -> None:
    good = {"a": {"m": 3.0}, "b": {"m": 2.0}, "c": {"m": 1.0}}
    assert check_ordering(CHAIN, good).status == "held"
    bad = {"a": {"m": 3.0}, "b": {"m": 3.0}, "c": {"m": 1.0}}
    check = check_ordering(CHAIN, bad)
    assert check.status == "failed" and not check.held
    assert check.failing == ["a > b"]
    assert check.values == {"a": 3.0, "b": 3.0, "c": 1.0}


def test_bound_ordering_missing_values_and_skipped_rows() -> None:
    check = check_ordering(BOUND, {"a": {"m": -0.1}, "b": {"m": 0.2}})
    assert (check.status, check.failing) == ("failed", ["b"])
    assert check_ordering(BOUND, {"a": {"m": 0.0}, "b": {"m": -1.0}}).status == "held"
    for missing in ({}, {"m": None}, {"m": float("nan")}):
        check = check_ordering(BOUND, {"a": {"m": -1.0}, "b": missing})
        assert (check.status, check.failing, check.held) == ("n/a", ["b"], False)
    assert check_ordering(BOUND, {"a": {"m": -1.0}}).status == "held"  # b not run
    assert check_ordering(BOUND, {"z": {"m": 1.0}}).status == "skipped"


def test_required_orderings_are_the_issue_ones() -> None:
    by_name = {o.name: o for o in ORDERINGS}
    assert by_name["lateness"].labels == (
        "oracle",
        "oracle-late-3s",
        "oracle-late-10s",
        "oracle-late-30s",
    )
    assert (by_name["oracle-success"].op, by_name["oracle-success"].bound) == (">=", 0.5)
    assert set(by_name["blind-net"].labels) == set(CONTENT_BLIND + WRONG_CONTENT)
    assert by_name["blind-oop"].metric == "oop_recall"
    assert (by_name["blind-pwr"].bound, by_name["oracle-pwr"].bound) == (0.55, 0.9)
    scores = {"oracle": {"pwr_g_mean": 0.95, "assistance_effect_task_success": 0.4}}
    checks = {c.ordering.name: c.status for c in check_orderings(scores)}
    assert checks["oracle-pwr"] == "held" and checks["oracle-success"] == "failed"
    assert format_value(None) == "n/a" and format_value(0.25, signed=True) == "+0.250"


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The fast rows on ten seeds of each env, through the CLI."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("sanity")
    argv = ["sanity", "--seeds", str(SEEDS), "--out", str(out)]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main([*argv, "--rows", ",".join(FAST_ROWS)])
    result = json.loads((out / "sanity.json").read_text())
    return {"code": code, "stdout": stdout.getvalue(), "out": out, "result": result}


def test_cli_writes_table_json_and_markdown(small_run: dict[str, Any]) -> None:
    result, stdout = small_run["result"], small_run["stdout"]
    assert small_run["code"] == (0 if result["all_hold"] else 1)
    assert [r["label"] for r in result["rows"]] == FAST_ROWS
    assert result["envs"] == list(ENVS) and result["seeds"] == list(range(SEEDS))
    header = stdout.splitlines()[0]
    for head in ("net assist", "Δ success", "int/min", "OOP rec", "PWR G-Mean", "G-Mean"):
        assert head in header
    for label in FAST_ROWS:
        assert any(line.startswith(label + " ") for line in stdout.splitlines())
    assert stdout.count("✔") + stdout.count("✖") == len(ORDERINGS)
    md = (Path(small_run["out"]) / "sanity.md").read_text(encoding="utf-8")
    assert "| row | net assist |" in md and md.count("\n- ") == len(ORDERINGS)
    silent = result["rows"][0]
    assert silent["scores"]["interruptions_per_min"] == 0.0
    assert set(silent["per_env"]) == set(ENVS)
    kinds = md[md.index("Content-aware OOP recall by kind") :].splitlines()
    table = {line.split(" | ")[0][2:]: line for line in kinds if line.startswith("| ")}
    assert "oracle" in table and "silent" not in table and "periodic-5s" not in table
    cells = table["oracle"].strip("| ").split(" | ")[1:]  # a kind it never met: "–"
    assert len(cells) == table["row"].count(" | ") and "–" in cells
    oracle = next(r for r in result["rows"] if r["label"] == "oracle")
    met = {}  # the deviations of each kind it met, from the per-seed tables
    for env in oracle["per_env"].values():
        kinds = env["oop_kinds_per_seed"]
        for key, total in zip(kinds["keys"], np.sum(kinds["values"], axis=0), strict=True):
            if key.endswith("/visible"):
                met[key[: -len("/visible")]] = met.get(key[: -len("/visible")], 0) + int(total)
    heads = table["row"].strip("| ").split(" | ")[1:]
    want = [f"1.00 [1.00, 1.00] ({met[k]})" if k in met else "–" for k in heads]
    assert cells == want


def test_paired_and_per_kind_cis_come_from_the_seed_blocks(small_run: dict[str, Any]) -> None:
    rows = {r["label"]: r for r in small_run["result"]["rows"]}
    for label in ("oracle-late-3s", "spam-correct"):
        scores, bounds = rows[label]["scores"], seed_block_means(rows[label]["per_env"])
        assert any(k.startswith("oop_recall_any_") for k in bounds)
        for name, (low, high) in bounds.items():
            assert (scores[name + "_ci_low"], scores[name + "_ci_high"]) == (low, high)
            assert low <= scores[name] <= high
        assert "assistance_effect_task_success" in bounds


def test_cli_rejects_unknown_rows(tmp_path: Path) -> None:
    assert main(["sanity", "--rows", "nonsense", "--out", str(tmp_path)]) == 2


def _cases() -> list[Any]:
    cases = []
    for o in ORDERINGS:
        labels = [None] if o.bound is None else [lb for lb in o.labels if lb in FAST_ROWS]
        cases += [pytest.param(o, lb, id=f"{o.name}-{lb or 'all'}") for lb in labels]
    return cases


def test_every_ordering_holds_on_the_small_run(small_run: dict[str, Any]) -> None:
    assert small_run["code"] == 0 and small_run["result"]["all_hold"], small_run["stdout"]


@pytest.mark.parametrize(("ordering", "label"), _cases())
def test_ordering_on_the_small_run(
    small_run: dict[str, Any], ordering: Ordering, label: str | None
) -> None:
    scores = {r["label"]: r["scores"] for r in small_run["result"]["rows"]}
    if label is not None:
        ordering = Ordering(
            ordering.name, ordering.text, ordering.metric, (label,), ordering.op, ordering.bound
        )
    check = check_ordering(ordering, scores)
    assert check.status == "held", f"{ordering.text}: {check.values}, failing {check.failing}"


@pytest.mark.slow
def test_sanity_pixel_rows_and_their_zero_frame_ablations(tmp_path: Path) -> None:
    rows = [r.label for r in ROWS if r.pixels or r.policy == "blind"]
    argv = ["sanity", "--seeds", "2", "--out", str(tmp_path), "--workers", "2"]
    main([*argv, "--rows", ",".join(["silent", *rows])])
    result = json.loads((tmp_path / "sanity.json").read_text())
    assert [r["label"] for r in result["rows"]] == ["silent", *rows]
    scores = {r["label"]: r["scores"] for r in result["rows"]}
    for label in rows:
        assert scores[label]["net_assistance"] is not None
        assert len(scores[label]) >= len(scores["silent"]) - 1
    assert scores["duplex-rules"]["interruptions_per_min"] > 0.0


def test_sanity_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["sanity", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "proassist sanity" in out and "--workers" in out and "--plugin" in out


def test_a_crashed_cell_is_recorded_and_the_run_goes_on() -> None:
    from proassist.analysis.sanity import Row, run_sanity
    from proassist.analysis.sanity_report import error_lines, markdown
    from proassist.policies.base import POLICIES, PolicyBase, register_policy

    if "test-crash" not in POLICIES:

        @register_policy("test-crash")
        class _Crash(PolicyBase):
            def act(self, observation: dict, info: dict | None = None) -> dict:
                raise RuntimeError("boom at the first decision")

    rows = (Row("silent", "silent"), Row("crash", "test-crash"), Row("oracle", "oracle"))
    result = run_sanity(("ProAssist-Kitchen-v0",), range(2), rows=rows)
    by = {r["label"]: r for r in result["rows"]}
    assert by["crash"]["errors"] and "boom at the first decision" in str(by["crash"]["errors"])
    assert by["crash"]["scores"] == {} and not by["oracle"]["errors"]
    assert by["oracle"]["scores"]["assistance_effect_task_success"] is not None
    assert not result["all_hold"]
    assert error_lines(result) == [
        f"✖ crashed: crash on ProAssist-Kitchen-v0: {by['crash']['errors']['ProAssist-Kitchen-v0']}"
    ]
    assert "✖ crashed: crash" in markdown(result)


def test_cli_rejects_a_bad_env_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sanity", "--env", "ProAssist-Kitchn-v0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did you mean" in err[0] and not (tmp_path / "sanity.json").exists()
