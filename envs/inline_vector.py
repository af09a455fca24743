"""A lean lock-step vector env: sub-env 0 steps in the calling process, the rest in workers.

Gymnasium's :class:`~gymnasium.vector.AsyncVectorEnv` runs every sub-env in its own
worker while the calling process waits: on a machine with as many cores as sub-envs,
that process competes with the workers for a core at every step (sending actions,
reading results, batching), and both workers idle meanwhile. :class:`InlineVectorEnv`
steps sub-env 0 in the calling process between sending the workers their actions and
collecting their results, so ``n`` sub-envs use ``n`` processes, not ``n + 1``.

Its per-step protocol is lean: every sub-env, the in-process one too, writes its
observation into one shared-memory batch (Gymnasium's shared-memory layout, so no
concatenation), a worker sends back only its reward, flags and info, and the vector
info is built once, as ``SyncVectorEnv`` builds it. Measured on 2 cores and on a GPU
machine (``python -m bench env``, ``python -m bench scale``): see the README's
benchmark table.

It is a Gymnasium :class:`~gymnasium.vector.VectorEnv` with the same batched
observations, rewards, flags and vector infos as a ``SyncVectorEnv`` (tested on the
same seeds, across autoresets, in every autoreset mode), and ``call``, ``get_attr``,
``set_attr`` and ``render`` as Gymnasium's vector envs have them. ``copy=False`` returns, as
``AsyncVectorEnv`` does, the same views into the shared batch every time (text fields
as :class:`~proassist.envs.vector.TextView`, which follow it). An
exception in a worker is raised here with the sub-env's index and the worker's traceback,
once every other sub-env has answered; after a failed ``reset`` or ``step`` (or a dead
worker, or an interrupted exchange) the vector env refuses further calls, while a failed
``call``/``get_attr``/``set_attr`` leaves it usable.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Callable, Sequence
from copy import deepcopy
from multiprocessing.reduction import ForkingPickler
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.error import ClosedEnvironmentError
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import (
    CloudpickleWrapper,
    batch_space,
    create_shared_memory,
    iterate,
    read_from_shared_memory,
    write_to_shared_memory,
)

from proassist.sim.render.gl_context import gpu_context_made

__all__ = ["InlineVectorEnv", "SubEnv", "make_inline_vec"]

#: Seconds a process polls its pipe before it blocks on it (a blocked process waits for
#: the scheduler to wake it, which costs more than a lock step's work here).
SPIN_S = float(os.environ.get("PROASSIST_VEC_SPIN", "0.002"))


def _recv(pipe: Any, spin: float = SPIN_S) -> Any:
    """``pipe.recv()``, polling for up to ``spin`` seconds before blocking."""
    if spin > 0 and not pipe.poll(0):
        end = time.perf_counter() + spin
        while not pipe.poll(0) and time.perf_counter() < end:
            pass
    return pipe.recv()


class SubEnv:
    """One sub-env stepped with Gymnasium's autoreset semantics (as ``SyncVectorEnv``).

    Args:
        env: The env.
        mode: The autoreset mode.
    """

    def __init__(self, env: gym.Env, mode: AutoresetMode) -> None:
        self.env, self.mode, self.done = env, mode, False

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        """Reset the env (its episode-end flag too)."""
        self.done = False
        return self.env.reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        """One step; after an episode end, a reset (next-step mode) or a reset within it."""
        if self.done and self.mode == AutoresetMode.NEXT_STEP:
            obs, info = self.env.reset()
            self.done = False
            return obs, 0.0, False, False, info
        if self.done and self.mode == AutoresetMode.DISABLED:
            raise RuntimeError("autoreset disabled: reset this sub-env (options['reset_mask'])")
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.done = bool(terminated or truncated)
        if self.done and self.mode == AutoresetMode.SAME_STEP:
            final = {"final_obs": obs, "final_info": info}
            obs, reset_info = self.env.reset()
            info = {**final, **reset_info}
        return obs, float(reward), bool(terminated), bool(truncated), info


#: Names :meth:`InlineVectorEnv.call` refuses (as ``AsyncVectorEnv``): call them directly.
_NOT_CALLABLE = frozenset({"reset", "step", "close", "_setattr", "_check_spaces"})


def _serve(sub: SubEnv, command: str, data: Any) -> tuple[Any, tuple]:
    """Run one command on a sub-env: ``(its new observation or None, the answer)``.

    ``reset``/``step`` answer what follows the observation; ``_call`` answers the
    attribute (called with the arguments if callable); ``_setattr`` sets it.
    """
    if command == "reset":
        obs, info = sub.reset(**data)
        return obs, (info,)
    if command == "step":
        obs, *rest = sub.step(data)
        return obs, tuple(rest)
    if command == "_call":
        name, args, kwargs = data
        attr = sub.env.get_wrapper_attr(name)
        return None, (attr(*args, **kwargs) if callable(attr) else attr,)
    if command == "_setattr":
        sub.env.set_wrapper_attr(*data)
        return None, (None,)
    raise ValueError(f"unknown command {command!r}")


def _worker(
    index: int,
    env_fn: CloudpickleWrapper,
    pipe: Any,
    parent_pipe: Any,
    shm: Any,
    mode: str,
    spaces: tuple[gym.Space, gym.Space],
) -> None:
    """A worker: make the env, answer whether that worked (its spaces must be
    ``spaces``, sub-env 0's), then serve commands (:func:`_serve`) until ``close``."""
    parent_pipe.close()
    try:
        sub = SubEnv(env_fn(), AutoresetMode(mode))
        if (sub.env.observation_space, sub.env.action_space) != spaces:
            raise ValueError(
                f"its spaces differ from sub-env 0's: {sub.env.observation_space} / "
                f"{sub.env.action_space} against {spaces[0]} / {spaces[1]}"
            )
        pipe.send((True, None))
    except (KeyboardInterrupt, Exception):  # noqa: BLE001 - reported to the parent
        pipe.send((False, traceback.format_exc()))
        return
    while True:
        try:
            command, data = _recv(pipe)
        except (EOFError, KeyboardInterrupt):  # the parent is gone: nothing to answer
            sub.env.close()
            return
        try:
            if command == "close":
                sub.env.close()
                pipe.send((True, None))
                return
            obs, answer = _serve(sub, command, data)
            if obs is not None:
                write_to_shared_memory(sub.env.observation_space, index, obs, shm)
            pipe.send((True, answer))
        except (KeyboardInterrupt, Exception):  # noqa: BLE001 - reported to the parent
            pipe.send((False, traceback.format_exc()))


class InlineVectorEnv(VectorEnv):
    """``n`` sub-envs: the first in this process, the others in worker processes.

    Args:
        env_fns: Callables that make the sub-envs (at least one).
        copy: Return copies of the observations (as Gymnasium's vector envs).
        autoreset_mode: Gymnasium's autoreset mode, for every sub-env.
        context: The workers' multiprocessing start method. Default: the platform's,
            except ``"spawn"`` once this process has drawn on a GPU driver (a process
            forked from it may hang: :func:`~proassist.sim.render.gl_context.
            gpu_context_made`).
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
        self.num_envs, self.copy = len(env_fns), copy
        self.autoreset_mode = AutoresetMode(autoreset_mode)
        self._pipes: list[Any] = []
        self._procs: list[Any] = []
        self._failed = ""
        self._done = np.zeros(self.num_envs, dtype=np.bool_)  # autoreset disabled: to reset
        try:
            self._setup(env_fns, context)
        except BaseException:
            self.close_extras()
            raise

    def _setup(self, env_fns: Sequence[Callable[[], gym.Env]], context: str | None) -> None:
        """Sub-env 0 here, the workers started and their envs made (or the error raised)."""
        self._local = SubEnv(env_fns[0](), self.autoreset_mode)
        self.single_observation_space = self._local.env.observation_space
        self.single_action_space = self._local.env.action_space
        self.metadata = {**self._local.env.metadata, "autoreset_mode": self.autoreset_mode}
        self.render_mode = self._local.env.render_mode
        if context is None and gpu_context_made():
            context = "spawn"
        self.context = context
        ctx = mp.get_context(context)
        self._shm = create_shared_memory(self.single_observation_space, self.num_envs, ctx=ctx)
        self._start_workers(env_fns, ctx)
        for i in range(1, self.num_envs):
            self._receive(i)  # the worker made its env, or its error is raised here
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._obs = read_from_shared_memory(self.single_observation_space, self._shm, self.num_envs)

    def _start_workers(self, env_fns: Sequence[Callable[[], gym.Env]], ctx: Any) -> None:
        """One daemon worker per sub-env after the first, sharing the observation batch."""
        mode = self.autoreset_mode.value
        for index, fn in enumerate(env_fns[1:], start=1):
            parent, child = ctx.Pipe()
            spaces = (self.single_observation_space, self.single_action_space)
            args = (index, CloudpickleWrapper(fn), child, parent, self._shm, mode, spaces)
            proc = ctx.Process(target=_worker, args=args, name=f"InlineVectorEnv-{index}")
            proc.daemon = True
            proc.start()
            child.close()
            self._pipes.append(parent)
            self._procs.append(proc)

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict | None = None
    ) -> tuple[Any, dict]:
        """Reset the sub-envs (``seed``: one int for ``seed + i``, or one per sub-env).

        ``options["reset_mask"]`` (a boolean array, one per sub-env) resets only those,
        as Gymnasium's vector envs do.
        """
        seeds = self._seeds(seed)
        options = None if options is None else dict(options)
        mask = self._reset_mask(None if options is None else options.pop("reset_mask", None))
        kwargs = [{"seed": s, "options": options} for s in seeds]
        local, answers = self._round("reset", kwargs, mask)
        self._done[mask] = False
        infos = self._add_info({}, local[0], 0) if local is not None else {}
        for i, (info,) in answers.items():
            infos = self._add_info(infos, info, i)
        return (deepcopy(self._obs) if self.copy else self._obs), infos

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Step every sub-env with its action of the batch ``actions``."""
        if self.autoreset_mode == AutoresetMode.DISABLED and self._done.any():
            raise ValueError(
                f"autoreset disabled: reset the finished sub-envs {np.flatnonzero(self._done)} "
                "first (reset(options={'reset_mask': ...}))"
            )
        per_env = list(iterate(self.action_space, actions))
        local, answers = self._round("step", per_env)
        outs = [local, *answers.values()]
        infos: dict = {}
        for i, out in enumerate(outs):
            infos = self._add_info(infos, out[3], i)
        terminated = np.array([o[1] for o in outs], dtype=np.bool_)
        truncated = np.array([o[2] for o in outs], dtype=np.bool_)
        self._done = terminated | truncated
        obs = deepcopy(self._obs) if self.copy else self._obs
        return obs, np.array([o[0] for o in outs], dtype=np.float64), terminated, truncated, infos

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """Call method ``name`` of every sub-env with the arguments (or read it, if it is
        not callable), as ``AsyncVectorEnv`` does: one result per sub-env; ``reset``,
        ``step`` and ``close`` are refused by name, as there.

        An error in a sub-env is raised once every sub-env has answered (sub-env 0's as
        itself, a worker's as a ``RuntimeError`` with its traceback); the vector env goes
        on (unlike after a failed ``reset`` or ``step``, or a dead worker).
        """
        if name in _NOT_CALLABLE:
            raise ValueError(f"use {name}() of the vector env, not call({name!r})")
        local, answers = self._round("_call", [(name, args, kwargs)] * self.num_envs)
        return (local[0], *(a[0] for a in answers.values()))

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """Attribute ``name`` of every sub-env (through its wrappers)."""
        return self.call(name)

    def set_attr(self, name: str, values: Any) -> None:
        """Set attribute ``name`` of every sub-env: ``values`` a list or tuple with one
        value per sub-env, or any other value for all of them."""
        if not isinstance(values, list | tuple):
            values = [values] * self.num_envs
        if len(values) != self.num_envs:
            raise ValueError(f"{len(values)} values for {self.num_envs} sub-envs")
        self._round("_setattr", [(name, v) for v in values])

    def render(self) -> tuple[Any, ...] | None:
        """Every sub-env's frame (``render_mode="rgb_array"``), as ``AsyncVectorEnv``."""
        return self.call("render")

    def _round(
        self, command: str, data: list, on: np.ndarray | None = None
    ) -> tuple[Any, dict[int, tuple]]:
        """Send ``command`` to the workers ``on`` selects (None: all), run it here for
        sub-env 0 (if selected), then read every answer, also after a failure, so none is
        left unread.

        Returns sub-env 0's answer (``None`` if not selected) and the workers' answers by
        index. Every message is pickled before any is sent (a value that cannot be is
        refused with nothing sent). After a failed ``reset`` or ``step``, a dead worker,
        or an exchange cut short (an interrupt), the vector env refuses further calls:
        make a new one.
        """
        if self.closed:
            raise ClosedEnvironmentError("InlineVectorEnv: it was closed")
        if self._failed:
            raise RuntimeError(f"InlineVectorEnv cannot go on after {self._failed}: make a new one")
        on = np.ones(self.num_envs, dtype=np.bool_) if on is None else on
        sends = {
            int(i): ForkingPickler.dumps((command, data[i])) for i in np.flatnonzero(on[1:]) + 1
        }
        try:
            local, answers, failure = self._exchange(sends, command, (data[0],) if on[0] else None)
        except BaseException as exc:  # an interrupt too: answers may be left unread
            self._failed = self._failed or f"an unfinished exchange ({type(exc).__name__})"
            raise
        if failure is not None:
            if command in ("reset", "step"):  # the sub-envs may now be out of step
                first = (str(failure).splitlines() or [""])[0]
                what = f"{type(failure).__name__}: {first}"
                self._failed = self._failed or f"an error in a sub-env ({what})"
            raise failure
        return local, answers

    def _exchange(
        self, sends: dict[int, Any], command: str, here: tuple | None
    ) -> tuple[Any, dict[int, tuple], BaseException | None]:
        """One round: the workers' pickled messages ``sends`` out, ``command`` on sub-env
        0 with ``here[0]`` (None: sub-env 0 not selected), every answer in; also the
        first failure (sub-env 0's, else a worker's)."""
        for i, message in sends.items():
            try:
                self._pipes[i - 1].send_bytes(message)
            except (BrokenPipeError, ConnectionResetError) as exc:
                raise self._dead(i) from exc
        local, failure = None, None
        if here is not None:
            try:
                obs, local = _serve(self._local, command, here[0])
                if obs is not None:
                    write_to_shared_memory(self.single_observation_space, 0, obs, self._shm)
            except Exception as exc:  # noqa: BLE001 - raised by _round, after the answers
                failure = exc
        answers = {}
        for i in sends:
            try:
                answers[i] = self._receive(i)
            except RuntimeError as exc:
                failure = failure or exc
        return local, answers, failure

    def _receive(self, index: int) -> tuple:
        """Sub-env ``index``'s answer; its worker's exception raised here, with traceback
        (a worker that died also makes the vector env refuse further calls)."""
        try:
            ok, payload = _recv(self._pipes[index - 1])
        except (EOFError, ConnectionResetError) as exc:
            raise self._dead(index) from exc
        if not ok:
            raise RuntimeError(f"InlineVectorEnv: sub-env {index} raised in its worker:\n{payload}")
        return payload

    def _dead(self, index: int) -> RuntimeError:
        """The error for sub-env ``index``'s dead worker; the env refuses to go on."""
        self._failed = self._failed or f"the death of sub-env {index}'s worker"
        return RuntimeError(f"InlineVectorEnv: the worker of sub-env {index} died")

    def _reset_mask(self, mask: Any) -> np.ndarray:
        if mask is None:
            return np.ones(self.num_envs, dtype=np.bool_)
        if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
            raise TypeError(f"options['reset_mask'] must be a numpy array of bools, got {mask!r}")
        if mask.shape != (self.num_envs,) or not mask.any():
            raise ValueError(
                f"options['reset_mask'] must be a boolean array of shape ({self.num_envs},) "
                f"with at least one True, got {mask!r}"
            )
        return mask

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
        """Close the in-process sub-env and the workers (ended if they do not answer)."""
        try:
            if getattr(self, "_local", None) is not None:
                self._local.env.close()
        finally:
            self._close_workers()

    def _close_workers(self) -> None:
        for pipe in self._pipes:
            try:
                pipe.send(("close", None))
            except (BrokenPipeError, OSError):
                pass
        for pipe, proc in zip(self._pipes, self._procs, strict=True):
            try:
                if pipe.poll(10):
                    pipe.recv()
            except (EOFError, OSError):
                pass
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join(1)
            pipe.close()
        self._pipes, self._procs = [], []

    def __del__(self) -> None:
        """Close the workers of a vector env dropped without ``close()``."""
        if not getattr(self, "closed", True) and getattr(self, "_procs", None):
            try:
                self.close()
            except Exception:  # noqa: BLE001 - at interpreter exit, nothing to report to
                pass


def make_inline_vec(env_id: str, num_envs: int, **kwargs: Any) -> InlineVectorEnv:
    """``num_envs`` copies of ``gym.make(env_id, **kwargs)`` in an :class:`InlineVectorEnv`."""

    def make() -> gym.Env:
        return gym.make(env_id, **kwargs)

    return InlineVectorEnv([make] * num_envs)
