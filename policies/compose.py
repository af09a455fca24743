"""Composing assistants: ``first-of`` speaks the first message of several assistants.

Each inner assistant sees every observation and keeps its own state; at each decision
point the action of the first one (in the order given) that interrupts is sent, and
the others' messages at that point are dropped. It combines detectors of different
deviations, e.g. ``stepwatch`` (order and omission from the recognised step) before
the learned duplex (what else it detects):

    make_policy("first-of", policies=[
        {"policy": "stepwatch"},
        {"policy": "duplex", "policy_kwargs": {"interaction": "learned"}},
    ])

Inner assistants must not be privileged (``first-of`` passes them no info, as
:func:`~proassist.policies.rollout.rollout` gives a non-privileged assistant).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from proassist.policies.base import PolicyBase, make_policy, register_policy

__all__ = ["FirstOfPolicy"]


@register_policy("first-of")
class FirstOfPolicy(PolicyBase):
    """Sends the first interrupting action among ``policies`` (module docstring).

    Args:
        policies: Inner assistants, each ``{"policy": name, "policy_kwargs": {...}}``.

    Raises:
        ValueError: With fewer than two entries, an entry without ``policy`` or with
            other keys, or a privileged inner assistant.
    """

    def __init__(self, policies: Sequence[Mapping[str, Any]]) -> None:
        super().__init__()
        if len(policies) < 2:
            raise ValueError(
                "first-of needs at least two policies: [{'policy': name, 'policy_kwargs': {...}}, ...]"
            )
        self.inner = [self._build(i, spec) for i, spec in enumerate(policies)]
        self.needs_pixels = any(getattr(p, "needs_pixels", True) for p in self.inner)
        modes = {m for p in self.inner for m in (getattr(p, "obs_modes", None) or ("rgb",))}
        self.obs_modes = tuple(m for m in ("rgb", "depth", "segmentation") if m in modes)
        self.name = "first-of(" + ", ".join(str(getattr(p, "name", "?")) for p in self.inner) + ")"
        self.sent_by = [0] * len(self.inner)

    @staticmethod
    def _build(i: int, spec: Mapping[str, Any]) -> Any:
        extra = set(spec) - {"policy", "policy_kwargs"}
        if "policy" not in spec or extra:
            raise ValueError(
                f"first-of policies[{i}]: need {{'policy': name, 'policy_kwargs': {{...}}}}, got {dict(spec)}"
            )
        policy = make_policy(str(spec["policy"]), **dict(spec.get("policy_kwargs") or {}))
        if getattr(policy, "privileged", False):
            raise ValueError(f"first-of policies[{i}]: {spec['policy']!r} is privileged")
        return policy

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Reset every inner assistant and the per-assistant message counts."""
        super().reset(env_info=env_info, seed=seed)
        for p in self.inner:
            p.reset(env_info=env_info, seed=seed)
        self.sent_by = [0] * len(self.inner)

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Every inner assistant acts; the first interrupting action is sent."""
        actions = [p.act(observation, None) for p in self.inner]
        for i, action in enumerate(actions):
            if action["decision"]:
                self.sent_by[i] += 1
                return action
        return actions[0]

    def episode_extras(self) -> dict[str, Any]:
        """The inner assistants' extras, and how many messages each sent."""
        out: dict[str, Any] = {}
        for p in self.inner:
            extras = getattr(p, "episode_extras", None)
            out.update(dict(extras()) if callable(extras) else {})
        return {**out, "first_of_sent": list(self.sent_by)}
