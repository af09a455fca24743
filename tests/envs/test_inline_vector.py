"""``InlineVectorEnv`` steps like a ``SyncVectorEnv``: same batches, infos and autoresets."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import proassist.envs  # noqa: F401
from proassist.envs.inline_vector import InlineVectorEnv, join_infos, make_inline_vec

KWARGS = {"task": "kitchen_tea", "render": False, "max_episode_steps": 6}


def _fns(n: int) -> list:
    return [lambda: gym.make("ProAssist-Kitchen-v0", **KWARGS)] * n


def _assert_same(a: object, b: object, where: str = "") -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), (where, sorted(a), sorted(b))
        for k in a:
            _assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, np.ndarray):
        assert np.array_equal(np.asarray(b), a), where
    else:
        assert tuple(a) == tuple(b), where  # type: ignore[arg-type]


def _rollout(envs: gym.vector.VectorEnv, steps: int) -> list:
    """Everything the vector env returns over a reset and ``steps`` seeded random steps."""
    envs.action_space.seed(3)
    out = [envs.reset(seed=11)]
    for _ in range(steps):
        action = envs.action_space.sample()
        action["step"] = np.zeros(envs.num_envs, np.int64)  # a plan step of every task
        out.append(envs.step(action))
    envs.close()
    return out


@pytest.mark.parametrize("n", [1, 3])
def test_inline_matches_sync_across_autoresets(n: int) -> None:
    """Episodes of 6 steps truncate: 14 steps cross two autoresets in every sub-env."""
    want = _rollout(gym.vector.SyncVectorEnv(_fns(n)), 14)
    got = _rollout(InlineVectorEnv(_fns(n)), 14)
    assert any(step[3].any() for step in want[1:]), "no truncation: the check is void"
    for i, (a, b) in enumerate(zip(want, got, strict=True)):
        for j, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"call {i} item {j}")


def test_make_inline_vec_spaces_and_seeds() -> None:
    envs = make_inline_vec("ProAssist-Kitchen-v0", 2, **KWARGS)
    try:
        assert envs.num_envs == 2 and envs.action_space.shape is None
        obs, _ = envs.reset(seed=[5, 6])
        assert obs in envs.observation_space
        with pytest.raises(ValueError, match="3 seeds for 2 sub-envs"):
            envs.reset(seed=[1, 2, 3])
    finally:
        envs.close()


def test_join_infos_fills_what_one_side_lacks() -> None:
    a = {"x": np.array([1.0]), "_x": np.array([True]), "s": {"y": np.array([2])}}
    a["_s"] = np.array([True])
    b = {"z": np.array(["hi", None], dtype=object), "_z": np.array([True, False])}
    out = join_infos(a, 1, b, 2)
    assert out["x"].tolist() == [1.0, 0.0, 0.0] and out["_x"].tolist() == [True, False, False]
    assert out["z"].tolist() == [None, "hi", None] and out["_z"].tolist() == [False, True, False]
    assert out["s"]["y"].tolist() == [2, 0, 0] and out["_s"].tolist() == [True, False, False]
