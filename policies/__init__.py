"""ProAssist policies: the assistant side of the loop.

``import proassist.policies`` is light (no torch/transformers): it registers the
baselines and exposes the registry. Heavy components (HF planner and VLM, learned
model, training) live in their own modules and import torch lazily.
"""

from __future__ import annotations

from proassist.policies import baselines as _baselines  # noqa: F401  (registers baselines)
from proassist.policies import compose as _compose  # noqa: F401  (registers first-of)
from proassist.policies import duplex as _duplex  # noqa: F401  (registers duplex, monolithic)
from proassist.policies import oracle as _oracle  # noqa: F401  (registers the oracle)
from proassist.policies import reference as _reference  # noqa: F401  (registers the sanity rows)
from proassist.policies import step_oracle as _step_oracle  # noqa: F401  (registers step-oracle)
from proassist.policies import stepwatch as _stepwatch  # noqa: F401  (registers stepwatch)
from proassist.policies.base import (
    NO_STEP,
    Policy,
    PolicyBase,
    list_policies,
    make_action,
    make_policy,
    policy_kwargs,
    register_policy,
    silent_action,
    step_index,
)
from proassist.policies.learned import rl_policy as _rl_policy  # noqa: F401  (registers ppo)
from proassist.policies.remote import assistant as _remote  # noqa: F401  (openai-compatible)
from proassist.scenarios.registry import RegistryError

__all__ = [
    "NO_STEP",
    "Policy",
    "PolicyBase",
    "RegistryError",
    "list_policies",
    "make_action",
    "make_policy",
    "policy_kwargs",
    "register_policy",
    "silent_action",
    "step_index",
]
