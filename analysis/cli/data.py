"""``proassist collect`` and ``proassist train``: the data engine and model training."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from proassist.analysis.cli import add_plugin_option
from proassist.analysis.cli.errors import UserError, user_errors


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``collect`` and ``train`` subcommands."""
    _add_collect(sub)
    _add_train(sub)


def _add_collect(sub: argparse._SubParsersAction) -> None:
    from proassist.policies.learned.collect import DOMAINS

    p = sub.add_parser(
        "collect",
        help="roll out the oracle and write an interaction-model dataset",
        description="Roll out the privileged oracle over random tasks, person profiles, "
        "deviation rates and seeds; write dataset shards (clips, plan features, labels), "
        "episodes.jsonl and the gold challenge.jsonl.",
    )
    p.add_argument("--out", required=True, help="dataset directory")
    p.add_argument("--episodes", type=int, default=30, help="number of episodes (default 30)")
    p.add_argument("--seed", type=int, default=0, help="seed of the episode draws (default 0)")
    p.add_argument(
        "--domains",
        nargs="+",
        choices=list(DOMAINS),
        default=None,
        help="domains to cycle through (default all)",
    )
    p.add_argument(
        "--tasks",
        nargs="+",
        default=None,
        metavar="TASK",
        help="only these tasks (names or task-file paths), in turn; overrides --domains "
        "(e.g. a train split, to test on the other tasks)",
    )
    _add_collect_sampling(p)
    _add_collect_driver(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_plugin_option(p)
    p.set_defaults(func=run_collect)


def _add_collect_sampling(p: argparse.ArgumentParser) -> None:
    """``collect``'s options on what is drawn, labelled, rendered and written."""
    p.add_argument(
        "--rate-range",
        type=float,
        nargs=2,
        default=(0.08, 0.25),
        metavar=("LO", "HI"),
        help="per-episode deviation rate drawn uniformly in [LO, HI] (default 0.08 0.25)",
    )
    p.add_argument(
        "--correction-delay",
        type=float,
        default=0.0,
        metavar="S",
        help="the labelling oracle corrects S s after a deviation's onset (at most the "
        "2 s gold window less one decision period), when a camera can see it (default 0)",
    )
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--clip-len", type=int, default=6, help="frames per clip (default 6)")
    p.add_argument("--frame-size", type=int, default=32, help="model frame side (default 32)")
    p.add_argument("--render-size", type=int, default=64, help="render side (default 64)")
    p.add_argument(
        "--silent-keep",
        type=float,
        default=0.3,
        help="fraction of silent samples kept (default 0.3)",
    )
    p.add_argument(
        "--max-duration",
        type=float,
        default=None,
        help="cap on simulated seconds per episode (default the task's)",
    )
    p.add_argument(
        "--format",
        choices=("npz", "hf"),
        default="npz",
        help="npz: shards + index.json, what proassist train reads (default); hf: a "
        "Hugging Face datasets DatasetDict (train/validation/test by episode seed, "
        "frames as images, every shard field plus plan, dialogue, gold labels and "
        "deviation ground truth) with a dataset card; load it with "
        "datasets.load_from_disk(DIR) (needs the [data] extra)",
    )


def _add_collect_driver(p: argparse.ArgumentParser) -> None:
    """``collect``'s options on who acts and where the labels come from."""
    from proassist.policies.learned.collect import LABELS

    p.add_argument(
        "--driver",
        default=None,
        metavar="MODEL_PT",
        help="DAgger: the learned duplex with this model acts, the oracle only labels",
    )
    p.add_argument(
        "--beta",
        type=float,
        default=0.0,
        help="DAgger: probability that an episode is driven by the oracle (default 0)",
    )
    p.add_argument(
        "--labels",
        choices=LABELS,
        default="oracle",
        help="oracle: imitate the oracle's messages (default); deviations: a detector's "
        "labels from the ground truth (correct every active deviation, with its step): "
        "the tracked duplex acts, silent or with --driver, and every decision point "
        "while a deviation is active is an interrupt",
    )
    p.add_argument(
        "--label-horizon",
        type=float,
        default=None,
        metavar="S",
        help="--labels deviations: only the first S s after a deviation's onset are "
        "samples (later, the plan has drifted from it; default: its whole active span)",
    )


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train the learned interaction model on a collected dataset, or PPO",
        description="Train the learned interaction model with PWR's recipe (interrupt:silent "
        "about 1:1, silent samples at least 3 s from any interrupt, interrupt loss weight 2); "
        "checkpoints every epoch, --resume continues; writes model.pt and model.json. "
        "--algo ppo instead trains the non-visual when-to-speak agent with PPO in the "
        "closed loop (no DATA): progress.csv, checkpoints, --resume, policy.pt.",
    )
    p.add_argument(
        "data",
        nargs="*",
        help="dataset directories (written by proassist collect; several are aggregated, "
        "e.g. the oracle data and every DAgger round); not used by --algo ppo",
    )
    p.add_argument(
        "--algo",
        choices=("recipe", "ppo"),
        default="recipe",
        help="recipe: supervised on DATA (default); ppo: reinforcement learning in the env",
    )
    p.add_argument(
        "--total-steps",
        type=int,
        default=None,
        help="ppo: env steps over all envs (default 2,000,000)",
    )
    p.add_argument("--out", required=True, help="output directory")
    _add_train_recipe(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_train)


def _add_train_recipe(p: argparse.ArgumentParser) -> None:
    """``train``'s options for the supervised recipe (and the shared seed and resume)."""
    p.add_argument("--epochs", type=int, default=10, help="total epochs (default 10)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    p.add_argument("--batch-size", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate (default 2e-3)")
    p.add_argument("--encoder", choices=("cnn", "efficientnet-lite0"), default="cnn")
    p.add_argument("--temporal", choices=("gru", "transformer"), default="gru")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's)")
    p.add_argument("--val", default=None, help="a dataset to report decision scores on")
    _add_train_calibration(p)
    p.add_argument(
        "--boost-corrections",
        type=int,
        default=1,
        metavar="K",
        help="each correcting sample (correct, warn, re-engage) appears K times per epoch "
        "(default 1: PWR's recipe)",
    )


def _add_train_calibration(p: argparse.ArgumentParser) -> None:
    """``train``'s options for the inference settings stored in ``model.json``."""
    p.add_argument(
        "--calibrate",
        default=None,
        metavar="VAL",
        help="choose the inference logit bias and silence gap on this validation dataset "
        "(collected with --silent-keep 1) and store them in model.json",
    )
    p.add_argument(
        "--calibrate-loop",
        type=int,
        default=0,
        metavar="N",
        help="instead: choose them by closed-loop net assistance on N validation seeds "
        "per domain env (seeds 900000+; charges for talking)",
    )
    _add_calibration_grid(p)
    p.add_argument(
        "--inference-from",
        default=None,
        metavar="MODEL",
        help="instead of --calibrate or --calibrate-loop: store MODEL's inference settings "
        "(its model.json) without tuning, e.g. a held-out split trained like a committed model",
    )


def _add_calibration_grid(p: argparse.ArgumentParser) -> None:
    """``train --calibrate-loop``'s candidate settings."""
    p.add_argument(
        "--calibrate-biases",
        type=float,
        nargs="+",
        default=[0.0, -2.0, -4.0],
        metavar="B",
        help="--calibrate-loop: candidate logit biases (default 0 -2 -4)",
    )
    p.add_argument(
        "--calibrate-gaps",
        type=float,
        nargs="+",
        default=[4.0, 8.0, 16.0],
        metavar="S",
        help="--calibrate-loop: candidate silences after speaking, seconds (default 4 8 16)",
    )


def _check_collect(args: argparse.Namespace) -> None:
    """Check ``collect``'s arguments (sizes with the env's own validator) and ``--out``."""
    from proassist.analysis.cli.preflight import output_dir
    from proassist.envs.arguments import check_env_kwargs

    if min(args.episodes, args.workers, args.clip_len, args.frame_size) < 1:
        raise UserError("--episodes, --workers, --clip-len and --frame-size must be >= 1")
    if not 0.0 <= args.silent_keep <= 1.0:
        raise UserError(f"--silent-keep must be in [0, 1], got {args.silent_keep}")
    if not 0.0 <= args.beta <= 1.0:
        raise UserError(f"--beta must be in [0, 1], got {args.beta}")
    if args.label_horizon is not None and (args.label_horizon <= 0 or args.labels != "deviations"):
        raise UserError(
            f"--label-horizon needs --labels deviations and S > 0, got {args.label_horizon}"
        )
    lo, hi = args.rate_range
    if not 0.0 <= lo <= hi <= 1.0:
        raise UserError(f"--rate-range must satisfy 0 <= LO <= HI <= 1, got {lo} {hi}")
    check_tasks(args.tasks or [])
    if args.driver is not None:
        from proassist.analysis.cli.preflight import input_path

        input_path(args.driver, "--driver")
    flags = {"width": "--render-size", "max_duration": "--max-duration"}
    problems = check_env_kwargs({"width": args.render_size, "max_duration": args.max_duration})
    if problems:
        raise UserError(*(f"{flags[path[0]]}: {message}" for path, message in problems))
    output_dir(args.out)


def check_tasks(tasks: list[str]) -> None:
    """Every ``--tasks`` entry loads (a library name or a valid task file)."""
    from proassist.scenarios import ScenarioError, load_scenario

    for task in tasks:
        try:
            load_scenario(task)
        except ScenarioError as exc:
            raise UserError(f"--tasks: {exc}") from None


def run_collect(args: argparse.Namespace) -> int:
    """Run ``proassist collect``."""
    if args.format == "hf":
        return _collect_hf(args)
    _check_collect(args)
    print(json.dumps(_collect(args, args.out)))
    return 0


def _collect(args: argparse.Namespace, out: str | Path) -> dict:
    """Collect the npz dataset into ``out``, add its gold ``challenge.jsonl``; the summary."""
    from proassist.analysis.challenge import export_run
    from proassist.policies.learned.collect import CollectOptions, collect

    opts = CollectOptions(
        clip_len=args.clip_len,
        frame_size=args.frame_size,
        render_size=args.render_size,
        silent_keep=args.silent_keep,
        max_duration=args.max_duration,
        driver=args.driver,
        beta=args.beta,
        oracle_kwargs={"correction_delay": args.correction_delay},
        labels=args.labels,
        label_horizon_s=args.label_horizon,
    )
    summary = collect(
        out,
        args.episodes,
        seed=args.seed,
        domains=args.domains,
        tasks=args.tasks,
        rate_range=tuple(args.rate_range),
        workers=args.workers,
        options=opts,
        progress=not args.quiet,
    )
    export_run(out, "gold")
    return summary


def _collect_hf(args: argparse.Namespace) -> int:
    """``collect --format hf``: collect into a scratch folder inside ``--out``, convert
    it there (``episodes.jsonl`` and ``challenge.jsonl`` kept beside it), drop the shards."""
    import shutil

    from proassist.analysis.provenance import provenance
    from proassist.policies.learned.hf_dataset import read_collected, require_datasets, to_hf

    with user_errors(ImportError):
        require_datasets("proassist collect --format hf")
    _check_collect(args)
    out = Path(args.out)
    raw = out / ".collect-npz"
    shutil.rmtree(raw, ignore_errors=True)
    summary = _collect(args, raw) | {"dir": str(out)}
    config = {k: v for k, v in vars(args).items() if k not in ("func", "command")}
    seeds = [r["seed"] for r in read_collected(raw)[1]]
    hf = to_hf(raw, out, config=config, provenance=provenance(config, seeds))
    for name in ("episodes.jsonl", "challenge.jsonl"):
        (raw / name).replace(out / name)
    shutil.rmtree(raw)
    print(json.dumps(summary | {"hf": {k: hf[k] for k in ("rows", "episodes", "bytes")}}))
    return 0


def dataset_dir(path: str, what: str) -> Path:
    """A dataset folder written by ``proassist collect`` (holding ``index.json``).

    Raises:
        UserError: When ``path`` is not a readable folder with ``index.json``.
    """
    from proassist.analysis.cli.preflight import input_path
    from proassist.policies.learned.dataset import INDEX

    folder = input_path(path, what, folder=True)
    if not (folder / INDEX).is_file():
        raise UserError(f"{what} {path}: has no {INDEX} (write one with proassist collect)")
    return folder


def _check_train(args: argparse.Namespace) -> None:
    """Check ``train``'s datasets, numbers and ``--out`` before any epoch."""
    from proassist.analysis.cli.preflight import output_dir

    for path in args.data:
        dataset_dir(path, "DATA")
    if args.calibrate_loop < 0:
        raise UserError("--calibrate-loop must be >= 0")
    if sum(map(bool, (args.calibrate, args.calibrate_loop, args.inference_from))) > 1:
        raise UserError("choose one of --calibrate, --calibrate-loop and --inference-from")
    if args.inference_from:
        _check_inference_source(args.inference_from)
    if any(g < 0 for g in args.calibrate_gaps):
        raise UserError(f"--calibrate-gaps must be >= 0 seconds, got {args.calibrate_gaps}")
    for flag, path in (("--val", args.val), ("--calibrate", args.calibrate)):
        if path:
            dataset_dir(path, flag)
    if min(args.epochs, args.batch_size, args.boost_corrections) < 1 or not args.lr > 0:
        raise UserError("--epochs, --batch-size and --boost-corrections must be >= 1, --lr > 0")
    output_dir(args.out)


def _check_inference_source(path: str) -> None:
    """``--inference-from``: a model whose ``model.json`` has inference settings."""
    from proassist.analysis.calibration import inference_of
    from proassist.analysis.cli.preflight import input_path

    input_path(Path(path).with_suffix(".json"), "--inference-from")
    try:
        inference_of(path)
    except ValueError as e:
        raise UserError(f"--inference-from {e}") from e


def _calibrate_loop(model_path: str, n: int, args: argparse.Namespace) -> None:
    """Closed-loop calibration on ``n`` validation seeds of each domain env."""
    from proassist.analysis.calibration import VALIDATION_SEED_BASE, calibrate_closed_loop
    from proassist.analysis.sanity import DEFAULT_ENVS

    seeds = range(VALIDATION_SEED_BASE, VALIDATION_SEED_BASE + n)
    grid = {"biases": args.calibrate_biases, "gaps": args.calibrate_gaps}
    cal = calibrate_closed_loop(model_path, DEFAULT_ENVS, seeds, workers=2, **grid)
    best = {k: round(v, 4) for k, v in cal["val"].items()}
    print("calibrated (closed loop) " + json.dumps(best))


def run_train(args: argparse.Namespace) -> int:
    """Run ``proassist train``."""
    if args.algo == "ppo":
        from proassist.analysis.cli.ppo import run_ppo

        return run_ppo(args)
    if not args.data:
        raise UserError("train needs DATA (dataset directories), unless --algo ppo")
    _check_train(args)
    from proassist.policies.learned import require_torch
    from proassist.policies.learned.train import train

    torch = require_torch("proassist train")

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    result = train(
        args.data if len(args.data) > 1 else args.data[0],
        args.out,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        resume=args.resume,
        model_config={"encoder": args.encoder, "temporal": args.temporal},
        progress=not args.quiet,
        correction_boost=args.boost_corrections,
    )
    for h in result["history"]:
        print(f"epoch {h['epoch']}: loss {h['loss']:.4f} ({h['n']} samples)")
    _after_training(args, result["model_path"])
    print(f"wrote {result['model_path']}")
    return 0


def _after_training(args: argparse.Namespace, model_path: str) -> None:
    """``--val`` scores, then the ``--calibrate`` or ``--calibrate-loop`` calibration, or
    the ``--inference-from`` settings."""
    from proassist.policies.learned.train import evaluate_model, load_model

    if args.val:
        scores = evaluate_model(load_model(model_path), args.val)
        print("val " + json.dumps({k: round(v, 4) for k, v in scores.items()}))
    if args.calibrate:
        from proassist.analysis.calibration import calibrate

        cal = calibrate(model_path, args.calibrate)
        best = {k: round(v, 4) for k, v in cal["val"].items()}
        print("calibrated " + json.dumps(best))
    if args.calibrate_loop:
        _calibrate_loop(model_path, args.calibrate_loop, args)
    if args.inference_from:
        from proassist.analysis.calibration import take_inference

        taken = take_inference(model_path, args.inference_from)
        print(f"inference settings from {args.inference_from}: " + json.dumps(taken))
