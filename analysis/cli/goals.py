"""``proassist goals``: issue 11's goals for a sanity row, on one or more sanity runs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from proassist.analysis.cli.errors import UserError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``goals`` subcommand."""
    p = sub.add_parser(
        "goals",
        help="check a sanity row against issue 11's goals (95 %% CIs), pooling sanity runs",
        description="Read one or more sanity.json (proassist sanity --out DIR; a DIR "
        "stands for its sanity.json) and check a row against the goals: net assistance "
        ">= half the oracle's and above every content-blind row (paired over seeds), "
        "<= 6 interruptions a minute, content-aware OOP recall >= 0.6. Each run is "
        "checked on its own, then all of them pooled (their seeds must differ). Exit 0 "
        "when every goal is met on the pooled seeds (or the only run), 1 otherwise.",
    )
    p.add_argument("results", nargs="+", metavar="SANITY_JSON", help="sanity.json or its folder")
    p.add_argument(
        "--row", default=None, metavar="LABEL", help="the row to check (default stepwatch+learned)"
    )
    p.set_defaults(func=run)


def read_result(path: str | Path) -> dict[str, Any]:
    """A ``sanity.json`` (or the one in folder ``path``), checked to be one.

    Raises:
        UserError: If it is missing, not JSON or not a sanity result.
    """
    file = Path(path)
    file = file / "sanity.json" if file.is_dir() else file
    if not file.is_file():
        raise UserError(f"{file}: no such file (a sanity.json, or a folder holding one)")
    try:
        result = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{file}: not JSON ({exc})") from exc
    if not isinstance(result, dict) or not {"envs", "seeds", "rows"} <= set(result):
        raise UserError(f"{file}: not a sanity result (needs envs, seeds and rows)")
    return result


def run(args: argparse.Namespace) -> int:
    """Run ``proassist goals``."""
    from proassist.analysis.goals import GOAL_ROW, check_goals, goal_lines

    row = args.row or GOAL_ROW
    results = [read_result(p) for p in args.results]
    check_row(args.results, results, row)
    verdict = []
    for name, chosen in result_sets(args.results, results):
        try:
            checks = check_goals(chosen, row)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        print(f"{name}: {seed_line(chosen)}")
        print("\n".join(f"  {line}" for line in goal_lines(checks, row)))
        verdict = checks  # the last set: the pooled one, or the only one
    return 0 if all(c.status == "met" for c in verdict) else 1


def result_sets(
    paths: list[str], results: list[dict[str, Any]]
) -> list[tuple[str, list[dict[str, Any]]]]:
    """``(name, results)`` of each run, then of all of them pooled when several (also
    used by ``proassist compare``).

    Raises:
        UserError: If several results cannot be pooled (other envs, env kwargs or text
            similarity, shared seeds), before anything is printed.
    """
    from proassist.analysis.goals import check_poolable

    sets = [(str(p), [r]) for p, r in zip(paths, results, strict=True)]
    if len(results) > 1:
        try:
            check_poolable(results)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        sets.append((f"pooled ({sum(len(r['seeds']) for r in results)} seeds)", results))
    return sets


def check_row(
    paths: list[str], results: list[dict[str, Any]], row: str, crashed: bool = False
) -> None:
    """Raise :class:`UserError` (with did-you-mean) unless every result has ``row``; with
    ``crashed`` (``proassist compare``) also if it crashed in an env of one of them.
    (Goals on a crashed row are n/a, not an error.)"""
    from proassist.scenarios.registry import did_you_mean

    for path, result in zip(paths, results, strict=True):
        rows = {r["label"]: r for r in result["rows"]}
        if row not in rows:
            hint = did_you_mean(row, list(rows)) or f" (rows: {', '.join(rows)})"
            raise UserError(f"{path}: no row {row!r}{hint}")
        if crashed and rows[row].get("errors"):
            envs = ", ".join(rows[row]["errors"])
            raise UserError(f"{path}: row {row!r} crashed in {envs}; nothing to compare")


def seed_line(results: list[dict[str, Any]]) -> str:
    """``seeds A..B (N)`` of each result, and their envs."""
    from proassist.analysis.sanity_report import seed_text

    seeds = "; ".join(seed_text(r["seeds"]) for r in results)
    return f"seeds {seeds}; envs {', '.join(results[0]['envs'])}"
