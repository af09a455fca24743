"""``first-of``: the first interrupting action of several assistants (policies/compose.py)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import proassist.envs  # noqa: F401  (registers the ids)
from proassist.policies import make_policy
from proassist.policies.base import PolicyBase, make_action, register_policy, silent_action
from proassist.policies.rollout import env_info, rollout
from proassist.sim.messages import INTENTS
from proassist.sim.person.reactions import DONE_TEXT, FINE_TEXT, STOP_TEXT, family

SPAM = {"policy": "spam-correct", "policy_kwargs": {"period": 2.0}}
PERIODIC = {"policy": "periodic", "policy_kwargs": {"period": 3.0}}


def test_first_of_sends_the_first_interrupting_action_in_order() -> None:
    first = make_policy("first-of", policies=[PERIODIC, SPAM])
    env = gym.make("ProAssist-Kitchen-v0", render=False, max_duration=30.0)
    record = rollout(env, first, seed=1)
    alone = {
        name: [
            d["t"]
            for d in rollout(env, make_policy(name, **kw), seed=1)["decisions"]
            if d.get("decision")
        ]
        for name, kw in (
            ("periodic", PERIODIC["policy_kwargs"]),
            ("spam-correct", SPAM["policy_kwargs"]),
        )
    }
    env.close()
    sent = [d["t"] for d in record["decisions"] if d.get("decision")]
    assert sent and set(alone["periodic"]) <= set(sent)
    assert set(sent) <= set(alone["periodic"]) | set(alone["spam-correct"])
    n_periodic, n_spam = record["first_of_sent"]
    assert n_periodic == len(alone["periodic"]) and n_periodic + n_spam == len(sent)


def test_first_of_checks_its_entries() -> None:
    with pytest.raises(ValueError, match="at least two"):
        make_policy("first-of", policies=[SPAM])
    with pytest.raises(ValueError, match="policies\\[1\\]"):
        make_policy("first-of", policies=[SPAM, {"name": "silent"}])


def test_first_of_with_a_privileged_inner_is_privileged_and_passes_it_info() -> None:
    """Only the privileged inner assistant reads info; first-of then decides as it does."""
    from proassist.analysis.evaluation import evaluate

    oracle = {"policy": "step-oracle", "policy_kwargs": {"place": False, "attend": False}}
    plain = make_policy("first-of", policies=[SPAM, PERIODIC])
    both = make_policy("first-of", policies=[oracle, {"policy": "test-no-info"}])
    assert not plain.privileged and both.privileged
    kw = {"render": False, "max_duration": 120.0}
    seeds = [0, 1, 2]
    ours, _ = evaluate(both, "ProAssist-Kitchen-v0", seeds, paired_silent=False, **kw)
    alone, _ = evaluate(
        "step-oracle",
        "ProAssist-Kitchen-v0",
        seeds,
        paired_silent=False,
        policy_kwargs=oracle["policy_kwargs"],
        **kw,
    )
    said = [[(d["t"], d.get("step")) for d in r["decisions"] if d.get("decision")] for r in ours]
    assert said == [
        [(d["t"], d.get("step")) for d in r["decisions"] if d.get("decision")] for r in alone
    ]
    assert any(said)


def test_first_of_takes_the_union_of_obs_modes() -> None:
    both = make_policy("first-of", policies=[SPAM, {"policy": "stepwatch"}])
    assert "segmentation" in both.obs_modes and both.needs_pixels
    env = gym.make(
        "ProAssist-Kitchen-v0", obs_modes=both.obs_modes, width=32, height=32, max_duration=5.0
    )
    obs, _ = env.reset(seed=0)
    both.reset(env_info=env_info(env), seed=0)
    assert both.act(obs, None)["decision"] in (0, 1)
    env.close()


@register_policy("test-no-info")
class _NoInfo(PolicyBase):
    """Silent, and fails when given info (a non-privileged inner assistant gets none)."""

    needs_pixels = False
    obs_modes: tuple[str, ...] = ()

    def act(self, observation: dict, info: dict | None = None) -> dict:
        assert info is None, "a non-privileged assistant was given privileged info"
        return silent_action()


class _Always(PolicyBase):
    """Says the same message at every point (a policy that never listens)."""

    needs_pixels = False
    obs_modes: tuple[str, ...] = ()
    says: tuple[str, int, str] = ("correct_deviation", 1, "Wait: do step one.")

    def act(self, observation: dict, info: dict | None = None) -> dict:
        return make_action(*self.says)


@register_policy("test-always-correct")
class _AlwaysCorrect(_Always):
    """Says "correct step 1" at every point."""


def _obs(t: float, said: str = "") -> dict:
    return {"time": np.array([t], np.float32), "utterance": said}


@pytest.mark.parametrize("reply", [DONE_TEXT, FINE_TEXT, STOP_TEXT])
def test_heed_holds_back_refused_content_for_mute_seconds(reply: str) -> None:
    heed = make_policy("heed", policy="test-always-correct", mute=2.0)
    heed.reset(env_info={"plan": [{"id": "a"}, {"id": "b"}], "dt": 0.5}, seed=0)
    assert heed.act(_obs(0.0))["decision"] == 1
    assert heed.act(_obs(0.5, "Okay."))["decision"] == 1  # acknowledged: not refused
    assert heed.act(_obs(1.0, reply))["decision"] == 0  # refused: held back ...
    assert heed.act(_obs(2.5))["decision"] == 0
    assert heed.act(_obs(3.0))["decision"] == 1  # ... for mute seconds
    assert heed.episode_extras()["heed_held"] == 2


def test_heed_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="mute must be >= 0"):
        make_policy("heed", policy="test-always-correct", mute=-1.0)
    with pytest.raises(ValueError, match="privileged"):
        make_policy("heed", policy="oracle")


def test_heed_never_repeats_refused_content_in_an_episode() -> None:
    from proassist.analysis.evaluation import evaluate

    policy = make_policy("heed", policy="spam-correct", mute=10.0)
    kw = {"render": False, "max_duration": 90.0}
    (record,), _ = evaluate(policy, "ProAssist-Kitchen-v0", [3], paired_silent=False, **kw)
    events = record["events"]
    refused = [e for e in events if e["type"] == "reaction" and e["response"] == "already_done"]
    said = [e for e in events if e["type"] == "assistant_message"]
    assert refused and said and policy.held > 0
    for r in refused:
        again = [
            m
            for m in said
            if r["t"] < m["t"] < r["t"] + 10.0 - 1e-6
            and family(m["intent"]) == family(r["intent"])
            and m.get("step") == r.get("target")
        ]
        assert not again, (r, again)


@register_policy("test-watcher")
class _Watcher(PolicyBase):
    """A silent step watcher: its ``watch`` counts as worked on what a test sets."""

    needs_pixels = False
    obs_modes: tuple[str, ...] = ()
    watch = None

    def reset(self, *, env_info: dict, seed: int | None) -> None:
        from proassist.policies.stepwatch import DependencyWatch

        super().reset(env_info=env_info, seed=seed)
        self.watch = DependencyWatch(self.plan)

    def act(self, observation: dict, info: dict | None = None) -> dict:
        return silent_action()


@register_policy("test-always-reengage")
class _AlwaysReengage(_Always):
    """Says "get back to step 0" at every point."""

    says = ("re_engage", 0, "Let's get back to it: step zero.")


def _composed(
    second: str | dict, resume_from: int | None, *more: dict, **kwargs: Any
) -> tuple[PolicyBase, list[dict]]:
    env = gym.make("ProAssist-Kitchen-v0", render=False, max_duration=5.0)
    env.reset(seed=0)
    info = env_info(env)
    env.close()
    spec = {"policy": second} if isinstance(second, str) else second
    both = make_policy(
        "first-of",
        policies=[{"policy": "test-watcher"}, spec, *more],
        resume_from=resume_from,
        **kwargs,
    )
    both.reset(env_info=info, seed=0)
    return both, info["plan"]


def test_first_of_resume_from_names_the_watchers_next_step_in_others_re_engagements() -> None:
    """A re-engagement of another assistant names the first required step after the
    furthest one the watcher counts as worked on; other intents are left alone."""
    both, plan = _composed("test-always-reengage", resume_from=0)
    watch = both.inner[0].watch
    assert both.act(_obs(0.5), None)["step"] == 0  # nothing worked on: the first step
    watch.mass[[0, 2]] = 1.0  # steps 0 and 2 worked on (1 passed over)
    action = both.act(_obs(1.0), None)
    k = next(i for i in range(3, len(plan)) if not plan[i].get("optional"))
    assert action["step"] == k and action["intent"] == INTENTS.index("re_engage")
    assert str(plan[k]["instruction"]).rstrip(".").lower()[:20] in action["text"].lower()
    watch.mass[:] = 1.0  # all worked on: the assistant's own step stands
    assert both.act(_obs(1.5), None)["step"] == 0
    plain, _ = _composed("test-always-reengage", resume_from=None)
    plain.inner[0].watch.mass[[0, 2]] = 1.0
    assert plain.act(_obs(0.5), None)["step"] == 0
    corrector, _ = _composed("test-always-correct", resume_from=0)
    corrector.inner[0].watch.mass[[0, 2]] = 1.0
    assert corrector.act(_obs(0.5), None)["step"] == 1


def test_first_of_resume_from_tells_heed_what_was_said() -> None:
    """An inner ``heed`` keys a refusal on the renamed step that was said, not on its
    assistant's own step; a renamed message it holds back lets the next one through."""
    heeding = {"policy": "heed", "policy_kwargs": {"policy": "test-always-reengage", "mute": 10}}
    both, plan = _composed(heeding, 0, {"policy": "test-always-correct"})
    watch, heed = both.inner[0].watch, both.inner[1]
    watch.mass[[0, 2]] = 1.0
    k = both.act(_obs(0.5), None)["step"]
    assert k not in (0, 1) and heed.last == (family("re_engage"), k)
    action = both.act(_obs(1.0, DONE_TEXT), None)  # "I already did that" to step k
    assert (action["intent"], action["step"]) == (INTENTS.index("correct_deviation"), 1)
    assert heed.episode_extras()["heed_held"] == 1 and both.sent_by == [0, 1, 1]
    watch.mass[:] = 1.0  # no renaming: its own step 0 was never refused, so it is said
    assert both.act(_obs(1.5), None)["step"] == 0 and both.sent_by == [0, 2, 1]


def test_first_of_tells_heed_when_another_assistant_spoke() -> None:
    """A refusal of another assistant's message does not mute what ``heed`` proposed
    at the same point and never said."""
    heeding = {"policy": "heed", "policy_kwargs": {"policy": "test-always-reengage", "mute": 10}}
    both = make_policy("first-of", policies=[{"policy": "test-always-correct"}, heeding])
    both.reset(env_info={"plan": [{"id": "a"}, {"id": "b"}], "dt": 0.5}, seed=0)
    heed = both.inner[1]
    assert both.act(_obs(0.5))["step"] == 1 and heed.last is None  # "correct step 1" said
    both.act(_obs(1.0, DONE_TEXT))  # refused: the corrector's message, not heed's
    assert heed.muted == {} and both.sent_by == [2, 0]


@register_policy("test-correcting-watcher")
class _CorrectingWatcher(_Watcher):
    """A step watcher that says "correct step 1" at every point."""

    def act(self, observation: dict, info: dict | None = None) -> dict:
        return make_action("correct_deviation", 1, "Wait: do step one.")


@pytest.mark.parametrize("veto", [True, False])
def test_first_of_done_veto_drops_corrections_naming_a_step_the_watcher_saw_done(
    veto: bool,
) -> None:
    """With ``done_veto``, another assistant's correction naming a step the watcher
    counts as worked on is dropped and the next assistant speaks instead; its inner
    ``heed`` is told nothing of it was said, so a refusal of what was said does not
    mute it."""
    corrector = {"policy": "heed", "policy_kwargs": {"policy": "test-always-correct"}}
    both, _ = _composed(corrector, 0, {"policy": "test-always-reengage"}, done_veto=veto)
    heed = both.inner[1]
    assert both.act(_obs(0.5))["step"] == 1  # step 1 not worked on: said
    both.inner[0].watch.mass[1] = 1.0  # now it is worked on
    intent = both.act(_obs(1.0, "Oops, thanks."))["intent"]  # the 0.5 s one answered
    assert INTENTS[intent] == ("re_engage" if veto else "correct_deviation")
    assert both.episode_extras()["first_of_vetoed"] == int(veto)
    assert both.sent_by == ([0, 1, 1] if veto else [0, 2, 0])
    both.act(_obs(1.5, DONE_TEXT))  # the person refuses what was said at 1.0
    assert ((family("correct_deviation"), 1) in heed.muted) == (not veto)


def test_first_of_done_veto_spares_the_watchers_own_corrections_and_needs_it() -> None:
    own = make_policy(
        "first-of",
        policies=[{"policy": "test-correcting-watcher"}, {"policy": "test-always-correct"}],
        resume_from=0,
        done_veto=True,
    )
    own.reset(env_info={"plan": [{"id": "a"}, {"id": "b"}], "dt": 0.5}, seed=0)
    own.inner[0].watch.mass[1] = 1.0
    assert own.act(_obs(0.5))["step"] == 1 and own.sent_by == [1, 0] and own.vetoed == 0
    with pytest.raises(ValueError, match="set resume_from"):
        make_policy("first-of", policies=[SPAM, {"policy": "test-watcher"}], done_veto=True)


def test_first_of_resume_from_must_name_a_step_watcher() -> None:
    with pytest.raises(ValueError, match="'periodic', not a step watcher"):
        make_policy("first-of", policies=[SPAM, PERIODIC], resume_from=1)
    with pytest.raises(ValueError, match="index of policies"):
        make_policy("first-of", policies=[{"policy": "test-watcher"}, SPAM], resume_from=2)
    with pytest.raises(ValueError, match="index of policies"):
        make_policy("first-of", policies=[SPAM, {"policy": "test-watcher"}], resume_from=True)


def _obs(t: float, said: str = "") -> dict:
    return {"time": np.array([t]), "utterance": said}


def test_repeat_hold_holds_acknowledged_and_just_sent_content() -> None:
    from proassist.policies.compose import RepeatHold

    fix, other = make_action("correct_deviation", 2), make_action("correct_deviation", 3)
    again = make_action("warn", 2)  # the same family ("correct") and step
    hold = RepeatHold(ack_hold=10.0, gap=2.5)
    hold.hear(_obs(1.0))
    assert hold.passes(fix) and hold.passes(silent_action())
    hold.hear(_obs(2.0))
    assert not hold.passes(again) and hold.passes(other)  # within the gap; other content
    hold.hear(_obs(3.5))
    assert hold.passes(fix)  # the gap is over, nothing acknowledged yet
    hold.hear(_obs(4.5, "Oops, thanks."))  # acknowledges the last sent: `fix` (step 2)
    assert not hold.passes(fix)
    hold.hear(_obs(14.0))
    assert not hold.passes(again)
    hold.hear(_obs(14.5))
    assert hold.passes(fix) and hold.held == 3
    off = RepeatHold(0.0, 0.0)
    for t, said in ((1.0, ""), (1.5, "Oops, thanks."), (2.0, "")):
        off.hear(_obs(t, said))
        assert off.passes(fix)


@pytest.mark.parametrize("reply", [DONE_TEXT, FINE_TEXT, "What should I do next?"])
def test_repeat_hold_only_an_acknowledgement_holds(reply: str) -> None:
    from proassist.policies.compose import RepeatHold

    fix = make_action("correct_deviation", 2)
    hold = RepeatHold(ack_hold=10.0, gap=0.0)
    hold.hear(_obs(1.0))
    assert hold.passes(fix)
    hold.hear(_obs(2.0, reply))
    hold.hear(_obs(2.5))
    assert hold.passes(fix)


def test_first_of_ack_hold_and_gap_only_drop_messages() -> None:
    """With a gap, no content is sent twice within it, and fewer messages go out."""
    kw = {"policies": [SPAM, PERIODIC]}
    env = gym.make("ProAssist-Kitchen-v0", render=False, max_duration=40.0)
    plain = rollout(env, make_policy("first-of", **kw), seed=1)
    held = rollout(env, make_policy("first-of", ack_hold=10.0, gap=5.0, **kw), seed=1)
    env.close()
    sent = [(d["t"], d["intent"], d["step"]) for d in held["decisions"] if d.get("decision")]
    assert sum(held["first_of_sent"]) == len(sent)  # held messages count as not sent
    assert held["first_of_held"] > 0 and len(sent) < len(
        [1 for d in plain["decisions"] if d.get("decision")]
    )
    last: dict = {}
    for t, intent, step in sent:
        key = (family(intent), step)
        assert t - last.get(key, -np.inf) >= 5.0
        last[key] = t
    with pytest.raises(ValueError, match="ack_hold and gap"):
        make_policy("first-of", gap=-1.0, **kw)
