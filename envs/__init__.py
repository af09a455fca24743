"""Gymnasium environments of ProAssist.

Importing this package registers ``ProAssist-Kitchen-v0``, ``ProAssist-Assembly-v0``
and ``ProAssist-Maintenance-v0`` (each samples among its domain's tasks; ``task=``
picks one) and ``ProAssist-v0``, whose ``task=`` is a library name or a path to any
task file. The ids come from one table, :data:`proassist.envs.registration.ENV_DOMAINS`.
``gym.make("proassist.envs:ProAssist-Kitchen-v0")`` also works.
"""

from __future__ import annotations

from typing import Any

from proassist.envs.registration import DOMAINS, ENV_DOMAINS, env_id_for, register_envs

#: Every ProAssist env id and its domain (``None``: any task); the same table as
#: :data:`proassist.envs.registration.ENV_DOMAINS`.
ENV_IDS = ENV_DOMAINS


def __getattr__(name: str) -> Any:
    if name == "ProAssistEnv":
        from proassist.envs.proassist_env import ProAssistEnv

        return ProAssistEnv
    raise AttributeError(name)


register_envs()

__all__ = ["DOMAINS", "ENV_DOMAINS", "ENV_IDS", "ProAssistEnv", "env_id_for", "register_envs"]
