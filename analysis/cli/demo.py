"""``proassist demo``: one kitchen episode with two deviations and the assistant."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from proassist.analysis.cli import add_plugin_option

#: The demo's scripted deviations: the person skips a step, then grabs the wrong item.
DEMO_TASK = "kitchen_tea"
DEMO_SEED = 3


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
    """The learned duplex when its checkpoint is present, else the rule-based duplex."""
    from proassist.policies.learned.assets import default_checkpoint

    ckpt = default_checkpoint()
    if ckpt is not None:
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
    p.add_argument("--task", default=DEMO_TASK, help=f"kitchen task (default {DEMO_TASK})")
    p.add_argument("--seed", type=int, default=DEMO_SEED, help=f"seed (default {DEMO_SEED})")
    add_plugin_option(p)
    p.set_defaults(func=run)


def _record_episode(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """Run the demo episode with video recording and return its record."""
    import gymnasium as gym

    import proassist.envs  # noqa: F401
    from proassist.analysis.evaluation import rollout
    from proassist.envs.wrappers import VideoRecorder
    from proassist.policies import make_policy

    name, kwargs = (args.policy, {}) if args.policy else _default_policy()
    policy = make_policy(name, **kwargs)
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
    try:
        record = rollout(env, policy, args.seed)
    finally:
        env.close()
    record["policy"], record["policy_kwargs"] = name, kwargs
    return record


def run(args: argparse.Namespace) -> int:
    """Run ``proassist demo``."""
    from proassist.analysis.cli.eval import print_summary
    from proassist.analysis.metrics.scores import score_episodes
    from proassist.analysis.plots.timeline import plot_timeline

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record = _record_episode(args, out)
    (out / "episode.json").write_text(json.dumps(record))
    plot_timeline(record, out / "timeline.png")
    scores = score_episodes([record])
    (out / "scores.json").write_text(json.dumps(scores, indent=2, sort_keys=True))
    outcome = "succeeded" if record["success"] else "failed"
    print(f"policy {record['policy']}: task {outcome} in {record['duration']:.1f}s")
    print_summary(scores)
    print(f"wrote {out}/episode.mp4, {out}/timeline.png, {out}/scores.json")
    return 0
