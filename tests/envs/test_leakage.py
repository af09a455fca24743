"""Ground truth does not leak to an assistant without privileged info (issue 10, item 8).

Two probes, each with a positive control that shows it can fail:

- a reward probe: a policy that names each plan step with ``correct_deviation`` in turn
  and guesses from the per-step reward whether that step has an active deviation. Without
  privileged info it scores at chance; with ``privileged=True`` it is caught reading the
  false-alarm term.
- an access probe: it records every attribute of the env and the simulation read while a
  policy's ``reset``/``act`` runs, every ``ProAssistEnv.simulation`` read during the
  rollout, and the ``info`` each ``act`` receives. Every non-privileged registered policy
  reads nothing; a cheating policy holding an env handle is caught.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import proassist.envs  # noqa: F401  (registers the ids)
from proassist.envs.proassist_env import PRIVILEGED_INFO_KEYS, PUBLIC_INFO_KEYS, ProAssistEnv
from proassist.envs.rewards import DEFAULT_REWARD_WEIGHTS, OUTCOME_TERMS
from proassist.policies import list_policies, make_policy, policy_kwargs
from proassist.policies.base import POLICIES, PolicyBase, make_action, silent_action, step_index
from proassist.policies.rollout import rollout
from proassist.sim.engine import Simulation
from proassist.sim.events import EventLog
from proassist.sim.world import WorldState

RATES = {"omission": 0.3, "substitution": 0.3, "order": 0.3, "placement": 0.3}
PROBE_ENVS = ["ProAssist-Kitchen-v0", "ProAssist-Assembly-v0", "ProAssist-Maintenance-v0"]
#: What the task file and the layout say (public): stands are the fixtures' stand points,
#: starts the objects' start fixtures.
ENV_INFO_KEYS = {
    *("task", "domain", "goal", "title", "plan", "dt", "fixtures", "segmentation_ids"),
    *("stands", "starts"),
}


# ----------------------------------------------------------------- the reward probe
def _guess_active(reward: float) -> bool:
    """The probe's rule: a false alarm (-1) makes ``reward - interrupt`` an odd integer."""
    rest = reward - DEFAULT_REWARD_WEIGHTS["interrupt"]
    return int(round(rest)) % 2 == 0


def _probe_episode(env_id: str, seed: int, privileged: bool) -> list[tuple[bool, bool, float]]:
    """``(truth, guess, reward)`` per non-final step of one probe episode.

    The truth is read by the test from the simulation before each step; the probe
    policy sees only the reward.
    """
    env = gym.make(env_id, render=False, privileged=privileged, deviation_rates=RATES)
    _, info = env.reset(seed=seed)
    plan, rows, k, done = info["plan"], [], 0, False
    while not done:
        named = plan[k % len(plan)]
        active = env.unwrapped.simulation.active_deviations()
        truth = any(d.get("step") == named for d in active)
        _, reward, terminated, truncated, _ = env.step(
            make_action("correct_deviation", k % len(plan))
        )
        done, k = terminated or truncated, k + 1
        if not done:  # the final step pays the outcome of the whole episode
            rows.append((truth, _guess_active(reward), float(reward)))
    env.close()
    return rows


def _balanced_accuracy(rows: list[tuple[bool, bool, float]]) -> float:
    """Mean of the hit rates on steps with and without an active deviation (chance 0.5)."""
    pos = [g for t, g, _ in rows if t]
    neg = [not g for t, g, _ in rows if not t]
    assert pos and neg, "the probe needs steps of both kinds"
    return (float(np.mean(pos)) + float(np.mean(neg))) / 2


def _probe_rows(privileged: bool) -> list[tuple[bool, bool, float]]:
    return [
        row
        for env_id in PROBE_ENVS
        for seed in range(3)
        for row in _probe_episode(env_id, seed, privileged)
    ]


def test_reward_probe_is_at_chance_without_privileged_info() -> None:
    rows = _probe_rows(privileged=False)
    assert {r for _, _, r in rows} == {DEFAULT_REWARD_WEIGHTS["interrupt"]}  # same action
    assert _balanced_accuracy(rows) == pytest.approx(0.5)


def test_reward_probe_catches_the_privileged_reward() -> None:
    """Positive control: the same probe reads deviations off the privileged reward."""
    rows = _probe_rows(privileged=True)
    assert _balanced_accuracy(rows) > 0.95


def test_info_holds_only_observable_keys_without_privileged_info() -> None:
    env = gym.make("ProAssist-Kitchen-v0", render=False, deviation_rates=RATES)
    _, info = env.reset(seed=0)
    plan, done, k = list(info["plan"]), False, 0
    while not done:
        _, _, terminated, truncated, info = env.step(make_action("correct_deviation", k % 3))
        done, k = terminated or truncated, k + 1
        assert set(info) == set(PUBLIC_INFO_KEYS)
        assert info["plan"] == plan and info["step_index"] == k
        assert info["time"] == pytest.approx(k * env.unwrapped.decision_dt)
        if not done:
            assert all(info["reward_breakdown"][t] == 0.0 for t in OUTCOME_TERMS)
    env.close()
    assert not set(PUBLIC_INFO_KEYS) & set(PRIVILEGED_INFO_KEYS)


# ----------------------------------------------------------------- the access probe
@dataclass
class AccessProbe:
    """What was read from the env and the simulation, and what ``act`` received."""

    inside: bool = False
    reads: list[str] = field(default_factory=list)
    simulation_reads: int = 0
    act_info_keys: set[str] = field(default_factory=set)
    env_info_keys: set[str] = field(default_factory=set)

    def wrap(self, policy: Any) -> Any:
        """Record around ``policy.reset`` and ``policy.act`` (instance attributes)."""
        reset, act = policy.reset, policy.act

        def recorded_reset(*, env_info: dict[str, Any], seed: int | None) -> None:
            self.env_info_keys |= set(env_info)
            self.inside = True
            try:
                reset(env_info=env_info, seed=seed)
            finally:
                self.inside = False

        def recorded_act(observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
            self.act_info_keys |= set(info or {})
            self.inside = True
            try:
                return act(observation, info)
            finally:
                self.inside = False

        policy.reset, policy.act = recorded_reset, recorded_act
        return policy

    def leaks(self) -> list[str]:
        """Everything the probe found (empty for a clean policy)."""
        found = [f"read {r} inside the policy" for r in dict.fromkeys(self.reads)]
        if self.simulation_reads:
            found.append(f"read ProAssistEnv.simulation {self.simulation_reads} times")
        found += [f"act() received info[{k!r}]" for k in self.act_info_keys - set(PUBLIC_INFO_KEYS)]
        found += [f"reset() received env_info[{k!r}]" for k in self.env_info_keys - ENV_INFO_KEYS]
        return found


def _recording_getattribute(probe: AccessProbe, cls: type) -> Any:
    base = cls.__getattribute__

    def getattribute(self: Any, name: str) -> Any:
        if probe.inside:
            probe.reads.append(f"{cls.__name__}.{name}")
        return base(self, name)

    return getattribute


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> Iterator[AccessProbe]:
    """Instrument the env, the simulation and its state for one test."""
    rec = AccessProbe()
    for cls in (ProAssistEnv, Simulation, EventLog, WorldState):
        monkeypatch.setattr(cls, "__getattribute__", _recording_getattribute(rec, cls))
    real = ProAssistEnv.simulation.fget

    def simulation(self: ProAssistEnv) -> Simulation:
        rec.simulation_reads += 1
        return real(self)

    monkeypatch.setattr(ProAssistEnv, "simulation", property(simulation, doc=real.__doc__))
    yield rec


def _make_env(policy: Any, privileged: bool = False) -> gym.Env:
    kwargs: dict[str, Any] = {"max_duration": 20.0, "deviation_rates": RATES}
    kwargs["render"] = bool(getattr(policy, "needs_pixels", False))
    if getattr(policy, "obs_modes", None):
        kwargs["obs_modes"] = tuple(policy.obs_modes)
    return gym.make("ProAssist-Kitchen-v0", privileged=privileged, **kwargs)


def _runnable(name: str) -> bool:
    required = [k for k, (_, d, _) in policy_kwargs(name).items() if d is inspect.Parameter.empty]
    return not required and not getattr(POLICIES.get(name), "privileged", False)


NON_ORACLE = [n for n in list_policies() if _runnable(n)]


def test_the_non_oracle_policies_are_probed() -> None:
    assert {"silent", "random", "periodic", "plan-timer", "duplex", "monolithic"} <= set(NON_ORACLE)
    assert "oracle" not in NON_ORACLE


@pytest.mark.parametrize("name", NON_ORACLE)
def test_non_oracle_policy_reads_nothing_privileged(name: str, probe: AccessProbe) -> None:
    policy = probe.wrap(make_policy(name))
    env = _make_env(policy)
    try:
        for seed in (0, 1):
            rollout(env, policy, seed)
    finally:
        env.close()
    assert probe.act_info_keys == set()  # rollout gives a non-privileged policy no info
    assert probe.leaks() == []


class CheatingPolicy(PolicyBase):
    """Claims to be non-privileged but peeks at the simulation through an env handle."""

    privileged = False

    def __init__(self, env: gym.Env) -> None:
        super().__init__()
        self.handle = env

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Correct the first active deviation, read from the simulation."""
        for dev in self.handle.unwrapped.simulation.active_deviations():
            return make_action("correct_deviation", step_index(self.plan, dev.get("step")))
        return silent_action()


class InternalCheatingPolicy(CheatingPolicy):
    """Peeks through the private ``_sim`` handle instead of the property."""

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Stay silent, but look at the event log first."""
        self.handle.unwrapped._sim.events.to_list()
        return silent_action()


@pytest.mark.parametrize("cls", [CheatingPolicy, InternalCheatingPolicy])
def test_probe_catches_a_cheating_policy(cls: type, probe: AccessProbe) -> None:
    """Positive control: reading the simulation through a handle is caught."""
    env = gym.make("ProAssist-Kitchen-v0", render=False, max_duration=20.0, deviation_rates=RATES)
    policy = probe.wrap(cls(env))
    try:
        rollout(env, policy, 0)
    finally:
        env.close()
    assert probe.leaks()
    assert any(r.startswith(("ProAssistEnv.", "Simulation.")) for r in probe.reads)
    if cls is CheatingPolicy:
        assert probe.simulation_reads > 0 and "Simulation.active_deviations" in probe.reads
    else:
        assert "ProAssistEnv._sim" in probe.reads and "EventLog.to_list" in probe.reads


def test_probe_catches_privileged_info_given_to_act(probe: AccessProbe) -> None:
    """Positive control: the oracle, fed privileged info, is flagged by the info check."""
    policy = probe.wrap(make_policy("oracle"))
    env = _make_env(policy, privileged=True)
    try:
        rollout(env, policy, 0)
    finally:
        env.close()
    assert set(PRIVILEGED_INFO_KEYS) <= probe.act_info_keys
    assert any("act() received info" in leak for leak in probe.leaks())
