"""How much of a deviation's onset do the frames show? Step recognition with a lookahead.

Content-aware OOP recall counts a correction only within 2 s of a deviation's onset, so
an assistant must know which step the person started from at most 2 s of frames after
it. This diagnostic trains the step recogniser's sequence companion
(:mod:`proassist.policies.learned.steps_seq`: the segmentation evidence only, a GRU
over each candidate) to name the step of point ``t`` from the frames up to ``t + d``
points (``--lookahead d``, 2 points a second; ``d = 0`` is the deployable, causal one)
and reports its accuracy on the validation streams overall, in the first 3 s after a
deviation opened and per second since the onset
(:func:`~proassist.policies.learned.steps_seq.onset_accuracy`). The thirty-ninth round's
numbers (``policies/checkpoints/steps/README.md``) come from::

    python examples/onset_lookahead.py --episodes 150 --val-episodes 20 --epochs 30 \\
        --lookahead 0 2 4 --workers 2

(silent streams of the three domain envs, training seeds 2000+, validation seeds
900000+; about 25 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from proassist.policies.learned.steps_seq import Arrays


def measure(
    train: Sequence[Arrays],
    val: Sequence[dict[str, Any]],
    val_arrays: Sequence[Arrays],
    lookahead: int,
    epochs: int,
    hidden: int = 64,
) -> dict[str, tuple[float, int]]:
    """Train the companion with ``lookahead`` on the training streams' arrays (the best
    epoch on ``val``) and return its :func:`onset_accuracy` on ``val`` (the epoch is
    chosen on ``val`` too: a measurement of what these features allow, not a held-out
    score). ``train`` and ``val_arrays`` are :func:`stream_arrays` without lookahead,
    computed once for every lookahead (only the labels differ)."""
    from proassist.policies.learned.steps_seq import fit_sequence, onset_accuracy, with_lookahead

    net, _ = fit_sequence(
        [with_lookahead(a, lookahead) for a in train],
        [with_lookahead(a, lookahead) for a in val_arrays],
        epochs=epochs,
        hidden=hidden,
        log=lambda s: None,
    )
    return onset_accuracy(net, val, lookahead=lookahead, arrays=val_arrays)


def _arrays(streams: Sequence[dict[str, Any]]) -> list[Arrays]:
    """Each stream's inputs and labels without lookahead, as the recogniser reads them."""
    from proassist.policies.learned.steps_seq import stream_arrays

    return [stream_arrays(s, gaze=True) for s in streams]


def table(rows: dict[int, dict[str, tuple[float, int]]]) -> list[str]:
    """The results as a markdown table, one row per lookahead (each cell: the share
    named right and, in brackets, the points it is over)."""
    keys = list(next(iter(rows.values())))
    lines = ["| lookahead | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for d, acc in rows.items():
        cells = " | ".join(f"{acc[k][0]:.3f} ({acc[k][1]})" for k in keys)
        lines.append(f"| {d / 2:.1f} s | {cells} |")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Record the streams, train one companion per lookahead, print the table."""
    from proassist.analysis.calibration import VALIDATION_SEED_BASE
    from proassist.envs.registration import DOMAIN_ENV_IDS
    from proassist.policies.learned.steps_train import record_streams

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--episodes", type=int, default=150, help="training seeds per env")
    p.add_argument("--val-episodes", type=int, default=20, help="validation seeds per env")
    p.add_argument("--seed", type=int, default=2000, help="first training seed")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--lookahead", type=int, nargs="+", default=[0, 2, 4], help="points")
    p.add_argument("--workers", type=int, default=1, help="processes recording")
    p.add_argument("--max-duration", type=float, default=None, help="shorter episodes")
    args = p.parse_args(argv)
    extra = {"max_duration": args.max_duration} if args.max_duration else None
    seeds = range(args.seed, args.seed + args.episodes)
    train = record_streams(DOMAIN_ENV_IDS, seeds, args.workers, env_kwargs=extra)
    vseeds = range(VALIDATION_SEED_BASE, VALIDATION_SEED_BASE + args.val_episodes)
    val = record_streams(DOMAIN_ENV_IDS, vseeds, args.workers, env_kwargs=extra)
    train_arrays, val_arrays = _arrays(train), _arrays(val)
    rows = {
        d: measure(train_arrays, val, val_arrays, d, args.epochs, args.hidden)
        for d in args.lookahead
    }
    print("\n".join(table(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
