"""``proassist train-steps``: record streams and train the step recogniser of ``stepwatch``.

Records silent, privileged episodes of the three domain envs (the segmentation's pixel
counts and the true plan step per decision point;
:func:`proassist.policies.learned.steps_train.record_streams`), trains the recogniser
with offline DAgger (:func:`~proassist.policies.learned.steps_train.train_recognizer`)
and writes ``steps.pt`` + ``steps.json`` to ``--out``; evaluate it with
``proassist eval --policy stepwatch -k checkpoint=OUT``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from proassist.analysis.calibration import VALIDATION_SEED_BASE
from proassist.analysis.cli.errors import UserError, user_errors
from proassist.envs.registration import DOMAIN_ENV_IDS
from proassist.policies.learned import TRAIN_SEED_BASE

__all__ = [
    "add_parser",
    "add_seed_arguments",
    "check_unseen_seeds",
    "checkpoint_folder",
    "run_train_steps",
    "silent_streams",
]


def add_seed_arguments(p: argparse.ArgumentParser, episodes: int) -> None:
    """``--out``, ``--episodes``, ``--seed`` and ``--val-episodes`` of a training command."""
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument(
        "--episodes",
        type=int,
        default=episodes,
        help=f"training seeds per env (default {episodes})",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=TRAIN_SEED_BASE,
        help=f"first training seed (default {TRAIN_SEED_BASE:,}: training seeds stay apart "
        "from evaluation's; for a gate, also from the recogniser's)",
    )
    p.add_argument(
        "--val-episodes",
        type=int,
        default=20,
        help=f"validation seeds per env, from {VALIDATION_SEED_BASE} (default 20)",
    )


def check_unseen_seeds(meta: dict, seed: int, episodes: int) -> None:
    """Raise a :class:`UserError` when seeds ``seed..seed+episodes-1`` overlap the training
    seeds a recogniser's ``steps.json`` records (``train`` ``seed`` and ``episodes``)."""
    train = dict(meta.get("train") or {})
    if "seed" in train and "episodes" in train:
        lo, hi = int(train["seed"]), int(train["seed"]) + int(train["episodes"])
        if seed < hi and lo < seed + episodes:
            raise UserError(
                f"--seed {seed} (+{episodes}) overlaps the recogniser's training "
                f"seeds {lo}-{hi - 1}: on its own training streams it is overconfident; "
                f"pass --seed {hi} or later"
            )


def checkpoint_folder(checkpoint: str | None, out: str) -> Path:
    """The folder of a recogniser checkpoint (``None``: the committed one) that a
    command copies to ``out``; a :class:`UserError` when ``out`` is that folder."""
    from proassist.policies.learned.steps_train import checkpoint_dir
    from proassist.policies.stepwatch import STEPS_CHECKPOINT

    source = checkpoint_dir(checkpoint or STEPS_CHECKPOINT)
    if Path(out).resolve() == source.resolve():
        raise UserError(f"--out {out} is the recogniser's folder: write the copy elsewhere")
    return source


def silent_streams(args: argparse.Namespace) -> tuple[list, list]:
    """Silent training (``--seed``, ``--episodes``) and validation (``--val-episodes``)
    streams of the three domain envs, with the time they took printed."""
    from proassist.policies.learned.steps_train import record_streams

    t0 = time.perf_counter()
    seeds = range(args.seed, args.seed + args.episodes)
    train = record_streams(DOMAIN_ENV_IDS, seeds, args.workers)
    vseeds = range(VALIDATION_SEED_BASE, VALIDATION_SEED_BASE + args.val_episodes)
    val = record_streams(DOMAIN_ENV_IDS, vseeds, args.workers)
    print(
        f"recorded {len(train)} training and {len(val)} validation episodes "
        f"({time.perf_counter() - t0:.0f} s)"
    )
    return train, val


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``train-steps`` subcommand."""
    p = sub.add_parser(
        "train-steps",
        help="train the step recogniser of the stepwatch assistant",
        description="Record silent episodes (segmentation and the true plan step at every "
        "decision point) of the three domain envs and train the step recogniser with "
        "offline DAgger; writes steps.pt and steps.json.",
    )
    add_seed_arguments(p, episodes=100)
    p.add_argument("--rounds", type=int, default=4, help="DAgger rounds after round 0 (default 4)")
    p.add_argument("--epochs", type=int, default=8, help="epochs per (re)training (default 8)")
    p.add_argument("--hidden", type=int, default=64, help="MLP width (default 64)")
    p.add_argument(
        "--deviation-weight",
        type=float,
        default=1.0,
        help="loss weight of the points where a deviation is open (default 1)",
    )
    _add_stream_arguments(p)
    p.add_argument(
        "--workers", type=int, default=1, help="processes recording episodes (default 1)"
    )
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument(
        "--gaze",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="read the gaze window (a step's objects in the very centre of the view, "
        "where the person looks before taking them); --no-gaze: the evidence of "
        "recognisers before the twenty-eighth round (default: on)",
    )
    p.set_defaults(func=run_train_steps)


def _add_stream_arguments(p: argparse.ArgumentParser) -> None:
    """The options that say which training episodes are recorded."""
    p.add_argument(
        "--tasks",
        nargs="+",
        default=None,
        help="train on these tasks only (names or task files; --episodes seeds each, "
        "validation on them too), e.g. a split, to test on the other tasks",
    )
    p.add_argument(
        "--generated",
        type=int,
        default=0,
        metavar="N",
        help="also train on N generated tasks per library layout (proassist scenarios "
        "generate, task seeds 0..N-1, written to OUT/generated/), one silent episode each "
        "(seeds from --seed); more varied procedures (default 0)",
    )
    p.add_argument(
        "-e",
        "--env-kwarg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="env argument of the training episodes (repeatable; YAML values), e.g. "
        "-e max_random_deviations=null for more deviations to learn from; the "
        "validation episodes keep the defaults, so their accuracy stays comparable",
    )
    p.add_argument(
        "--assistant",
        default=None,
        help="also record every training seed with this assistant acting (closed-loop "
        "streams: the person reacts), e.g. step-oracle; default: silent streams only",
    )


def _check(args: argparse.Namespace) -> None:
    from proassist.analysis.cli.preflight import output_dir

    if (
        min(args.episodes, args.rounds + 1, args.epochs, args.hidden, args.workers, args.threads)
        < 1
    ):
        raise UserError(
            "--episodes, --epochs, --hidden, --workers and --threads must be >= 1, --rounds >= 0"
        )
    if args.val_episodes < 0 or args.deviation_weight <= 0 or args.generated < 0:
        raise UserError("--val-episodes and --generated must be >= 0 and --deviation-weight > 0")
    from proassist.analysis.cli.data import check_tasks

    check_tasks(args.tasks or [])
    if args.assistant:
        from proassist.policies.base import POLICIES

        if args.assistant not in POLICIES:
            raise UserError(f"--assistant: {POLICIES.unknown(args.assistant)}")
    output_dir(args.out)
    args.env_kwargs = _env_kwargs(args.env_kwarg)


#: Env arguments the recorded streams fix, and why (``-e`` cannot set them).
_SET_HERE: dict[str, str] = {
    "privileged": "the true step is the label",
    "obs_modes": "the recogniser reads the segmentation",
    "width": "the recogniser reads 128 px frames",
    "height": "the recogniser reads 128 px frames",
    "task": "use --tasks",
}


def _env_kwargs(items: list[str]) -> dict[str, Any]:
    """The ``-e NAME=VALUE`` env arguments, checked (each problem names ``-e NAME``)."""
    from proassist.analysis.cli.eval import parse_kv
    from proassist.analysis.cli.preflight import check_env

    kwargs = parse_kv(items, "-e")
    fixed = sorted(set(kwargs) & set(_SET_HERE))
    if fixed:
        raise UserError(f"-e {fixed[0]}: set by train-steps ({_SET_HERE[fixed[0]]})")
    if kwargs:
        check_env(DOMAIN_ENV_IDS[0], kwargs)
    return kwargs


#: The arguments a checkpoint's ``steps.json`` keeps under ``train``.
_TRAIN_ARGS = (
    "episodes",
    "seed",
    "val_episodes",
    "rounds",
    "epochs",
    "assistant",
    "deviation_weight",
    "generated",
    "env_kwargs",
)


def run_train_steps(args: argparse.Namespace) -> int:
    """Run ``proassist train-steps``."""
    _check(args)
    from proassist.policies.learned import require_torch

    with user_errors(ImportError):
        require_torch("proassist train-steps").set_num_threads(args.threads)
    from proassist.policies.learned.steps_train import save_recognizer, train_recognizer

    t0 = time.perf_counter()
    tasks = tuple(args.tasks or ())
    train, val = _record(args, tasks)
    print(
        f"recorded {len(train)} training and {len(val)} validation episodes ({time.perf_counter() - t0:.0f} s)"
    )
    net, history = train_recognizer(
        train,
        val,
        args.rounds,
        args.epochs,
        args.hidden,
        seed=0,
        deviation_weight=args.deviation_weight,
        gaze=args.gaze,
    )
    meta = {
        "gaze": args.gaze,
        "history": history,
        "train": {k: getattr(args, k) for k in _TRAIN_ARGS},
        "envs": ["ProAssist-v0"] if tasks else list(DOMAIN_ENV_IDS),
        "tasks": list(tasks),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    path = save_recognizer(net, args.out, meta)
    print(f"wrote {path} and {path.with_suffix('.json')} ({meta['seconds']:.0f} s)")
    return 0


def _record(args: argparse.Namespace, tasks: tuple[str, ...]) -> tuple[list, list]:
    """The training streams (with ``-e``, an ``--assistant``'s closed-loop ones and
    ``--generated`` tasks') and the validation streams (default env arguments)."""
    from proassist.policies.learned.steps_train import record_streams

    seeds = range(args.seed, args.seed + args.episodes)
    extra = {"tasks": tasks, "env_kwargs": args.env_kwargs}
    train = record_streams(DOMAIN_ENV_IDS, seeds, args.workers, **extra)
    if args.assistant:  # closed-loop streams: the same seeds with the assistant acting
        train += record_streams(
            DOMAIN_ENV_IDS, seeds, args.workers, assistant=args.assistant, **extra
        )
    train += _generated_streams(args)
    val_seeds = range(VALIDATION_SEED_BASE, VALIDATION_SEED_BASE + args.val_episodes)
    return train, record_streams(DOMAIN_ENV_IDS, val_seeds, args.workers, tasks=tasks)


def _generated_streams(args: argparse.Namespace) -> list:
    """``--generated`` tasks per library layout, written to OUT/generated/, one stream each."""
    if not args.generated:
        return []
    from pathlib import Path

    from proassist.policies.learned.steps_train import record_streams
    from proassist.scenarios import list_layouts, load_layout
    from proassist.scenarios.generate import generate_tasks

    folder, seeds, layouts = Path(args.out) / "generated", range(args.generated), list_layouts()
    paths = [
        str(p)
        for name in layouts
        for p in generate_tasks(load_layout(name), seeds, folder, domain=name)
    ]
    episode_seeds = [args.seed + k for _ in layouts for k in seeds]
    return record_streams(
        (), episode_seeds, args.workers, tasks=paths, paired=True, env_kwargs=args.env_kwargs
    )
