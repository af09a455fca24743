"""``proassist tune-steps``: choose a ``stepwatch`` checkpoint's deployment settings.

Runs every candidate of a grid of the watch's settings closed-loop on held-out tuning
seeds of the three domain envs (or of ``--tasks``: your own task files), paired with
the silent assistant, and writes a copy of
the checkpoint whose ``steps.json`` ``deploy`` holds the candidate with the best net
assistance (:func:`proassist.analysis.watch_tuning.tune_watch`); the whole grid, with
each row's paired difference from the checkpoint's own settings, goes under
``tuning``. ``proassist train-steps`` then ``proassist tune-steps`` is the full recipe
of a deployable recogniser.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from proassist.analysis.cli.errors import UserError, user_errors
from proassist.analysis.cli.steps import check_unseen_seeds
from proassist.envs.registration import DOMAIN_ENV_IDS

__all__ = ["add_parser", "run_tune_steps"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``tune-steps`` subcommand."""
    from proassist.analysis.watch_tuning import DEFAULT_GRID, TUNING_SEED_BASE

    default = " ".join(f"{k}={','.join(map(str, v))}" for k, v in DEFAULT_GRID.items())
    p = sub.add_parser(
        "tune-steps",
        help="choose a stepwatch checkpoint's deployment settings closed-loop",
        description="Deploy every candidate of a grid of stepwatch's settings on tuning "
        "seeds of the three domain envs (or --tasks), paired with silence, and write a copy of the "
        "checkpoint deploying the one with the best net assistance.",
    )
    p.add_argument("--checkpoint", default=None, help="the recogniser (default: the committed one)")
    p.add_argument("--out", required=True, help="output folder (may be the checkpoint's own)")
    p.add_argument(
        "--grid",
        nargs="+",
        default=None,
        metavar="NAME=V1,V2",
        help=f"settings to vary (default: {default}); the others keep the checkpoint's",
    )
    p.add_argument(
        "--episodes", type=int, default=20, help="tuning seeds per env or task (default 20)"
    )
    p.add_argument(
        "--tasks",
        nargs="+",
        default=None,
        metavar="TASK",
        help="tune on these tasks (library names or task files, in ProAssist-v0) instead of "
        "the three domain envs: your own tasks",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=TUNING_SEED_BASE,
        help=f"first tuning seed (default {TUNING_SEED_BASE:,}: apart from training, "
        "validation and the sanity seeds; report results on other seeds)",
    )
    p.add_argument(
        "--alone",
        action="store_true",
        help="tune stepwatch by itself (default: inside stepwatch+learned, as shipped)",
    )
    p.add_argument(
        "--take-best",
        action="store_true",
        help="deploy the best row even when its paired 95%% CI against the checkpoint's own "
        "settings reaches zero (default: keep them unless the best is clearly better)",
    )
    p.add_argument("--workers", type=int, default=1, help="episodes run at once (default 1)")
    p.set_defaults(func=run_tune_steps)


def _source(args: argparse.Namespace) -> tuple[Path, dict]:
    """The checkpoint folder and its ``steps.json``, checked."""
    from proassist.analysis.cli.data import check_tasks
    from proassist.analysis.cli.preflight import output_dir
    from proassist.policies.learned.steps_train import load_recognizer
    from proassist.policies.stepwatch import STEPS_CHECKPOINT

    if min(args.episodes, args.workers) < 1:
        raise UserError("--episodes and --workers must be >= 1")
    check_tasks(args.tasks or [])
    twice = sorted({t for t in args.tasks or [] if args.tasks.count(t) > 1})
    if twice:  # the same episodes twice would narrow the CIs for nothing
        raise UserError(f"--tasks: {', '.join(twice)} given twice")
    source = Path(args.checkpoint or STEPS_CHECKPOINT)
    source = source.parent if source.suffix == ".pt" else source
    with user_errors(FileNotFoundError, ValueError):
        meta = load_recognizer(source)[1]
    check_unseen_seeds(meta, args.seed, args.episodes)
    if Path(args.out).resolve() != source.resolve():
        output_dir(args.out)
    return source, meta


def run_tune_steps(args: argparse.Namespace) -> int:
    """Run ``proassist tune-steps``."""
    from proassist.analysis.watch_tuning import parse_grid, tune_watch, write_tuned

    with user_errors(ValueError):
        grid = parse_grid(args.grid) if args.grid else None
    source, _ = _source(args)
    t0 = time.perf_counter()
    seeds = range(args.seed, args.seed + args.episodes)
    result = tune_watch(
        source,
        DOMAIN_ENV_IDS,
        seeds,
        grid,
        tasks=tuple(args.tasks or ()),
        alone=args.alone,
        workers=args.workers,
        progress=True,
        strict=not args.take_best,
    )
    for line in table_lines(result):
        print(line)
    path = write_tuned(source, args.out, result)
    print(f"wrote {path} ({time.perf_counter() - t0:.0f} s): deploy {result['chosen']['settings']}")
    return 0


def table_lines(result: dict) -> list[str]:
    """The grid as a markdown table, the chosen row marked."""
    rule = "best row" if not result.get("strict", True) else "best row if its CI clears zero"
    tasks = result.get("tasks") or []
    where = f"{len(tasks)} tasks" if tasks else f"{len(result['envs'])} envs"
    lines = [
        f"{result['assistant']} on {len(result['seeds'])} seeds x {where} "
        f"(chosen: the {rule}, else the base)",
        "| settings | net | vs base [95 % CI] | int/min | FA/min | OOP rec |",
        "|---|---|---|---|---|---|",
    ]
    for i, row in enumerate(result["grid"]):
        name = ", ".join(f"{k}={v}" for k, v in row["settings"].items())
        mark = (" (base)" if i == 0 else "") + (" **chosen**" if row is result["chosen"] else "")
        d, lo, hi = row["vs_base"]
        lines.append(
            f"| {name}{mark} | {row['net_assistance']:+.3f} | {d:+.3f} [{lo:+.3f}, {hi:+.3f}] "
            f"| {row['interruptions_per_min']:.2f} | {row['false_alarms_per_min']:.2f} "
            f"| {row['oop_recall']:.3f} |"
        )
    return lines
