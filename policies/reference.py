"""Reference assistants for the sanity suite (``proassist sanity``).

Each one is a known quantity: a score that one of them wins against a real assistant
points at a bug in the instrument, not a good assistant.

Content-blind (they never look at the frames nor read ground truth):

- ``coin``: interrupts with probability ``p`` (0.5) at every decision point, with a
  random intent and a random plan step (the ``random`` baseline at p = 0.5);
- ``spam-correct``: ``correct_deviation`` naming a random plan step every 2 s;
- ``spam-reengage``: ``re_engage`` naming the step a plan timer expects, every 4 s;
- ``timer-instruct``: ``instruct_next`` on a plan timer (the ``plan-timer`` baseline).

Oracle timing with wrong content (privileged, like the oracle): ``oracle-wrong-step``,
``oracle-wrong-intent``, ``oracle-irrelevant-text`` (:class:`CorruptOraclePolicy`);
the oracle late by ``delay`` seconds: ``oracle-late`` (:class:`LateOraclePolicy`).

Zero-frame ablation: ``blind`` wraps any policy and blanks ``rgb``, ``depth`` and
``segmentation`` before it sees them (:class:`BlindPolicy`).

Content-oracle ablation: ``right-step`` wraps any non-privileged policy and, while a
deviation is open, makes each of its messages about a step name the step that
addresses the deviation (:class:`RightStepPolicy`): it splits an assistant's loss to
the oracle into what its timing costs and what naming the wrong step costs.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

import numpy as np

from proassist.policies.base import (
    PolicyBase,
    make_action,
    make_policy,
    observation_time,
    register_policy,
    silent_action,
)
from proassist.policies.baselines import PlanTimerPolicy, RandomPolicy
from proassist.policies.duplex.components import utterance_for
from proassist.policies.oracle import OraclePolicy
from proassist.sim.deviations.base import addressable_steps
from proassist.sim.messages import INTENTS

__all__ = [
    "CORRUPTIONS",
    "IRRELEVANT_TEXTS",
    "WRONG_INTENT",
    "BlindPolicy",
    "CoinPolicy",
    "CorruptOraclePolicy",
    "LateOraclePolicy",
    "RightStepPolicy",
    "SpamCorrectPolicy",
    "SpamReengagePolicy",
    "TimerInstructPolicy",
    "open_addressable",
]

#: How :class:`CorruptOraclePolicy` can spoil the oracle's content.
CORRUPTIONS: tuple[str, ...] = ("wrong-step", "wrong-intent", "irrelevant-text")

#: The intent of another family that ``wrong-intent`` says instead of the oracle's:
#: corrections and guidance become confirmations, a confirmation becomes guidance.
WRONG_INTENT: dict[str, str] = {
    "instruct_next": "confirm_done",
    "correct_deviation": "confirm_done",
    "confirm_done": "instruct_next",
    "warn": "confirm_done",
    "answer_question": "confirm_done",
    "re_engage": "confirm_done",
}

#: Free text that names no step of any task (``irrelevant-text``).
IRRELEVANT_TEXTS: tuple[str, ...] = (
    "By the way, the weather looks lovely today.",
    "Did you know octopuses have three hearts?",
    "I wonder who will win the football match tonight.",
    "Remember to call your friend this weekend.",
    "That song on the radio was quite catchy.",
)

_EPS = 1e-9


@register_policy("coin")
class CoinPolicy(RandomPolicy):
    """Coin flip: interrupts with probability ``p`` at each decision point, with a
    random intent and a random plan step, seeded from ``reset``'s seed.

    Args:
        p: Probability of interrupting at a decision point, in [0, 1].
    """

    needs_pixels = False

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p=p)


class _EveryPolicy(PolicyBase):
    """Speaks every ``period`` seconds (first message at the episode start)."""

    needs_pixels = False

    def __init__(self, period: float) -> None:
        super().__init__()
        if period <= 0:
            raise ValueError(f"period must be > 0 seconds, got {period}")
        self.period = float(period)
        self.next_time = 0.0
        self.rng = np.random.default_rng(0)

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Store the plan, reseed from ``seed``, first message due at time 0."""
        super().reset(env_info=env_info, seed=seed)
        self.next_time = 0.0
        self.rng = np.random.default_rng(seed)

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """The :meth:`message` when the period has elapsed, else silence."""
        now = observation_time(observation)
        if not self.plan or now + _EPS < self.next_time:
            return silent_action()
        self.next_time = now + self.period
        return self.message(now)

    def message(self, now: float) -> dict:
        """The message spoken at ``now`` (subclasses implement)."""
        raise NotImplementedError


@register_policy("spam-correct")
class SpamCorrectPolicy(_EveryPolicy):
    """Content-blind spammer: ``correct_deviation`` naming a uniformly random plan step
    every ``period`` seconds (the step's instruction as text).

    Args:
        period: Seconds between two corrections (> 0).
    """

    def __init__(self, period: float = 2.0) -> None:
        super().__init__(period)

    def message(self, now: float) -> dict:
        """A correction of a random plan step."""
        step = int(self.rng.integers(len(self.plan)))
        return make_action("correct_deviation", step, f"Wait: {self.instruction(step)}")


@register_policy("spam-reengage")
class SpamReengagePolicy(_EveryPolicy):
    """Content-blind spammer: ``re_engage`` naming the step a plan timer expects now
    (the ``plan-timer`` schedule: cumulative ``duration_mean`` / ``speed``) every
    ``period`` seconds.

    Args:
        period: Seconds between two messages (> 0).
        speed: The timer's speed factor (see ``plan-timer``).
    """

    def __init__(self, period: float = 4.0, speed: float = 1.0) -> None:
        super().__init__(period)
        self.timer = PlanTimerPolicy(speed=speed)

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Also build the plan timer's schedule."""
        super().reset(env_info=env_info, seed=seed)
        self.timer.reset(env_info=env_info, seed=seed)

    def expected_step(self, now: float) -> int:
        """Plan index of the latest step the timer has due by ``now``."""
        due = [index for t, index in self.timer.schedule if t <= now + _EPS]
        return due[-1] if due else self.timer.schedule[0][1]

    def message(self, now: float) -> dict:
        """Re-engage on the timer's expected step."""
        if not self.timer.schedule:
            return silent_action()
        step = self.expected_step(now)
        return make_action("re_engage", step, f"Let's get back to it: {self.instruction(step)}")


@register_policy("timer-instruct")
class TimerInstructPolicy(PlanTimerPolicy):
    """Content-blind ``instruct_next`` on a plan timer: the ``plan-timer`` baseline
    under its sanity-suite name (same arguments and behaviour)."""

    needs_pixels = False


class _OracleWrapper(PolicyBase):
    """Runs an :class:`~proassist.policies.oracle.OraclePolicy` inside (privileged)."""

    privileged = True
    needs_pixels = False

    def __init__(self, oracle_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.oracle = OraclePolicy(**dict(oracle_kwargs or {}))

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Reset the inner oracle too."""
        super().reset(env_info=env_info, seed=seed)
        self.oracle.reset(env_info=env_info, seed=seed)


class CorruptOraclePolicy(_OracleWrapper):
    """Speaks exactly at the oracle's moments with spoiled content.

    ``corrupt`` is one of :data:`CORRUPTIONS`:

    - ``wrong-step``: the oracle's intent about a random plan step other than the
      oracle's and than any step addressing an open deviation (no step when there is
      none), with that step's text;
    - ``wrong-intent``: the oracle's step with an intent of another family
      (:data:`WRONG_INTENT`), the text rephrased for that intent;
    - ``irrelevant-text``: free text naming no step (:data:`IRRELEVANT_TEXTS`).

    Registered as ``oracle-wrong-step``, ``oracle-wrong-intent`` and
    ``oracle-irrelevant-text`` (each fixes its default ``corrupt``).

    Args:
        corrupt: The corruption (default: the registered name's).
        oracle_kwargs: Arguments of the inner oracle.
    """

    default_corrupt: ClassVar[str] = "wrong-step"

    def __init__(
        self, corrupt: str | None = None, oracle_kwargs: dict[str, Any] | None = None
    ) -> None:
        super().__init__(oracle_kwargs)
        corrupt = corrupt or self.default_corrupt
        if corrupt not in CORRUPTIONS:
            raise ValueError(f"corrupt must be one of {CORRUPTIONS}, got {corrupt!r}")
        self.corrupt = corrupt
        self.rng = np.random.default_rng(0)

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Reset the oracle and reseed the corruption from ``seed``."""
        super().reset(env_info=env_info, seed=seed)
        self.rng = np.random.default_rng(seed)

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """The oracle's action, its content spoiled when it speaks."""
        action = self.oracle.act(observation, info)
        if not action["decision"]:
            return action
        return self.spoil(action, open_addressable(info))

    def spoil(self, action: dict[str, Any], right: set[str] | frozenset[str] = frozenset()) -> dict:
        """Apply :attr:`corrupt` to one oracle message (``wrong-step`` never names a step
        in ``right``: those addressing an open deviation)."""
        intent, step = INTENTS[int(action["intent"])], int(action["step"])
        if self.corrupt == "irrelevant-text":
            text = IRRELEVANT_TEXTS[int(self.rng.integers(len(IRRELEVANT_TEXTS)))]
            return make_action(intent, None, text)
        if self.corrupt == "wrong-intent":
            wrong = WRONG_INTENT[intent]
            about = self.instruction(step) if step < len(self.plan) else ""
            return make_action(wrong, step, utterance_for(wrong, about))
        others = [i for i in range(len(self.plan)) if i != step and self.plan[i]["id"] not in right]
        if not others:
            return make_action(intent, None, utterance_for(intent, ""))
        wrong_step = int(self.rng.choice(others))
        return make_action(intent, wrong_step, utterance_for(intent, self.instruction(wrong_step)))


@register_policy("oracle-wrong-step")
class OracleWrongStepPolicy(CorruptOraclePolicy):
    """The oracle's moments and intents, naming a wrong plan step (see the base).

    Args:
        corrupt: The corruption (default ``"wrong-step"``; see :data:`CORRUPTIONS`).
        oracle_kwargs: Arguments of the inner oracle.
    """

    default_corrupt = "wrong-step"


@register_policy("oracle-wrong-intent")
class OracleWrongIntentPolicy(CorruptOraclePolicy):
    """The oracle's moments and steps with an intent of the wrong family (see the base).

    Args:
        corrupt: The corruption (default ``"wrong-intent"``; see :data:`CORRUPTIONS`).
        oracle_kwargs: Arguments of the inner oracle.
    """

    default_corrupt = "wrong-intent"


@register_policy("oracle-irrelevant-text")
class OracleIrrelevantTextPolicy(CorruptOraclePolicy):
    """The oracle's moments, saying irrelevant free text with no step (see the base).

    Args:
        corrupt: The corruption (default ``"irrelevant-text"``; see :data:`CORRUPTIONS`).
        oracle_kwargs: Arguments of the inner oracle.
    """

    default_corrupt = "irrelevant-text"


@register_policy("oracle-late")
class LateOraclePolicy(_OracleWrapper):
    """The oracle's messages delivered ``delay`` seconds late.

    The inner oracle sees every decision point as usual; each message it says at ``t``
    joins a queue and is sent unchanged at the first decision point at or after
    ``t + delay`` (one message per decision point, in order), even when the step it
    names is done by then.

    Args:
        delay: Seconds of lateness (>= 0; 0 is the oracle).
        oracle_kwargs: Arguments of the inner oracle.
    """

    def __init__(self, delay: float = 3.0, oracle_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__(oracle_kwargs)
        if delay < 0:
            raise ValueError(f"delay must be >= 0 seconds, got {delay}")
        self.delay = float(delay)
        self.queue: deque[tuple[float, float, dict[str, Any]]] = deque()
        #: Send time -> the inner oracle's decision time (so it knows which of its
        #: messages a reaction answers, e.g. to repeat an ignored correction).
        self.sent_at: dict[float, float] = {}

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Reset the oracle and empty the queue."""
        super().reset(env_info=env_info, seed=seed)
        self.queue.clear()
        self.sent_at.clear()

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Queue the oracle's message of now; send the oldest one that is due."""
        action = self.oracle.act(observation, self._as_sent_by_oracle(info))
        now = float((info or {}).get("time", observation_time(observation)))
        if action["decision"]:
            self.queue.append((now + self.delay, now, action))
        if self.queue and self.queue[0][0] <= now + _EPS:
            _, decided, action = self.queue.popleft()
            self.sent_at[round(now, 6)] = decided
            return action
        return silent_action()

    def _as_sent_by_oracle(self, info: dict[str, Any] | None) -> dict[str, Any] | None:
        """``info`` with each reaction's ``message_t`` mapped back to the oracle's time."""
        if not info or not info.get("events_new"):
            return info
        events = [
            {**e, "message_t": self.sent_at[round(float(e["message_t"]), 6)]}
            if e.get("type") == "reaction"
            and round(float(e.get("message_t", -1.0)), 6) in self.sent_at
            else e
            for e in info["events_new"]
        ]
        return {**info, "events_new": events}


@register_policy("blind")
class BlindPolicy(PolicyBase):
    """Zero-frame ablation: runs ``policy`` with ``rgb``, ``depth`` and
    ``segmentation`` replaced by zeros before it sees them.

    The env is made without rendering (``needs_pixels = False``: its frames are zeros
    already) but with the inner policy's ``obs_modes``, so the inner policy receives
    every key it expects. A pixel policy that scores the same blind reads its score
    from somewhere other than the frames.

    Args:
        policy: Registered name of the inner policy (e.g. ``duplex``).
        policy_kwargs: Its constructor arguments.
    """

    needs_pixels = False
    FRAME_KEYS: ClassVar[tuple[str, ...]] = ("rgb", "depth", "segmentation")

    def __init__(self, policy: str = "duplex", policy_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.inner = make_policy(policy, **dict(policy_kwargs or {}))
        self.privileged = bool(getattr(self.inner, "privileged", False))
        self.obs_modes = tuple(getattr(self.inner, "obs_modes", None) or ("rgb",))
        self.name = f"blind-{policy}"

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Reset the inner policy."""
        super().reset(env_info=env_info, seed=seed)
        self.inner.reset(env_info=env_info, seed=seed)

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """The inner policy's action on the blanked observation."""
        return self.inner.act(blank_frames(observation), info)


def open_addressable(info: dict[str, Any] | None) -> set[str]:
    """Ids of the steps that address a deviation open in (privileged) ``info``."""
    right: set[str] = set()
    for dev in (info or {}).get("active_deviations") or []:
        right |= addressable_steps(dev)
    return right


def blank_frames(observation: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``observation`` with every frame key (rgb, depth, segmentation) zeroed."""
    out = dict(observation)
    for key in BlindPolicy.FRAME_KEYS:
        if key in out:
            out[key] = np.zeros_like(out[key])
    return out


@register_policy("right-step")
class RightStepPolicy(PolicyBase):
    """Content-oracle ablation: ``policy`` decides when to speak and with which intent;
    while a deviation is open, every message of it that names a plan step names the
    first plan step addressing that deviation instead
    (:func:`~proassist.sim.deviations.base.addressable_steps`), with that step's text
    for the same intent. Messages without a step, and all messages while no deviation
    is open, pass unchanged.

    The wrapper is privileged (it reads the open deviations); the inner policy gets no
    info, as :func:`~proassist.policies.rollout.rollout` gives a non-privileged policy
    (a privileged env's ``reward_breakdown`` would tell it about false alarms). A
    message already naming a step that addresses an open deviation is kept. Its score
    minus the inner policy's is what naming the wrong step costs the inner policy; the
    oracle's minus its own, what the inner policy's timing and choice of intent cost.
    ``episode_extras()["right_step_renamed"]`` counts the messages whose step it
    changed.

    Args:
        policy: Registered name of the inner, non-privileged policy (e.g. ``duplex``).
        policy_kwargs: Its constructor arguments.

    Raises:
        ValueError: If the inner policy is privileged (it would read the truth itself).
    """

    privileged = True

    def __init__(self, policy: str = "duplex", policy_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.inner = make_policy(policy, **dict(policy_kwargs or {}))
        if getattr(self.inner, "privileged", False):
            raise ValueError(f"right-step wraps a non-privileged policy; {policy!r} is privileged")
        self.needs_pixels = bool(getattr(self.inner, "needs_pixels", True))
        self.obs_modes = tuple(getattr(self.inner, "obs_modes", None) or ("rgb",))
        self.name = f"right-step-{policy}"
        self.renamed = 0

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Reset the inner policy and the count of renamed messages."""
        super().reset(env_info=env_info, seed=seed)
        self.inner.reset(env_info=env_info, seed=seed)
        self.renamed = 0

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """The inner policy's action, its step made right while a deviation is open."""
        action = self.inner.act(observation, None)  # what rollout gives it on its own
        if not action["decision"] or not 0 <= int(action["step"]) < len(self.plan):
            return action
        right_ids = open_addressable(info)
        if self.plan[int(action["step"])]["id"] in right_ids:
            return action  # already right
        right = self.right_step((info or {}).get("active_deviations") or [])
        if right is None:
            return action
        self.renamed += 1
        intent = INTENTS[int(action["intent"])]
        return make_action(intent, right, utterance_for(intent, self.instruction(right)))

    def right_step(self, deviations: list[dict[str, Any]]) -> int | None:
        """Plan index of the first step addressing the first open deviation that has one."""
        for dev in deviations:
            steps = addressable_steps(dev)
            for i, step in enumerate(self.plan):
                if step["id"] in steps:
                    return i
        return None

    def episode_extras(self) -> dict[str, Any]:
        """The inner policy's extras, and how many messages were renamed."""
        extras = getattr(self.inner, "episode_extras", None)
        return {**(dict(extras()) if callable(extras) else {}), "right_step_renamed": self.renamed}
