"""The ``ppo`` policy: a PPO-trained when-to-speak agent acting in the normal env.

It keeps the same :class:`~proassist.policies.learned.rl_env.SpeakState` as the training
env (:class:`~proassist.policies.learned.rl_env.ProAssistSpeakEnv`): at each decision
point it computes the features from the observation's ``time`` and ``utterance``, runs
the actor of ``policy.pt`` (written by ``proassist train --algo ppo``) and maps the
chosen action to the env's Dict action. It never looks at pixels (``needs_pixels =
False``: evaluated without rendering) and reads no privileged info. torch is imported
when the policy is built.

Without ``checkpoint`` it loads the committed ``policies/checkpoints/ppo/policy.pt``
(see the README beside it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from proassist.policies.base import PolicyBase, register_policy
from proassist.policies.learned.assets import CHECKPOINT_DIR

__all__ = ["PPO_CHECKPOINT", "PPOPolicy"]

#: The committed PPO checkpoint.
PPO_CHECKPOINT: Path = CHECKPOINT_DIR / "ppo" / "policy.pt"


@register_policy("ppo")
class PPOPolicy(PolicyBase):
    """The PPO when-to-speak agent (non-visual; see :mod:`.rl_env` for what it sees).

    Args:
        checkpoint: A ``policy.pt`` (or training checkpoint) written by
            ``proassist train --algo ppo``; default the committed one.
        greedy: Take the most likely action; by default the action is sampled from the
            policy, as in training, with a generator seeded by the episode seed (a
            policy that speaks rarely is silent at every point when greedy).
    """

    privileged = False
    needs_pixels = False

    def __init__(self, checkpoint: str | None = None, greedy: bool = False) -> None:
        super().__init__()
        from proassist.policies.learned import require_torch

        self.torch = require_torch("policy 'ppo'")
        from proassist.policies.learned.ppo import load_agent
        from proassist.policies.learned.rl_env import SpeakState
        from proassist.policies.learned.threads import apply_inference_threads

        apply_inference_threads(None)
        self.checkpoint = str(checkpoint or PPO_CHECKPOINT)
        self.agent, self.meta = load_agent(self.checkpoint)
        self.greedy = bool(greedy)
        self.state = SpeakState()
        self.stats: dict[str, int] = {"decisions": 0, "interrupts": 0}
        self.rng = np.random.default_rng(0)

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Start an episode: the initial plan, an empty dialogue."""
        super().reset(env_info=env_info, seed=seed)
        self.state.reset(env_info)
        self.stats = {"decisions": 0, "interrupts": 0}
        self.rng = np.random.default_rng(seed)

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """The agent's action at one decision point."""
        feats = self.torch.from_numpy(self.state.observe(observation))[None]
        with self.torch.no_grad():
            logits = self.agent.actor(feats)[0].double().numpy()
        if self.greedy:
            index = int(logits.argmax())
        else:
            probs = np.exp(logits - logits.max())
            index = int(self.rng.choice(len(probs), p=probs / probs.sum()))
        action = self.state.action(index)
        self.stats["decisions"] += 1
        self.stats["interrupts"] += int(action["decision"])
        return action

    def episode_extras(self) -> dict[str, Any]:
        """``policy_stats`` for the episode record."""
        return {"policy_stats": dict(self.stats)}
