"""Fixtures for the policy tests: a small procedure described as env_info."""

from __future__ import annotations

import pytest


def make_env_info(n_steps: int = 4, duration: float = 5.0) -> dict:
    """An env_info dict for a linear procedure of ``n_steps`` steps."""
    plan = [
        {
            "id": f"s{i}",
            "instruction": f"Do step number {i}",
            "after": [f"s{i - 1}"] if i else [],
            "optional": False,
            "safety_critical": i == 1,
            "duration_mean": duration,
            "done_cue": f"cue {i} done",
            "todo_cue": f"cue {i} todo",
        }
        for i in range(n_steps)
    ]
    return {
        "task": "toy_task",
        "domain": "kitchen",
        "goal": "Finish the toy task",
        "plan": plan,
        "dt": 0.5,
    }


@pytest.fixture
def env_info() -> dict:
    """Four linear steps of 5 s each."""
    return make_env_info()


@pytest.fixture(scope="session")
def make_info():
    """The :func:`make_env_info` factory."""
    return make_env_info


def _ignored_episode(policy: object) -> dict:
    """One privileged kitchen_tea episode (seed 0, no rendering) of a person who never
    follows advice (``compliance`` 0) and skips ``fill_kettle``, ``policy`` acting."""
    import gymnasium as gym

    import proassist.envs  # noqa: F401  (registers the ids)
    from proassist.policies.rollout import rollout

    env = gym.make(
        "ProAssist-Kitchen-v0",
        task="kitchen_tea",
        privileged=True,
        render=False,
        person={"compliance": 0.0},
        deviation_rates={},
        deviation_script=[{"kind": "omission", "step": "fill_kettle"}],
    )
    return rollout(env, policy, seed=0)


@pytest.fixture(scope="session")
def ignored_episode():
    """:func:`_ignored_episode`: a skipped step and every correction of it ignored."""
    return _ignored_episode


def _scripted_episode(policy: str, kwargs: dict, script: list, obs_modes: tuple) -> dict:
    """One privileged kitchen_scrambled_eggs episode (seed 3) with only ``script``'s
    deviations, ``policy`` acting; its episode record."""
    import gymnasium as gym

    import proassist.envs  # noqa: F401  (registers the ids)
    from proassist.policies import make_policy
    from proassist.policies.rollout import env_info

    env = gym.make(
        "ProAssist-Kitchen-v0",
        task="kitchen_scrambled_eggs",
        deviation_rates={},
        deviation_script=script,
        obs_modes=obs_modes,
        privileged=True,
    )
    pol = make_policy(policy, **kwargs)
    obs, info = env.reset(seed=3)
    pol.reset(env_info=env_info(env), seed=3)
    done = False
    while not done:
        obs, _, te, tr, info = env.step(pol.act(obs, info))
        done = te or tr
    record = env.unwrapped.episode_record(policy=policy)
    env.close()
    return record


@pytest.fixture(scope="session")
def scripted_episode():
    """Run one scripted kitchen episode: ``(policy, kwargs, script, obs_modes) -> record``."""
    return _scripted_episode


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> str:
    """A recogniser trained for a few seconds on real recorded streams (64 px)."""
    from proassist.policies.learned.steps_train import (
        record_streams,
        save_recognizer,
        train_recognizer,
    )

    streams = record_streams(["ProAssist-Kitchen-v0"], [5, 6], size=64)
    for s in streams:
        assert {r[1] for r in s["rows"]} - {len(s["plan"])}, "the true plan step is recorded"
    net, _ = train_recognizer(streams, rounds=1, epochs=2, hidden=16, log=lambda s: None)
    out = tmp_path_factory.mktemp("steps")
    save_recognizer(net, out, {"deploy": {"confidence": 0.0, "sustain": 1, "worked": 0.5}})
    return str(out)
