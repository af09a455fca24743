"""Step watching: the dependency rule and the step-oracle (policies/stepwatch.py)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import proassist.envs  # noqa: F401  (registers the ids)
from proassist.policies import make_policy
from proassist.policies.rollout import env_info
from proassist.policies.step_oracle import StepOraclePolicy
from proassist.policies.stepwatch import DependencyWatch, one_hot
from proassist.sim.deviations.base import addressable_steps
from proassist.sim.messages import INTENTS
from proassist.sim.person.reactions import DONE_TEXT, FINE_TEXT, STOP_TEXT

PLAN = [
    {"id": "a", "after": [], "optional": False},
    {"id": "b", "after": [], "optional": True},
    {"id": "c", "after": ["a", "b"], "optional": False},
    {"id": "d", "after": ["c"], "optional": False},
]


def _see(watch: DependencyWatch, step: int | None) -> int | None:
    return watch.observe(one_hot(len(PLAN), step))


def test_watch_names_the_missing_required_predecessor_once() -> None:
    watch = DependencyWatch(PLAN)
    assert _see(watch, None) is None
    assert _see(watch, 2) == 0  # c started, a never worked on (b is optional)
    assert _see(watch, 2) is None  # said once per pair
    assert _see(watch, 0) is None  # a now worked on
    assert _see(watch, 3) is None  # d needs c: c was worked on


def test_watch_worked_is_a_share_of_the_expected_duration() -> None:
    plan = [dict(s, duration_mean=2.0) for s in PLAN]  # 2 s: 4 points at dt 0.5
    watch = DependencyWatch(plan, worked=0.5)
    _ = [watch.observe(one_hot(4, 0)) for _ in range(2)]  # 1 s of a: not more than half
    assert watch.observe(one_hot(4, 2)) == 0
    watch = DependencyWatch(plan, worked=0.5)
    _ = [watch.observe(one_hot(4, 0)) for _ in range(3)]
    assert watch.observe(one_hot(4, 2)) is None


def test_watch_floor_keeps_a_look_alike_from_counting_as_done() -> None:
    """c under way with a at 0.3 throughout (a look-alike, or the step the plan
    expects): without a floor a accrues its 0.3 and counts as done, so the skipped a is
    never named; with ``floor`` above 0.3 it accrues nothing and is named."""
    plan = [dict(s, duration_mean=2.0) for s in PLAN]  # need 1 s of a (worked 0.5)
    probs = np.array([0.3, 0.0, 0.7, 0.0, 0.0])
    for floor, named in ((0.0, None), (0.5, 0)):
        watch = DependencyWatch(plan, worked=0.5, sustain=10, floor=floor)
        _ = [watch.observe(probs) for _ in range(9)]  # c not yet current: a accrues
        assert watch.observe(probs) == named, floor
    with pytest.raises(ValueError, match="floor"):
        DependencyWatch(PLAN, floor=1.5)
    assert make_policy("stepwatch", floor=0.5).watch is None  # built by reset
    assert make_policy("stepwatch", floor=0.5).settings["floor"] == 0.5


def test_watch_recent_resumes_after_the_step_recognised_last() -> None:
    """With ``recent`` the step to get back to counts from the step recognised last (kept
    while none is), so a step ahead counted by mistake is passed over."""
    from proassist.policies.watchers import resume_step

    plan = [{"id": x, "after": [], "duration_mean": 1.0} for x in "abcd"]
    for recent, last, resume in ((False, None, 3), (True, 0, 1)):
        watch = DependencyWatch(plan, worked=0.5, recent=recent)
        assert watch.resume_after() is None  # nothing recognised yet
        for step in (2, 2, 0, 0, None, None):  # c (a mistake), then a, then none
            watch.observe(one_hot(len(plan), step))
        assert watch.worked_on() == {0, 2} and watch.resume_after() == last
        assert resume_step(watch) == resume, recent
    assert make_policy("stepwatch", recent=True).settings["recent"] is True


def test_stepwatch_effects_reach_its_placement_watch_and_need_it() -> None:
    env = gym.make("ProAssist-Kitchen-v0", obs_modes=("segmentation", "depth"), render=False)
    env.reset(seed=0)
    for effects in (True, False):
        policy = make_policy("stepwatch", effects=effects)
        policy.reset(env_info=env_info(env), seed=0)
        assert bool(policy.places.effects) == effects
    env.close()
    assert make_policy("stepwatch").effects is False  # WATCH_DEFAULTS: off
    with pytest.raises(ValueError, match="needs place=true"):
        make_policy("stepwatch", effects=True, place=False)


def test_watch_repetition_names_a_step_worked_on_too_long_once() -> None:
    plan = [dict(s, duration_mean=2.0) for s in PLAN]  # 2 s: 4 points at dt 0.5
    watch = DependencyWatch(plan, repeat=1.5)  # more than 3 s of a step: a repetition
    assert [watch.observe(one_hot(4, 0)) for _ in range(6)] == [None] * 6  # 3 s: not more
    assert watch.observe(one_hot(4, 0)) == 0  # 3.5 s of a
    assert watch.observe(one_hot(4, 0)) is None  # once per step
    off = DependencyWatch(plan)  # repeat 0: no repetition rule
    assert all(off.observe(one_hot(4, 0)) is None for _ in range(20))
    with pytest.raises(ValueError, match="repeat, remind, quiet, hold, insist >= 0"):
        DependencyWatch(plan, repeat=-1.0)


def test_watch_repetition_restarts_a_step_sent_back_for_its_predecessor() -> None:
    """ "Do a first" undoes c: the time c took before does not count toward a repeat."""
    plan = [dict(s, duration_mean=2.0) for s in PLAN]
    watch = DependencyWatch(plan, repeat=1.5)
    assert watch.observe(one_hot(4, 2)) == 0
    _ = [watch.observe(one_hot(4, 0)) for _ in range(4)]
    assert [watch.observe(one_hot(4, 2)) for _ in range(7)] == [None] * 6 + [2]


def test_watch_reminds_an_unheeded_correction_after_remind_seconds() -> None:
    watch = DependencyWatch(PLAN, remind=2.0)  # 4 points at dt 0.5
    assert [_see(watch, 2) for _ in range(6)] == [0, None, None, None, 0, None]
    assert _see(watch, 0) is None  # a now worked on: nothing to remind
    assert all(_see(watch, 2) is None for _ in range(8))
    once = DependencyWatch(PLAN)  # remind 0: said once
    assert [_see(once, 2) for _ in range(9)] == [0] + [None] * 8


def test_watch_insists_on_an_unanswered_correction_whatever_is_recognised() -> None:
    watch = DependencyWatch(PLAN, insist=2.0)  # 4 points at dt 0.5
    assert _see(watch, 2) == 0  # c started, a never worked on: "do a first"
    said = [_see(watch, None) for _ in range(12)]  # nothing recognised, nothing heard
    assert said == [None, None, None, 0] * 2 + [None] * 4  # INSISTS (2) times, 2 s apart
    assert watch.intent == "correct_deviation"
    off = DependencyWatch(PLAN)  # insist 0: once
    assert [_see(off, s) for s in [2] + [None] * 8] == [0] + [None] * 8


@pytest.mark.parametrize("reply", ["", "Oh, right, I forgot.", FINE_TEXT, "worked on"])
def test_watch_insists_only_while_unanswered_and_not_worked_on(reply: str) -> None:
    watch = DependencyWatch(PLAN, insist=2.0)
    assert _see(watch, 2) == 0
    if reply == "worked on":
        assert _see(watch, 0) is None  # the person turns to a: worked on (worked 0)
    else:
        watch.hear(reply)
    said = [_see(watch, None) for _ in range(8)]
    assert said == ([None, None, None, 0, None, None, None, 0] if reply == "" else [None] * 8)


def test_a_person_who_ignores_a_right_correction_hears_it_again(ignored_episode) -> None:
    """The person says nothing when ignoring a correction that matches a deviation:
    ``insist`` repeats it (INSISTS times) without reading the reaction."""

    def corrections(insist: float) -> list[tuple[float, str | None]]:
        policy = StepOraclePolicy(insist=insist, remind=0.0, place=False, attend=False)
        record = ignored_episode(policy)
        return [(d["t"], d["step"]) for d in record["decisions"] if d["decision"]]

    once, insisted = corrections(0.0), corrections(3.0)
    assert [s for _, s in once] == ["fill_kettle"]
    kettle = [t for t, s in insisted if s == "fill_kettle"]
    assert [t - kettle[0] for t in kettle] == [0.0, 3.0, 6.0] and kettle[0] == once[0][0]


@pytest.mark.parametrize("reply", [DONE_TEXT, STOP_TEXT])
def test_watch_listens_a_refused_correction_marks_its_step_worked_on(reply: str) -> None:
    plan = [*PLAN, {"id": "e", "after": ["a"], "optional": False}]
    deaf, heard = DependencyWatch(plan, listen=False), DependencyWatch(plan)
    for watch in (deaf, heard):
        assert watch.observe(one_hot(5, 2)) == 0  # c started, a missing: "do a first"
        watch.hear("")  # nothing said yet (reaction delay)
        assert watch.observe(one_hot(5, 2)) is None
        watch.hear(reply)
    assert deaf.observe(one_hot(5, 4)) == 0  # e needs a too: a second false alarm
    assert heard.observe(one_hot(5, 4)) is None  # the person said a was fine
    assert 0 in heard.worked_on() and 0 not in deaf.worked_on()


def test_watch_a_step_called_fine_is_held_back_not_worked_on() -> None:
    """ "I think it's fine.": not due yet (not done); named again only after hold s."""
    plan = [*PLAN, {"id": "e", "after": ["a"], "optional": False}]
    watch = DependencyWatch(plan, hold=2.0)  # 4 points at dt 0.5
    assert watch.observe(one_hot(5, 2)) == 0
    watch.hear(FINE_TEXT)
    assert 0 not in watch.worked_on()
    assert [watch.observe(one_hot(5, 4)) for _ in range(4)] == [None] * 3 + [0]
    with pytest.raises(ValueError, match="hold, insist >= 0"):
        DependencyWatch(PLAN, hold=-1.0)
    assert StepOraclePolicy(hold=3.0).settings["hold"] == 3.0  # a policy argument too


def test_watch_ready_names_only_a_missing_step_the_person_could_do_now() -> None:
    assert _see(DependencyWatch(PLAN, ready=False), 3) == 2  # d needs c
    ready = DependencyWatch(PLAN, ready=True)
    assert _see(ready, 3) is None  # c itself needs a, never worked on: d is doubtful
    assert _see(ready, 0) is None  # a
    assert _see(ready, 3) == 2  # now c could be done: "do c first"


def test_watch_an_acknowledged_correction_is_closed_before_a_later_refusal() -> None:
    plan = [*PLAN, {"id": "e", "after": ["a"], "optional": False}]
    watch = DependencyWatch(plan)
    assert watch.observe(one_hot(5, 2)) == 0
    watch.hear("Oh, right, I forgot.")
    watch.hear("I think it's fine.")  # about nothing the watch said: a stays missing
    assert watch.observe(one_hot(5, 4)) == 0


def test_watch_keeps_quiet_after_please_stop() -> None:
    watch = DependencyWatch(PLAN, quiet=2.0)  # 4 points at dt 0.5
    watch.hear("Please stop.")
    assert [_see(watch, 2) for _ in range(4)] == [None] * 3 + [0]
    with pytest.raises(ValueError, match="quiet, hold, insist >= 0"):
        DependencyWatch(PLAN, quiet=-1.0)


def test_watch_needs_a_sustained_confident_step() -> None:
    watch = DependencyWatch(PLAN, sustain=2, confidence=0.6)
    assert watch.observe(np.array([0.0, 0.0, 0.9, 0.0, 0.1])) is None  # first point of c
    assert watch.observe(np.array([0.0, 0.0, 0.5, 0.0, 0.5])) is None  # not confident
    assert watch.observe(np.array([0.0, 0.0, 0.7, 0.0, 0.3])) == 0
    with pytest.raises(ValueError, match="sustain"):
        DependencyWatch(PLAN, sustain=0)
    with pytest.raises(ValueError, match="probabilities"):
        watch.observe(np.ones(3))


def test_current_plan_step_is_a_plan_step_or_none() -> None:
    env = gym.make("ProAssist-Kitchen-v0", privileged=True, render=False)
    _, info = env.reset(seed=3)
    ids = {s["id"] for s in env_info(env)["plan"]}
    seen = set()
    for _ in range(400):
        _, _, term, trunc, info = env.step({"decision": 0})
        assert info["current_plan_step"] is None or info["current_plan_step"] in ids
        if info["current_step"] in ids:
            assert info["current_plan_step"] == info["current_step"]
        seen.add(info["current_plan_step"])
        if term or trunc:
            break
    assert len(seen - {None}) >= 3
    env.close()


@pytest.mark.parametrize("env_id", ["ProAssist-Kitchen-v0", "ProAssist-Assembly-v0"])
def test_step_oracle_corrections_name_a_dependency_and_never_read_deviations(env_id: str) -> None:
    """Every message is a correction naming an ``after`` step of the true step (or, a
    repetition, the true step itself); the policy works on an info holding only
    ``current_plan_step``; some name a step that addresses an open deviation (the
    dependency rule alone: the placement and attention rules read frames, the hazard rule
    says warn)."""
    policy = make_policy("step-oracle", place=False, attend=False, hazard=False)
    env = gym.make(env_id, privileged=True, render=False)
    hits = n = 0
    for seed in range(6):
        obs, info = env.reset(seed=seed)
        policy.reset(env_info=env_info(env), seed=seed)
        plan = env_info(env)["plan"]
        done = False
        while not done:
            action = policy.act(obs, {"current_plan_step": info["current_plan_step"]})
            if action["decision"]:
                n += 1
                assert INTENTS[int(action["intent"])] == "correct_deviation"
                named = plan[int(action["step"])]["id"]
                cur = next(s for s in plan if s["id"] == info["current_plan_step"])
                assert named in cur["after"] or named == cur["id"]
                open_ids = set().union(*(addressable_steps(d) for d in info["active_deviations"]))
                hits += named in open_ids
            obs, _, term, trunc, info = env.step(action)
            done = term or trunc
    assert n > 0 and hits > 0
    env.close()


def test_step_oracle_refuses_a_non_privileged_info() -> None:
    policy = make_policy("step-oracle")
    env = gym.make("ProAssist-Kitchen-v0", render=False)
    obs, info = env.reset(seed=0)
    policy.reset(env_info=env_info(env), seed=0)
    with pytest.raises(ValueError, match="privileged"):
        policy.act(obs, info)
    env.close()


HAZARD_PLAN = [
    {"id": "burner_on", "after": [], "optional": False},
    {"id": "heat", "after": ["burner_on"], "optional": False},
    {"id": "burner_off", "after": ["heat"], "optional": False, "safety_critical": True},
    {"id": "pour", "after": ["heat"], "optional": False},
    {"id": "serve", "after": ["pour"], "optional": False},
]


def _walk(watch: DependencyWatch, steps: list[int]) -> list[tuple[int | None, str]]:
    out = []
    for s in steps:
        k = watch.observe(one_hot(len(HAZARD_PLAN), s))
        out.append((k, watch.intent if k is not None else ""))
    return out


def test_hazard_warns_once_of_a_due_safety_step_passed_over() -> None:
    watch = DependencyWatch(HAZARD_PLAN, hazard=True)
    said = _walk(watch, [0, 1, 3, 3, 4])
    assert said == [(None, ""), (None, ""), (2, "warn"), (None, ""), (None, "")]
    done = DependencyWatch(HAZARD_PLAN, hazard=True)  # turned off in time: nothing to say
    assert all(k is None for k, _ in _walk(done, [0, 1, 2, 3, 4]))
    off = DependencyWatch(HAZARD_PLAN)  # hazard off: pour does not need burner_off
    assert all(k is None for k, _ in _walk(off, [0, 1, 3, 4]))


def test_hazard_waits_until_the_safety_step_is_due_and_yields_to_a_missing_step() -> None:
    watch = DependencyWatch(HAZARD_PLAN, hazard=True)
    # serve seen first: pour (needed by serve) is named; burner_off is not due (heat missing)
    assert _walk(watch, [4]) == [(3, "correct_deviation")]
    assert _walk(watch, [1, 3, 3]) == [(0, "correct_deviation"), (2, "warn"), (None, "")]
    refused = DependencyWatch(HAZARD_PLAN, hazard=True)
    _walk(refused, [0, 1])
    assert _walk(refused, [3]) == [(2, "warn")]
    refused.hear(DONE_TEXT)  # "I already did that.": burner_off counts as worked on
    assert refused.worked_on() >= {2}


def test_step_oracle_says_warn_for_a_passed_over_safety_step() -> None:
    policy = StepOraclePolicy(place=False, attend=False, hazard=True)
    info = {"plan": HAZARD_PLAN, "dt": 0.5}
    policy.reset(env_info=info, seed=0)
    obs = {"time": np.zeros(1), "utterance": ""}
    actions = [policy.act(obs, {"current_plan_step": s}) for s in ("burner_on", "heat", "pour")]
    assert [a["decision"] for a in actions] == [0, 0, 1]
    assert INTENTS[int(actions[2]["intent"])] == "warn" and actions[2]["step"] == 2
