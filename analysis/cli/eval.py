"""``proassist eval``: evaluate a policy on an env and write records and scores."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from proassist.analysis.cli import add_plugin_option

#: The env of ``--task`` without ``--env``: it takes any task file.
TASK_ENV = "ProAssist-v0"

#: Scores shown in the summary table, in order.
SUMMARY_KEYS: tuple[str, ...] = (
    "net_assistance",
    "assistance_effect_task_success",
    "assistance_effect_task_time",
    "interruptions_per_min",
    "oop_recall",
    "oop_precision",
    "pwr_g_mean",
    "g_mean",
    "if1",
    "sf1",
    "pqs",
    "match_f1",
    "sts",
    "oop_recall_any",
    "false_alarms_per_min",
    "recovery_rate",
    "task_success",
)


def _policies_epilog() -> str:
    try:
        from proassist.policies import list_policies, policy_kwargs
    except ImportError as exc:  # pragma: no cover - shown in --help only
        return f"(policies unavailable: {exc})"
    lines = ["policies and their kwargs (pass with -k NAME=VALUE):"]
    for name in list_policies():
        kwargs = policy_kwargs(name)
        desc = ", ".join(f"{k}={v[1]!r}" for k, v in kwargs.items()) or "(none)"
        lines.append(f"  {name}: {desc}")
    return "\n".join(lines)


def parse_kv(items: list[str]) -> dict[str, Any]:
    """Parse ``NAME=VALUE`` pairs; values are YAML scalars/lists (``0.5``, ``[a, b]``)."""
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"error: expected NAME=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = yaml.safe_load(value)
    return out


def task_argument(task: str) -> str:
    """``--task``: a library name as given, a file path made absolute."""
    from proassist.scenarios.library import looks_like_path

    return str(Path(task).resolve()) if looks_like_path(task) else task


def bad_env_kwargs(env_kwargs: dict[str, Any]) -> bool:
    """Print each problem of ``-e`` env arguments (the env's own validator); True if any."""
    import sys

    from proassist.envs.arguments import check_env_kwargs

    problems = check_env_kwargs(env_kwargs)
    for path, message in problems:
        print(f"error: -e {'.'.join(map(str, path))}: {message}", file=sys.stderr)
    return bool(problems)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``eval`` subcommand."""
    p = sub.add_parser(
        "eval",
        help="evaluate a policy; write episodes.jsonl and scores.json",
        description="Roll a policy out on N seeds of an env, score it (and the paired "
        "assistance effect against the silent assistant), write episodes.jsonl and scores.json.",
        epilog=_policies_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--env",
        default=None,
        help=f"env id, e.g. ProAssist-Kitchen-v0 (default with --task: {TASK_ENV})",
    )
    p.add_argument("--task", default=None, help="a task name or the path of any task file")
    p.add_argument("--policy", required=True, help="registered policy name")
    p.add_argument("--episodes", type=int, default=10, help="number of episodes (default 10)")
    p.add_argument("--seed", type=int, default=0, help="first seed (seeds S..S+N-1)")
    p.add_argument("--out", default="runs/eval", help="output folder (default runs/eval)")
    p.add_argument("-k", "--policy-kwarg", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("-e", "--env-kwarg", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--no-paired", action="store_true", help="skip the silent paired run")
    add_plugin_option(p)
    p.set_defaults(func=run)


def print_summary(scores: dict[str, Any], keys: tuple[str, ...] = SUMMARY_KEYS) -> None:
    """Print the scores as a two-column table with CIs where present."""
    print(f"{'metric':<34} {'value':>9}  95% CI")
    for key in keys:
        if key not in scores or scores[key] is None:
            continue
        lo, hi = scores.get(f"{key}_ci_low"), scores.get(f"{key}_ci_high")
        ci = f"[{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else ""
        print(f"{key:<34} {float(scores[key]):>9.3f}  {ci}")


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record) + "\n")


def run(args: argparse.Namespace) -> int:
    """Run ``proassist eval``."""
    from proassist.analysis.evaluation import evaluate

    env_kwargs = parse_kv(args.env_kwarg)
    if args.env is None and args.task is None:
        raise SystemExit("error: give --env ID, --task PATH, or both")
    if args.task is not None:
        env_kwargs["task"] = task_argument(args.task)
    if bad_env_kwargs(env_kwargs):
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = range(args.seed, args.seed + args.episodes)
    result = evaluate(
        args.policy,
        args.env or TASK_ENV,
        seeds,
        paired_silent=not args.no_paired,
        progress=True,
        policy_kwargs=parse_kv(args.policy_kwarg),
        **env_kwargs,
    )
    records, scores = result
    _write_jsonl(out / "episodes.jsonl", records)
    if result.silent_records:
        _write_jsonl(out / "episodes_silent.jsonl", result.silent_records)
    (out / "scores.json").write_text(json.dumps(scores, indent=2, sort_keys=True))
    print_summary(scores)
    print(f"wrote {out / 'episodes.jsonl'} and {out / 'scores.json'}")
    return 0
