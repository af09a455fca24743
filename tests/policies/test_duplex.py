"""Tests of the duplex assistant and its monolithic ablation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import proassist.envs  # noqa: F401  (registers the ids)
from proassist.analysis.evaluation import rollout
from proassist.policies import RegistryError, make_policy
from proassist.policies.base import silent_action
from proassist.policies.duplex.assistant import DuplexAssistant, MonolithicAssistant
from proassist.policies.duplex.components import Decision, DialogueTurn
from proassist.policies.duplex.plan_format import Plan, PlanStep, parse_plan


class Scripted:
    """An interaction model that interrupts at given decision indices."""

    def __init__(self, at: dict[int, Decision]) -> None:
        self.at = at
        self.seen: list[Plan | None] = []

    def reset(self, env_info: dict) -> None:
        self.seen = []

    def decide(
        self, obs_history: Sequence[dict], plan: Plan | None, dialogue: Sequence[DialogueTurn]
    ) -> Decision:
        self.seen.append(plan)
        return self.at.get(len(self.seen) - 1, Decision(False))


def _obs(t: float) -> dict:
    return {"time": np.array([t], dtype=np.float32), "utterance": "", "goal": "g"}


def _drive(policy, env_info: dict, n: int) -> list[dict]:
    policy.reset(env_info=env_info, seed=0)
    return [policy.act(_obs(k * env_info["dt"]), None) for k in range(n)]


FIX = Decision(True, "correct_deviation", "s1", "Wait: redo step 1.", fix=True)


@pytest.mark.parametrize("latency", [0.0, 0.5, 1.5, 2.0])
def test_planner_latency_delays_plan_by_decision_points(env_info: dict, latency: float) -> None:
    policy = DuplexAssistant(planner_latency=latency)
    policy.interaction = model = Scripted({2: FIX})
    actions = _drive(policy, env_info, 10)
    assert [a["decision"] for a in actions].count(1) == 1 and actions[2]["step"] == 1
    lag = int(round(latency / env_info["dt"]))
    fixed = [p is not None and p.current_step.fix for p in model.seen]
    first = 2 + max(lag, 1)  # made at point 2; seen at the next point, or 2 + lag
    assert fixed.index(True) == first and all(fixed[first:])


def test_planner_called_at_start_and_on_interrupts_only(env_info: dict) -> None:
    policy = DuplexAssistant()
    talk = Decision(True, "instruct_next", "s1", "Next, step 1.")
    policy.interaction = Scripted({1: talk, 5: FIX, 6: talk})
    _drive(policy, env_info, 12)
    assert policy.stats["interrupts"] == 3 and policy.stats["decisions"] == 12
    assert policy.stats["planner_calls"] == 1 + policy.stats["interrupts"]
    plan = parse_plan(policy.plan_text)
    assert plan == policy.cached_plan and plan.current_step.id == "s1"


def test_recovery_step_becomes_current(env_info: dict) -> None:
    policy = DuplexAssistant()
    policy.interaction = Scripted({3: FIX})
    _drive(policy, env_info, 5)
    assert policy.cached_plan.mode == "recovery" and policy.cached_plan.current_step.fix
    assert "(fix) (Current)" in policy.plan_text and "[s1]" in policy.plan_text


def test_duplex_in_env_counts_planner_calls() -> None:
    env = gym.make("ProAssist-Kitchen-v0", render=False, max_duration=60.0)
    policy = make_policy("duplex")
    try:
        record = rollout(env, policy, seed=3)
    finally:
        env.close()
    spoken = sum(d["decision"] for d in record["decisions"])
    assert spoken == policy.stats["interrupts"] > 0
    assert policy.stats["planner_calls"] == 1 + spoken


def test_monolithic_plans_every_point_and_lags_decisions(env_info: dict) -> None:
    talk = Decision(True, "instruct_next", "s2", "Next, step 2.")
    policy = MonolithicAssistant(planner_latency=0.0)
    policy.interaction = Scripted({1: talk})
    actions = _drive(policy, env_info, 8)
    assert policy.stats["planner_calls"] == policy.stats["decisions"] == 8
    assert [k for k, a in enumerate(actions) if a["decision"]] == [1]
    # 1 s per call, one call at a time: calls start at points 0, 2, 4, 6 (t = 0, 1, 2,
    # 3 s); call 1 (at 1 s) decides to talk and is heard when it completes, at point 4.
    policy = MonolithicAssistant(planner_latency=1.0)
    policy.interaction = model = Scripted({1: talk})
    actions = _drive(policy, env_info, 8)
    assert policy.stats["decisions"] == 8 and len(model.seen) == 4
    assert policy.stats["planner_calls"] == 4  # the reset's plan and the calls at 2, 4, 6
    assert [k for k, a in enumerate(actions) if a["decision"]] == [4]
    assert actions[4]["step"] == 2


def test_monolithic_with_latency_never_repeats_a_message_it_has_not_seen(env_info: dict) -> None:
    """The old delay line spoke one call's message while later calls, blind to it,
    queued the same message again; one call at a time cannot."""

    class Always(Scripted):
        def decide(self, obs_history, plan, dialogue):  # type: ignore[override]
            self.dialogues = [*getattr(self, "dialogues", []), list(dialogue)]
            said = [d for d in dialogue if d.speaker == "assistant"]
            return Decision(not said, "instruct_next", "s2", "Next, step 2.")

    policy = MonolithicAssistant(planner_latency=2.0)
    policy.interaction = Always({})
    actions = _drive(policy, env_info, 20)
    assert sum(a["decision"] for a in actions) == 1
    monolithic = make_policy("monolithic")
    assert monolithic.stats["planner_calls"] == 0


def test_component_names_and_plug_in_errors() -> None:
    with pytest.raises(RegistryError, match="did you mean 'rules'"):
        make_policy("duplex", interaction="rule")
    with pytest.raises(RegistryError, match="did you mean 'taskgraph'"):
        make_policy("duplex", planner="taskgrap")
    with pytest.raises((FileNotFoundError, ImportError), match="checkpoint|torch"):
        make_policy("duplex", interaction="learned", checkpoint="/no/such/model.pt")
    with pytest.raises(ValueError, match="planner_latency"):
        make_policy("duplex", planner_latency=-1.0)
    assert make_policy("duplex", planner="task-graph").planner_name == "task-graph"


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory) -> Path:
    """A tiny random causal LM (the helpers of test_hf), saved with save_pretrained."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from test_hf import _text_config, _tokenizer
    from transformers import LlamaForCausalLM

    path = tmp_path_factory.mktemp("tiny_lm_duplex")
    tok = _tokenizer()
    torch.manual_seed(1)
    LlamaForCausalLM(_text_config(tok)).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def test_malformed_hf_planner_never_crashes_an_episode(tiny_lm: Path) -> None:
    env = gym.make("ProAssist-Kitchen-v0", render=False, max_duration=6.0)
    policy = DuplexAssistant(planner="hf", planner_path=str(tiny_lm))
    policy.planner.max_new_tokens = 24
    talk = Decision(True, "correct_deviation", "fill_kettle", "Wait, fill the kettle.", fix=True)
    policy.interaction = Scripted({2: talk, 6: talk})
    try:
        record = rollout(env, policy, seed=0)
    finally:
        env.close()
    assert record["duration"] > 0 and policy.stats["planner_calls"] == 3
    assert policy.stats["malformed"] == policy.planner.stats["malformed"] >= 1
    assert parse_plan(policy.plan_text) == policy.cached_plan
    # every raw planner output is in the record, and the scores count the unparseable ones
    outputs = record["model_outputs"]
    assert [o["component"] for o in outputs] == ["planner"] * 3
    assert all(isinstance(o["output"], str) for o in outputs)
    assert sum(not o["parsed"] for o in outputs) == record["policy_stats"]["malformed"]
    from proassist.analysis.metrics.scores import score_episodes

    scores = score_episodes([record], n_boot=0)
    assert scores["n_model_outputs"] == 3
    assert scores["n_unparseable"] == policy.stats["malformed"]


def test_plan_modes_oracle_and_none(env_info: dict) -> None:
    oracle = DuplexAssistant(plan_mode="oracle")
    assert oracle.privileged and not DuplexAssistant().privileged
    oracle.interaction = model = Scripted({})
    oracle.reset(env_info=env_info, seed=0)
    oracle.act(_obs(0.0), {"completed_steps": ["s0"], "active_deviations": []})
    plan = model.seen[-1]
    assert [s.id for s in plan.completed] == ["s0"] and plan.current_step.id == "s1"
    dev = {"step": "s0", "recovery_steps": [{"id": "s0_fix", "instruction": "Redo it."}]}
    oracle.act(_obs(0.5), {"completed_steps": ["s0"], "active_deviations": [dev]})
    plan = model.seen[-1]
    assert plan.mode == "recovery" and plan.current_step.fix and plan.current_step.id == "s0"
    with pytest.raises(ValueError, match="privileged"):
        oracle.act(_obs(1.0), None)
    blind = DuplexAssistant(plan_mode="none")
    blind.interaction = model = Scripted({0: FIX})
    actions = _drive(blind, env_info, 3)
    assert model.seen == [None, None, None] and actions[0]["decision"] == 1
    assert blind.stats["planner_calls"] == 1  # the initial plan only, never used
    with pytest.raises(ValueError, match="plan_mode"):
        DuplexAssistant(plan_mode="perfect")


def test_oracle_plan_duplex_in_a_privileged_env() -> None:
    from proassist.analysis.evaluation import evaluate

    kwargs = {"plan_mode": "oracle"}
    run = evaluate("duplex", "ProAssist-Kitchen-v0", [0], policy_kwargs=kwargs, paired_silent=False,
                   width=48, height=48, max_duration=60.0)  # fmt: skip
    assert run.records[0]["env_kwargs"] is not None and len(run.records[0]["decisions"]) > 0


def _completed_error(mode: str, seed: int) -> tuple[float, DuplexAssistant]:
    """Mean |ground-truth completed steps ^ the plan's completed steps| per decision
    point of a silent duplex in a real kitchen episode."""
    from proassist.policies.rollout import env_info as info_of

    env = gym.make("ProAssist-Kitchen-v0", privileged=True, width=64, height=64,
                   obs_modes=("rgb", "segmentation"))  # fmt: skip
    obs, info = env.reset(seed=seed)
    policy = DuplexAssistant(plan_mode=mode)
    policy.interaction = Scripted({})
    policy.reset(env_info=info_of(env), seed=seed)
    errors, done = [], False
    while not done:
        assert policy.act(obs, None)["decision"] == 0
        mine = {s.id for s in policy.latest_plan.completed}
        errors.append(len(set(info["completed_steps"]) ^ mine))
        obs, _, term, trunc, info = env.step(silent_action())
        done = term or trunc
    env.close()
    return float(np.mean(errors)), policy


def test_tracked_plan_follows_the_person_without_speaking() -> None:
    predicted, _ = _completed_error("predicted", 0)
    tracked, policy = _completed_error("tracked", 0)
    assert "segmentation" in policy.obs_modes and not policy.privileged
    assert policy.stats["interrupts"] == 0 and policy.stats["planner_calls"] > 3
    assert tracked < 1.5 and tracked < 0.5 * predicted  # 9 episodes: 0.88 vs 6.52 steps


def test_tracked_plan_keeps_the_rules_step_guidance() -> None:
    """The tracked revision comes after the decision: the rule tracker still sees the
    step it was timing end, and still instructs the next one."""
    from proassist.analysis.evaluation import evaluate

    counts = {}
    for mode in ("predicted", "tracked"):
        run = evaluate("duplex", "ProAssist-Kitchen-v0", [0, 1], policy_kwargs={"plan_mode": mode},
                       paired_silent=False, task="kitchen_tea", width=64, height=64)  # fmt: skip
        said = [e for r in run.records for e in r["events"] if e["type"] == "assistant_message"]
        counts[mode] = sum(e["intent"] == "instruct_next" for e in said)
    assert counts["tracked"] >= 0.8 * counts["predicted"] > 0, counts


def test_tracked_fix_steps_are_done_in_turn() -> None:
    """Over fix steps are dropped one by one; the last one completes the step it redid."""
    from proassist.policies.duplex.cue_tracker import ProgressTracker

    fixes = (PlanStep("Redo 1a", "s1", fix=True), PlanStep("Redo 1b", "s1", fix=True))
    plan = Plan("recovery", "g", (PlanStep("S0", "s0"),), fixes + (PlanStep("S2", "s2"),), 0)
    tracker = ProgressTracker()
    tracker.reset({"plan": [{"id": "s1", "duration_mean": 2.0}]})
    assert tracker.revise(_obs(0.0), plan) is None  # the step just started
    revised = tracker.revise(_obs(3.0), plan)  # 1.3 x 2 s passed: over
    assert isinstance(revised, Plan) and revised.current_step.text == "Redo 1b"
    assert tracker.revise(_obs(3.5), plan) is None  # once per step
    assert tracker.revise(_obs(3.5), revised) is None  # the new step's clock starts
    assert tracker.revise(_obs(6.5), revised) == ("s0", "s1")


def test_learned_intents_filter_and_bias_override() -> None:
    pytest.importorskip("torch")
    from proassist.policies.learned.assets import default_checkpoint
    from proassist.policies.learned.interaction import CORRECTING, LearnedInteractionModel

    path = default_checkpoint()
    if path is None:
        pytest.skip("no shipped checkpoint")
    with pytest.raises(ValueError, match="unknown intents"):
        LearnedInteractionModel(path, intents=["shout"])
    quiet = LearnedInteractionModel(path, intents=CORRECTING, logit_bias=50.0, min_gap_s=0.0)
    loud = LearnedInteractionModel(path, logit_bias=50.0, min_gap_s=0.0)
    assert quiet.logit_bias == 50.0 and quiet.intents == frozenset(CORRECTING)
    env = gym.make("ProAssist-Kitchen-v0", width=64, height=64, obs_modes=quiet.obs_modes)
    obs, _ = env.reset(seed=0)
    from proassist.policies.rollout import env_info as info_of

    for model in (quiet, loud):
        model.reset(info_of(env))
    said = {"quiet": [], "loud": []}
    for _ in range(30):
        for name, model in (("quiet", quiet), ("loud", loud)):
            d = model.decide([obs], None, [])
            if d.interrupt:
                said[name].append(d.intent)
        obs, *_ = env.step(silent_action())
    env.close()
    assert len(said["loud"]) == 30  # a +50 logit bias always interrupts
    assert all(i in CORRECTING for i in said["quiet"])
    assert len(said["quiet"]) == sum(i in CORRECTING for i in said["loud"])


def test_learned_intent_bias_moves_only_that_intents_decisions() -> None:
    """``intent_bias``: +50 on one intent speaks at every point the intent head picks it
    and nowhere else (the base bias -50 silences the rest); unknown intents are refused."""
    pytest.importorskip("torch")
    from proassist.policies.learned.assets import default_checkpoint
    from proassist.policies.learned.interaction import INTENTS, LearnedInteractionModel
    from proassist.policies.rollout import env_info as info_of

    path = default_checkpoint()
    if path is None:
        pytest.skip("no shipped checkpoint")
    with pytest.raises(ValueError, match="unknown intents"):
        LearnedInteractionModel(path, intent_bias={"shout": 1.0})
    every = LearnedInteractionModel(path, logit_bias=50.0, min_gap_s=0.0, intents=list(INTENTS))
    env = gym.make("ProAssist-Kitchen-v0", width=64, height=64, obs_modes=every.obs_modes)
    obs, _ = env.reset(seed=0)
    picked = []
    every.reset(info_of(env))
    for _ in range(20):
        picked.append(every.decide([obs], None, []).intent)
        obs, *_ = env.step(silent_action())
    favourite = max(set(picked), key=picked.count)
    one = LearnedInteractionModel(
        path, logit_bias=-50.0, min_gap_s=0.0, intents=list(INTENTS), intent_bias={favourite: 100.0}
    )
    obs, _ = env.reset(seed=0)
    one.reset(info_of(env))
    said = []
    for _ in range(20):
        d = one.decide([obs], None, [])
        said.append(d.intent if d.interrupt else None)
        obs, *_ = env.step(silent_action())
    env.close()
    assert said == [i if i == favourite else None for i in picked]
    duplex = make_policy(
        "duplex", interaction="learned", interaction_kwargs={"intent_bias": {"re_engage": 2.0}}
    )
    assert duplex.interaction.intent_bias == {"re_engage": 2.0}


def test_interaction_kwargs_a_model_would_drop_are_rejected() -> None:
    with pytest.raises(ValueError, match="did you mean 'persist'"):
        make_policy("duplex", interaction="learned", interaction_kwargs={"persit": 2})
    with pytest.raises(ValueError, match="'logit_bias'.*accepted: threshold"):
        make_policy("duplex", interaction="rules", interaction_kwargs={"logit_bias": -2.0})
    with pytest.raises(ValueError, match="did you mean 'n_frames'"):
        make_policy("duplex", interaction="hf", model_path="x", interaction_kwargs={"n_frame": 2})


def test_learned_persist_needs_consecutive_hot_points() -> None:
    """With ``persist=k`` the first message comes only after k hot points in a row:
    always hot (bias +50), the k-th decision point is the first that speaks."""
    pytest.importorskip("torch")
    from proassist.policies.learned.assets import default_checkpoint
    from proassist.policies.learned.interaction import LearnedInteractionModel
    from proassist.policies.rollout import env_info as info_of

    path = default_checkpoint()
    if path is None:
        pytest.skip("no shipped checkpoint")
    with pytest.raises(ValueError, match="persist"):
        LearnedInteractionModel(path, persist=0)
    env = gym.make("ProAssist-Kitchen-v0", width=64, height=64, obs_modes=("rgb", "segmentation"))
    first = {}
    for k in (1, 3):
        model = LearnedInteractionModel(
            path, logit_bias=50.0, min_gap_s=0.0, intents=None, persist=k
        )
        obs, _ = env.reset(seed=0)
        model.reset(info_of(env))
        for i in range(8):
            if model.decide([obs], None, []).interrupt:
                first[k] = i
                break
            obs, *_ = env.step(silent_action())
    env.close()
    assert first == {1: 0, 3: 2}
