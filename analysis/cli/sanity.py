"""``proassist sanity``: the reference rows and their required orderings, checked."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from proassist.analysis.cli import add_plugin_option


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``sanity`` subcommand."""
    p = sub.add_parser(
        "sanity",
        help="run the reference rows and check their required orderings (✔/✖)",
        description="Evaluate every reference assistant (the floors, the oracle, the learned "
        "rows) on the same seeds of each env; print the table and every required ordering; "
        "write sanity.json and sanity.md. Exit 0 when every ordering holds, 1 otherwise.",
    )
    p.add_argument(
        "--env",
        action="append",
        default=None,
        metavar="ID",
        help="env id (repeatable; default: the three domain envs)",
    )
    p.add_argument("--seeds", type=int, default=10, help="seeds per env (default 10)")
    p.add_argument("--seed", type=int, default=0, help="first seed (seeds S..S+N-1)")
    p.add_argument("--out", default="runs/sanity", help="output folder (default runs/sanity)")
    p.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
    _add_row_options(p)
    p.add_argument("-e", "--env-kwarg", action="append", default=[], metavar="NAME=VALUE")
    resume = "resume a killed run: reuse the cells in OUT/cells of the same settings and code"
    p.add_argument("--resume", action="store_true", help=resume)
    add_plugin_option(p)
    p.set_defaults(func=run)


def _add_row_options(p: argparse.ArgumentParser) -> None:
    """``--rows`` (fewer reference rows) and ``--add-row`` (the user's own)."""
    p.add_argument(
        "--rows",
        default=None,
        metavar="LABEL,...",
        help="run only these rows (comma-separated labels; orderings on other rows are "
        "skipped; --add-row rows always run)",
    )
    p.add_argument(
        "--add-row",
        action="append",
        default=[],
        metavar="'LABEL=POLICY [NAME=VALUE ...]'",
        help="add your assistant as a row, next to the floors on the same seeds (a registered "
        "policy, e.g. from --plugin, with its kwargs as YAML values; repeatable); sanity.md "
        "then holds the goals for it too",
    )


def _select_rows(spec: str | None, added: tuple[str, ...] = ()) -> tuple[Any, ...] | None:
    """The reference rows named in ``--rows`` (None and an error line on a label neither
    a reference row nor ``added``, the ``--add-row`` labels, which always run)."""
    import sys

    from proassist.analysis.sanity import ROWS

    if not spec:
        return ROWS
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    known = {row.label: row for row in ROWS}
    unknown = [w for w in wanted if w not in known and w not in added]
    if unknown:
        print(f"error: unknown rows {unknown}; known: {', '.join(known)}", file=sys.stderr)
        return None
    return tuple(row for row in ROWS if row.label in wanted)


def added_rows(specs: list[str]) -> tuple[Any, ...]:
    """The rows of ``--add-row`` specs (``'LABEL=POLICY [NAME=VALUE ...]'``), each policy
    built once to check it; it renders frames when it declares it needs them.

    Raises:
        UserError: On a malformed spec, a label taken by another row, an unknown policy
            ("did you mean") or arguments its constructor rejects.
    """
    from proassist.analysis.cli.errors import UserError
    from proassist.analysis.cli.eval import parse_kv
    from proassist.analysis.cli.preflight import build_policy
    from proassist.analysis.evaluation import needs_pixels
    from proassist.analysis.sanity import ROWS, Row

    taken, out = {row.label for row in ROWS}, []
    for spec in specs:
        label, policy, pairs = _split_spec(spec)
        if label in taken:
            raise UserError(f"--add-row: the label {label!r} is taken by another row")
        kwargs = parse_kv(pairs, f"--add-row {label}")
        try:
            built = build_policy(policy, kwargs)
        except UserError as exc:
            raise UserError(*(f"--add-row {label}: {m}" for m in exc.messages)) from exc
        taken.add(label)
        out.append(Row(label, policy, kwargs, pixels=needs_pixels(built)))
    return tuple(out)


def _split_spec(spec: str) -> tuple[str, str, list[str]]:
    """``(label, policy, NAME=VALUE items)`` of an ``--add-row`` spec.

    Raises:
        UserError: Unless it starts with ``LABEL=POLICY``.
    """
    import shlex

    from proassist.analysis.cli.errors import UserError

    try:
        head, *pairs = shlex.split(spec) or [""]
    except ValueError as exc:  # an unbalanced quote
        raise UserError(f"--add-row: {exc} in {spec!r}") from exc
    label, _, policy = (x.strip() for x in head.partition("="))
    if not label or not policy:
        raise UserError(f"--add-row: expected 'LABEL=POLICY [NAME=VALUE ...]', got {spec!r}")
    return label, policy, pairs


def run(args: argparse.Namespace) -> int:
    """Run ``proassist sanity``."""
    from proassist.analysis.cli.eval import bad_env_kwargs, parse_kv
    from proassist.analysis.sanity import DEFAULT_ENVS

    env_kwargs = parse_kv(args.env_kwarg)
    added = added_rows(args.add_row)
    rows = _select_rows(args.rows, tuple(row.label for row in added))
    if rows is None or bad_env_kwargs(env_kwargs):
        return 2
    if args.seeds < 1 or args.workers < 1:
        raise SystemExit("error: --seeds and --workers must be >= 1")
    from proassist.analysis.cli.preflight import check_env, output_dir

    for env_id in args.env or DEFAULT_ENVS:
        check_env(env_id, env_kwargs)
    output_dir(args.out)
    result = _run_recorded(args, (*rows, *added), env_kwargs)
    _report(result, Path(args.out), tuple(row.label for row in added))
    return 0 if result["all_hold"] else 1


def _run_recorded(args: argparse.Namespace, rows: Any, env_kwargs: dict) -> dict:
    """:func:`~proassist.analysis.sanity.run_sanity`, its cells recorded in ``--out``
    (:mod:`~proassist.analysis.sanity_cells`; ``--resume`` reuses them)."""
    from proassist.analysis.cli.errors import UserError
    from proassist.analysis.sanity import DEFAULT_ENVS, run_sanity
    from proassist.analysis.sanity_cells import CellStore
    from proassist.analysis.sweeps.store import SweepLockedError

    try:
        store = CellStore(args.out, resume=args.resume)
    except SweepLockedError as exc:
        raise UserError(str(exc)) from exc
    try:
        result = run_sanity(
            tuple(args.env or DEFAULT_ENVS),
            range(args.seed, args.seed + args.seeds),
            rows=rows,
            env_kwargs=env_kwargs,
            workers=args.workers,
            plugins=tuple(args.plugin),
            progress=True,
            store=store,
        )
    finally:
        store.close()
    if args.resume or store.changed or store.store.corrupt:
        print(store.summary())
    return result


def _report(result: dict, out: Path, added: tuple[str, ...] = ()) -> None:
    """Write ``sanity.json`` and ``sanity.md`` to ``out`` (with issue 11's goals for their
    row and the ``added`` rows that ran); print the table, checks and goals."""
    from proassist.analysis.sanity_report import (
        check_lines,
        compact_json,
        error_lines,
        markdown,
        table_lines,
    )

    goals = _goal_lines(result, added)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sanity.json").write_text(compact_json(result))
    text = markdown(result, goals)
    (out / "sanity.md").write_text(text, encoding="utf-8")
    print("\n".join(table_lines(result)))
    print()
    print("\n".join([*check_lines(result), *error_lines(result), *goals]))
    print(f"wrote {out / 'sanity.json'} and {out / 'sanity.md'}")


def _goal_lines(result: dict, added: tuple[str, ...] = ()) -> list[str]:
    """The lines of :func:`~proassist.analysis.goals.check_goals` for the goal row and
    every ``--add-row`` row that ran without a crash, also stored in ``result``: as
    ``goals`` (the goal row's) and ``goals_added`` (a list, the added rows')."""
    from dataclasses import asdict

    from proassist.analysis.goals import GOAL_ROW, check_goals, goal_lines

    ran = {r["label"] for r in result["rows"] if not r["errors"]}
    lines = []
    for label in (x for x in (GOAL_ROW, *added) if x in ran):
        checks = check_goals([result], row=label)
        entry = {"row": label, "checks": [asdict(c) for c in checks]}
        if label == GOAL_ROW:
            result["goals"] = entry
        else:
            result.setdefault("goals_added", []).append(entry)
        lines += goal_lines(checks, label)
    return lines
