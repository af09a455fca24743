"""``InlineVectorEnv`` steps like a ``SyncVectorEnv``: same batches, infos and autoresets."""

from __future__ import annotations

import gc
import multiprocessing as mp

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import proassist.envs  # noqa: F401
from proassist.envs.inline_vector import InlineVectorEnv, make_inline_vec

KWARGS = {"task": "kitchen_tea", "render": False, "max_episode_steps": 6}


def _fns(n: int) -> list:
    return [lambda: gym.make("ProAssist-Kitchen-v0", **KWARGS)] * n


def _assert_same(a: object, b: object, where: str = "") -> None:
    if isinstance(a, float | int | str | None):
        assert a == b, where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), (where, sorted(a), sorted(b))
        for k in a:
            _assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, np.ndarray) and a.dtype == object:  # final_obs / final_info
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
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


@pytest.mark.parametrize(
    ("n", "mode"), [(1, "NextStep"), (3, "NextStep"), (3, "SameStep"), (2, "Disabled")]
)
def test_inline_matches_sync_across_autoresets(n: int, mode: str) -> None:
    """Episodes of 6 steps truncate: 14 steps cross two autoresets in every sub-env
    (with autoreset disabled, 6 steps: the episodes' end)."""
    steps = 6 if mode == "Disabled" else 14
    want = _rollout(gym.vector.SyncVectorEnv(_fns(n), autoreset_mode=mode), steps)
    got = _rollout(InlineVectorEnv(_fns(n), autoreset_mode=mode), steps)
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


def test_reset_mask_resets_only_those_sub_envs() -> None:
    """Autoreset disabled: sub-envs are reset by mask, as in a SyncVectorEnv; stepping a
    finished one that was not reset is an error."""
    out = []
    for envs in (
        gym.vector.SyncVectorEnv(_fns(3), autoreset_mode=AutoresetMode.DISABLED),
        InlineVectorEnv(_fns(3), autoreset_mode=AutoresetMode.DISABLED),
    ):
        envs.reset(seed=[1, 2, 3])
        envs.action_space.seed(0)
        action = {**envs.action_space.sample(), "step": np.zeros(3, np.int64)}
        for _ in range(6):
            *_, truncated, _ = envs.step(action)
        assert truncated.all()
        mask = np.array([False, True, True])
        out.append(envs.reset(seed=[None, 7, 8], options={"reset_mask": mask}))
        if isinstance(envs, InlineVectorEnv):  # SyncVectorEnv asserts; then both go on
            with pytest.raises(ValueError, match=r"reset the finished sub-envs \[0\]"):
                envs.step(action)
            envs.reset(options={"reset_mask": np.array([True, False, False])})
            assert not envs.step(action)[3].any()
        envs.close()
    for x, y in zip(*out, strict=True):
        _assert_same(x, y)


def _broken_env() -> gym.Env:
    raise OSError("no such scene")


def test_worker_errors_name_the_sub_env_and_the_cause() -> None:
    """A worker's env that cannot be made, or whose spaces differ from sub-env 0's,
    fails the construction, with the worker's traceback; nothing is left running."""
    with pytest.raises(RuntimeError, match=r"sub-env 1 raised(.|\n)*OSError: no such scene"):
        InlineVectorEnv(_fns(1) + [_broken_env])
    other = [lambda: gym.make("ProAssist-Kitchen-v0", **{**KWARGS, "width": 32})]
    with pytest.raises(RuntimeError, match="spaces differ from sub-env 0's"):
        InlineVectorEnv(_fns(2) + other)
    assert not [p for p in mp.active_children() if p.name.startswith("InlineVectorEnv")]


def test_a_bad_reset_mask_says_what_it_expects() -> None:
    envs = InlineVectorEnv(_fns(2), autoreset_mode=AutoresetMode.DISABLED)
    try:
        envs.reset(seed=0)
        with pytest.raises(TypeError, match="numpy array of bools"):
            envs.reset(options={"reset_mask": np.array([1, 0])})
        with pytest.raises(ValueError, match=r"boolean array of shape \(2,\)"):
            envs.reset(options={"reset_mask": np.array([True])})
    finally:
        envs.close()


def test_workers_are_spawned_once_this_process_drew_on_a_gpu(monkeypatch) -> None:
    from proassist.envs import inline_vector

    monkeypatch.setattr(inline_vector, "gpu_context_made", lambda: False)
    envs = InlineVectorEnv(_fns(1))
    assert envs.context is None  # the platform's default
    envs.close()
    monkeypatch.setattr(inline_vector, "gpu_context_made", lambda: True)
    envs = InlineVectorEnv(_fns(2))
    assert envs.context == "spawn"
    envs.close()
    want = _rollout(gym.vector.SyncVectorEnv(_fns(2)), 8)
    got = _rollout(InlineVectorEnv(_fns(2)), 8)
    for a, b in zip(want, got, strict=True):
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)


class _FailsAtStep(gym.Wrapper):
    """Raises ``error`` at its third step."""

    def __init__(self, env: gym.Env, error: BaseException | None = None) -> None:
        super().__init__(env)
        self.steps, self.error = 0, error or ValueError("the kettle fell over")

    def step(self, action: object) -> tuple:
        self.steps += 1
        if self.steps == 3:
            raise self.error
        return self.env.step(action)


@pytest.mark.parametrize(
    ("failing", "error", "raised"),
    [
        (0, None, ValueError),
        (2, None, RuntimeError),
        (0, AssertionError(), AssertionError),  # no message: still ends the env
    ],
)
def test_a_failed_step_is_raised_and_the_vector_env_refuses_to_go_on(
    failing: int, error: BaseException | None, raised: type
) -> None:
    fns = _fns(3)
    fns[failing] = lambda: _FailsAtStep(gym.make("ProAssist-Kitchen-v0", **KWARGS), error)
    envs = InlineVectorEnv(fns)
    action = {**envs.action_space.sample(), "step": np.zeros(3, np.int64)}
    envs.reset(seed=0)
    envs.step(action), envs.step(action)
    where = "sub-env 2 raised" if failing else ("the kettle" if error is None else None)
    with pytest.raises(raised, match=where):
        envs.step(action)
    with pytest.raises(RuntimeError, match="cannot go on after an error in a sub-env"):
        envs.step(action)
    procs = list(envs._procs)
    envs.close()  # no answer left unread: closing does not hang or fail
    assert len(procs) == 2 and not any(p.is_alive() for p in procs) and envs.closed


def test_an_interruption_leaves_no_answer_to_be_read_as_the_next_step() -> None:
    """Ctrl-C while sub-env 0 steps: the workers' answers are unread, so the vector env
    refuses to go on instead of returning them as the next step's."""
    fns = _fns(2)
    fns[0] = lambda: _FailsAtStep(gym.make("ProAssist-Kitchen-v0", **KWARGS), KeyboardInterrupt())
    envs = InlineVectorEnv(fns)
    action = {**envs.action_space.sample(), "step": np.zeros(2, np.int64)}
    envs.reset(seed=0)
    envs.step(action), envs.step(action)
    with pytest.raises(KeyboardInterrupt):
        envs.step(action)
    with pytest.raises(
        RuntimeError, match=r"cannot go on after an unfinished exchange \(KeyboardInterrupt\)"
    ):
        envs.reset(seed=0)
    envs.close()


def test_a_dropped_vector_env_ends_its_workers() -> None:
    envs = InlineVectorEnv(_fns(2))
    procs = list(envs._procs)
    del envs
    gc.collect()
    for p in procs:
        p.join(10)
    assert procs and not any(p.is_alive() for p in procs)


def test_call_get_set_attr_and_render_match_sync() -> None:
    """``set_attr``/``get_attr``/``call``/``render`` give what ``SyncVectorEnv``'s do."""
    kw = {**KWARGS, "render": True, "render_mode": "rgb_array", "width": 32, "height": 32}
    fns = [lambda: gym.make("ProAssist-Kitchen-v0", **kw)] * 3
    got, want = InlineVectorEnv(fns), gym.vector.SyncVectorEnv(fns)
    try:
        for envs in (got, want):
            envs.reset(seed=5)
            envs.set_attr("probe", [1, "two", 3.0])
        assert got.get_attr("probe") == want.get_attr("probe") == (1, "two", 3.0)
        got.set_attr("probe", 7)
        assert got.get_attr("probe") == (7, 7, 7)
        frames, ref = got.render(), want.render()
        assert len(frames) == 3 and frames[0].shape == (32, 32, 3)
        for a, b in zip(frames, ref, strict=True):
            assert np.array_equal(a, b)
        assert not np.array_equal(frames[0], frames[1])  # seeds 5 and 6: their own frames
        assert all(np.array_equal(a, b) for a, b in zip(got.call("render"), frames, strict=True))
    finally:
        got.close()
        want.close()


def test_call_errors_leave_the_env_usable() -> None:
    """A failed call is raised once every answer is read (sub-env 0's error as itself, a
    worker's with its traceback), and the env goes on; reserved names and a wrong number
    of values are refused before anything is sent."""
    envs = InlineVectorEnv(_fns(2))
    try:
        envs.reset(seed=1)
        with pytest.raises(AttributeError, match="no_such_attribute"):
            envs.get_attr("no_such_attribute")
        envs.set_attr("probe", [abs, divmod])  # picklable callables: divmod(3) raises
        with pytest.raises(RuntimeError, match="(?s)sub-env 1 raised in its worker.*divmod"):
            envs.call("probe", -3)
        envs.set_attr("probe", [abs, abs])
        assert envs.call("probe", -3) == (3, 3)
        with pytest.raises(ValueError, match="use step"):
            envs.call("step", None)
        with pytest.raises(ValueError, match="3 values for 2 sub-envs"):
            envs.set_attr("x", [1, 2, 3])
        action = envs.action_space.sample()
        action["step"] = np.zeros(2, np.int64)  # a plan step of every task
        _, reward, *_ = envs.step(action)
        assert reward.shape == (2,)
    finally:
        envs.close()


def test_a_value_that_cannot_be_pickled_is_refused_with_nothing_sent() -> None:
    envs = InlineVectorEnv(_fns(2))
    try:
        envs.reset(seed=1)
        envs.set_attr("probe", 1)
        with pytest.raises(Exception, match="pickle"):
            envs.set_attr("probe", lambda: 2)  # a local lambda: pipes cannot carry it
        assert envs.get_attr("probe") == (1, 1)  # not set anywhere, the env goes on
    finally:
        envs.close()


def test_a_dead_worker_ends_the_env_and_a_closed_env_says_so() -> None:
    envs = InlineVectorEnv(_fns(2))
    envs.reset(seed=1)
    envs._procs[0].kill()
    envs._procs[0].join(5)
    with pytest.raises(RuntimeError, match="worker of sub-env 1 died"):
        envs.get_attr("render_mode")
    with pytest.raises(RuntimeError, match="cannot go on after the death of sub-env 1's worker"):
        envs.reset(seed=1)
    envs.close()
    with pytest.raises(gym.error.ClosedEnvironmentError):
        envs.get_attr("render_mode")
