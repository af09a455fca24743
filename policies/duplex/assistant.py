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
  from ``checkpoint``, the ``model.pt`` written by ``proassist train``; without it, the
  shipped ``policies/checkpoints/model.pt``) or ``"hf"``
  (:class:`~proassist.policies.duplex.hf_vlm.HFInteractionModel` from ``model_path``)
  or ``"openai-compatible"`` (a served model:
  :class:`~proassist.policies.remote.interaction.RemoteInteractionModel`, its
  ``base_url``, ``model``, ... in ``interaction_kwargs``).
* ``planner``: ``"taskgraph"`` (:class:`~proassist.policies.duplex.planners.TaskGraphPlanner`
  with ``plan_quality``, default), ``"hf"``
  (:class:`~proassist.policies.duplex.hf_planner.HFPlanner` from ``planner_path``) or
  ``"openai-compatible"`` (:class:`~proassist.policies.remote.planner.RemotePlanner`,
  settings in ``planner_kwargs``; a ``latency="charged"`` planner adds each call's
  measured latency to ``planner_latency``).

Plan source (``plan_mode``, PWR's oracle-plan ablation; by default the interaction
model's own, else ``"predicted"``): ``"predicted"`` (the
planner above, from the assistant's own decisions), ``"tracked"`` (the same planner,
also called without speaking whenever the segmentation shows the current step over:
:class:`~proassist.policies.duplex.cue_tracker.ProgressTracker`; not privileged),
``"oracle"`` (the plan rebuilt at
every decision point from the ground truth: completed steps and the open deviation's
recovery steps; the policy is then privileged) or ``"none"`` (no plan: the interaction
model decides without one).

Model settings (``make_policy`` / ``-k``): ``device`` and ``dtype`` (learned and hf
models), and for the hf components ``n_frames``, ``max_new_tokens`` and ``prompt``
(interaction) and ``planner_max_new_tokens`` and ``planner_prompt`` (planner).

``stats`` counts ``decisions``, ``interrupts``, ``planner_calls``, ``plan_updates``,
the planner's ``malformed`` outputs and the interaction model's
``interaction_malformed`` ones. Every raw output of a model-backed component (the hf
ones) is kept in ``model_outputs`` (``{"t", "component", "output", "parsed"}``);
:meth:`DuplexAssistant.episode_extras` puts both in the episode record (the scores
count them as ``n_model_outputs`` and ``n_unparseable``). ``MonolithicAssistant`` (``monolithic``)
calls the planner at every decision point instead and pays the latency on every call:
one call at a time, each on the observation at its start, its decision spoken when it
completes ``planner_latency`` later (silent while busy), so it never repeats a message
it has not yet seen itself say.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Any

import numpy as np

from proassist.policies.base import (
    NO_STEP,
    PolicyBase,
    make_action,
    observation_time,
    register_policy,
    silent_action,
    step_index,
)
from proassist.policies.duplex.builders import (
    INTERACTION_MODELS,
    PLANNERS,
    build_interaction_model,
    build_planner,
    check_interaction_kwargs,
    check_planner_kwargs,
    register_interaction_model,
)
from proassist.policies.duplex.components import Decision, DialogueTurn, PlanContext
from proassist.policies.duplex.cue_tracker import ProgressTracker
from proassist.policies.duplex.hf_common import check_dtype, logged_call
from proassist.policies.duplex.plan_format import Plan, render_plan
from proassist.policies.duplex.planners import TaskGraphPlanner
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

#: Where the interaction model's plan comes from (``plan_mode``; module docstring).
PLAN_MODES: tuple[str, ...] = ("predicted", "tracked", "oracle", "none")


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
        checkpoint: ``interaction="learned"``: the trained ``model.pt`` (default: the
            shipped ``policies/checkpoints/model.pt``).
        model_path: ``interaction="hf"``: directory of an image-text-to-text model.
        planner_path: ``planner="hf"``: directory of a causal language model.
        clip_len: Observations kept in the clip buffer (>= 1).
        device: Torch device of the learned and hf models (``"auto"``: CUDA when
            available, else CPU).
        dtype: Weights dtype of the hf models: ``"auto"`` (the checkpoint's),
            ``"float32"``, ``"float16"`` or ``"bfloat16"``.
        n_frames: ``interaction="hf"``: latest frames shown per decision (>= 1).
        max_new_tokens: ``interaction="hf"``: most tokens per decision (generation
            stops at the end of the answer).
        prompt: ``interaction="hf"``: prompt template, inline (``{goal}``, ``{plan}``,
            ``{dialogue}``, ``{silent}``, ``{interrupt}``) or a file path.
        planner_max_new_tokens: ``planner="hf"``: most tokens per plan; ``None`` sizes
            it to the plan format (generation stops after ``</cue_todo>``).
        planner_prompt: ``planner="hf"``: prompt template, inline (``{goal}``,
            ``{procedure}``, ``{previous}``, ``{utterance}``, ``{clip}``, ``{format}``) or
            a file path.
        plan_mode: ``"predicted"``, ``"tracked"`` (predicted, plus silent progress
            from the segmentation), ``"oracle"`` (privileged) or ``"none"`` (module
            docstring); ``None`` (default): the interaction model's own ``plan_mode``
            (a learned deviation detector's ``model.json`` says ``"tracked"``) when
            this assistant implements it, else ``"predicted"``.
        interaction_kwargs: Further arguments of the interaction model (for
            ``"openai-compatible"``: ``base_url``, ``model``, ``api_key_env``,
            ``latency``, ...).
        planner_kwargs: Further arguments of the planner (for ``"openai-compatible"``:
            ``base_url``, ``model``, ...).
    """

    privileged = False
    needs_pixels = True
    #: The ``plan_mode`` values this assistant implements.
    plan_modes: tuple[str, ...] = PLAN_MODES

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
        device: str = "cpu",
        dtype: str = "auto",
        n_frames: int = 1,
        max_new_tokens: int = 24,
        prompt: str | None = None,
        planner_max_new_tokens: int | None = None,
        planner_prompt: str | None = None,
        plan_mode: str | None = None,
        interaction_kwargs: dict | None = None,
        planner_kwargs: dict | None = None,
    ) -> None:
        super().__init__()
        if plan_mode is not None and plan_mode not in self.plan_modes:
            raise ValueError(f"plan_mode must be one of {list(self.plan_modes)}, got {plan_mode!r}")
        if planner_latency < 0:
            raise ValueError(f"planner_latency must be >= 0 seconds, got {planner_latency}")
        if clip_len < 1:
            raise ValueError(f"clip_len must be >= 1, got {clip_len}")
        check_dtype(dtype)
        self.rng = np.random.default_rng(0)
        options = {"threshold": threshold, "checkpoint": checkpoint, "model_path": model_path}
        options |= {"device": device, "dtype": dtype, "n_frames": n_frames, "prompt": prompt}
        check_interaction_kwargs(interaction, interaction_kwargs)
        options |= {"max_new_tokens": max_new_tokens} | dict(interaction_kwargs or {})
        self.interaction = build_interaction_model(interaction, **options)
        self._set_plan_mode(plan_mode, threshold)
        check_planner_kwargs(planner, planner_kwargs)
        settings = {"plan_quality": plan_quality, "planner_path": planner_path, "rng": self.rng}
        settings |= {"device": device, "dtype": dtype, "planner_prompt": planner_prompt}
        settings |= {"planner_max_new_tokens": planner_max_new_tokens}
        self.planner = build_planner(planner, **settings | dict(planner_kwargs or {}))
        self.interaction_name, self.planner_name = interaction, planner
        modes = set(getattr(self.interaction, "obs_modes", ("rgb",)))
        modes |= set(ProgressTracker.obs_modes if self.progress is not None else ())
        self.obs_modes = tuple(m for m in ("rgb", "depth", "segmentation") if m in modes)
        self.planner_latency = float(planner_latency)
        self.clip: deque[dict[str, Any]] = deque(maxlen=int(clip_len))
        self._init_episode_state()

    def _set_plan_mode(self, plan_mode: str | None, threshold: float) -> None:
        """``plan_mode``, or (``None``) the one the interaction model was trained on
        when this assistant implements it, else ``"predicted"``."""
        preferred = getattr(self.interaction, "plan_mode", None)
        if plan_mode is None:
            plan_mode = preferred if preferred in self.plan_modes else "predicted"
        self.plan_mode = plan_mode
        self.privileged = plan_mode == "oracle"
        self._truth_planner = TaskGraphPlanner() if self.privileged else None
        self.progress = ProgressTracker(threshold) if plan_mode == "tracked" else None

    def _init_episode_state(self) -> None:
        self.dialogue: list[DialogueTurn] = []
        self.cached_plan: Plan | None = None
        self.latest_plan: Plan | None = None
        self.plan_text = ""
        self.incoming: list[tuple[float, Plan]] = []
        self.plan_history: list[tuple[float, str]] = []
        self.model_outputs: list[dict[str, Any]] = []
        self.stats: dict[str, int] = {
            "decisions": 0,
            "interrupts": 0,
            "planner_calls": 0,
            "plan_updates": 0,
            "malformed": 0,
            "interaction_malformed": 0,
        }

    def episode_extras(self) -> dict[str, Any]:
        """What the rollout adds to the episode record: ``policy_stats`` and
        ``model_outputs`` (every raw output of the model-backed components)."""
        return {"policy_stats": dict(self.stats), "model_outputs": list(self.model_outputs)}

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Start an episode: empty clip and dialogue, the initial plan from the planner."""
        super().reset(env_info=env_info, seed=seed)
        self.rng = np.random.default_rng(seed)
        if hasattr(self.planner, "rng"):
            self.planner.rng = self.rng
        self.clip.clear()
        self._init_episode_state()
        self.interaction.reset(env_info)
        if self.progress is not None:
            self.progress.reset(env_info)
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

    def _replan(
        self, now: float, said: Decision | None, completed: tuple[str, ...] | None = None
    ) -> Plan:
        """Call the planner on the latest clip, the latest plan and ``said`` (and the
        ``completed`` steps, when the progress tracker knows them)."""
        self.stats["planner_calls"] += 1
        context = self._context(now)
        if completed is not None:
            context = replace(context, completed=completed)
        plan, bad = logged_call(
            self.model_outputs,
            now,
            "planner",
            self.planner,
            lambda: self.planner.replan(list(self.clip), self.latest_plan, said, context),
        )
        self.stats["malformed"] += bad
        self.latest_plan = plan
        return plan

    def _install(self, now: float, plan: Plan) -> None:
        self.cached_plan = plan
        self.plan_text = render_plan(plan)
        self.plan_history.append((now, self.plan_text))
        self.stats["plan_updates"] += 1

    def _receive_plans(self, now: float) -> None:
        """Install the revised plans whose latency has elapsed (oldest first)."""
        due = sorted(((t, p) for t, p in self.incoming if t <= now + 1e-9), key=lambda x: x[0])
        self.incoming = [(t, p) for t, p in self.incoming if t > now + 1e-9]
        for _, plan in due:
            self._install(now, plan)

    # ------------------------------------------------------------------ acting
    def _decide(self, now: float) -> Decision:
        """The interaction model's decision (its raw output logged, if any)."""
        decision, bad = logged_call(
            self.model_outputs,
            now,
            "interaction",
            self.interaction,
            lambda: self.interaction.decide(list(self.clip), self.cached_plan, self.dialogue),
        )
        self.stats["interaction_malformed"] += bad
        return decision

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

    def _ground_truth_plan(self, now: float, info: dict[str, Any] | None) -> None:
        """``plan_mode``: the oracle plan from ``info``, or no plan."""
        if self.plan_mode == "none":
            self.cached_plan = None
            return
        if info is None or "completed_steps" not in info:
            raise ValueError("plan_mode='oracle' needs privileged info (privileged=True)")
        open_devs = info.get("active_deviations") or []
        context = replace(
            self._context(now),
            completed=tuple(info["completed_steps"]),
            deviation=open_devs[0] if open_devs else None,
        )
        self.cached_plan = self._truth_planner.replan([], None, None, context)

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """One decision point: perceive, maybe receive a plan, decide, maybe replan."""
        now = observation_time(observation)
        self._observe(observation, now)
        self._receive_plans(now)
        if self.plan_mode in ("oracle", "none"):
            self._ground_truth_plan(now, info)
        self.stats["decisions"] += 1
        decision = self._decide(now)
        silent = not decision.interrupt or (decision.intent is None and not decision.text)
        if self.progress is not None:  # after deciding: the model sees the plan it had
            self._track_progress(now, observation, act=silent)
        if silent:
            return silent_action()
        action = self._speak(now, decision)
        if self.plan_mode in ("oracle", "none"):
            return action
        self._schedule(now, self._replan(now, decision))
        return action

    def _schedule(self, now: float, plan: Plan) -> None:
        """Install ``plan`` now, or when the planner's latency has elapsed."""
        delay = self.planner_latency + float(getattr(self.planner, "charged_s", 0.0))
        if delay <= 0:
            self._install(now, plan)
        else:
            self.incoming.append((now + delay, plan))

    def _track_progress(self, now: float, observation: dict[str, Any], act: bool) -> None:
        """``plan_mode="tracked"``: revise the plan silently when the current step looks
        over (:meth:`ProgressTracker.revise`); ``act=False`` (the model just spoke, and
        its message replans) only perceives."""
        revision = self.progress.revise(observation, self.latest_plan, act)
        if revision is None:
            return
        if isinstance(revision, Plan):
            self.latest_plan = revision
            self._schedule(now, revision)
        else:
            self._schedule(now, self._replan(now, None, completed=revision))


@register_policy("monolithic")
class MonolithicAssistant(DuplexAssistant):
    """One model that plans and decides at every decision point (PWR's ablation).

    The planner runs on every call (on the clip, the previous plan and the last
    utterance) and the interaction model decides from that fresh plan. A call takes
    ``planner_latency`` of simulated time and the model makes one call at a time: a
    call starts on the observation at hand, the assistant is silent while it runs, and
    its decision is spoken at the first decision point at or after it completes; the
    next call starts there, after that message is in the dialogue. (The former delay
    line, a new call every point with its result ``planner_latency`` later, made
    calls that could not see their predecessors' pending messages: 44 % of messages
    were repeats at 2 s.) With ``planner_latency = 0`` every point is a call.

    Args:
        interaction: Interaction model: ``"rules"``, ``"learned"`` or ``"hf"``.
        planner: Planner: ``"taskgraph"`` or ``"hf"``.
        planner_latency: Simulated seconds each decision takes (>= 0).
        plan_quality: Task-graph planner: probability a plan is not corrupted, in [0, 1].
        threshold: Interrupt threshold of the interaction model.
        checkpoint: ``interaction="learned"``: the trained ``model.pt`` (default: the
            shipped ``policies/checkpoints/model.pt``).
        model_path: ``interaction="hf"``: directory of an image-text-to-text model.
        planner_path: ``planner="hf"``: directory of a causal language model.
        clip_len: Observations kept in the clip buffer (>= 1).
        device: Torch device of the learned and hf models (``"auto"``: CUDA if any).
        dtype: Weights dtype of the hf models (``"auto"``, ``"float32"``, ...).
        n_frames: ``interaction="hf"``: latest frames shown per decision.
        max_new_tokens: ``interaction="hf"``: most tokens per decision.
        prompt: ``interaction="hf"``: prompt template, inline or a file path.
        planner_max_new_tokens: ``planner="hf"``: most tokens per plan (``None``: sized).
        planner_prompt: ``planner="hf"``: prompt template, inline or a file path.
    """

    #: It plans at every call, from its own plan: no other plan source.
    plan_modes: tuple[str, ...] = ("predicted",)

    def _init_episode_state(self) -> None:
        super()._init_episode_state()
        self.pending: tuple[float, Decision] | None = None
        self.last_said: Decision | None = None

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Speak a completed call's decision, then start the next call (class docstring)."""
        now = observation_time(observation)
        self._observe(observation, now)
        self.stats["decisions"] += 1
        action = silent_action()
        if self.pending is not None:
            ready, due = self.pending
            if now + 1e-9 < ready:
                return action  # busy: the running call has not completed
            self.pending = None
            if due.interrupt and (due.intent is not None or due.text):
                action = self._speak(now, due)
                self.last_said = due
        if self.stats["decisions"] > 1:  # the reset already planned for the first point
            self._install(now, self._replan(now, self.last_said))
        self.last_said = None
        decision = self._decide(now)
        if self.planner_latency <= 0:
            if decision.interrupt and (decision.intent is not None or decision.text):
                self.last_said = decision
                return self._speak(now, decision)
            return action
        self.pending = (now + self.planner_latency, decision)
        return action


# The served planner registers itself as "openai-compatible" (standard library only).
from proassist.policies.remote import planner as _remote_planner  # noqa: E402, F401
