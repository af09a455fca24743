"""The table of ProAssist env ids: one row per id, from which every id is registered.

``ProAssist-<Domain>-v0`` samples among the tasks of one domain (``task=`` picks one);
``ProAssist-v0`` takes ``task=`` as any library name or path to a task file (any
domain). Add a row here to give a new built-in domain its own id; a user's domain needs
no id (``gym.make("ProAssist-v0", task="path/to/my_task.yaml")``).

Every id vectorizes with Gymnasium's own ``gym.make_vec`` (``"sync"`` or ``"async"``,
shared memory on by default): the text fields are a
:class:`~proassist.envs.vector.SharedText`, so an async vector env returns the real
``goal`` and ``utterance`` (no ``vector_entry_point`` is registered: Gymnasium uses one
only when no ``vectorization_mode`` is given).
"""

from __future__ import annotations

import gymnasium as gym

#: Env id -> the domain it samples tasks from (``None``: any task, given by ``task=``).
ENV_DOMAINS: dict[str, str | None] = {
    "ProAssist-Kitchen-v0": "kitchen",
    "ProAssist-Assembly-v0": "assembly",
    "ProAssist-Maintenance-v0": "maintenance",
    "ProAssist-v0": None,
}
#: The domains that have their own env id.
DOMAINS: tuple[str, ...] = tuple(d for d in ENV_DOMAINS.values() if d)
#: The env ids of those domains (kitchen, assembly, maintenance), in table order.
DOMAIN_ENV_IDS: tuple[str, ...] = tuple(e for e, d in ENV_DOMAINS.items() if d)
ENTRY_POINT = "proassist.envs.proassist_env:ProAssistEnv"


def env_id_for(domain: str | None) -> str:
    """The env id of ``domain`` (``ProAssist-v0`` for a domain without its own id)."""
    for env_id, d in ENV_DOMAINS.items():
        if d == domain:
            return env_id
    return "ProAssist-v0"


def register_envs() -> None:
    """Register every ProAssist id with Gymnasium (idempotent)."""
    for env_id, domain in ENV_DOMAINS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point=ENTRY_POINT,
            kwargs={"domain": domain},
            disable_env_checker=False,
        )
