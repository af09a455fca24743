"""Perception noise on segmentation (issue 10, item 7)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import proassist.envs  # noqa: F401  (registers the ids)
from proassist.envs.perception import (
    check_perception_noise,
    lookalikes,
    perception_label,
    perturb_segmentation,
)
from proassist.policies import make_policy
from proassist.policies.rollout import rollout


class _Obj:
    def __init__(self, oid: str, alternatives: tuple[str, ...] = ()) -> None:
        self.id, self.alternatives = oid, alternatives


def test_lookalikes_are_symmetric_and_skip_unknown_ids() -> None:
    ids = {"mug": 3, "cup": 4, "pot": 5}
    got = lookalikes([_Obj("mug", ("cup", "ghost")), _Obj("pot")], ids)
    assert got == {3: (4,), 4: (3,)}


def test_perturb_misses_and_confuses_at_the_given_rates() -> None:
    seg = np.array([[3, 3, 4], [5, 7, -1]], np.int32)  # 7: a fixture
    objects, alikes = frozenset({3, 4, 5}), {3: (4,), 4: (3,)}
    rng = np.random.default_rng(0)
    missed = perturb_segmentation(seg, objects, alikes, {"miss": 1.0}, rng)
    assert (missed == np.array([[-1, -1, -1], [-1, 7, -1]])).all()
    swapped = perturb_segmentation(seg, objects, alikes, {"confuse": 1.0}, rng)
    assert (swapped == np.array([[4, 4, 3], [5, 7, -1]])).all()
    same = perturb_segmentation(seg, objects, alikes, {}, rng)
    assert (same == seg).all() and same is not seg
    n, hits = 2000, 0
    for _ in range(n):
        out = perturb_segmentation(seg, objects, alikes, {"confuse": 0.3, "miss": 0.1}, rng)
        hits += int(out[1, 0] == -1)
    assert abs(hits / n - 0.1) < 0.03


def test_check_and_label() -> None:
    assert check_perception_noise(None) == [] == check_perception_noise({"miss": 0.2})
    assert check_perception_noise({"mis": 0.2})[0][0] == ("mis",)
    assert "probability" in check_perception_noise({"confuse": 2})[0][1]
    assert check_perception_noise("loud")
    assert perception_label(None) == "privileged" == perception_label({"miss": 0.0})
    assert perception_label({"confuse": 0.5}) == "noisy(confuse=0.5, miss=0)"


def _seg_run(noise: dict[str, float] | None, seed: int = 0) -> tuple[list[np.ndarray], dict]:
    env = gym.make(
        "ProAssist-Kitchen-v0",
        task="kitchen_tea",
        obs_modes=["rgb", "segmentation"],
        width=48,
        height=48,
        perception_noise=noise,
    )
    try:
        obs, _ = env.reset(seed=seed)
        frames = [obs["segmentation"].copy()]
        for _ in range(12):
            obs, *_ = env.step(make_policy("silent").act(obs))
            frames.append(obs["segmentation"].copy())
        return frames, env.unwrapped.env_kwargs()
    finally:
        env.close()


def test_env_noise_is_seeded_and_changes_only_segmentation() -> None:
    clean, kwargs = _seg_run(None)
    noisy, kwargs_noisy = _seg_run({"miss": 0.5})
    again, _ = _seg_run({"miss": 0.5})
    assert kwargs["perception_noise"] is None and kwargs_noisy["perception_noise"] == {"miss": 0.5}
    assert all((a == b).all() for a, b in zip(noisy, again, strict=True))
    assert any((a != b).any() for a, b in zip(clean, noisy, strict=True))
    assert all(
        set(np.unique(n)) <= set(np.unique(c)) | {-1} for c, n in zip(clean, noisy, strict=True)
    )


def test_record_labels_perception_and_bad_noise_is_rejected() -> None:
    env = gym.make("ProAssist-Kitchen-v0", task="kitchen_tea", render=False)
    try:
        record = rollout(env, make_policy("silent"), seed=0)
    finally:
        env.close()
    assert record["perception"] == "privileged"
    with pytest.raises(ValueError, match="perception_noise.confuse"):
        gym.make("ProAssist-Kitchen-v0", perception_noise={"confuse": 1.5})
