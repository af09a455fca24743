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
