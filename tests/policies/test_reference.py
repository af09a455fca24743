"""The reference assistants of the sanity suite (policies/reference.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from proassist.analysis.evaluation import evaluate
from proassist.policies import NO_STEP, make_policy
from proassist.policies.reference import (
    IRRELEVANT_TEXTS,
    WRONG_INTENT,
    BlindPolicy,
    CorruptOraclePolicy,
    blank_frames,
)
from proassist.sim.gold import CORRECTING_INTENTS
from proassist.sim.messages import INTENTS

ENVS = ["ProAssist-Kitchen-v0", "ProAssist-Assembly-v0", "ProAssist-Maintenance-v0"]
REFERENCE = [
    "coin",
    "spam-correct",
    "spam-reengage",
    "timer-instruct",
    "oracle-wrong-step",
    "oracle-wrong-intent",
    "oracle-irrelevant-text",
    "oracle-late",
    "blind",
    "right-step",
]


def _make_env(env_id: str, policy: Any, **kwargs: Any) -> Any:
    import gymnasium as gym

    import proassist.envs  # noqa: F401  (registers the ids)

    kwargs.setdefault("render", False)
    if policy.privileged:
        kwargs["privileged"] = True
    if getattr(policy, "obs_modes", None):
        kwargs["obs_modes"] = tuple(policy.obs_modes)
    return gym.make(env_id, **kwargs)


def _run(env_id: str, policy: Any, seed: int = 0, **kwargs: Any) -> list[dict[str, Any]]:
    """Roll ``policy`` out; return its actions, each checked against the action space."""
    from proassist.analysis.evaluation import env_info

    env = _make_env(env_id, policy, **kwargs)
    obs, info = env.reset(seed=seed)
    policy.reset(env_info=env_info(env), seed=seed)
    actions, done = [], False
    while not done:
        action = policy.act(obs, info if policy.privileged else None)
        assert env.action_space.contains(action), action
        actions.append({**action, "t": float(obs["time"][0])})
        obs, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
    env.close()
    return actions


@pytest.mark.parametrize("env_id", ENVS)
@pytest.mark.parametrize("name", REFERENCE)
def test_reference_policy_runs_in_every_env(name: str, env_id: str) -> None:
    actions = _run(env_id, make_policy(name), max_duration=8.0)
    assert len(actions) == 16
    assert all(a["decision"] in (0, 1) for a in actions)


def _first_message(env_id: str, name: str, **kwargs: Any) -> float:
    records, _ = evaluate(
        name, env_id, [0], paired_silent=False, policy_kwargs=kwargs, render=False, max_duration=40
    )
    return min(d["t"] for d in records[0]["decisions"] if d["decision"])


@pytest.mark.parametrize("delay", [3.0, 10.0])
def test_late_oracle_first_message_comes_delay_later(delay: float) -> None:
    env_id = "ProAssist-Kitchen-v0"
    on_time = _first_message(env_id, "oracle")
    late = _first_message(env_id, "oracle-late", delay=delay)
    assert late == pytest.approx(on_time + delay)


def test_late_oracle_sends_the_oracle_messages_in_order() -> None:
    policy = make_policy("oracle-late", delay=3.0)
    actions = _run("ProAssist-Kitchen-v0", policy, max_duration=30.0)
    said = [a for a in actions if a["decision"]]
    assert said and all(a["t"] >= 3.0 for a in said)
    with pytest.raises(ValueError, match="delay"):
        make_policy("oracle-late", delay=-1.0)


def _spy(policy: CorruptOraclePolicy) -> list[dict[str, Any]]:
    """Record the inner oracle's actions while ``policy`` runs."""
    inner, seen = policy.oracle.act, []

    def act(obs: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        seen.append(inner(obs, info))
        return seen[-1]

    policy.oracle.act = act  # type: ignore[method-assign]
    return seen


@pytest.mark.parametrize("env_id", ENVS)
def test_wrong_step_oracle_never_names_the_oracles_step(env_id: str) -> None:
    policy = make_policy("oracle-wrong-step")
    seen = _spy(policy)
    actions = _run(env_id, policy, seed=1, max_duration=60.0)
    pairs = [(o, a) for o, a in zip(seen, actions, strict=True) if o["decision"]]
    assert pairs
    for oracle, action in pairs:
        assert action["decision"] == 1 and action["intent"] == oracle["intent"]
        assert action["step"] != oracle["step"]
    assert all(not a["decision"] for o, a in zip(seen, actions, strict=True) if not o["decision"])


def test_wrong_intent_and_irrelevant_text_oracles() -> None:
    for name in ("oracle-wrong-intent", "oracle-irrelevant-text"):
        policy = make_policy(name)
        seen = _spy(policy)
        actions = _run("ProAssist-Kitchen-v0", policy, seed=2, max_duration=60.0)
        pairs = [(o, a) for o, a in zip(seen, actions, strict=True) if o["decision"]]
        assert pairs
        for oracle, action in pairs:
            if name == "oracle-wrong-intent":
                said, meant = INTENTS[action["intent"]], INTENTS[oracle["intent"]]
                assert said == WRONG_INTENT[meant] and said not in CORRECTING_INTENTS
                assert action["step"] == oracle["step"]
            else:
                assert action["step"] == NO_STEP and action["text"] in IRRELEVANT_TEXTS


def test_corrupt_oracle_rejects_unknown_corruption() -> None:
    with pytest.raises(ValueError, match="corrupt"):
        CorruptOraclePolicy(corrupt="nonsense")
    assert make_policy("oracle-wrong-intent").corrupt == "wrong-intent"


def test_blank_frames_zeroes_every_frame_key() -> None:
    obs = {
        "rgb": np.full((4, 4, 3), 200, np.uint8),
        "depth": np.ones((4, 4), np.float32),
        "segmentation": np.full((4, 4), 7, np.int32),
        "time": np.array([1.0], np.float32),
        "utterance": "hi",
    }
    out = blank_frames(obs)
    for key in ("rgb", "depth", "segmentation"):
        assert not out[key].any() and out[key].dtype == obs[key].dtype
        assert obs[key].any()  # the original is untouched
    assert out["utterance"] == "hi" and out["time"][0] == 1.0


def test_blind_wrapper_passes_blank_frames_to_the_inner_policy(env_info: dict) -> None:
    policy = BlindPolicy(policy="silent")
    seen: list[dict[str, Any]] = []
    policy.inner.act = lambda obs, info=None: seen.append(obs) or {"decision": 0}  # type: ignore[method-assign]
    policy.reset(env_info=env_info, seed=0)
    policy.act({"rgb": np.full((2, 2, 3), 9, np.uint8), "time": np.array([0.0])})
    assert not seen[0]["rgb"].any()
    duplex = BlindPolicy()
    assert not duplex.privileged and not duplex.needs_pixels and "rgb" in duplex.obs_modes


def test_coin_interrupts_half_the_time_and_is_seeded(env_info: dict) -> None:
    def decisions(seed: int) -> list[int]:
        coin = make_policy("coin")
        coin.reset(env_info=env_info, seed=seed)
        return [coin.act({"time": np.array([0.5 * i])})["decision"] for i in range(2000)]

    assert np.mean(decisions(0)) == pytest.approx(0.5, abs=0.04)
    assert decisions(3) == decisions(3) and decisions(3) != decisions(4)


def _messages(name: str, env_info: dict, seconds: float = 20.0, **kwargs: Any) -> list:
    policy = make_policy(name, **kwargs)
    policy.reset(env_info=env_info, seed=0)
    out = []
    for i in range(int(seconds / 0.5)):
        action = policy.act({"time": np.array([0.5 * i])})
        if action["decision"]:
            out.append((0.5 * i, INTENTS[action["intent"]], action["step"]))
    return out


def test_spammers_follow_their_clocks(env_info: dict) -> None:
    correct = _messages("spam-correct", env_info)
    assert [t for t, _, _ in correct] == [2.0 * i for i in range(10)]
    assert {i for _, i, _ in correct} == {"correct_deviation"}
    assert {s for _, _, s in correct} <= set(range(4))
    reengage = _messages("spam-reengage", env_info)  # four steps of 5 s each
    assert [(t, s) for t, _, s in reengage] == [(0.0, 0), (4.0, 0), (8.0, 1), (12.0, 2), (16.0, 3)]
    assert {i for _, i, _ in reengage} == {"re_engage"}


def test_timer_instruct_is_the_plan_timer(env_info: dict) -> None:
    assert _messages("timer-instruct", env_info) == _messages("plan-timer", env_info)
    assert {i for _, i, _ in _messages("timer-instruct", env_info)} == {"instruct_next"}


def test_the_late_oracle_repeats_ignored_corrections_like_the_oracle(ignored_episode) -> None:
    """Reactions answer the late message; the inner oracle must still see them as its own."""

    def corrections(name: str, **kwargs: float) -> int:
        record = ignored_episode(make_policy(name, **kwargs))
        return sum(d["intent"] == "correct_deviation" for d in record["decisions"])

    punctual = corrections("oracle")
    assert punctual >= 2  # the first correction and at least one repeat
    late = corrections("oracle-late", delay=3.0)
    # It repeats too; shifted by 3 s, at most one repeat less fits before the deadline.
    assert late >= 2 and punctual - 1 <= late <= punctual


def _right_step_run(env_id: str, seed: int) -> dict[str, Any]:
    """Roll ``right-step`` around ``spam-correct``: the inner and the outer actions, the
    open deviations at each point, the info keys the inner policy was given, the plan."""
    from proassist.analysis.evaluation import env_info

    policy = make_policy("right-step", policy="spam-correct")
    inner_act, run = policy.inner.act, {"inner": [], "given": [], "outer": [], "open": []}

    def spy(obs: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        run["given"].append(info)
        run["inner"].append(inner_act(obs, info))
        return run["inner"][-1]

    policy.inner.act = spy  # type: ignore[method-assign]
    env = _make_env(env_id, policy, max_duration=90.0)
    obs, info = env.reset(seed=seed)
    policy.reset(env_info=env_info(env), seed=seed)
    done = False
    while not done:
        run["open"].append(list(info.get("active_deviations") or []))
        run["outer"].append(policy.act(obs, info))
        assert env.action_space.contains(run["outer"][-1])
        obs, _, terminated, truncated, info = env.step(run["outer"][-1])
        done = terminated or truncated
    env.close()
    return run | {"plan": [s["id"] for s in policy.plan], "renamed": policy.renamed}


@pytest.mark.parametrize("env_id", ENVS)
def test_right_step_names_the_addressing_step_only_while_a_deviation_is_open(env_id: str):
    from proassist.sim.deviations.base import addressable_steps

    run = _right_step_run(env_id, seed=3)
    assert all(given is None for given in run["given"])  # no ground truth reaches it
    renamed = unchanged = 0
    for inner, action, open_devs in zip(run["inner"], run["outer"], run["open"], strict=True):
        if not inner["decision"] or not open_devs:
            assert action == inner
            unchanged += inner["decision"]
            continue
        assert action["decision"] == 1 and action["intent"] == inner["intent"]
        right = set().union(*(addressable_steps(d) for d in open_devs))
        assert run["plan"][action["step"]] in right
        if run["plan"][inner["step"]] in right:
            assert action == inner  # already right: kept
        renamed += action["step"] != inner["step"]
    assert renamed == run["renamed"] > 0 and unchanged > 0


def test_right_step_rejects_a_privileged_inner_policy() -> None:
    with pytest.raises(ValueError, match="non-privileged"):
        make_policy("right-step", policy="oracle")
