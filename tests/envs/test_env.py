"""The Gymnasium contract of every ProAssist id."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import proassist.envs  # noqa: F401
from proassist.envs import ENV_IDS
from proassist.envs.spaces import NO_STEP, ActionError
from proassist.scenarios import load_profile

SILENT = {"decision": 0, "intent": 0, "step": NO_STEP, "text": ""}


@pytest.mark.parametrize("env_id", sorted(ENV_IDS))
def test_check_env_every_id(env_id: str) -> None:
    env = gym.make(env_id, max_duration=30.0)
    env.unwrapped.strict_steps = False  # check_env steps with action_space.sample()
    check_env(env.unwrapped, skip_render_check=False)
    env.close()


@pytest.mark.parametrize("obs_modes", [("rgb",), ("rgb", "depth", "segmentation"), ("depth",), ()])
def test_check_env_obs_modes(obs_modes: tuple[str, ...]) -> None:
    env = gym.make(
        "ProAssist-Kitchen-v0", obs_modes=obs_modes, max_duration=20.0, width=64, height=48
    )
    env.unwrapped.strict_steps = False  # check_env steps with action_space.sample()
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=1)
    assert set(obs) == set(obs_modes) | {"utterance", "goal", "time"}
    if "rgb" in obs_modes:
        assert obs["rgb"].shape == (48, 64, 3)
    env.close()


def _actions(env: gym.Env, n: int, seed: int) -> list[dict]:
    env.action_space.seed(seed)
    out = []
    for i in range(n):
        a = env.action_space.sample()
        a["decision"] = int(i % 7 == 3)
        out.append(a)
    return out


def _run(actions: list[dict], seed: int) -> tuple[list, list, str]:
    env = gym.make(
        "ProAssist-Kitchen-v0", obs_modes=("rgb", "depth", "segmentation"), privileged=True
    )
    env.unwrapped.strict_steps = False  # sampled steps may lie past the plan
    obs, info = env.reset(seed=seed)
    frames, infos = [obs], [info]
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        frames.append(obs)
        infos.append(info)
        if term or trunc:
            break
    log = json.dumps(env.unwrapped.simulation.events.to_list())
    env.close()
    return frames, infos, log


def test_determinism_50_steps() -> None:
    env = gym.make("ProAssist-Kitchen-v0")
    actions = _actions(env, 50, seed=3)
    env.close()
    f1, i1, log1 = _run(actions, seed=7)
    f2, i2, log2 = _run(actions, seed=7)
    assert log1 == log2
    assert json.dumps(i1, default=str) == json.dumps(i2, default=str)
    for a, b in zip(f1, f2, strict=True):
        for key in a:
            assert np.array_equal(np.asarray(a[key]), np.asarray(b[key])), key
    _, _, log3 = _run(actions, seed=8)
    assert log3 != log1


def test_spec_pickles_and_remakes() -> None:
    env = gym.make("ProAssist-Assembly-v0", render=False)
    spec = pickle.loads(pickle.dumps(env.spec))
    assert spec.id == "ProAssist-Assembly-v0"
    env2 = gym.make(spec)
    env2.reset(seed=0)
    env.close()
    env2.close()


def test_module_prefixed_make() -> None:
    env = gym.make("proassist.envs:ProAssist-Maintenance-v0", render=False)
    obs, _ = env.reset(seed=0)
    assert "goal" in obs and obs["goal"]
    env.close()


def test_async_vector_env() -> None:
    envs = gym.make_vec("ProAssist-Kitchen-v0", 2, vectorization_mode="async", vector_kwargs={})
    envs.set_attr("strict_steps", False)  # sampled steps may lie past the plan
    obs, info = envs.reset(seed=0)
    assert obs["rgb"].shape == (2, 128, 128, 3)
    actions = envs.action_space.sample()
    obs, rew, term, trunc, info = envs.step(actions)
    assert rew.shape == (2,)
    envs.close()


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ({"decision": 2}, "decision"),
        ({"decision": 1, "intent": 9}, "intent"),
        ({"decision": 1, "step": 99}, "step"),
        ({"decision": 1, "text": "tab\there"}, "text"),
        ({"decision": 1, "mood": 3}, "mood"),
        ({"intent": 0}, "decision"),
    ],
)
def test_bad_action_names_field(action: dict, field: str) -> None:
    env = gym.make("ProAssist-Kitchen-v0", render=False)
    env.reset(seed=0)
    with pytest.raises(ActionError, match=field):
        env.step(action)
    env.close()


def test_no_render_mode_is_blank_and_fast_path() -> None:
    env = gym.make("ProAssist-Kitchen-v0", render=False)
    obs, _ = env.reset(seed=0)
    assert obs["rgb"].max() == 0
    env.close()


def test_episode_runs_to_end_and_record_is_json() -> None:
    env = gym.make("ProAssist-Kitchen-v0", task="tea", render=False)
    env.reset(seed=2)
    done, steps = False, 0
    while not done:
        _, _, term, trunc, info = env.step(SILENT)
        done = term or trunc
        steps += 1
    record = env.unwrapped.episode_record(policy="silent")
    json.dumps(record)
    assert len(record["decisions"]) == steps
    assert record["events"][0]["type"] == "task_start"
    assert record["events"][-1]["type"] == "task_end"
    assert record["task"] == "kitchen_tea"
    env.close()


def test_unknown_task_did_you_mean() -> None:
    with pytest.raises(ValueError, match="did you mean"):
        gym.make("ProAssist-Kitchen-v0", task="kitchen_te")


def test_random_deviations_do_not_depend_on_the_assistant() -> None:
    """Same seed → same random deviations, silent or talking (the paired effect needs it).

    The assistant here talks without redirecting the person (confirmations and false
    alarms), so the person does the steps in the same order; deviations are drawn per
    (kind, step), not per moment, so they must be identical.
    """

    def deviations(talk: bool, seed: int) -> list[tuple[str, str]]:
        env = gym.make(
            "ProAssist-Kitchen-v0",
            render=False,
            deviation_rates={"omission": 0.3, "order": 0.2, "substitution": 0.2},
        )
        env.reset(seed=seed)
        done, n = False, 0
        while not done:
            speak = {"decision": 1, "intent": 2 + (n % 2), "step": n % 5, "text": ""}
            _, _, term, trunc, _ = env.step(speak if talk and n % 9 == 4 else SILENT)
            done, n = term or trunc, n + 1
        events = env.unwrapped.simulation.events.to_list()
        env.close()
        return [
            (e["kind"], e["step"]) for e in events if e["type"] == "deviation" and not e["scripted"]
        ]

    for seed in range(4):
        assert deviations(False, seed) == deviations(True, seed)


def test_person_profile_dict_round_trips_through_the_record() -> None:
    person = {"compliance": 1.0, "reaction_delay": {"mean": 0.5, "std": 0.1, "min": 0.2}}
    env = gym.make("ProAssist-Kitchen-v0", render=False, person=person, max_duration=5.0)
    env.reset(seed=0)
    record = env.unwrapped.episode_record()
    saved = json.loads(json.dumps(record))["env_kwargs"]["person"]
    assert saved == person
    again = gym.make("ProAssist-Kitchen-v0", render=False, person=saved)
    again.reset(seed=0)
    assert again.unwrapped.episode_person() == env.unwrapped.episode_person()
    fixed = gym.make("ProAssist-Kitchen-v0", render=False, person={"base": "careful", "speed": 2})
    saved = json.loads(json.dumps(fixed.unwrapped.env_kwargs()))["person"]
    again = gym.make("ProAssist-Kitchen-v0", render=False, person=saved)
    again.reset(seed=0)
    assert again.unwrapped.episode_person() == fixed.unwrapped.person  # every field given
    with pytest.raises(ValueError, match="unknown person field"):
        gym.make("ProAssist-Kitchen-v0", person={"patience_level": 3})
    with pytest.raises(ValueError, match="'stop_ignore' was retired: .*`tune_out` \\(seconds"):
        gym.make("ProAssist-Kitchen-v0", person={"stop_ignore": 4})
    with pytest.raises(ValueError, match=r"person.tune_out: must be in \[0.0, inf\]"):
        gym.make("ProAssist-Kitchen-v0", person={"tune_out": -5})


@pytest.mark.parametrize("task", ["kitchen_tea", "kitchen_salad"])
def test_person_dict_changes_the_tasks_own_person(task: str) -> None:
    from proassist.scenarios import load_scenario

    own = load_scenario(task).person
    env = gym.make("ProAssist-Kitchen-v0", task=task, render=False, person={"refusal_reply": 0.0})
    env.reset(seed=0)
    person = env.unwrapped._sim.profile
    assert person == replace(own, refusal_reply=0.0) and person.name == own.name
    person = {"base": "stubborn", "speed": 1.5, "name": "slow", "patience": None}
    based = gym.make("ProAssist-Kitchen-v0", task=task, render=False, person=person)
    based.reset(seed=0)
    stubborn = load_profile("stubborn")
    assert based.unwrapped._sim.profile == replace(stubborn, speed=1.5, name="slow")
    env.close(), based.close()
    fresh = gym.make("ProAssist-Kitchen-v0", task=task, render=False, person={"speed": 2.0})
    with pytest.raises(RuntimeError, match="reset"):
        fresh.unwrapped.episode_person()


@pytest.mark.parametrize("person", [None, "stubborn", {"base": "careful", "speed": 1.5}])
def test_record_carries_the_resolved_person(person: object) -> None:
    env = gym.make("ProAssist-Kitchen-v0", task="kitchen_salad", render=False, person=person)
    env.reset(seed=3)
    saved = json.loads(json.dumps(env.unwrapped.episode_record()))["person"]
    assert saved["name"] == env.unwrapped._sim.profile.name
    again = gym.make("ProAssist-Kitchen-v0", task="kitchen_tea", render=False, person=saved)
    again.reset(seed=3)  # another task: every field given, so its own person is overridden
    assert again.unwrapped._sim.profile == env.unwrapped._sim.profile
    env.close(), again.close()


def _reward_episode(privileged: bool, seed: int, **kwargs: object) -> tuple[list, list, dict]:
    """Rewards, breakdowns and the record of one episode of mixed actions."""
    env = gym.make(
        "ProAssist-Kitchen-v0",
        render=False,
        privileged=privileged,
        deviation_rates={"omission": 0.3, "order": 0.2, "substitution": 0.2},
        **kwargs,
    )
    env.reset(seed=seed)
    rewards, breakdowns, done, n = [], [], False, 0
    while not done:
        speak = {"decision": 1, "intent": (1, 2, 3, 5)[n % 4], "step": n % 6, "text": ""}
        _, r, term, trunc, info = env.step(speak if n % 3 == 1 else SILENT)
        rewards.append(r)
        breakdowns.append(info["reward_breakdown"])
        done, n = term or trunc, n + 1
    record = env.unwrapped.episode_record(policy="mixed")
    env.close()
    return rewards, breakdowns, record


@pytest.mark.parametrize("seed", range(3))
def test_outcome_reward_is_paid_at_the_end_without_privileged_info(seed: int) -> None:
    """Same return and record in both modes; only the privileged one pays terms early."""
    pub_r, pub_b, pub_rec = _reward_episode(False, seed)
    priv_r, priv_b, priv_rec = _reward_episode(True, seed)
    for key in set(pub_rec) - {"env_kwargs"}:  # records and event logs do not change
        assert pub_rec[key] == priv_rec[key], key
    assert sum(pub_r) == pytest.approx(sum(priv_r), abs=1e-9)
    for term in ("success", "recovery", "false_alarm", "interrupt"):
        assert sum(b[term] for b in pub_b) == pytest.approx(sum(b[term] for b in priv_b))
    assert all(r in (0.0, -0.05) for r in pub_r[:-1])  # only the cost of talking
    assert any(b["false_alarm"] for b in priv_b[:-1])  # earned before the end
    assert pub_b[-1]["false_alarm"] == pytest.approx(sum(b["false_alarm"] for b in priv_b))


def test_reward_weights_apply_in_both_modes() -> None:
    weights = {"false_alarm": -3.0, "interrupt": -0.5, "success": 1.0}
    pub_r, pub_b, _ = _reward_episode(False, 0, reward_weights=weights)
    priv_r, priv_b, _ = _reward_episode(True, 0, reward_weights=weights)
    assert {r for r in pub_r[:-1]} == {0.0, -0.5}
    assert set(pub_b[-1]) == {"success", "recovery", "false_alarm", "interrupt"}
    assert pub_b[-1]["false_alarm"] % 3.0 == 0.0 and pub_b[-1]["false_alarm"] < 0
    assert sum(pub_r) == pytest.approx(sum(priv_r), abs=1e-9)
