"""Per-decision latency of the learned assistants on one CPU core.

Runs ``stepwatch`` (the step recogniser and its rule; also with its correction gate
on, and with its sequence companion on), ``first-of`` stepwatch and the
learned duplex, and the ``duplex`` policy with ``interaction="learned"`` and the committed checkpoint
(:func:`proassist.policies.learned.assets.default_checkpoint`) in closed loop on a
kitchen and an assembly episode rendered at the default 128x128 (with the observation
modes the policy reads: segmentation for the percepts and the tracked plan), with
``torch.set_num_threads(1)``, and times every ``policy.act`` call (frame downsampling,
the frame encoder on the newest frame, the temporal model, the heads and, on
interrupts, the task-graph planner). The reference is the 500 ms decision period; the
ratio is the real-time factor (period / median latency).
"""

from __future__ import annotations

import time

import numpy as np

ENVS: tuple[tuple[str, str], ...] = (
    ("ProAssist-Kitchen-v0", "kitchen_tea"),
    ("ProAssist-Assembly-v0", "assembly_stool"),
)


def _episode_latencies(policy: object, env_id: str, task: str, seed: int, limit: int) -> list:
    import gymnasium as gym

    import proassist.envs  # noqa: F401
    from proassist.analysis.evaluation import env_info

    env = gym.make(env_id, task=task, obs_modes=tuple(getattr(policy, "obs_modes", ("rgb",))))
    try:
        obs, _ = env.reset(seed=seed)
        policy.reset(env_info=env_info(env), seed=seed)
        out, done = [], False
        while not done and len(out) < limit:
            t0 = time.perf_counter()
            action = policy.act(obs)
            out.append(time.perf_counter() - t0)
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
    finally:
        env.close()
    return out


def _rows(label: str, lat: list) -> list[dict]:
    ms = np.asarray(lat) * 1000.0
    period = 500.0
    out = []
    for what, value in (("median", float(np.median(ms))), ("p95", float(np.percentile(ms, 95)))):
        out.append(
            {
                "name": f"{label} decision latency, 1 core ({ms.size} decisions, {what})",
                "value": f"{value:.2f} ms",
                "reference": f"decision period {period:.0f} ms",
                "ratio": f"{period / value:,.0f}x real time",
                "goal": "<= 25 ms",
            }
        )
    return out


def _policies() -> list[tuple[str, object]]:
    """The learned assistants timed: the duplex, stepwatch and the two combined."""
    from proassist.policies import make_policy
    from proassist.policies.learned.assets import default_checkpoint

    ckpt = default_checkpoint()
    if ckpt is None:
        raise FileNotFoundError("no committed checkpoint in policies/checkpoints (proassist train)")
    learned = {"interaction": "learned", "checkpoint": str(ckpt)}
    both = [{"policy": "stepwatch"}, {"policy": "duplex", "policy_kwargs": learned}]
    return [
        ("learned duplex", make_policy("duplex", **learned)),
        ("stepwatch", make_policy("stepwatch")),
        ("stepwatch, correction gate on", make_policy("stepwatch", gate=True)),
        ("stepwatch, sequence companion on", make_policy("stepwatch", companion=True)),
        ("stepwatch + learned duplex (first-of)", make_policy("first-of", policies=both)),
    ]


def run(quick: bool = False) -> list[dict]:
    """Measure the learned assistants' decision latency (see module docstring)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    try:
        for label, policy in _policies():
            _episode_latencies(policy, *ENVS[0], seed=0, limit=10)  # warm-up
            limit = 60 if quick else 10_000
            lat = [
                x for i, env in enumerate(ENVS) for x in _episode_latencies(policy, *env, i, limit)
            ]
            rows += _rows(label, lat)
    finally:
        torch.set_num_threads(threads)
    return rows
