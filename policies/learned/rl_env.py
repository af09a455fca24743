"""The when-to-speak decision as a small Gymnasium env, for reinforcement learning.

:class:`ProAssistSpeakEnv` wraps a ``ProAssist-*-v0`` env (``privileged=False``,
``render=False``: no pixels are drawn, so rollouts run fast on a CPU) and exposes the
assistant's decision as ``Discrete(len(SPEAK_ACTIONS))``: 0 stays silent, each other
action is an (intent, step) pair whose step is *relative to the assistant's own plan*
(the task-graph planner's plan, revised after each of its messages, as in the duplex
assistant): the plan's current step, the next one, or the last completed one.

The agent is **non-visual**. Its observation is a ``Box(0, 1)`` vector of
:data:`OBS_NAMES`: the 43 plan-state features of
:mod:`proassist.policies.learned.features` (current plan step, progress, time since the
assistant spoke, time in the step against its expected duration, whether the person
spoke or asked), then the clock against the procedure's expected durations, the last
thing the person said (a keyword category and how long ago), the assistant's last
intent and the domain. All of it comes from the observation's ``time`` and
``utterance``, ``env_info`` (the procedure) and the assistant's own messages; nothing
from the simulation (``tests/policies/test_ppo.py`` probes it).

Reward: the wrapped env's non-privileged reward (``interrupt`` per message; ``success``,
``recovery`` and ``false_alarm`` paid as one outcome sum at the final step; see
:mod:`proassist.envs.rewards`) minus ``time_cost`` per simulated second. The time term
is the one shaping term: net assistance charges the time an assistant costs the person
relative to their own (about 114 s for a silent episode on training seeds), so
``time_cost = 10 / 114 ≈ 0.088`` per second makes a second of the person's time cost
what it costs in the headline, in units where a successful task is worth 10. It only
uses the clock, which the assistant observes.

:class:`SpeakState` is the assistant's state (planner, plan tracker, dialogue) shared by
the env and by the ``ppo`` policy (:mod:`.rl_policy`), so training and evaluation
compute the same features and map actions the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from proassist.envs.registration import DOMAIN_ENV_IDS, DOMAINS
from proassist.policies.base import make_action, observation_time, silent_action, step_index
from proassist.policies.duplex.components import Decision, DialogueTurn, PlanContext, utterance_for
from proassist.policies.duplex.plan_format import Plan
from proassist.policies.duplex.planners import TaskGraphPlanner
from proassist.policies.learned import TRAIN_SEED_BASE
from proassist.policies.learned.features import FEATURE_NAMES, PlanStateTracker, plan_features
from proassist.policies.rollout import env_info as episode_env_info
from proassist.scenarios.model import MAX_STEPS
from proassist.sim.messages import INTENTS

__all__ = [
    "DEFAULT_TIME_COST",
    "DOMAIN_ENVS",
    "OBS_DIM",
    "OBS_NAMES",
    "SPEAK_ACTIONS",
    "TRAIN_SEED_BASE",
    "ProAssistSpeakEnv",
    "SpeakAction",
    "SpeakState",
    "reply_category",
]

#: The three domain envs PPO trains on (one vector slot each, round robin).
DOMAIN_ENVS: tuple[str, ...] = DOMAIN_ENV_IDS
#: Reward per simulated second (see the module docstring).
DEFAULT_TIME_COST: float = 10.0 / 114.0


@dataclass(frozen=True)
class SpeakAction:
    """One discrete action: an intent about a step of the assistant's own plan.

    Attributes:
        name: Short label (CSV logs, docs).
        intent: An :data:`~proassist.sim.messages.INTENTS` name, or ``None`` (silent).
        target: ``"current"`` (the plan's current step; for a recovery step the step it
            fixes), ``"next"`` (the step after it), ``"previous"`` (the last completed
            step) or ``None`` (no step).
    """

    name: str
    intent: str | None
    target: str | None


#: The action set: index 0 is silence. An action whose target the plan lacks (no next
#: step at the end, no completed step at the start) is silent.
SPEAK_ACTIONS: tuple[SpeakAction, ...] = (
    SpeakAction("silent", None, None),
    SpeakAction("instruct_current", "instruct_next", "current"),
    SpeakAction("instruct_next", "instruct_next", "next"),
    SpeakAction("confirm_current", "confirm_done", "current"),
    SpeakAction("answer_current", "answer_question", "current"),
    SpeakAction("answer_next", "answer_question", "next"),
    SpeakAction("correct_current", "correct_deviation", "current"),
    SpeakAction("correct_previous", "correct_deviation", "previous"),
    SpeakAction("warn_current", "warn", "current"),
    SpeakAction("re_engage", "re_engage", None),
)

#: Keyword categories of what the person said (first match wins; any other words: ack).
_REPLIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("question", ("?",)),
    ("stop", ("stop",)),
    ("already", ("already",)),
    ("fine", ("fine",)),
    ("too_late", ("too late",)),
    ("not_understood", ("what do you mean",)),
)
REPLY_NAMES: tuple[str, ...] = ("none", *(name for name, _ in _REPLIES), "ack")
#: Reply categories that refuse the message they answer ("I already did that.", "I think
#: it's fine.", or "Please stop.", said instead once the person tunes out).
REFUSED: frozenset[str] = frozenset({"already", "fine", "stop"})
_EXTRA_NAMES: tuple[str, ...] = (
    "clock_progress",  # steps expected done by now (cumulative duration_mean) / n
    "clock_ahead",  # (expected step - plan step) / n, mapped from [-1, 1] to [0, 1]
    "time",  # min(t, 600) / 600
    "step_duration",  # the current plan step's duration_mean, min(d, 60) / 60
    "plan_length",  # n / MAX_STEPS
    "since_reply",  # seconds since the person last spoke, min(s, 60) / 60 (1: never)
)
#: Names of the observation vector's entries, in order.
OBS_NAMES: tuple[str, ...] = (
    FEATURE_NAMES
    + _EXTRA_NAMES
    + tuple(f"reply_{r}" for r in REPLY_NAMES)
    + tuple(f"said_{i}" for i in ("none", *INTENTS))
    + tuple(f"domain_{d}" for d in DOMAINS)
)
OBS_DIM: int = len(OBS_NAMES)


def reply_category(utterance: str) -> str:
    """The keyword category (:data:`REPLY_NAMES`) of something the person said."""
    text = utterance.strip().lower()
    if not text:
        return "none"
    for name, words in _REPLIES:
        if any(w in text for w in words):
            return name
    return "ack"


def _onehot(names: tuple[str, ...], name: str) -> np.ndarray:
    out = np.zeros(len(names), dtype=np.float32)
    if name in names:
        out[names.index(name)] = 1.0
    return out


class SpeakState:
    """What a non-privileged assistant knows: its plan, its dialogue, the clock.

    Call :meth:`reset` with the episode's ``env_info``, then at each decision point
    :meth:`observe` (the features) and :meth:`action` (the env action of a choice).
    """

    def __init__(self) -> None:
        self.planner = TaskGraphPlanner(plan_quality=1.0)
        self.env_info: dict[str, Any] = {}
        self.procedure: list[dict[str, Any]] = []
        self.tracker = PlanStateTracker([])
        self.plan: Plan | None = None
        self.dialogue: list[DialogueTurn] = []
        self.now = 0.0
        self.last_reply: tuple[float, str] | None = None
        self.last_intent = "none"
        self.clock: np.ndarray = np.zeros(0)

    def reset(self, env_info: Mapping[str, Any]) -> None:
        """Start an episode: the initial plan, an empty dialogue."""
        self.env_info = dict(env_info)
        self.procedure = list(env_info["plan"])
        self.tracker = PlanStateTracker(self.procedure)
        self.dialogue, self.now, self.last_reply, self.last_intent = [], 0.0, None, "none"
        durations = [float(s.get("duration_mean") or 0.0) for s in self.procedure]
        self.clock = np.cumsum(durations)
        self.plan = self.planner.replan([], None, None, self._context())

    def _context(self) -> PlanContext:
        return PlanContext(
            goal=str(self.env_info.get("goal", "")),
            procedure=self.procedure,
            time=self.now,
            dialogue=tuple(self.dialogue),
        )

    def observe(self, observation: Mapping[str, Any]) -> np.ndarray:
        """The observation vector (:data:`OBS_NAMES`) at this decision point."""
        self.now = observation_time(observation)
        said = str(observation.get("utterance", "") or "").strip()
        if said:
            self.dialogue.append(DialogueTurn(self.now, "person", said))
            self.last_reply = (self.now, reply_category(said))
        state = self.tracker.update(self.now, self.plan, self.dialogue, said)
        feats = np.concatenate([plan_features(state), self._extras(state)])
        return np.clip(feats, 0.0, 1.0).astype(np.float32)

    def _extras(self, state: Any) -> np.ndarray:
        n = max(len(self.procedure), 1)
        expected = float(np.searchsorted(self.clock, self.now, side="right"))
        current = state.current_index if state.current_index is not None else n
        since, reply = 60.0, "none"
        if self.last_reply is not None:
            since, reply = min(self.now - self.last_reply[0], 60.0), self.last_reply[1]
        scalars = [
            expected / n,
            (np.clip((expected - current) / n, -1.0, 1.0) + 1.0) / 2.0,
            min(self.now, 600.0) / 600.0,
            min(state.expected_duration, 60.0) / 60.0,
            len(self.procedure) / MAX_STEPS,
            since / 60.0,
        ]
        parts = [
            np.asarray(scalars, dtype=np.float32),
            _onehot(REPLY_NAMES, reply),
            _onehot(("none", *INTENTS), self.last_intent),
            _onehot(DOMAINS, str(self.env_info.get("domain", ""))),
        ]
        return np.concatenate(parts)

    def target(self, which: str | None) -> str | None | bool:
        """The step id ``which`` names in the current plan; ``None`` for no step, and
        ``False`` when the plan has no such step."""
        plan = self.plan
        if which is None:
            return None
        if which == "previous":
            done = plan.completed if plan is not None else ()
            return done[-1].id if done and done[-1].id else False
        if plan is None or plan.current is None:
            return False
        index = plan.current + (1 if which == "next" else 0)
        if index >= len(plan.steps) or plan.steps[index].id is None:
            return False
        return plan.steps[index].id

    def action(self, index: int) -> dict[str, Any]:
        """The env action of choice ``index`` (logged in the dialogue; the plan revised).

        Raises:
            ValueError: When ``index`` is outside :data:`SPEAK_ACTIONS`.
        """
        if not 0 <= int(index) < len(SPEAK_ACTIONS):
            raise ValueError(f"action {index} outside [0, {len(SPEAK_ACTIONS)})")
        choice = SPEAK_ACTIONS[int(index)]
        step = self.target(choice.target)
        if choice.intent is None or step is False:
            return silent_action()
        position = step_index(self.procedure, step) if step is not None else None
        # No step: no text either, or the env would take the message as free text.
        text = ""
        if position is not None:
            words = self.procedure[position].get("instruction", step)
            text = utterance_for(choice.intent, str(words))
        decision = Decision(True, choice.intent, step, text)
        self.dialogue.append(DialogueTurn(self.now, "assistant", text, choice.intent, step))
        self.last_intent = choice.intent
        self.plan = self.planner.replan([], self.plan, decision, self._context())
        return make_action(choice.intent, position, text)


class ProAssistSpeakEnv(gym.Env):
    """A ProAssist env seen as the assistant's discrete when-to-speak decision.

    Args:
        env_id: A ``ProAssist-*`` id.
        time_cost: Reward per simulated second (>= 0; see the module docstring).
        **env_kwargs: Passed to ``gym.make`` (``render`` is forced off, ``obs_modes``
            empty; ``privileged=True`` is refused).

    Observation: ``Box(0, 1, (OBS_DIM,), float32)`` (:data:`OBS_NAMES`, clipped to
    [0, 1]: a plan with recovery steps can list more completed steps than the
    procedure has); action:
    ``Discrete(len(SPEAK_ACTIONS))``. ``reset(seed=None)`` draws the wrapped episode's
    seed at or above :data:`TRAIN_SEED_BASE` from ``np_random``. ``info`` is the
    wrapped env's (public keys only) plus, on the final step, ``episode_return``,
    ``episode_success``, ``episode_interrupts`` and ``episode_minutes``.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        env_id: str = "ProAssist-Kitchen-v0",
        time_cost: float = DEFAULT_TIME_COST,
        **env_kwargs: Any,
    ) -> None:
        if env_kwargs.pop("privileged", False):
            raise ValueError("ProAssistSpeakEnv learns from non-privileged info only")
        if time_cost < 0:
            raise ValueError(f"time_cost must be >= 0, got {time_cost}")
        env_kwargs.pop("render", None)
        env_kwargs.pop("obs_modes", None)
        import proassist.envs  # noqa: F401  (registers the ids)

        self.env = gym.make(env_id, render=False, obs_modes=(), privileged=False, **env_kwargs)
        self.env_id, self.time_cost = env_id, float(time_cost)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (OBS_DIM,), np.float32)
        self.action_space = gym.spaces.Discrete(len(SPEAK_ACTIONS))
        self.state = SpeakState()
        self.episode_seed: int | None = None
        self._totals = {"return": 0.0, "interrupts": 0.0}
        self._time = 0.0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode (``seed=None``: a training seed from ``np_random``)."""
        super().reset(seed=seed)
        if seed is None:
            seed = TRAIN_SEED_BASE + int(self.np_random.integers(0, 2**31 - 1 - TRAIN_SEED_BASE))
        self.episode_seed = int(seed)
        obs, info = self.env.reset(seed=self.episode_seed, options=options)
        self.state.reset(episode_env_info(self.env))
        self._totals = {"return": 0.0, "interrupts": 0.0}
        self._time = observation_time(obs)
        return self.state.observe(obs), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """One decision point: the action's message (or silence), then the person."""
        env_action = self.state.action(int(action))
        obs, reward, terminated, truncated, info = self.env.step(env_action)
        now = observation_time(obs)
        reward = float(reward) - self.time_cost * (now - self._time)
        self._time = now
        self._totals["return"] += reward
        self._totals["interrupts"] += float(env_action["decision"])
        if terminated or truncated:
            info = dict(info) | self._outcome(info, now)
        return self.state.observe(obs), reward, terminated, truncated, info

    def _outcome(self, info: Mapping[str, Any], now: float) -> dict[str, float]:
        paid = info.get("reward_breakdown", {})
        return {
            "episode_return": self._totals["return"],
            "episode_success": float(paid.get("success", 0.0) > 0),
            "episode_interrupts": self._totals["interrupts"],
            "episode_minutes": now / 60.0,
        }

    def close(self) -> None:
        """Close the wrapped env."""
        self.env.close()
