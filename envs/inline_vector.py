"""A vector env whose first sub-env steps in the calling process, the rest in workers.

Gymnasium's :class:`~gymnasium.vector.AsyncVectorEnv` runs every sub-env in its own
worker while the calling process waits: on a machine with as many cores as sub-envs,
that process competes with the workers for a core at every step (sending actions,
reading results, batching), and both workers idle meanwhile. :class:`InlineVectorEnv`
runs sub-env 0 in the calling process (a one-env
:class:`~gymnasium.vector.SyncVectorEnv`) while the others step in an ``AsyncVectorEnv``:
it sends their actions, steps its own env, then collects theirs. ``n`` sub-envs use
``n`` processes, not ``n + 1``. Measured on 2 cores (``python -m bench env``): see the
README's benchmark table.

It is a Gymnasium :class:`~gymnasium.vector.VectorEnv` with the same batched
observations, rewards, flags and vector infos as the other two (tested against a
``SyncVectorEnv`` on the same seeds), the same autoreset modes, and ``copy`` as theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorEnv
from gymnasium.vector.utils import batch_space

__all__ = ["InlineVectorEnv", "make_inline_vec"]


def _take(batch: Any, part: slice) -> Any:
    """The sub-envs ``part`` of a batched action (dicts, arrays and tuples of text)."""
    if isinstance(batch, Mapping):
        return {k: _take(v, part) for k, v in batch.items()}
    if isinstance(batch, np.ndarray):
        return batch[part]
    return tuple(batch)[part]


def _join(a: Any, b: Any) -> Any:
    """Batch ``a`` (the first sub-envs) and ``b`` (the rest) into one."""
    if isinstance(a, Mapping):
        return {k: _join(a[k], b[k]) for k in a}
    if isinstance(a, np.ndarray):
        return np.concatenate([a, b])
    return tuple(a) + tuple(b)


def _blank(like: Any, n: int) -> Any:
    """``n`` empty entries shaped like the vector-info value ``like`` (Gymnasium's fill)."""
    if isinstance(like, Mapping):
        return {k: _blank(v, n) for k, v in like.items()}
    arr = np.asarray(like)
    if arr.dtype == object:
        return np.full((n, *arr.shape[1:]), None, dtype=object)
    return np.zeros((n, *arr.shape[1:]), dtype=arr.dtype)


def join_infos(a: dict, na: int, b: dict, nb: int) -> dict:
    """One vector info of ``na + nb`` sub-envs from the infos of the first ``na`` and the rest.

    A key one side lacks is filled as Gymnasium fills it (zeros or ``None``, mask False).
    """
    out: dict = {}
    for key in [*a, *(k for k in b if k not in a)]:
        if key.startswith("_") and key[1:] in {*a, *b}:
            continue
        left = a[key] if key in a else _blank(b[key], na)
        right = b[key] if key in b else _blank(a[key], nb)
        if isinstance(left, Mapping):
            out[key] = join_infos(left, na, right, nb)
        else:
            out[key] = np.concatenate([np.asarray(left), np.asarray(right)])
        mask_a = a.get(f"_{key}", np.zeros(na, dtype=bool))
        mask_b = b.get(f"_{key}", np.zeros(nb, dtype=bool))
        out[f"_{key}"] = np.concatenate([mask_a, mask_b])
    return out


class InlineVectorEnv(VectorEnv):
    """``n`` sub-envs: the first in this process, the others in worker processes.

    Args:
        env_fns: Callables that make the sub-envs (at least one).
        copy: Return copies of the observations (as Gymnasium's vector envs).
        autoreset_mode: Gymnasium's autoreset mode, for every sub-env.
        context: The workers' multiprocessing start method (``AsyncVectorEnv``'s).
    """

    def __init__(
        self,
        env_fns: Sequence[Callable[[], gym.Env]],
        copy: bool = True,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        context: str | None = None,
    ) -> None:
        if not env_fns:
            raise ValueError("InlineVectorEnv needs at least one env_fn")
        mode = AutoresetMode(autoreset_mode)
        self._local = SyncVectorEnv(env_fns[:1], copy=copy, autoreset_mode=mode)
        self._remote = (
            AsyncVectorEnv(env_fns[1:], copy=copy, autoreset_mode=mode, context=context)
            if len(env_fns) > 1
            else None
        )
        self.num_envs = len(env_fns)
        self.metadata = dict(self._local.metadata)
        self.render_mode = self._local.render_mode
        self.single_observation_space = self._local.single_observation_space
        self.single_action_space = self._local.single_action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict | None = None
    ) -> tuple[Any, dict]:
        """Reset every sub-env (``seed``: one int for ``seed + i``, or one per sub-env)."""
        seeds = self._seeds(seed)
        if self._remote is None:
            return self._local.reset(seed=seeds, options=options)
        self._remote.reset_async(seed=seeds[1:], options=options)
        obs, info = self._local.reset(seed=seeds[:1], options=options)
        r_obs, r_info = self._remote.reset_wait()
        return _join(obs, r_obs), join_infos(info, 1, r_info, self.num_envs - 1)

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Step every sub-env with its action of the batch ``actions``."""
        if self._remote is None:
            return self._local.step(actions)
        self._remote.step_async(_take(actions, slice(1, None)))
        local = self._local.step(_take(actions, slice(0, 1)))
        remote = self._remote.step_wait()
        batched = tuple(_join(a, b) for a, b in zip(local[:4], remote[:4], strict=True))
        return (*batched, join_infos(local[4], 1, remote[4], self.num_envs - 1))

    def _seeds(self, seed: int | Sequence[int | None] | None) -> list[int | None]:
        if seed is None:
            return [None] * self.num_envs
        if isinstance(seed, int | np.integer):
            return [int(seed) + i for i in range(self.num_envs)]
        seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(f"{len(seeds)} seeds for {self.num_envs} sub-envs")
        return seeds

    def close_extras(self, **kwargs: Any) -> None:
        """Close the in-process sub-env and the workers."""
        self._local.close()
        if self._remote is not None:
            self._remote.close(**kwargs)


def make_inline_vec(env_id: str, num_envs: int, **kwargs: Any) -> InlineVectorEnv:
    """``num_envs`` copies of ``gym.make(env_id, **kwargs)`` in an :class:`InlineVectorEnv`."""

    def make() -> gym.Env:
        return gym.make(env_id, **kwargs)

    return InlineVectorEnv([make] * num_envs)
