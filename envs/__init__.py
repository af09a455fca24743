"""Gymnasium environments of ProAssist.

Importing this package registers ``ProAssist-Kitchen-v0``, ``ProAssist-Assembly-v0``
and ``ProAssist-Maintenance-v0``; each samples among its domain's tasks (``task=``
picks one). ``gym.make("proassist.envs:ProAssist-Kitchen-v0")`` also works.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

ENV_IDS: dict[str, str] = {
    "ProAssist-Kitchen-v0": "kitchen",
    "ProAssist-Assembly-v0": "assembly",
    "ProAssist-Maintenance-v0": "maintenance",
}


def register_envs() -> None:
    """Register every ProAssist id with Gymnasium (idempotent)."""
    for env_id, domain in ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point="proassist.envs.proassist_env:ProAssistEnv",
            kwargs={"domain": domain},
            disable_env_checker=False,
        )


def __getattr__(name: str) -> Any:
    if name == "ProAssistEnv":
        from proassist.envs.proassist_env import ProAssistEnv

        return ProAssistEnv
    raise AttributeError(name)


register_envs()

__all__ = ["ENV_IDS", "ProAssistEnv", "register_envs"]
