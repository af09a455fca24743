"""``proassist eval``: evaluate a policy on an env and write records and scores."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from proassist.analysis.cli import add_plugin_option
from proassist.analysis.cli.errors import UserError

#: The env of ``--task`` without ``--env``: it takes any task file.
TASK_ENV = "ProAssist-v0"
#: The output folder without ``--out`` (a numbered sibling when it holds results).
DEFAULT_OUT = "runs/eval"
#: The files an evaluation writes; ``--out`` holding any of them needs ``--force``.
RESULT_FILES: tuple[str, ...] = ("episodes.jsonl", "episodes_silent.jsonl", "scores.json")

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


#: ``--concurrency``'s help.
CONCURRENCY_HELP = (
    "episodes run at once on threads, each with its own env and policy copy (for a "
    "policy waiting on a model server, e.g. openai-compatible; default 1); records and "
    "scores equal the sequential run's, apart from latency fields"
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


def parse_kv(items: list[str], flag: str = "") -> dict[str, Any]:
    """Parse ``NAME=VALUE`` pairs; values are YAML scalars/lists (``0.5``, ``[a, b]``).

    Args:
        items: The ``NAME=VALUE`` strings.
        flag: The option they came from (``-k``, ``-e``), named in errors.

    Raises:
        UserError: On an item without ``=`` or a value that is not valid YAML.
    """
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        where = f"{flag} {key.strip()}".strip()
        if not sep or not key.strip():
            raise UserError(f"{flag + ': ' if flag else ''}expected NAME=VALUE, got {item!r}")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            why = " ".join(str(exc).split())
            raise UserError(f"{where}: invalid YAML value {value!r} ({why})") from exc
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
    p.add_argument(
        "--out",
        default=None,
        help=f"output folder (default {DEFAULT_OUT}, or {DEFAULT_OUT}-2, -3, ... when it "
        "holds results)",
    )
    p.add_argument("--force", action="store_true", help="overwrite the results already in --out")
    p.add_argument("-k", "--policy-kwarg", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("-e", "--env-kwarg", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--no-paired", action="store_true", help="skip the silent paired run")
    p.add_argument("--concurrency", type=int, default=1, metavar="N", help=CONCURRENCY_HELP)
    add_plugin_option(p)
    p.set_defaults(func=run)


def print_summary(scores: dict[str, Any], keys: tuple[str, ...] = SUMMARY_KEYS) -> None:
    """Print the scores as a two-column table with CIs where present."""
    print("scores pooled over the episodes (the plots and the report use the same); 95% CI:")
    print("bootstrap over episodes (net_assistance / assistance_effect_*: over seed pairs)")
    print(f"{'metric':<34} {'value':>9}  95% CI")
    for key in keys:
        if key not in scores or scores[key] is None:
            continue
        lo, hi = scores.get(f"{key}_ci_low"), scores.get(f"{key}_ci_high")
        ci = f"[{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else ""
        print(f"{key:<34} {float(scores[key]):>9.3f}  {ci}")
    if scores.get("n_free_text"):
        print(f"free text scored with: {scores.get('text_sim_backend')} (text_sim_backend)")
    if scores.get("model_requests"):
        print(
            f"model server: {int(scores['model_requests'])} requests, "
            f"{int(scores.get('model_request_errors') or 0)} failed or timed out (decided "
            f"silent), latency mean {scores['model_latency_mean_s']:.3f} s, p95 "
            f"{scores['model_latency_p95_s']:.3f} s "
            f"(latency={scores.get('model_latency_mode', 'per component')})"
        )
    if scores.get("n_model_outputs"):
        print(
            f"model outputs: {int(scores['n_model_outputs'])}, unparseable: "
            f"{int(scores.get('n_unparseable') or 0)} (raw text: records' model_outputs)"
        )


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record) + "\n")


def _env_arguments(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The env id and ``-e`` arguments (with ``--task``), checked (env built once)."""
    from proassist.analysis.cli.preflight import check_env

    env_kwargs = parse_kv(args.env_kwarg, "-e")
    if args.env is None and args.task is None:
        raise UserError("give --env ID, --task PATH, or both")
    if args.task is not None:
        env_kwargs["task"] = task_argument(args.task)
    env_id = args.env or TASK_ENV
    check_env(env_id, env_kwargs)
    return env_id, env_kwargs


def holds_results(out: Path) -> list[str]:
    """The result files of an evaluation already in ``out``."""
    return [name for name in RESULT_FILES if (out / name).exists()]


def _output_dir(out: str | None, force: bool) -> Path:
    """The checked output folder: never one holding results, unless ``force``.

    Without ``--out`` the first of ``runs/eval``, ``runs/eval-2``, ... without results.

    Raises:
        UserError: ``--out`` holds results and not ``force``, or is unusable.
    """
    from proassist.analysis.cli.preflight import output_dir

    if out is None and not force:
        n, path = 1, Path(DEFAULT_OUT)
        while holds_results(path):
            n += 1
            path = Path(f"{DEFAULT_OUT}-{n}")
        return output_dir(path)
    path = Path(out or DEFAULT_OUT)
    found = holds_results(path)
    if found and not force:
        raise UserError(
            f"--out {path} already holds results ({', '.join(found)}); pass --force to "
            "overwrite them or choose another --out"
        )
    path = output_dir(path)
    for name in found:
        (path / name).unlink()
    return path


def run(args: argparse.Namespace) -> int:
    """Run ``proassist eval``; every argument is checked before the first episode."""
    from proassist.analysis.cli.preflight import build_policy
    from proassist.analysis.evaluation import evaluate

    if args.episodes < 1 or args.seed < 0:
        raise UserError(f"need --episodes >= 1 and --seed >= 0, got {args.episodes}, {args.seed}")
    if args.concurrency < 1:
        raise UserError(f"need --concurrency >= 1, got {args.concurrency}")
    env_id, env_kwargs = _env_arguments(args)
    policy_kwargs = parse_kv(args.policy_kwarg, "-k")
    policy = build_policy(args.policy, policy_kwargs)
    if not getattr(policy, "name", None):
        policy.name = args.policy  # the name its records and progress bar show
    out = _output_dir(args.out, args.force)
    seeds = range(args.seed, args.seed + args.episodes)
    result = evaluate(
        policy,
        env_id,
        seeds,
        paired_silent=not args.no_paired,
        progress=True,
        policy_kwargs=policy_kwargs,
        concurrency=args.concurrency,
        **env_kwargs,
    )
    config = {"command": "eval", "env_id": env_id, "policy": args.policy}
    config |= {"policy_kwargs": policy_kwargs, "env_kwargs": env_kwargs}
    _write_results(out, result, args.policy, config | {"paired_silent": not args.no_paired})
    return 0


def _write_results(out: Path, result: Any, policy: str, config: dict[str, Any]) -> None:
    """Write ``episodes.jsonl`` (and the silent run's), ``scores.json`` with its
    provenance; print the summary."""
    from proassist.analysis.provenance import provenance

    records, scores = result
    for record in records:
        record["policy"] = policy
    _write_jsonl(out / "episodes.jsonl", records)
    if result.silent_records:
        _write_jsonl(out / "episodes_silent.jsonl", result.silent_records)
    seeds = [int(r["seed"]) for r in records]
    scores["provenance"] = provenance(config, seeds)
    (out / "scores.json").write_text(json.dumps(scores, indent=2, sort_keys=True))
    print_summary(scores)
    print(f"wrote {out / 'episodes.jsonl'} and {out / 'scores.json'}")
