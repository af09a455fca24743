"""Every registered policy completes an episode in every registered env."""

from __future__ import annotations

import inspect

import pytest

from proassist.analysis.evaluation import evaluate
from proassist.policies import list_policies, make_policy, policy_kwargs

ENVS = ["ProAssist-Kitchen-v0", "ProAssist-Assembly-v0", "ProAssist-Maintenance-v0"]


@pytest.mark.parametrize("name", list_policies())
def test_policy_completes_an_episode_in_every_env(name: str) -> None:
    required = [k for k, (_, d, _) in policy_kwargs(name).items() if d is inspect.Parameter.empty]
    if required:
        pytest.skip(f"{name} needs {required} (a trained artefact)")
    policy = make_policy(name)
    for env_id in ENVS:
        kwargs = {"max_duration": 8.0}
        if not getattr(policy, "needs_pixels", False):
            kwargs["render"] = False
        records, scores = evaluate(policy, env_id, [0], paired_silent=False, **kwargs)
        (record,) = records
        assert record["decisions"] and record["duration"] > 0
        assert len(record["decisions"]) == int(record["duration"] / record["dt"] + 0.5)
        assert "g_mean" in scores
