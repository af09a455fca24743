"""``proassist train --algo ppo``: PPO on the non-visual when-to-speak env.

Trains :func:`proassist.policies.learned.ppo.train_ppo` with its default settings (the
CLI sets the run length, the seed, the torch threads and ``--resume``) and writes
``progress.csv``, ``checkpoints/`` and ``policy.pt`` in ``--out``; evaluate the result
with ``proassist eval --policy ppo -k checkpoint=OUT/policy.pt``.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from proassist.analysis.cli.errors import UserError, user_errors

__all__ = ["DEFAULT_TOTAL_STEPS", "run_ppo"]

#: ``--total-steps`` when not given.
DEFAULT_TOTAL_STEPS: int = 2_000_000


def _check(args: argparse.Namespace) -> tuple[Path, int]:
    """The output folder and the step count, checked before any env is built."""
    from proassist.analysis.cli.preflight import output_dir

    if args.data:
        raise UserError(f"--algo ppo learns in the env and takes no DATA (got {args.data[0]})")
    steps = DEFAULT_TOTAL_STEPS if args.total_steps is None else args.total_steps
    if steps < 1 or args.threads < 0:
        raise UserError("--total-steps must be >= 1 and --threads >= 0")
    return output_dir(args.out), steps


def _last_row(csv_path: str) -> dict[str, str]:
    with open(csv_path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("episodes") not in (None, "", "0")]
    return rows[-1] if rows else {}


def run_ppo(args: argparse.Namespace) -> int:
    """Run ``proassist train --algo ppo``."""
    out, steps = _check(args)
    from proassist.policies.learned import require_torch

    with user_errors(ImportError):
        require_torch("proassist train --algo ppo")
    from proassist.policies.learned.ppo import PPOConfig, check_resume, latest_checkpoint, train_ppo

    if not args.resume and latest_checkpoint(out) is not None:
        raise UserError(f"--out {out}: holds PPO checkpoints; add --resume or use another folder")
    with user_errors(ValueError):
        config = PPOConfig(total_steps=steps, seed=args.seed)
        if args.resume:
            check_resume(out, config)
    threads = args.threads or 1
    result = train_ppo(out, config, resume=args.resume, progress=not args.quiet, threads=threads)
    keys = ("episode_return", "success_rate", "interruptions_per_min")
    last = {k: v for k, v in _last_row(result["csv_path"]).items() if k in keys}
    print(f"update {result['update']}, step {result['global_step']}: last {json.dumps(last)}")
    print(f"wrote {result['policy_path']} and {result['csv_path']}")
    return 0
