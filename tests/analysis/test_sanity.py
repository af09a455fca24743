"""``proassist sanity``: the ordering checker, the CLI outputs, the orderings that hold.

The small run (one env, three seeds, the fast rows) goes through the CLI once per
module. Orderings that the current instrument does not meet yet are ``xfail`` with the
numbers measured on that run (3 kitchen seeds) in the reason; they depend on other
items of issue 10 (the person model does not punish spam or lateness yet).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
    format_value,
)

ENV = "ProAssist-Kitchen-v0"
#: Rows of the fast run: all but the free-text, zero-frame and pixel ones.
FAST_ROWS = [
    r.label
    for r in ROWS
    if not r.pixels and r.policy != "blind" and r.label != "oracle-irrelevant-text"
]

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
    """The fast rows on three kitchen seeds, through the CLI."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("sanity")
    argv = ["sanity", "--env", ENV, "--seeds", "3", "--out", str(out)]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main([*argv, "--rows", ",".join(FAST_ROWS)])
    result = json.loads((out / "sanity.json").read_text())
    return {"code": code, "stdout": stdout.getvalue(), "out": out, "result": result}


def test_cli_writes_table_json_and_markdown(small_run: dict[str, Any]) -> None:
    result, stdout = small_run["result"], small_run["stdout"]
    assert small_run["code"] == (0 if result["all_hold"] else 1)
    assert [r["label"] for r in result["rows"]] == FAST_ROWS
    assert result["envs"] == [ENV] and result["seeds"] == [0, 1, 2]
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
    assert set(silent["per_env"]) == {ENV}


def test_cli_rejects_unknown_rows(tmp_path: Path) -> None:
    assert main(["sanity", "--rows", "nonsense", "--out", str(tmp_path)]) == 2


#: (ordering, row or None for the whole ordering) -> why it may not hold on 3 seeds yet.
#: Measured on the small run (3 kitchen seeds); the 10-seed, 3-env run meets the
#: lateness chain (+0.622 > +0.414 > +0.091 > +0.035) and the oracle's +0.667.
NOT_YET: dict[tuple[str, str | None], str] = {
    ("lateness", None): "3 seeds: oracle +0.296 > late 3 s +0.294 > late 10 s -0.023, "
    "late 30 s -0.020: too few deviations to order the late rows",
    (
        "oracle-success",
        "oracle",
    ): "3 seeds: oracle +0.333 task success (+0.667 on 10 seeds x 3 envs)",
    ("blind-net", "periodic-5s"): "periodic-5s net assistance +0.305 (3 seeds), +0.043 "
    "(10 seeds x 3 envs): plan-order guidance can prevent deviations (issue 10 item 3)",
    ("blind-net", "periodic-10s"): "periodic-10s +0.003 on 10 seeds x 3 envs (see periodic-5s)",
    ("blind-net", "periodic-20s"): "periodic-20s -0.016 (3 seeds): near 0 (see periodic-5s)",
    ("blind-net", "timer-instruct"): "timer-instruct +0.009 on 10 seeds x 3 envs: "
    "plan-order guidance can prevent deviations",
    ("blind-oop", "coin"): "coin content-aware OOP recall 0.500 on 3 seeds (4 deviations; "
    "0.158 on 10 seeds x 3 envs): a random correction names the deviated step by chance",
    ("blind-oop", "spam-reengage"): "spam-reengage 0.250 on 3 seeds (0.131 on 10 x 3): "
    "the timer's step is the deviated step by chance",
    ("blind-oop", "spam-correct"): "spam-correct 0.127 on 10 x 3: hits by chance on few seeds",
    ("blind-pwr", "coin"): "coin PWR G-Mean is 0.5 by design: 0.471-0.552 on 3 seeds",
}


def _cases() -> list[Any]:
    cases = []
    for o in ORDERINGS:
        labels = [None] if o.bound is None else [lb for lb in o.labels if lb in FAST_ROWS]
        for label in labels:
            reason = NOT_YET.get((o.name, label))
            marks = [pytest.mark.xfail(strict=False, reason=reason)] if reason else []
            cases.append(pytest.param(o, label, marks=marks, id=f"{o.name}-{label or 'all'}"))
    return cases


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
def test_sanity_on_three_envs_every_non_pixel_row(tmp_path: Path) -> None:
    rows = [r.label for r in ROWS if not r.pixels and r.label != "duplex-learned-blind"]
    argv = ["sanity", "--seeds", "5", "--out", str(tmp_path), "--workers", "2"]
    code = main([*argv, "--rows", ",".join(rows)])
    result = json.loads((tmp_path / "sanity.json").read_text())
    assert code == (0 if result["all_hold"] else 1)
    assert [r["label"] for r in result["rows"]] == rows and len(result["envs"]) == 3
    scores = {r["label"]: r["scores"] for r in result["rows"]}
    wrong = Ordering(
        "w", "wrong content: OOP recall <= 0.2", "oop_recall", WRONG_CONTENT, "<=", 0.2
    )
    assert check_ordering(wrong, scores).status == "held"
    assert check_ordering(ORDERINGS[-1], scores).status == "held"  # oracle PWR G-Mean


def test_sanity_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["sanity", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "proassist sanity" in out and "--workers" in out and "--plugin" in out
