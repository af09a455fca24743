"""Vector envs return the real ``goal`` and ``utterance`` text (async and sync)."""

from __future__ import annotations

import copy
import multiprocessing as mp
import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector.utils import create_shared_memory, read_from_shared_memory
from gymnasium.vector.utils import write_to_shared_memory as write_shm

import proassist.envs  # noqa: F401
from proassist.envs.spaces import observation_space, text_space
from proassist.envs.vector import SharedText, TextView

N = 2
#: Every sub-env tells the person the first plan step at every step: they answer
#: ("Okay.", "Please stop."), so ``utterance`` is not always empty.
NAG = {
    "decision": np.ones(N, np.int64),
    "intent": np.zeros(N, np.int64),
    "step": np.zeros(N, np.int64),
    "text": ("",) * N,
}


def _texts(mode: str | None, steps: int, **kwargs: object) -> list[tuple[tuple, tuple]]:
    """(goal, utterance) after reset and after each of ``steps`` nagging steps."""
    envs = gym.make_vec("ProAssist-Kitchen-v0", num_envs=N, vectorization_mode=mode, **kwargs)
    try:
        obs, _ = envs.reset(seed=0)
        seen = [(tuple(obs["goal"]), tuple(obs["utterance"]))]
        for _ in range(steps):
            obs, *_ = envs.step(NAG)
            seen.append((tuple(obs["goal"]), tuple(obs["utterance"])))
    finally:
        envs.close()
    return seen


@pytest.fixture(scope="module")
def sync_texts() -> list[tuple[tuple, tuple]]:
    return _texts("sync", steps=4, render=False)


def test_sync_returns_goal_text(sync_texts: list[tuple[tuple, tuple]]) -> None:
    goals = sync_texts[0][0]
    assert len(goals) == N and all(len(g) > 10 and set(g) != {"0"} for g in goals)
    assert all(goal == goals for goal, _ in sync_texts)
    assert any(any(u) for _, u in sync_texts), "the person never spoke: the check is void"


def test_async_default_call_returns_real_text(sync_texts: list[tuple[tuple, tuple]]) -> None:
    """The default ``make_vec(..., vectorization_mode="async")``: shared memory on."""
    envs = gym.make_vec("ProAssist-Kitchen-v0", num_envs=N, vectorization_mode="async")
    assert envs.shared_memory
    envs.close()
    seen = _texts("async", steps=4)
    assert seen == sync_texts


def test_default_mode_returns_real_text(sync_texts: list[tuple[tuple, tuple]]) -> None:
    assert _texts(None, steps=1, render=False) == sync_texts[:2]


def test_async_copy_false_view_follows_the_buffer(sync_texts: list[tuple[tuple, tuple]]) -> None:
    envs = gym.make_vec(
        "ProAssist-Kitchen-v0",
        num_envs=N,
        vectorization_mode="async",
        vector_kwargs={"copy": False},
        render=False,
    )
    try:
        obs, _ = envs.reset(seed=0)
        view = obs["utterance"]
        assert isinstance(view, TextView) and view == sync_texts[0][1]
        for expected in sync_texts[1:]:
            envs.step(NAG)
            assert view == expected[1] and tuple(obs["goal"]) == expected[0]
    finally:
        envs.close()


def test_text_view_reads_live_and_copies_to_tuple() -> None:
    space = text_space()
    buffer = create_shared_memory(space, n=N, ctx=mp.get_context())
    view = read_from_shared_memory(space, buffer, n=N)
    assert isinstance(view, TextView) and len(view) == N
    write_shm(space, 0, "Hello.", buffer)
    write_shm(space, 1, "Pass the salt!", buffer)
    assert view == ("Hello.", "Pass the salt!") and view[1] == "Pass the salt!"
    write_shm(space, 0, "", buffer)
    assert list(view) == ["", "Pass the salt!"] and view[:1] == ("",)
    for copied in (copy.copy(view), copy.deepcopy(view), pickle.loads(pickle.dumps(view))):
        assert type(copied) is tuple and copied == ("", "Pass the salt!")


def test_text_view_decodes_like_gymnasium() -> None:
    """Random strings of every length, decoded as Gymnasium's own ``Text`` reader does."""
    space = text_space()
    space.seed(0)
    gym_read = read_from_shared_memory.dispatch(gym.spaces.Text)
    buffer = create_shared_memory(space, n=N, ctx=mp.get_context())
    view = read_from_shared_memory(space, buffer, n=N)
    for length in (0, 1, 17, space.max_length):
        for i in range(N):
            write_shm(space, i, space.sample(mask=(length, None)), buffer)
        assert view.snapshot() == gym_read(space, buffer, n=N)
        assert [len(text) for text in view] == [length] * N


def test_shared_text_is_still_a_text_space() -> None:
    space = observation_space(8, 8, ("rgb",))
    for key in ("goal", "utterance"):
        assert isinstance(space[key], SharedText)
        assert space[key] == gym.spaces.Text(256, min_length=0, charset=space[key].character_set)
    assert pickle.loads(pickle.dumps(space)) == space
    assert space.contains(space.sample())
