"""Run a policy in a ProAssist env: the episode description and one rollout.

:func:`env_info` is what a policy's ``reset`` receives; :func:`rollout` runs one
episode and returns its record. Both read the env only through Gymnasium and
``env.unwrapped``; :mod:`proassist.analysis.evaluation` re-exports them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["env_info", "policy_name", "rollout"]


def policy_name(policy: Any) -> str:
    """The name recorded for ``policy``: its ``name`` attribute or its class name."""
    return str(getattr(policy, "name", None) or type(policy).__name__)


def env_info(env: Any) -> dict[str, Any]:
    """What a policy's ``reset`` receives about the episode (no ground truth)."""
    u = env.unwrapped
    info = {
        "task": u.scenario.name,
        "domain": u.scenario.domain,
        "goal": u.scenario.procedure.goal,
        "title": u.scenario.procedure.title,
        "plan": u.plan,
        "dt": u.decision_dt,
        "fixtures": [f.id for f in u.scenario.layout.fixtures],
        # where the person stands to work at each fixture, and where each object starts
        "stands": {f.id: [float(v) for v in f.stand] for f in u.scenario.layout.fixtures},
        "starts": {o.id: o.start for o in u.scenario.procedure.objects},
    }
    scene = getattr(u, "_scene", None)
    if scene is not None and getattr(scene, "segmentation_ids", None):
        info["segmentation_ids"] = dict(scene.segmentation_ids)  # id -> segmentation value
    return info


def rollout(env: Any, policy: Any, seed: int, on_step: Callable[[], None] | None = None) -> dict:
    """Run one episode of ``policy`` in ``env`` from ``seed``; return its record.

    A policy with an ``episode_extras()`` method adds its dict to the record.
    """
    obs, info = env.reset(seed=int(seed))
    policy.reset(env_info=env_info(env), seed=int(seed))
    done = False
    while not done:
        action = policy.act(obs, info if getattr(policy, "privileged", False) else None)
        obs, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
        if on_step is not None:
            on_step()
    record = env.unwrapped.episode_record(policy=policy_name(policy))
    extras = getattr(policy, "episode_extras", None)  # e.g. a duplex's raw model outputs
    return record | dict(extras()) if callable(extras) else record
