"""``first-of``: the first interrupting action of several assistants (policies/compose.py)."""

from __future__ import annotations

import gymnasium as gym
import pytest

import proassist.envs  # noqa: F401  (registers the ids)
from proassist.policies import make_policy
from proassist.policies.rollout import env_info, rollout

SPAM = {"policy": "spam-correct", "policy_kwargs": {"period": 2.0}}
PERIODIC = {"policy": "periodic", "policy_kwargs": {"period": 3.0}}


def test_first_of_sends_the_first_interrupting_action_in_order() -> None:
    first = make_policy("first-of", policies=[PERIODIC, SPAM])
    env = gym.make("ProAssist-Kitchen-v0", render=False, max_duration=30.0)
    record = rollout(env, first, seed=1)
    alone = {
        name: [
            d["t"]
            for d in rollout(env, make_policy(name, **kw), seed=1)["decisions"]
            if d.get("decision")
        ]
        for name, kw in (
            ("periodic", PERIODIC["policy_kwargs"]),
            ("spam-correct", SPAM["policy_kwargs"]),
        )
    }
    env.close()
    sent = [d["t"] for d in record["decisions"] if d.get("decision")]
    assert sent and set(alone["periodic"]) <= set(sent)
    assert set(sent) <= set(alone["periodic"]) | set(alone["spam-correct"])
    n_periodic, n_spam = record["first_of_sent"]
    assert n_periodic == len(alone["periodic"]) and n_periodic + n_spam == len(sent)


def test_first_of_checks_its_entries() -> None:
    with pytest.raises(ValueError, match="at least two"):
        make_policy("first-of", policies=[SPAM])
    with pytest.raises(ValueError, match="policies\\[1\\]"):
        make_policy("first-of", policies=[SPAM, {"name": "silent"}])
    with pytest.raises(ValueError, match="privileged"):
        make_policy("first-of", policies=[SPAM, {"policy": "oracle"}])


def test_first_of_takes_the_union_of_obs_modes() -> None:
    both = make_policy("first-of", policies=[SPAM, {"policy": "stepwatch"}])
    assert "segmentation" in both.obs_modes and both.needs_pixels
    env = gym.make(
        "ProAssist-Kitchen-v0", obs_modes=both.obs_modes, width=32, height=32, max_duration=5.0
    )
    obs, _ = env.reset(seed=0)
    both.reset(env_info=env_info(env), seed=0)
    assert both.act(obs, None)["decision"] in (0, 1)
    env.close()
