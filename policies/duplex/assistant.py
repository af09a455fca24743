"""The duplex planner–interaction assistant of "Plan, Watch, Recover" (``duplex``) and
its ``monolithic`` ablation.

``DuplexAssistant`` keeps a clip buffer of the last ``clip_len`` observations, the
dialogue and the cached plan. At every decision point the **interaction model**
decides from them (silent, or interrupt with intent, step and utterance). The
**planner** runs at the start and only when the interaction model interrupts, on the
latest clip, the previous plan and the utterance just made; the revised plan (PWR's
tagged format, kept as text in :attr:`DuplexAssistant.plan_text`) arrives
``planner_latency`` seconds of simulated time later, and meanwhile the interaction
model works from the old one. After a correction the planner makes the recovery
``(fix)`` step current. The initial plan is available at once (it is written before
the episode's first decision).

Components, by keyword argument:

* ``interaction``: ``"rules"`` (the cue tracker of :mod:`.cue_tracker`, default),
  ``"learned"`` (:class:`~proassist.policies.learned.interaction.LearnedInteractionModel` loaded
  from ``checkpoint``, the ``model.pt`` written by ``proassist train``) or ``"hf"``
  (:class:`~proassist.policies.duplex.hf_vlm.HFInteractionModel` from ``model_path``).
* ``planner``: ``"taskgraph"`` (:class:`~proassist.policies.duplex.planners.TaskGraphPlanner`
  with ``plan_quality``, default) or ``"hf"``
  (:class:`~proassist.policies.duplex.hf_planner.HFPlanner` from ``planner_path``).

``stats`` counts ``decisions``, ``interrupts``, ``planner_calls``, ``plan_updates``
and the planner's ``malformed`` outputs. ``MonolithicAssistant`` (``monolithic``)
calls the planner at every decision point instead, and pays the planner latency on
every decision: the action at a point is the one decided ``planner_latency`` earlier.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from proassist.policies.base import (
    NO_STEP,
    PolicyBase,
    make_action,
    register_policy,
    silent_action,
    step_index,
)
from proassist.policies.duplex.components import Decision, DialogueTurn, PlanContext
from proassist.policies.duplex.plan_format import Plan, render_plan
from proassist.policies.duplex.planners import PLANNERS
from proassist.scenarios.registry import Registry, describe_kwargs
from proassist.sim.messages import normalize_text

__all__ = [
    "DuplexAssistant",
    "INTERACTION_MODELS",
    "MonolithicAssistant",
    "PLANNERS",
    "build_interaction_model",
    "build_planner",
    "register_interaction_model",
]

#: Interaction-model factories accepted by ``interaction=``: each is called with
#: ``threshold``, ``checkpoint``, ``model_path`` and ``rng`` keyword arguments and
#: returns an :class:`~proassist.policies.duplex.components.InteractionModel`.
INTERACTION_MODELS: Registry[Callable[..., Any]] = Registry("interaction model")


def register_interaction_model(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering an interaction-model factory under ``name``.

    Raises:
        proassist.scenarios.registry.RegistryError: If ``name`` is taken.
    """
    return INTERACTION_MODELS.register(name)


@register_interaction_model("rules")
def _rules(*, threshold: float, **_: Any) -> Any:
    from proassist.policies.duplex.cue_tracker import CueTracker

    return CueTracker(threshold=threshold)


@register_interaction_model("learned")
def _learned(*, threshold: float, checkpoint: str | None, **_: Any) -> Any:
    if not checkpoint:
        raise ValueError("interaction='learned' needs checkpoint=PATH (the model.pt)")
    from proassist.policies.learned.interaction import LearnedInteractionModel

    return LearnedInteractionModel(checkpoint, threshold=threshold)


@register_interaction_model("hf")
def _hf(*, model_path: str | None, **_: Any) -> Any:
    if not model_path:
        raise ValueError("interaction='hf' needs model_path=DIR (a save_pretrained model)")
    from proassist.policies.duplex.hf_vlm import HFInteractionModel

    return HFInteractionModel(model_path)


def build_interaction_model(
    name: str,
    *,
    threshold: float = 0.5,
    checkpoint: str | None = None,
    model_path: str | None = None,
    rng: np.random.Generator | None = None,
) -> Any:
    """Build the interaction model ``name`` (registered in :data:`INTERACTION_MODELS`).

    Raises:
        RegistryError: On an unknown name ("did you mean").
        ValueError: When ``learned`` lacks ``checkpoint`` or ``hf`` lacks ``model_path``.
    """
    factory = INTERACTION_MODELS.get(name)
    return factory(threshold=threshold, checkpoint=checkpoint, model_path=model_path, rng=rng)


#: Assistant keyword → planner constructor keyword, where they differ.
_PLANNER_ARGS: dict[str, str] = {"planner_path": "model_path"}


def build_planner(
    name: str,
    *,
    plan_quality: float = 1.0,
    planner_path: str | None = None,
    rng: np.random.Generator | None = None,
) -> Any:
    """Build the planner ``name`` (registered in :data:`PLANNERS`).

    Each option the planner's constructor accepts is passed (``planner_path`` as its
    ``model_path``); the others are ignored.

    Raises:
        RegistryError: On an unknown name ("did you mean").
        ValueError: When the planner needs an option not given (``hf``: ``planner_path``).
    """
    cls = PLANNERS.get(name)
    options = {"plan_quality": plan_quality, "planner_path": planner_path, "rng": rng}
    accepted = describe_kwargs(cls)
    kwargs: dict[str, Any] = {}
    for option, value in options.items():
        arg = _PLANNER_ARGS.get(option, option)
        if arg not in accepted:
            continue
        if value is None and accepted[arg][1] is inspect.Parameter.empty:
            raise ValueError(f"planner={name!r} needs {option}=DIR (a save_pretrained causal LM)")
        if value is not None:
            kwargs[arg] = value
    return cls(**kwargs)


def _obs_time(observation: dict[str, Any]) -> float:
    return float(np.asarray(observation["time"], dtype=np.float64).reshape(-1)[0])


@register_policy("duplex")
class DuplexAssistant(PolicyBase):
    """PWR's duplex assistant: an interaction model every point, a planner on interrupts.

    Args:
        interaction: Interaction model: ``"rules"``, ``"learned"`` or ``"hf"``.
        planner: Planner: ``"taskgraph"`` or ``"hf"``.
        planner_latency: Simulated seconds before a revised plan takes effect (>= 0).
        plan_quality: Task-graph planner: probability a plan is not corrupted, in [0, 1].
        threshold: Interrupt threshold of the interaction model (rules: a scale on its
            evidence thresholds; learned: the interrupt probability).
        checkpoint: ``interaction="learned"``: the trained ``model.pt``.
        model_path: ``interaction="hf"``: directory of an image-text-to-text model.
        planner_path: ``planner="hf"``: directory of a causal language model.
        clip_len: Observations kept in the clip buffer (>= 1).
    """

    privileged = False
    needs_pixels = True

    def __init__(
        self,
        interaction: str = "rules",
        planner: str = "taskgraph",
        planner_latency: float = 0.0,
        plan_quality: float = 1.0,
        threshold: float = 0.5,
        checkpoint: str | None = None,
        model_path: str | None = None,
        planner_path: str | None = None,
        clip_len: int = 8,
    ) -> None:
        super().__init__()
        if planner_latency < 0:
            raise ValueError(f"planner_latency must be >= 0 seconds, got {planner_latency}")
        if clip_len < 1:
            raise ValueError(f"clip_len must be >= 1, got {clip_len}")
        self.rng = np.random.default_rng(0)
        self.interaction = build_interaction_model(
            interaction, threshold=threshold, checkpoint=checkpoint, model_path=model_path
        )
        self.planner = build_planner(
            planner, plan_quality=plan_quality, planner_path=planner_path, rng=self.rng
        )
        self.interaction_name, self.planner_name = interaction, planner
        self.obs_modes = tuple(getattr(self.interaction, "obs_modes", ("rgb",)))
        self.planner_latency = float(planner_latency)
        self.clip: deque[dict[str, Any]] = deque(maxlen=int(clip_len))
        self._init_episode_state()

    def _init_episode_state(self) -> None:
        self.dialogue: list[DialogueTurn] = []
        self.cached_plan: Plan | None = None
        self.latest_plan: Plan | None = None
        self.plan_text = ""
        self.incoming: list[tuple[float, Plan]] = []
        self.plan_history: list[tuple[float, str]] = []
        self.stats: dict[str, int] = {
            "decisions": 0,
            "interrupts": 0,
            "planner_calls": 0,
            "plan_updates": 0,
            "malformed": 0,
        }

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Start an episode: empty clip and dialogue, the initial plan from the planner."""
        super().reset(env_info=env_info, seed=seed)
        self.rng = np.random.default_rng(seed)
        if hasattr(self.planner, "rng"):
            self.planner.rng = self.rng
        self.clip.clear()
        self._init_episode_state()
        self.interaction.reset(env_info)
        self._install(0.0, self._replan(0.0, None))

    # ------------------------------------------------------------------ planning
    def _context(self, now: float) -> PlanContext:
        describe = getattr(self.interaction, "describe", None)
        return PlanContext(
            goal=str(self.env_info.get("goal", "")),
            procedure=self.plan,
            time=now,
            clip_description=describe(list(self.clip)) if describe and self.clip else "",
            dialogue=tuple(self.dialogue),
        )

    def _replan(self, now: float, said: Decision | None) -> Plan:
        """Call the planner on the latest clip, the latest plan and ``said``."""
        self.stats["planner_calls"] += 1
        before = int(getattr(self.planner, "stats", {}).get("malformed", 0))
        plan = self.planner.replan(list(self.clip), self.latest_plan, said, self._context(now))
        after = int(getattr(self.planner, "stats", {}).get("malformed", 0))
        self.stats["malformed"] += after - before
        self.latest_plan = plan
        return plan

    def _install(self, now: float, plan: Plan) -> None:
        self.cached_plan = plan
        self.plan_text = render_plan(plan)
        self.plan_history.append((now, self.plan_text))
        self.stats["plan_updates"] += 1

    def _receive_plans(self, now: float) -> None:
        """Install the revised plans whose latency has elapsed (oldest first)."""
        due = [(t, p) for t, p in self.incoming if t <= now + 1e-9]
        self.incoming = [(t, p) for t, p in self.incoming if t > now + 1e-9]
        for _, plan in due:
            self._install(now, plan)

    # ------------------------------------------------------------------ acting
    def _observe(self, observation: dict[str, Any], now: float) -> None:
        self.clip.append(observation)
        said = str(observation.get("utterance", "") or "").strip()
        if said:
            self.dialogue.append(DialogueTurn(now, "person", said))

    def _speak(self, now: float, decision: Decision) -> dict[str, Any]:
        """Log ``decision`` in the dialogue and turn it into an action."""
        self.stats["interrupts"] += 1
        text = decision.text or decision.intent or ""
        turn = DialogueTurn(now, "assistant", text, decision.intent, decision.step)
        self.dialogue.append(turn)
        if decision.intent is None:
            return {
                "decision": 1,
                "intent": 0,
                "step": NO_STEP,
                "text": normalize_text(decision.text),
            }
        return make_action(decision.intent, step_index(self.plan, decision.step), decision.text)

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """One decision point: perceive, maybe receive a plan, decide, maybe replan."""
        now = _obs_time(observation)
        self._observe(observation, now)
        self._receive_plans(now)
        self.stats["decisions"] += 1
        decision = self.interaction.decide(list(self.clip), self.cached_plan, self.dialogue)
        if not decision.interrupt or (decision.intent is None and not decision.text):
            return silent_action()
        action = self._speak(now, decision)
        plan = self._replan(now, decision)
        if self.planner_latency <= 0:
            self._install(now, plan)
        else:
            self.incoming.append((now + self.planner_latency, plan))
        return action


@register_policy("monolithic")
class MonolithicAssistant(DuplexAssistant):
    """One model that plans and decides at every decision point (PWR's ablation).

    The planner runs at every point (on the clip, the previous plan and the last
    utterance) and the interaction model decides from that fresh plan, but the whole
    computation takes ``planner_latency``: the action taken at a point is the one
    decided ``round(planner_latency / dt)`` points earlier (silence before the first).

    Args:
        interaction: Interaction model: ``"rules"``, ``"learned"`` or ``"hf"``.
        planner: Planner: ``"taskgraph"`` or ``"hf"``.
        planner_latency: Simulated seconds each decision takes (>= 0).
        plan_quality: Task-graph planner: probability a plan is not corrupted, in [0, 1].
        threshold: Interrupt threshold of the interaction model.
        checkpoint: ``interaction="learned"``: the trained ``model.pt``.
        model_path: ``interaction="hf"``: directory of an image-text-to-text model.
        planner_path: ``planner="hf"``: directory of a causal language model.
        clip_len: Observations kept in the clip buffer (>= 1).
    """

    def _init_episode_state(self) -> None:
        super()._init_episode_state()
        self.delay_line: deque[Decision] = deque()
        self.last_said: Decision | None = None

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Plan, decide, and emit the decision made ``planner_latency`` ago."""
        now = _obs_time(observation)
        self._observe(observation, now)
        self.stats["decisions"] += 1
        if self.stats["decisions"] > 1:  # the reset already planned for the first point
            self._install(now, self._replan(now, self.last_said))
        self.last_said = None
        decision = self.interaction.decide(list(self.clip), self.cached_plan, self.dialogue)
        self.delay_line.append(decision)
        lag = int(round(self.planner_latency / float(self.env_info.get("dt", 0.5))))
        if len(self.delay_line) <= lag:
            return silent_action()
        due = self.delay_line.popleft()
        if not due.interrupt or (due.intent is None and not due.text):
            return silent_action()
        self.last_said = due
        return self._speak(now, due)
