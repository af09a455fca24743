"""``proassist train-sequence``: add a sequence companion to a step recogniser checkpoint.

Records silent, privileged episodes of the three domain envs
(:func:`proassist.policies.learned.steps_train.record_streams`), trains the
candidate-wise GRU (:func:`proassist.policies.learned.steps_seq.train_sequence`) and
writes a copy of the checkpoint with it (``steps_seq.pt``, ``steps.json``
``sequence``, ``deploy`` ``companion: true``) to ``--out``; the recogniser then mixes the
two (:class:`~proassist.policies.learned.steps_train.StepRecognizer`). Evaluate it with
``proassist eval --policy stepwatch -k checkpoint=OUT``; with ``--off`` the companion is
stored but off (``-k companion=true`` turns it on), as in the committed checkpoint.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from proassist.analysis.cli.errors import UserError, user_errors
from proassist.analysis.cli.steps import add_seed_arguments, checkpoint_folder, silent_streams

__all__ = ["add_parser", "run_train_sequence"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``train-sequence`` subcommand."""
    p = sub.add_parser(
        "train-sequence",
        help="add a sequence companion (a GRU) to a stepwatch step recogniser",
        description="Record silent episodes of the three domain envs, train a "
        "candidate-wise GRU step recogniser on the frames' evidence (no own history, no "
        "DAgger) and write the checkpoint with it to --out; the recogniser then mixes "
        "the two distributions (unless --off: then stepwatch -k companion=true).",
    )
    add_seed_arguments(p, episodes=150)
    p.add_argument("--checkpoint", default=None, help="the recogniser (default: the committed one)")
    p.add_argument("--epochs", type=int, default=60, help="training epochs (default 60)")
    p.add_argument("--hidden", type=int, default=64, help="GRU width (default 64)")
    p.add_argument(
        "--weight",
        type=float,
        default=0.5,
        help="the companion's weight in the mixture of log-probabilities (default 0.5)",
    )
    p.add_argument(
        "--off",
        action="store_true",
        help="store the companion but leave it off in deploy (stepwatch -k companion=true "
        "turns it on)",
    )
    p.add_argument("--workers", type=int, default=1, help="processes recording (default 1)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.set_defaults(func=run_train_sequence)


def _check(args: argparse.Namespace) -> Path:
    """Check the arguments; the source checkpoint's folder."""
    from proassist.analysis.cli.preflight import output_dir

    if min(args.episodes, args.epochs, args.hidden, args.workers, args.threads) < 1:
        raise UserError("--episodes, --epochs, --hidden, --workers and --threads must be >= 1")
    if args.val_episodes < 0:
        raise UserError(f"--val-episodes must be >= 0, got {args.val_episodes}")
    if not 0.0 < args.weight <= 1.0:
        raise UserError(f"--weight must be in (0, 1], got {args.weight}")
    output_dir(args.out)
    return checkpoint_folder(args.checkpoint, args.out)


def run_train_sequence(args: argparse.Namespace) -> int:
    """Run ``proassist train-sequence``."""
    source = _check(args)
    from proassist.policies.learned import require_torch

    with user_errors(ImportError):
        torch = require_torch("proassist train-sequence")
    torch.set_num_threads(args.threads)
    from proassist.policies.learned.steps import SEQUENCE_FILE
    from proassist.policies.learned.steps_seq import train_sequence
    from proassist.policies.learned.steps_train import copy_weights, load_recognizer

    with user_errors(FileNotFoundError, ValueError):
        _, meta = load_recognizer(source)
    t0 = time.perf_counter()
    train, val = silent_streams(args)
    net, history = train_sequence(train, val, args.epochs, args.hidden, gaze=bool(meta.get("gaze")))
    out = Path(args.out)
    copy_weights(source, out)
    torch.save(net.state_dict(), out / SEQUENCE_FILE)
    seq = _sequence_meta(args, history, time.perf_counter() - t0)
    deploy = {**dict(meta.get("deploy") or {}), "companion": not args.off}
    (out / "steps.json").write_text(
        json.dumps({**meta, "deploy": deploy, "sequence": seq}, indent=1)
    )
    _report(out, val)
    return 0


def _sequence_meta(args: argparse.Namespace, history: list, seconds: float) -> dict[str, Any]:
    """``steps.json`` ``sequence``: the companion's config, training and history."""
    return {
        "hidden": args.hidden,
        "weight": args.weight,
        "history": history,
        "train": {
            "episodes": args.episodes,
            "seed": args.seed,
            "val_episodes": args.val_episodes,
            "epochs": args.epochs,
        },
        "seconds": round(seconds, 1),
    }


def _report(out: Path, val: list) -> None:
    """Print the written files and the recogniser's validation accuracy with and
    without its companion (own history, as deployed without ``unseen_bias``)."""
    from proassist.policies.learned.steps import SEQUENCE_FILE
    from proassist.policies.learned.steps_train import recogniser_accuracy

    print(f"wrote {out / SEQUENCE_FILE}, {out / 'steps.pt'} and {out / 'steps.json'}")
    if val:
        alone, mixed = recogniser_accuracy(out, val, companion=False), recogniser_accuracy(out, val)
        print(
            f"validation accuracy (own history): {alone:.4f} alone, {mixed:.4f} with the companion"
        )
