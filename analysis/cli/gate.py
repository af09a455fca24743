"""``proassist train-gate``: train the correction gate of a ``stepwatch`` checkpoint.

Records silent, privileged episodes of the three domain envs on seeds the recogniser
was not trained on (:func:`proassist.policies.learned.steps_train.record_streams`, with
the steps a correction could name to address an open deviation at each point), runs
the checkpoint's recogniser over them, fits the gate
(:func:`proassist.policies.learned.gate_train.train_gate`) and writes a copy of the
checkpoint with the gate in its ``steps.json`` to ``--out``; evaluate it with
``proassist eval --policy stepwatch -k checkpoint=OUT``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from proassist.analysis.cli.errors import UserError, user_errors
from proassist.analysis.cli.steps import (
    add_seed_arguments,
    check_unseen_seeds,
    checkpoint_folder,
    silent_streams,
)

__all__ = ["add_parser", "run_train_gate"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``train-gate`` subcommand."""
    p = sub.add_parser(
        "train-gate",
        help="train the correction gate of a stepwatch checkpoint",
        description="Record silent episodes of the three domain envs, run the checkpoint's "
        "step recogniser over them and fit the gate that decides which of the dependency "
        "rule's corrections to say; writes the checkpoint with its gate to --out.",
    )
    add_seed_arguments(p, episodes=150)
    p.add_argument("--checkpoint", default=None, help="the recogniser (default: the committed one)")
    p.add_argument(
        "--threshold", type=float, default=0.5, help="the gate's threshold (default 0.5)"
    )
    p.add_argument("--l2", type=float, default=1.0, help="ridge penalty (default 1)")
    p.add_argument(
        "--off",
        action="store_true",
        help="store the gate but leave it off in deploy (stepwatch -k gate=true turns it on)",
    )
    p.add_argument("--workers", type=int, default=1, help="processes recording (default 1)")
    p.set_defaults(func=run_train_gate)


def _check(args: argparse.Namespace) -> None:
    from proassist.analysis.cli.preflight import output_dir

    if min(args.episodes, args.val_episodes, args.workers) < 1:
        raise UserError("--episodes, --val-episodes and --workers must be >= 1")
    if not 0.0 <= args.threshold <= 1.0 or args.l2 <= 0:
        raise UserError("--threshold must be in [0, 1] and --l2 > 0")
    output_dir(args.out)


def _check_source(args: argparse.Namespace, source: Path, meta: dict) -> None:
    """The gate's seeds must not be the recogniser's, and the recogniser it replays (the
    MLP alone) must be the one deployed."""
    check_unseen_seeds(meta, args.seed, args.episodes)
    if dict(meta.get("deploy") or {}).get("companion"):
        raise UserError(
            f"{source}: its deploy mixes in the sequence companion, but the gate replays the "
            "recogniser's MLP alone; gate a copy made with train-sequence --off"
        )


def run_train_gate(args: argparse.Namespace) -> int:
    """Run ``proassist train-gate``."""
    _check(args)
    from proassist.policies.learned import require_torch

    with user_errors(ImportError):
        require_torch("proassist train-gate").set_num_threads(1)
    from proassist.policies.learned.gate_train import train_gate
    from proassist.policies.learned.steps_train import load_recognizer
    from proassist.policies.watch_settings import WATCH_DEFAULTS

    source = checkpoint_folder(args.checkpoint, args.out)
    with user_errors(FileNotFoundError, ValueError):
        net, meta = load_recognizer(source)
    _check_source(args, source, meta)
    t0 = time.perf_counter()
    train, val = silent_streams(args)
    settings = {**WATCH_DEFAULTS, **dict(meta.get("deploy") or {})}
    with user_errors(ValueError):
        weights, rows = train_gate(
            net, train, val, settings, l2=args.l2, gaze=bool(meta.get("gaze"))
        )
    weights |= _gate_meta(args, rows, time.perf_counter() - t0)
    _write(source, Path(args.out), meta, weights, args.off)
    return 0


def _gate_meta(args: argparse.Namespace, rows: list, seconds: float) -> dict[str, Any]:
    """``steps.json`` ``gate`` beside the weights: threshold, validation rows, training."""
    return {
        "threshold": args.threshold,
        "validation": rows,
        "train": {
            "episodes": args.episodes,
            "seed": args.seed,
            "val_episodes": args.val_episodes,
            "l2": args.l2,
        },
        "seconds": round(seconds, 1),
    }


def _write(source: Path, out: Path, meta: dict, weights: dict, off: bool) -> None:
    """Copy the checkpoint at ``source`` to ``out`` with the gate in its ``steps.json``
    (deployed unless ``off``)."""
    from proassist.policies.learned.steps_train import copy_weights

    copy_weights(source, out)
    deploy = {**dict(meta.get("deploy") or {}), "gate": not off}
    (out / "steps.json").write_text(
        json.dumps({**meta, "deploy": deploy, "gate": weights}, indent=1)
    )
    print(f"wrote {out / 'steps.pt'} and {out / 'steps.json'} ({weights['seconds']:.0f} s)")
