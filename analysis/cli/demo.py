"""``proassist demo``: one kitchen episode with two deviations and the assistant."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from proassist.analysis.cli import add_plugin_option
from proassist.analysis.cli.errors import UserError

#: The demo's scripted deviations: the person skips a step, then grabs the wrong item.
DEMO_TASK = "kitchen_tea"
DEMO_SEED = 3
#: tqdm's bar with simulated seconds shown to one decimal, elapsed and remaining time.
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.0f} sim s [{elapsed}<{remaining}]"


def demo_script(task: str) -> list[dict[str, Any]]:
    """Two scripted deviations that apply to ``task`` (an omission and a substitution)."""
    from proassist.scenarios import load_scenario
    from proassist.sim.deviations.base import get_deviation

    proc = load_scenario(task).procedure
    script: list[dict[str, Any]] = []
    for kind in ("omission", "substitution", "safety", "placement"):
        handler = get_deviation(kind)
        used = {d["step"] for d in script}
        for step in proc.steps:
            if step.id not in used and handler.applies(step, proc):
                script.append({"kind": kind, "step": step.id})
                break
        if len(script) == 2:
            break
    return script


def _default_policy() -> tuple[str, dict[str, Any]]:
    """The learned duplex when its checkpoint and torch (``[learn]``) are present, else
    the rule-based duplex."""
    from proassist.policies.learned import torch_available
    from proassist.policies.learned.assets import default_checkpoint

    ckpt = default_checkpoint()
    if ckpt is not None and torch_available():
        return "duplex", {"interaction": "learned", "checkpoint": str(ckpt)}
    return "duplex", {}


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    p = sub.add_parser(
        "demo",
        help="one kitchen episode with two deviations and the assistant",
        description="Run one kitchen episode in which the person deviates twice, with the "
        "duplex assistant (learned when its checkpoint is present, else rule-based); write episode.mp4, "
        "timeline.png and scores.json.",
    )
    p.add_argument("--out", default="demo_out", help="output folder (default demo_out)")
    p.add_argument("--policy", default=None, help="override the assistant (registered name)")
    p.add_argument(
        "-k",
        "--policy-kwarg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a keyword argument of --policy (repeatable)",
    )
    p.add_argument("--task", default=DEMO_TASK, help=f"kitchen task (default {DEMO_TASK})")
    p.add_argument("--seed", type=int, default=DEMO_SEED, help=f"seed (default {DEMO_SEED})")
    add_plugin_option(p)
    p.set_defaults(func=run)


def _demo_policy(args: argparse.Namespace) -> tuple[str, dict[str, Any], Any]:
    """The assistant's name, kwargs and instance (checked: bad input is a user error)."""
    from proassist.analysis.cli.eval import parse_kv
    from proassist.analysis.cli.preflight import build_policy

    if args.policy:
        name, kwargs = args.policy, parse_kv(args.policy_kwarg, "-k")
    elif args.policy_kwarg:
        raise UserError("-k needs --policy (the kwargs of which assistant?)")
    else:
        name, kwargs = _default_policy()
    return name, kwargs, build_policy(name, kwargs)


class SimProgress:
    """A progress bar over simulated seconds with ETA; call it after every env step.

    The bar is made at the first step, when the episode's time limit is known; the
    episode may end before the limit (the task done), so the ETA is an upper bound.
    """

    def __init__(self, env: Any, desc: str) -> None:
        self.env, self.desc, self.bar = env, desc, None

    def __call__(self) -> None:
        from tqdm import tqdm

        sim = self.env.unwrapped.simulation
        if self.bar is None:
            total = float(sim.max_duration)
            self.bar = tqdm(total=total, desc=self.desc, file=sys.stderr, bar_format=BAR_FORMAT)
        self.bar.update(float(sim.time) - self.bar.n)

    def close(self) -> None:
        """Close the bar (if any step ran), full when the episode ended early."""
        if self.bar is not None:
            if self.env.unwrapped.simulation.done:
                self.bar.total = self.bar.n
                self.bar.refresh()
            self.bar.close()


def _record_episode(args: argparse.Namespace, out: Path, policy: Any) -> dict[str, Any]:
    """Run the demo episode with video recording and a progress bar; return its record."""
    import gymnasium as gym

    import proassist.envs  # noqa: F401
    from proassist.analysis.evaluation import rollout
    from proassist.envs.wrappers import VideoRecorder

    env = gym.make(
        "ProAssist-Kitchen-v0",
        task=args.task,
        render_mode="rgb_array",
        obs_modes=("rgb", "depth", "segmentation"),
        deviation_script=demo_script(args.task),
        deviation_rates={},
        privileged=bool(getattr(policy, "privileged", False)),
    )
    env = VideoRecorder(env, out / "episode.mp4")
    progress = SimProgress(env, f"{args.task} seed {args.seed}")
    try:
        record = rollout(env, policy, args.seed, on_step=progress)
    finally:
        progress.close()
        env.close()
    return record


def _check(args: argparse.Namespace) -> tuple[str, dict[str, Any], Any, Path]:
    """Check every argument before the episode: task, assistant, output folder."""
    from proassist.analysis.cli.preflight import check_env, output_dir

    if args.seed < 0:
        raise UserError(f"--seed must be >= 0, got {args.seed}")
    check_env("ProAssist-Kitchen-v0", {"task": args.task})
    name, kwargs, policy = _demo_policy(args)
    return name, kwargs, policy, output_dir(args.out)


def run(args: argparse.Namespace) -> int:
    """Run ``proassist demo``."""
    from proassist.analysis.cli.eval import print_summary
    from proassist.analysis.metrics.scores import score_episodes
    from proassist.analysis.plots.timeline import plot_timeline
    from proassist.analysis.provenance import provenance

    name, kwargs, policy, out = _check(args)
    print(f"demo: {name} assistant on {args.task} (seed {args.seed}) -> {out}", file=sys.stderr)
    record = _record_episode(args, out, policy)
    record["policy"], record["policy_kwargs"] = name, kwargs
    (out / "episode.json").write_text(json.dumps(record))
    print("drawing timeline.png and scoring ...", file=sys.stderr)
    plot_timeline(record, out / "timeline.png")
    scores = score_episodes([record])
    keys = ("env_id", "task", "policy", "policy_kwargs", "env_kwargs")
    config = {"command": "demo", **{k: record.get(k) for k in keys}}
    scores["provenance"] = provenance(config, [args.seed])
    (out / "scores.json").write_text(json.dumps(scores, indent=2, sort_keys=True))
    outcome = "succeeded" if record["success"] else "failed"
    print(f"policy {record['policy']}: task {outcome} in {record['duration']:.1f}s")
    print_summary(scores)
    print(f"wrote {out}/episode.mp4, {out}/timeline.png, {out}/scores.json")
    return 0
