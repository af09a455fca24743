"""The ProAssist Gymnasium environment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass, replace
from typing import Any

import gymnasium as gym
import numpy as np

from proassist.envs import spaces as S
from proassist.envs.arguments import ENV_ARGUMENTS, validate_env_kwargs
from proassist.envs.records import build_record, decision_entry, plan_entries
from proassist.envs.rewards import DEFAULT_REWARD_WEIGHTS, RewardTracker
from proassist.scenarios import list_scenarios, load_scenario
from proassist.scenarios.model import MAX_STEPS, PersonProfile, Scenario, ScriptedDeviation
from proassist.sim.deviations.base import addressable_steps
from proassist.sim.engine import Simulation
from proassist.sim.messages import INTENTS, Message

#: ``info`` keys of every env: what the assistant could observe anyway (the step count,
#: the observation's time, the task and its plan ids) and the reward paid on the step.
PUBLIC_INFO_KEYS: tuple[str, ...] = ("step_index", "time", "task", "plan", "reward_breakdown")
#: ``info`` keys added with ``privileged=True`` (ground truth).
PRIVILEGED_INFO_KEYS: tuple[str, ...] = (
    "events_new",
    "active_deviations",
    "current_step",
    "current_plan_step",
    "completed_steps",
)


class ProAssistEnv(gym.Env):
    """A person works through a procedure; the agent is the assistant that watches.

    ## Description
    A simulated person performs a procedure of the env's domain (kitchen: make tea,
    coffee, a sandwich...; assembly: a stool, a shelf, a lamp; maintenance: a printer
    cartridge, a bike tyre), seen through a head-mounted camera rendered by pybullet.
    The person sometimes goes Out-of-Plan (omission, order, substitution, placement,
    measurement, timing, setting, repetition, distraction, hesitation, safety). Every
    ``step()`` is one decision point (``decision_dt`` = 0.5 s of simulated time): the
    assistant stays silent or interrupts with an intent, a plan step and/or free text.
    The person hears it and reacts (complies after a delay with a probability set by
    their profile and by how often the assistant has raised false alarms).

    ## Observation space
    ``Dict``: ``rgb`` Box(0, 255, (H, W, 3), uint8) egocentric frame (when ``"rgb"`` is
    in ``obs_modes``; zeros when ``render=False``); ``depth`` Box(0, 100, (H, W),
    float32) metres and ``segmentation`` Box(-1, 65536, (H, W), int32) when asked for;
    ``utterance`` Text(256, printable) what the person said during the last step;
    ``goal`` Text(256) the task query; ``time`` Box(0, 1e6, (1,), float32) seconds.

    ## Action space
    ``Dict``: ``decision`` Discrete(2) (0 silent, 1 interrupt); ``intent`` Discrete(6)
    indexing ``proassist.sim.messages.INTENTS`` (instruct_next, correct_deviation,
    confirm_done, warn, answer_question, re_engage); ``step`` Discrete(33), a plan step
    index (``info["plan"]``), 32 = no step; ``text`` Text(256) an optional utterance.
    With ``decision=1``, ``step=32`` and non-empty ``text`` the message is free text that
    the person interprets by matching it to the steps. A silent action may be just
    ``{"decision": 0}``. Anything outside the space raises ``ActionError`` naming the
    field and what it expects.

    ## Rewards
    Four terms (weights overridable with ``reward_weights``): ``interrupt`` -0.05 per
    interruption (the cost of talking, observable); and three ground-truth terms:
    ``success`` +10 when the task ends successfully; ``recovery`` +2 per deviation the
    person recovers from after an assistant message (assisted recovery); ``false_alarm``
    -1 per correcting message (correct_deviation, warn, re_engage) while no deviation
    is active on the named step. Without ``privileged=True`` (the default) the reward
    reveals nothing the assistant could not observe: each step pays only ``interrupt``
    (so the reward is the same for the same action), and the ground-truth terms are
    paid as one outcome sum at the final step (terminated or truncated; an episode cut
    short from outside, e.g. by a ``TimeLimit`` wrapper, never pays it). With
    ``privileged=True`` every term is paid on the step that earns it (for oracles and
    RL with a privileged critic). The episode return is the same in both modes for the
    same seed and actions. ``info["reward_breakdown"]`` holds the terms paid on the
    step (every term a key; without privileged info the ground-truth ones are 0.0
    until the final step, which holds their episode totals); see
    :mod:`proassist.envs.rewards`.

    ## Starting state
    ``reset(seed=..., options={"task": name_or_path})`` picks the task (the option,
    else ``task=``, else uniformly among the env's tasks with ``np_random``), the person's timing and the random deviations; the person
    stands at the first step's fixture. All randomness flows from ``np_random``.

    ## Episode end
    ``terminated``: the task ended (the person finished, or a deviation's deadline
    passed with a failing consequence, e.g. a hazard). ``truncated``: the time limit
    (``max_duration`` simulated seconds, default the scenario's) was reached.

    ## Arguments
    Validated all at once by :mod:`proassist.envs.arguments` (the same checks as
    ``proassist sweep --check``; a ``ValueError`` lists every bad field).
    ``domain`` (set by the env id; ``None`` for ``ProAssist-v0``: any domain),
    ``task`` (a library name such as ``"kitchen_tea"``, a short name ``"tea"`` within
    the domain, or a path to a task file; layouts resolve beside the task file first;
    None samples among the domain's tasks, or every task for ``ProAssist-v0``),
    ``render_mode`` (None or ``"rgb_array"``), ``obs_modes`` (subset of rgb, depth,
    segmentation), ``width``/``height`` (16 to 4096, default 128), ``decision_dt``
    (0.5 s), ``deviation_rates`` (dict kind -> probability per applicable step; any
    registered kind, plugins included), ``deviation_kinds`` (restrict random kinds),
    ``deviation_script`` (list of ``{kind, step, time, params}`` dicts),
    ``max_random_deviations`` (cap on the random deviations of an episode: ``"scenario"``
    (default) keeps the task's ``deviations.max_random``, 2 in the library; ``None``
    removes the cap; an integer sets it), ``person``
    (PersonProfile, a profile name, or a dict of fields changed on the task's own person;
    with ``base``, a profile name, on that profile instead, as in a task file),
    ``privileged`` (put ground
    truth in ``info``), ``max_duration``, ``render`` (False skips pixels for fast
    runs), ``reward_weights`` (success, recovery, false_alarm, interrupt), ``egl`` (pybullet's EGL
    plugin), ``renderer`` (``"auto"``, the default: gl when an EGL context can be
    created, else pybullet, logged once; ``"gl"``: OpenGL via moderngl + EGL, lit and
    textured; ``"pybullet"``: TinyRenderer, the reference and the fallback;
    ``"habitat"``; episodes are the same whatever the renderer, frames are not: the
    shipped learned model was trained on gl frames),
    ``perception_noise`` (``{"confuse": p, "miss": q}``: look-alike objects confused
    and objects missed in ``segmentation``, per frame; see
    :mod:`proassist.envs.perception`).

    ## Perception
    ``segmentation`` is a perfect object-identity sensor by default (a look-alike
    substitute has its own id): results that read it are *privileged perception*
    (``record["perception"] == "privileged"``); ``perception_noise`` makes it honest.

    ## Deviation model
    Scripted deviations come from the scenario or ``deviation_script``; random ones
    happen per step with per-kind rates times the person's error proneness. They are
    latent: drawn once at reset, fixed per seed whatever the assistant says (logged as
    a ``latent_deviations`` event), and each manifests when the person reaches its
    step (``proassist.scenarios.mixes`` turns category frequencies such as
    CaptainCook4D's into ``deviation_rates``). Each has an
    onset (first visible moment), recovery steps, a deadline and a consequence. With
    ``privileged=True``, ``info`` carries ``events_new``, ``active_deviations``,
    ``current_step`` (a plan or recovery step id), ``current_plan_step`` (the plan step
    being worked on, a recovery step's affected step; what a perfect step recogniser
    reports) and ``completed_steps``.

    ## Scoring
    ``env.unwrapped.episode_record()`` is the input of ``proassist.analysis`` metrics:
    the headline is ``net_assistance`` (paired with the silent assistant on the same
    seed: rescued minus caused failures, and on unchanged outcomes the time the
    assistant cost relative to the person's own time), with content-aware OOP recall
    and precision, PWR-comparable decision metrics on a balanced instance set, stream
    IF1/SF1/G-Mean, PQS, time-matched F1 and STS.

    ## Version history
    v0: first release. ``ProAssist-v0`` (any task file, any domain) and task paths
    were added without changing the episodes of the existing ids.
    Reward hygiene (issue 10): without privileged info the ground-truth reward terms
    are paid at the final step instead of when earned; returns, records and event logs
    are unchanged. Issue 10 (instrument validity) changed episodes of every id: talking
    costs the person time and trust, random deviations are latent (fixed per seed),
    just-in-time guidance can prevent them (``step_finishing`` cue, logged 1 s before a
    plan step ends), lateness costs (redo, ``too_late``, hazard clock);
    ``perception_noise`` was added (off by default: episodes unchanged). Issue 13: the
    default ``renderer`` became ``"auto"`` (gl where EGL works): the frames changed,
    the episodes did not. Later in issue 13, gl rgb frames changed slightly again (a 2-D
    noise slice for the textures; an unfiltered shadow tap at <= 160 px); segmentation,
    depth and episodes did not. Issue 11 (thirty-fifth round): each ``plan`` entry also
    gives the step's wait, ``min_time`` (0 for none), as a recipe says how long to wait;
    the episodes did not change. Thirty-sixth round: a ``person`` dict changes the
    task's own person (it started from the ``PersonProfile`` defaults; ``base`` names a
    profile to start from instead), and profiles have ``refusal_reply`` (1 in every
    library profile: episodes unchanged). Thirty-ninth round: after "Please stop." the
    person tunes out for ``tune_out`` seconds, not the next ``stop_ignore`` messages
    (episodes of every id changed where the person says "Please stop.").
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 2}

    def __init__(
        self,
        domain: str | None = "kitchen",
        task: str | None = None,
        render_mode: str | None = None,
        obs_modes: Sequence[str] = ("rgb",),
        width: int = 128,
        height: int = 128,
        decision_dt: float = 0.5,
        deviation_rates: Mapping[str, float] | None = None,
        deviation_kinds: Sequence[str] | None = None,
        deviation_script: Sequence[Mapping[str, Any]] | None = None,
        max_random_deviations: int | str | None = "scenario",
        person: PersonProfile | str | Mapping[str, Any] | None = None,
        privileged: bool = False,
        max_duration: float | None = None,
        render: bool = True,
        reward_weights: Mapping[str, float] | None = None,
        egl: bool = False,
        perception_noise: Mapping[str, float] | None = None,
        renderer: str = "auto",
    ) -> None:
        validate_env_kwargs({k: v for k, v in locals().items() if k in ENV_ARGUMENTS})
        self.domain = domain
        self.tasks = [_resolve_task(domain, task)] if task else list_scenarios(domain)
        self._scenarios: dict[str, Scenario] = {}
        if task:
            self._scenario(self.tasks[0])  # a bad task file fails here, not at reset
        self.render_mode = render_mode
        self.obs_modes = tuple(m for m in S.OBS_MODES if m in obs_modes)
        self.width, self.height, self.decision_dt = int(width), int(height), float(decision_dt)
        self.deviation_rates = dict(deviation_rates) if deviation_rates is not None else None
        self.deviation_kinds = list(deviation_kinds) if deviation_kinds is not None else None
        self.deviation_script = _script(deviation_script)
        self.max_random_deviations = max_random_deviations
        self.person, self.person_changes = _profile(person)
        self.privileged, self.max_duration = bool(privileged), max_duration
        self.render_pixels, self.egl, self.renderer = bool(render), bool(egl), str(renderer)
        self.perception_noise = dict(perception_noise) if perception_noise else None
        self._noise: tuple[np.random.Generator, frozenset[int], dict[int, tuple[int, ...]]] | None
        self._noise = None
        self.reward_weights = {**DEFAULT_REWARD_WEIGHTS, **dict(reward_weights or {})}
        self.observation_space = S.observation_space(self.width, self.height, self.obs_modes)
        self.action_space = S.action_space()
        self._scene: Any = None
        self._sim: Simulation | None = None
        self._frames: dict[str, np.ndarray] = {}
        #: Reject an interrupt whose ``step`` lies past the plan (``ActionError``);
        #: False treats it as no step (what Gymnasium's random-action checks need).
        self.strict_steps: bool = True
        # Per-episode state, set by reset().
        self.scenario: Scenario | None = None
        self._goal_text: str = ""
        self._plan_ids: tuple[str, ...] = ()
        self._seed: int | None = None
        self._rewards: RewardTracker | None = None
        self._decisions: list[dict[str, Any]] = []
        self._step_index: int = 0
        self._event_cursor: int = 0

    # ------------------------------------------------------------------ gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start a new episode (see the class docstring, Starting state)."""
        super().reset(seed=seed)
        options = options or {}
        name = options.get("task") or self.tasks[int(self.np_random.integers(len(self.tasks)))]
        self.scenario = self._scenario(_resolve_task(self.domain, name))
        self._goal_text = S.clean_text(self.scenario.procedure.goal)
        self._plan_ids = tuple(s.id for s in self.scenario.procedure.steps)
        self._seed = seed
        sim_rng = np.random.default_rng(self.np_random.integers(0, 2**63 - 1))
        self._sim = Simulation(
            self.scenario,
            rng=sim_rng,
            dt=self.decision_dt,
            deviation_rates=self.deviation_rates,
            deviation_kinds=self.deviation_kinds,
            script=self.deviation_script,
            profile=self.episode_person(),
            max_duration=self.max_duration,
            max_random=self.max_random_deviations,
        )
        self._sim.reset()
        self._rewards = RewardTracker(self.reward_weights, privileged=self.privileged)
        self._decisions = []
        self._step_index = 0
        self._event_cursor = 0
        self._load_scene()
        self._noise = self._perception_noise()
        obs = self._observation()
        return obs, self._info(self._new_events(), {})

    def step(
        self, action: dict[str, Any]
    ) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """Advance one decision point with the assistant's ``action``."""
        if self._sim is None:
            raise RuntimeError("call reset() before step()")
        if self._sim.done:
            raise RuntimeError("the episode has ended; call reset()")
        act = S.check_action(action, self.action_space)
        message = self._message(act)
        self._decisions.append(decision_entry(self._sim.time, act, message))
        false_alarm = message is not None and self._is_false_alarm(message)
        self._sim.step(message)
        self._step_index += 1
        new = self._new_events()
        terminated, truncated = self._ended()
        breakdown = self._rewards.step(
            new, message is not None, false_alarm, final=terminated or truncated
        )
        obs = self._observation()
        return (
            obs,
            float(sum(breakdown.values())),
            terminated,
            truncated,
            self._info(new, breakdown),
        )

    def render(self) -> np.ndarray | None:
        """Return the last egocentric RGB frame (``render_mode="rgb_array"``)."""
        if self.render_mode != "rgb_array":
            return None
        if "rgb" not in self._frames:
            self._frames = self._render_frames(("rgb",))
        return self._frames["rgb"].copy()

    def close(self) -> None:
        """Release the renderer."""
        if self._scene is not None:
            self._scene.close()
            self._scene = None

    # ------------------------------------------------------------------ records
    def episode_record(self, policy: str = "", env_id: str | None = None) -> dict[str, Any]:
        """The episode record of the current episode (CONTRACTS.md §5)."""
        if self._sim is None:
            raise RuntimeError("no episode yet: call reset()")
        env_id = env_id or (self.spec.id if self.spec is not None else _env_id(self.domain))
        return build_record(
            env_id=env_id,
            scenario=self.scenario,
            seed=self._seed,
            dt=self.decision_dt,
            policy=policy,
            events=self._sim.events.to_list(),
            decisions=list(self._decisions),
            success=bool(self._sim.success),
            duration=float(self._sim.time),
            env_kwargs=self.env_kwargs(),
            person=asdict(self._sim.profile),
        )

    def episode_person(self) -> PersonProfile | None:
        """This episode's person: the ``person`` argument, its changes on the task's own
        person, or None (the task's own)."""
        if self.person is not None or not self.person_changes:
            return self.person
        if self.scenario is None:
            raise RuntimeError("no episode yet: call reset() first")
        return replace(self.scenario.person, **self.person_changes)

    def env_kwargs(self) -> dict[str, Any]:
        """The constructor arguments that change the episode (JSON-serialisable)."""
        return {
            "domain": self.domain,
            "tasks": list(self.tasks),
            "decision_dt": self.decision_dt,
            "deviation_rates": self.deviation_rates,
            "deviation_kinds": self.deviation_kinds,
            "deviation_script": [
                vars(d) | {"params": dict(d.params)} for d in self.deviation_script or []
            ]
            or None,
            "person": _person_kwarg(self.person, self.person_changes),
            "max_duration": self.max_duration,
            "max_random_deviations": self.max_random_deviations,
            "perception_noise": self.perception_noise,
            # What the assistant saw (frames only; episodes do not depend on them).
            "obs_modes": list(self.obs_modes),
            "width": self.width,
            "height": self.height,
            "render": self.render_pixels,
            "renderer": self.renderer,
        }

    @property
    def simulation(self) -> Simulation:
        """The running :class:`Simulation` (privileged access for tests and oracles).

        A non-privileged assistant must not read it (``tests/envs/test_leakage.py``).
        """
        if self._sim is None:
            raise RuntimeError("no episode yet: call reset()")
        return self._sim

    @property
    def plan(self) -> list[dict[str, Any]]:
        """The current task's plan as ``{id, instruction, ...}`` entries."""
        return plan_entries(self.scenario)

    # ------------------------------------------------------------------ helpers
    def _scenario(self, name: str) -> Scenario:
        if name not in self._scenarios:
            scenario = load_scenario(name)
            if self.domain and scenario.procedure.domain != self.domain:
                raise ValueError(
                    f"task {name!r} is in domain {scenario.procedure.domain!r}, not "
                    f"{self.domain!r}; use ProAssist-v0 for a task of any domain"
                )
            self._scenarios[name] = scenario
        return self._scenarios[name]

    def _load_scene(self) -> None:
        if not self.render_pixels:
            return
        if self._scene is None:
            from proassist.sim.render.scene import Scene

            modes = tuple(self.obs_modes) or ("rgb",)
            self._scene = Scene(
                width=self.width,
                height=self.height,
                modes=modes,
                egl=self.egl,
                renderer=self.renderer,
            )
        p = self.scenario.procedure
        self._scene.load(self.scenario.layout, p.objects, p.steps)

    def _perception_noise(self) -> Any:
        """(generator, object ids, look-alikes) when ``perception_noise`` is on."""
        if not self.perception_noise or self._scene is None:
            return None
        from proassist.envs.perception import lookalikes

        rng = np.random.default_rng(self.np_random.integers(0, 2**63 - 1))
        ids = self._scene.segmentation_ids
        objects = self.scenario.procedure.objects
        obj_ids = frozenset(ids[o.id] for o in objects if o.id in ids)
        return rng, obj_ids, lookalikes(objects, ids)

    def _render_frames(self, modes: Sequence[str]) -> dict[str, np.ndarray]:
        if not self.render_pixels or self._scene is None:
            return _blank_frames(modes, self.width, self.height)
        predicates = self._sim.world.snapshot()  # with done(step): what a done step shows
        frames = self._scene.render(self._sim.body(), predicates)
        if self._noise is not None and "segmentation" in frames:
            from proassist.envs.perception import perturb_segmentation

            rng, obj_ids, alikes = self._noise
            noise = self.perception_noise or {}
            frames["segmentation"] = perturb_segmentation(
                frames["segmentation"], obj_ids, alikes, noise, rng
            )
        return frames

    def _observation(self) -> dict[str, Any]:
        self._frames = self._render_frames(self.obs_modes) if self.obs_modes else {}
        obs: dict[str, Any] = {m: self._frames[m] for m in self.obs_modes}
        said = self._sim.person_utterance
        obs["utterance"] = S.clean_text(said) if said else ""
        obs["goal"] = self._goal_text
        obs["time"] = np.array([self._sim.time], dtype=np.float32)
        return obs

    def _message(self, act: dict[str, Any]) -> Message | None:
        if act["decision"] == 0:
            return None
        steps = self.scenario.procedure.steps
        if self.strict_steps:
            S.check_plan_step(act, len(steps))
        if act["step"] == S.NO_STEP and act["text"].strip():
            return Message(intent="", step=None, text=act["text"])
        step_id = steps[act["step"]].id if act["step"] < len(steps) else None
        return Message(intent=INTENTS[act["intent"]], step=step_id, text=act["text"])

    def _is_false_alarm(self, message: Message) -> bool:
        if message.intent not in ("correct_deviation", "warn", "re_engage"):
            return False
        active = self._sim.active_deviations()
        if message.intent == "re_engage" and message.step is None:
            return not active
        return not any(message.step in addressable_steps(d) for d in active)

    def _new_events(self) -> list[dict[str, Any]]:
        events = self._sim.events.since(self._event_cursor)
        self._event_cursor = len(self._sim.events)
        return events

    def _ended(self) -> tuple[bool, bool]:
        if not self._sim.done:
            return False, False
        timed_out = self._sim.failure_reason == "time_limit"
        return not timed_out, timed_out

    def _info(
        self, new_events: list[dict[str, Any]], breakdown: dict[str, float]
    ) -> dict[str, Any]:
        """:data:`PUBLIC_INFO_KEYS` (observable), plus ground truth when privileged."""
        info: dict[str, Any] = {
            "step_index": self._step_index,
            "time": float(self._sim.time),
            "task": self.scenario.name,
            "plan": list(self._plan_ids),
            "reward_breakdown": dict(breakdown),
        }
        if self.privileged:
            info["events_new"] = new_events
            info["active_deviations"] = self._sim.active_deviations()
            info["current_step"] = self._sim.current_step()
            info["current_plan_step"] = self._sim.current_plan_step()
            info["completed_steps"] = list(self._sim.completed_steps())
        return info


def _resolve_task(domain: str | None, task: str) -> str:
    """A library name, or the absolute path of a task file given by path."""
    from proassist.scenarios.library import find, looks_like_path

    if looks_like_path(task):
        path = find("task", task)
        if path is None:
            raise ValueError(f"task file {str(task)!r} not found")
        return str(path.resolve())
    names = list_scenarios(domain)
    for candidate in (task, f"{domain}_{task}"):
        if candidate in names:
            return candidate
    from proassist.scenarios.registry import did_you_mean

    where = f"{domain} task" if domain else "task"
    raise ValueError(f"unknown {where} {task!r}{did_you_mean(task, names)} (tasks: {names})")


def _script(script: Sequence[Mapping[str, Any]] | None) -> list[ScriptedDeviation] | None:
    if script is None:
        return None
    out = []
    for i, item in enumerate(script):
        if isinstance(item, ScriptedDeviation):
            out.append(item)
            continue
        unknown = set(item) - {"kind", "step", "time", "params"}
        if unknown or "kind" not in item or "step" not in item:
            raise ValueError(
                f"deviation_script[{i}] must be a dict with kind, step and optional time, "
                f"params; got {dict(item)!r}"
            )
        time = item.get("time")
        out.append(
            ScriptedDeviation(
                kind=str(item["kind"]),
                step=str(item["step"]),
                time=None if time is None else float(time),
                params=dict(item.get("params") or {}),
            )
        )
    return out


def _profile(
    person: PersonProfile | str | Mapping[str, Any] | None,
) -> tuple[PersonProfile | None, dict[str, Any]]:
    """``(fixed profile or None, field changes on the task's own person)``."""
    if person is None or isinstance(person, PersonProfile):
        return person, {}
    if isinstance(person, str):
        from proassist.scenarios import load_profile

        return load_profile(person), {}
    if isinstance(person, Mapping):
        values = _person_values(person)
        base = values.pop("base", None)
        if base is None:
            return None, values
        from proassist.scenarios import load_profile

        return replace(load_profile(str(base)), **values), {}
    raise TypeError(
        f"person must be a PersonProfile, a profile name or a dict; got {type(person).__name__}"
    )


def _person_kwarg(person: PersonProfile | None, changes: dict[str, Any]) -> Any:
    """The ``person`` argument as JSON-serialisable data (a record's ``env_kwargs``)."""
    if person is not None:
        return asdict(person)
    return {k: asdict(v) if is_dataclass(v) else v for k, v in changes.items()} or None


def _person_values(person: Mapping[str, Any]) -> dict[str, Any]:
    """A person mapping's fields, checked, with ``reaction_delay`` built."""
    fields = set(PersonProfile.__dataclass_fields__) | {"base"}
    unknown = set(person) - fields
    if unknown:
        raise ValueError(
            f"unknown person profile field(s) {sorted(unknown)}; expected {sorted(fields)}"
        )
    from proassist.scenarios.build import build_duration

    values = {k: v for k, v in person.items() if v is not None}  # null: keep, as task files
    if isinstance(values.get("reaction_delay"), Mapping):
        values["reaction_delay"] = build_duration(dict(values["reaction_delay"]))
    return values


def _blank_frames(modes: Sequence[str], width: int, height: int) -> dict[str, np.ndarray]:
    blanks = {
        "rgb": lambda: np.zeros((height, width, 3), np.uint8),
        "depth": lambda: np.zeros((height, width), np.float32),
        "segmentation": lambda: np.full((height, width), -1, np.int32),
    }
    return {m: blanks[m]() for m in modes}


def _env_id(domain: str | None) -> str:
    from proassist.envs.registration import env_id_for

    return env_id_for(domain)


assert MAX_STEPS == S.NO_STEP
