"""Latent random deviations: fixed per seed whatever the assistant says (paired runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sim_testkit import TASKS, of_type, run, scenario

import proassist.envs  # noqa: F401  (registers the env ids)
from proassist.policies import make_policy
from proassist.policies.rollout import rollout
from proassist.scenarios import load_scenario
from proassist.scenarios.mixes import (
    CAPTAINCOOK4D_KINDS,
    captaincook4d_rates,
    rates_from_mix,
)
from proassist.scenarios.model import DEVIATION_KINDS
from proassist.sim.deviations.base import get_deviation
from proassist.sim.engine import Simulation
from proassist.sim.messages import INTENTS, Message

#: Parameters re-evaluated from the state when a deviation manifests (not random).
STATE_PARAMS = {"order": ("before",)}


def _latent(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = of_type(events, "latent_deviations")
    assert len(found) == 1 and found[0]["t"] == 0.0
    return found[0]["deviations"]


def _check_manifested(events: list[dict[str, Any]]) -> None:
    """Every random deviation is a latent one, with the latent random parameters."""
    latent = {(d["kind"], d["step"]): d for d in _latent(events)}
    for dev in of_type(events, "deviation"):
        if dev["scripted"]:
            continue
        lat = latent[(dev["kind"], dev["step"])]
        skip = STATE_PARAMS.get(dev["kind"], ())
        assert {k: v for k, v in dev["params"].items() if k not in skip} == {
            k: v for k, v in lat["params"].items() if k not in skip
        }


def _rollout(task: str, policy: str, seed: int) -> list[dict[str, Any]]:
    env = gym.make("ProAssist-v0", task=task, privileged=True, render=False)
    try:
        return rollout(env, make_policy(policy), seed)["events"]
    finally:
        env.close()


@pytest.mark.parametrize("task", TASKS)
def test_latent_set_is_identical_with_and_without_the_oracle(task: str) -> None:
    nonempty = 0
    for seed in range(10):
        silent, oracle = _rollout(task, "silent", seed), _rollout(task, "oracle", seed)
        assert _latent(silent) == _latent(oracle), (task, seed)
        nonempty += bool(_latent(silent))
        _check_manifested(silent)
        _check_manifested(oracle)
    assert nonempty, f"no latent deviation in 10 seeds of {task}: the test proves nothing"


def _sim(task: str, seed: int, rate: float = 0.3, max_random: Any = None) -> Simulation:
    sc = scenario(task)
    rates = dict.fromkeys(DEVIATION_KINDS, rate)
    return Simulation(
        sc, rng=np.random.default_rng(seed), deviation_rates=rates, script=[], max_random=max_random
    )


def _talker(messages: dict[int, Message]):
    calls = [0]

    def policy(sim: Simulation, new: list[dict[str, Any]]) -> Message | None:
        calls[0] += 1
        return messages.get(calls[0])

    return policy


@st.composite
def _messages(draw: Any, plan: list[str]) -> dict[int, Message]:
    """A random assistant: structured or free-text messages at random decision points."""
    at = draw(st.lists(st.integers(1, 300), max_size=25, unique=True))
    out = {}
    for k in at:
        if draw(st.booleans()):
            step = draw(st.sampled_from([*plan, None]))
            out[k] = Message(draw(st.sampled_from(INTENTS)), step)
        else:
            out[k] = Message("", text=draw(st.sampled_from(["stop", "wait, wrong", "next"])))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), task=st.sampled_from(TASKS), seed=st.integers(0, 2**20))
def test_latent_set_does_not_depend_on_the_messages(data: Any, task: str, seed: int) -> None:
    plan = [s.id for s in scenario(task).procedure.steps]
    messages = data.draw(_messages(plan))
    quiet = run(_sim(task, seed))
    talked = run(_sim(task, seed), _talker(messages))
    assert _latent(quiet) == _latent(talked)
    _check_manifested(talked)


def test_same_seed_same_messages_same_log() -> None:
    messages = {5: Message("correct_deviation", "fill_kettle"), 40: Message("", text="next")}
    logs = [run(_sim("kitchen_tea", 7), _talker(dict(messages))) for _ in range(2)]
    assert logs[0] == logs[1]


def test_same_seed_same_actions_same_env_log() -> None:
    records = []
    for _ in range(2):
        env = gym.make("ProAssist-v0", task="kitchen_tea", render=False, max_random_deviations=None)
        env.reset(seed=3)
        env.action_space.seed(3)
        done = False
        while not done:
            _, _, term, trunc, _ = env.step(
                {"decision": int(env.action_space.sample()["decision"])}
            )
            done = term or trunc
        records.append(env.unwrapped.episode_record())
        env.close()
    assert records[0]["events"] == records[1]["events"]


def test_no_cap_allows_more_than_two_random_deviations() -> None:
    counts = []
    for seed in range(5):
        sim = _sim("assembly_stool", seed, rate=1.0, max_random=None)
        events = run(sim)
        assert len(_latent(events)) > 2
        counts.append(len(of_type(events, "deviation")))
        capped = run(_sim("assembly_stool", seed, rate=1.0, max_random=2))
        assert len(_latent(capped)) == 2 and len(of_type(capped, "deviation")) <= 2
        assert _latent(capped) == _latent(events)[:2]  # the cap keeps the first in step order
    assert max(counts) > 2, counts


def test_the_scenario_cap_is_the_default_and_one_deviation_per_step() -> None:
    sc = scenario("kitchen_tea")
    assert sc.deviations.max_random == 2
    sim = Simulation(
        sc, rng=np.random.default_rng(0), deviation_rates=dict.fromkeys(DEVIATION_KINDS, 1.0)
    )
    latent = _latent(run(sim))
    assert len(latent) == 2
    assert len({d["step"] for d in latent}) == len(latent)


def test_parameters_are_drawn_per_kind_and_step() -> None:
    sim = _sim("kitchen_tea", 11, rate=0.0)
    sim.reset()
    for kind in ("distraction", "hesitation", "measurement", "setting", "timing"):
        for step in sim.procedure.steps:
            k = get_deviation(kind)
            if k.applies(step, sim.procedure):
                assert k.make_params(sim, step, {}) == k.make_params(sim, step, {})
    one, two = sim.deviations.param_rng("timing", "a"), sim.deviations.param_rng("timing", "b")
    assert one.random() != two.random()


def test_max_random_deviations_env_argument() -> None:
    env = gym.make("ProAssist-v0", task="assembly_stool", render=False, max_random_deviations=None,
                   deviation_rates=dict.fromkeys(DEVIATION_KINDS, 1.0))  # fmt: skip
    env.reset(seed=0)
    assert env.unwrapped.simulation.deviations.max_random is None
    assert env.unwrapped.env_kwargs()["max_random_deviations"] is None
    env.close()
    with pytest.raises(ValueError, match="max_random_deviations"):
        gym.make("ProAssist-v0", task="kitchen_tea", render=False, max_random_deviations=-1)


def test_task_file_accepts_null_max_random(tmp_path: Path) -> None:
    src = Path(scenario("kitchen_tea").source)
    text = src.read_text().replace("max_random: 2", "max_random: null")
    assert "max_random: null" in text
    (tmp_path / "kitchen_tea.yaml").write_text(text)
    assert load_scenario(str(tmp_path / "kitchen_tea.yaml")).deviations.max_random is None


def test_captaincook4d_mix() -> None:
    rates = captaincook4d_rates(0.2)
    assert set(rates) == {k for ks in CAPTAINCOOK4D_KINDS.values() for k in ks}
    assert sum(rates.values()) == pytest.approx(0.2)
    assert rates["order"] > rates["placement"] > rates["substitution"] > rates["setting"]
    assert rates_from_mix({"a": 1, "b": 3}, {"a": "omission", "b": ("order", "timing")}, 0.4) == (
        pytest.approx({"omission": 0.1, "order": 0.15, "timing": 0.15})
    )
    with pytest.raises(ValueError, match="unknown deviation kind"):
        rates_from_mix({"a": 1}, {"a": "omision"})
    with pytest.raises(ValueError, match="per_step"):
        captaincook4d_rates(1.5)
    env = gym.make("ProAssist-Kitchen-v0", render=False, deviation_rates=rates)
    env.reset(seed=0)
    env.close()
