"""The when-to-speak RL env, PPO training (CSV, checkpoints, resume), the ``ppo`` policy
and ``proassist train --algo ppo``."""

from __future__ import annotations

import csv
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import proassist.envs  # noqa: F401  (registers the ids)
from proassist.envs import spaces as S
from proassist.envs.rewards import DEFAULT_REWARD_WEIGHTS
from proassist.policies.learned.rl_env import (
    OBS_DIM,
    OBS_NAMES,
    SPEAK_ACTIONS,
    TRAIN_SEED_BASE,
    ProAssistSpeakEnv,
    SpeakState,
    reply_category,
)
from proassist.policies.rollout import env_info
from proassist.sim.messages import INTENTS

torch = pytest.importorskip("torch")

ENV = "ProAssist-Maintenance-v0"
SHORT = {"max_duration": 15.0}  # 30 decision points
NAMES = [a.name for a in SPEAK_ACTIONS]
RATES = {"omission": 0.3, "substitution": 0.3, "order": 0.3, "placement": 0.3}


def _tiny_config(total_updates: int) -> object:
    from proassist.policies.learned.ppo import PPOConfig

    n_envs, n_steps = 3, 64
    return PPOConfig(
        total_steps=total_updates * n_envs * n_steps,
        n_envs=n_envs,
        n_steps=n_steps,
        epochs=1,
        minibatches=2,
        checkpoint_every=1,
        keep_checkpoints=2,
    )


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two updates of PPO on short episodes (6 training episodes or so)."""
    from proassist.policies.learned.ppo import train_ppo

    out = tmp_path_factory.mktemp("ppo") / "run"
    train_ppo(out, _tiny_config(2), progress=False, env_kwargs=SHORT)
    return out


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "progress.csv").open(newline="") as f:
        return list(csv.DictReader(f))


# ----------------------------------------------------------------- the env
def test_speak_env_passes_gymnasium_check_env() -> None:
    env = ProAssistSpeakEnv(ENV, **SHORT)
    check_env(env, skip_render_check=True)
    assert env.observation_space.shape == (OBS_DIM,) == (len(OBS_NAMES),)
    assert env.action_space.n == len(SPEAK_ACTIONS) and NAMES[0] == "silent"


def test_reset_without_seed_draws_a_training_seed() -> None:
    env = ProAssistSpeakEnv(ENV, **SHORT)
    env.reset(seed=5)
    assert env.episode_seed == 5
    seeds = set()
    for _ in range(3):
        env.reset()
        seeds.add(env.episode_seed)
    assert len(seeds) == 3 and min(seeds) >= TRAIN_SEED_BASE


def test_every_action_maps_to_a_valid_env_action() -> None:
    env = ProAssistSpeakEnv(ENV, **SHORT)
    inner = env.env.unwrapped
    rng = np.random.default_rng(0)
    for seed in (0, 1):
        obs, _ = env.reset(seed=seed)
        done = False
        while not done:
            index = int(rng.integers(len(SPEAK_ACTIONS)))
            choice = SPEAK_ACTIONS[index]
            target = env.state.target(choice.target)
            checked = S.check_action(env.state.action(index), inner.action_space)
            S.check_plan_step(checked, len(inner.plan))
            assert checked["decision"] == int(choice.intent is not None and target is not False)
            if checked["decision"]:
                assert checked["intent"] == INTENTS.index(choice.intent)
                named = inner.plan[checked["step"]]["id"] if checked["step"] < S.NO_STEP else None
                assert named == target
            obs, _, term, trunc, _ = inner.step(checked)
            env.state.observe(obs)
            done = term or trunc


def test_actions_name_steps_relative_to_the_assistants_plan() -> None:
    kitchen = gym.make("ProAssist-Kitchen-v0", task="tea", render=False)
    kitchen.reset(seed=0)
    info = env_info(kitchen)
    state = SpeakState()
    state.reset(info)
    ids = [s["id"] for s in info["plan"]]
    assert state.action(NAMES.index("correct_previous"))["decision"] == 0  # nothing done yet
    assert state.action(NAMES.index("instruct_current"))["step"] == 0
    assert state.action(NAMES.index("confirm_current"))["step"] == 0  # get_mug done
    assert state.action(NAMES.index("correct_previous"))["step"] == ids.index("get_mug")
    re_engage = state.action(NAMES.index("re_engage"))
    assert (re_engage["step"], re_engage["text"]) == (S.NO_STEP, "")  # structured, no step


def test_reply_categories() -> None:
    assert reply_category("") == "none"
    assert reply_category("What should I do next?") == "question"
    assert reply_category("I already did that.") == "already"
    assert reply_category("I think it's fine.") == "fine"
    assert reply_category("Please stop.") == "stop"
    assert reply_category("Oops, thanks.") == "ack"


# ----------------------------------------------------------------- no privileged info
def test_the_speak_env_refuses_privileged_info() -> None:
    with pytest.raises(ValueError, match="non-privileged"):
        ProAssistSpeakEnv(ENV, privileged=True)
    assert ProAssistSpeakEnv(ENV).env.unwrapped.privileged is False


def test_observations_are_a_function_of_the_public_stream() -> None:
    """Replaying a plain env's public observations through a fresh SpeakState, with the
    same actions, gives the wrapper's observations exactly."""
    env = ProAssistSpeakEnv(ENV, deviation_rates=RATES, **SHORT)
    plain = gym.make(ENV, render=False, deviation_rates=RATES, **SHORT)
    rng = np.random.default_rng(1)
    obs, _ = env.reset(seed=3)
    pobs, _ = plain.reset(seed=3)
    replay = SpeakState()
    replay.reset(env_info(plain))
    done = False
    while not done:
        assert np.array_equal(obs, replay.observe({k: pobs[k] for k in ("time", "utterance")}))
        index = int(rng.choice(len(SPEAK_ACTIONS), p=[0.7] + [0.3 / 9] * 9))
        obs, _, term, trunc, _ = env.step(index)
        pobs, _, pterm, ptrunc, _ = plain.step(replay.action(index))
        assert (term, trunc) == (pterm, ptrunc)
        done = term or trunc


def _probe_rewards(env: ProAssistSpeakEnv, probe: str = "correct_current") -> set[float]:
    """The wrapper's non-final rewards while correcting a plan step (``probe``) at
    every decision point (whether or not it has a deviation)."""
    env.reset(seed=0)
    out, done = set(), False
    while not done:
        _, reward, term, trunc, _ = env.step(NAMES.index(probe))
        done = term or trunc
        if not done:  # the final step pays the outcome of the whole episode
            out.add(round(float(reward), 9))
    return out


def test_rewards_reveal_no_deviation_before_the_end() -> None:
    """Non-final rewards are the interrupt term only (no false-alarm term); positive
    control: over a privileged inner env the same probe sees the false alarms."""
    env = ProAssistSpeakEnv(ENV, time_cost=0.0, deviation_rates=RATES, max_duration=20.0)
    assert _probe_rewards(env) == {DEFAULT_REWARD_WEIGHTS["interrupt"]}
    # seed 0's order error stays open for 15 s (the person, tuned out, fixes it at 15.9 s)
    env.env = gym.make(ENV, render=False, privileged=True, deviation_rates=RATES, max_duration=15.0)
    assert min(_probe_rewards(env)) == DEFAULT_REWARD_WEIGHTS["interrupt"]  # right each time
    calm = {kind: 0.0 for kind in RATES}  # no deviation: every correction is a false alarm
    env.env = gym.make(ENV, render=False, privileged=True, deviation_rates=calm, max_duration=20.0)
    assert min(_probe_rewards(env)) <= DEFAULT_REWARD_WEIGHTS["false_alarm"]


def test_reward_charges_the_clock() -> None:
    shaped = ProAssistSpeakEnv(ENV, time_cost=0.1, **SHORT)
    shaped.reset(seed=0)
    _, r_silent, *_ = shaped.step(0)
    _, r_spoken, *_ = shaped.step(NAMES.index("instruct_current"))
    assert r_silent == pytest.approx(-0.05)  # 0.5 s at 0.1 per second
    assert r_spoken == pytest.approx(-0.05 + DEFAULT_REWARD_WEIGHTS["interrupt"])


# ----------------------------------------------------------------- PPO
def test_tiny_run_writes_the_csv_checkpoints_and_policy(tiny_run: Path) -> None:
    from proassist.policies.learned.ppo import CSV_FIELDS, latest_checkpoint, load_agent

    rows = _rows(tiny_run)
    assert [int(r["update"]) for r in rows] == [1, 2]
    assert [int(r["global_step"]) for r in rows] == [192, 384]
    assert set(rows[0]) == set(CSV_FIELDS)
    assert sum(int(r["episodes"]) for r in rows) >= 3  # 15 s episodes end within a rollout
    assert all(0.0 <= float(r["success_rate"]) <= 1.0 for r in rows if r["success_rate"])
    assert latest_checkpoint(tiny_run).name == "update_000002.pt"
    agent, meta = load_agent(tiny_run / "policy.pt")
    assert meta["global_step"] == 384 and meta["obs_names"] == list(OBS_NAMES)
    assert agent.actor(torch.zeros(1, OBS_DIM)).shape == (1, len(SPEAK_ACTIONS))


def test_resume_continues_the_step_count(tiny_run: Path, tmp_path: Path) -> None:
    import shutil

    from proassist.policies.learned.ppo import train_ppo

    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    first = _rows(out)
    with pytest.raises(FileExistsError):
        train_ppo(out, _tiny_config(3), progress=False, env_kwargs=SHORT)
    result = train_ppo(out, _tiny_config(4), resume=True, progress=False, env_kwargs=SHORT)
    rows = _rows(out)
    assert result["global_step"] == 768 and result["update"] == 4
    assert [int(r["global_step"]) for r in rows] == [192, 384, 576, 768]
    assert rows[:2] == first  # the first two updates kept, not redone
    kept = sorted(p.name for p in (out / "checkpoints").glob("update_*.pt"))
    assert kept == ["update_000003.pt", "update_000004.pt"]  # keep_checkpoints=2


def test_resume_refuses_other_learning_settings(tiny_run: Path) -> None:
    from dataclasses import replace

    from proassist.policies.learned.ppo import check_resume

    config = _tiny_config(4)
    assert check_resume(tiny_run, config).name == "update_000002.pt"
    with pytest.raises(ValueError, match="gamma"):
        check_resume(tiny_run, replace(config, gamma=0.9))


def test_initial_policy_is_mostly_silent() -> None:
    from proassist.policies.learned.ppo import Agent

    agent = Agent(OBS_DIM, len(SPEAK_ACTIONS), 16, silent_prior=0.95)
    probs = torch.softmax(agent.actor(torch.rand(64, OBS_DIM)), -1)[:, 0]
    assert torch.allclose(probs, torch.full_like(probs, 0.95), atol=0.02)


# ----------------------------------------------------------------- the ppo policy
def test_ppo_policy_acts_as_in_training(tiny_run: Path) -> None:
    """The policy in the normal env takes the same actions as the training env's agent."""
    from proassist.analysis.evaluation import evaluate
    from proassist.policies import make_policy

    kwargs = {"checkpoint": str(tiny_run / "policy.pt"), "greedy": False}
    policy = make_policy("ppo", **kwargs)
    assert policy.needs_pixels is False and policy.privileged is False
    ev = evaluate("ppo", ENV, [4], paired_silent=False, policy_kwargs=kwargs, **SHORT)
    (record,) = ev.records
    assert record["render"] is False and record["policy_stats"]["decisions"] == 30
    env, same = ProAssistSpeakEnv(ENV, **SHORT), make_policy("ppo", **kwargs)
    obs, _ = env.reset(seed=4)
    same.reset(env_info=env_info(env.env), seed=4)
    done = False
    while not done:  # the policy's sampling, driven through the training env
        with torch.no_grad():
            logits = same.agent.actor(torch.from_numpy(obs)[None])[0].double().numpy()
        probs = np.exp(logits - logits.max())
        obs, _, term, trunc, _ = env.step(int(same.rng.choice(len(probs), p=probs / probs.sum())))
        done = term or trunc
    trained = env.env.unwrapped.episode_record()["decisions"]
    assert trained == record["decisions"]
    assert sum(d["decision"] for d in trained) > 0  # a fresh policy speaks now and then


def test_ppo_policy_rejects_a_missing_or_foreign_checkpoint(tmp_path: Path) -> None:
    from proassist.policies import make_policy

    with pytest.raises(FileNotFoundError):
        make_policy("ppo", checkpoint=str(tmp_path / "nope.pt"))
    bad = tmp_path / "bad.pt"
    torch.save({"state_dict": {}, "meta": {"obs_names": ["x"], "actions": NAMES}}, bad)
    with pytest.raises(ValueError, match="other observations"):
        make_policy("ppo", checkpoint=str(bad))


# ----------------------------------------------------------------- the CLI
def test_train_cli_ppo_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from proassist.analysis.cli import main

    out = tmp_path / "ppo"
    argv = ["train", "--algo", "ppo", "--out", str(out), "--quiet", "--threads", "1"]
    assert main([*argv, "--total-steps", "3072"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (out / "policy.pt").is_file() and len(_rows(out)) == 1
    assert main([*argv, "--total-steps", "3072"]) == 2  # checkpoints there, no --resume
    assert "--resume" in capsys.readouterr().err
    assert main(["train", "data", "--algo", "ppo", "--out", str(out)]) == 2
    assert "takes no DATA" in capsys.readouterr().err
    assert main(["train", "--out", str(out)]) == 2  # recipe needs DATA
    assert "needs DATA" in capsys.readouterr().err
