"""The data engine: roll out the privileged oracle and record the learned model's inputs.

:func:`collect` runs the ``oracle`` over randomised episodes (domain, task, person
profile, deviation rates raised so deviations are plentiful, seed) and, at every
decision point, records what the learned interaction model
(:class:`~proassist.policies.learned.interaction.LearnedInteractionModel`) would see there if it had
made the oracle's decisions so far (teacher forcing):

* the clip: the last ``clip_len`` frames downsampled to ``frame_size`` exactly as at
  inference (:func:`~proassist.policies.learned.features.clip_from_frames`);
* the plan features from :class:`~proassist.policies.learned.features.PlanStateTracker`, on the
  plan that a duplex assistant's task-graph planner writes from the same decisions (no
  privileged input: the planner gets the previous plan and the utterance just made,
  never the ground truth) and on the dialogue (the oracle's messages and what the
  person said);

and the labels from the oracle's action: silent / interrupt, intent, the step offset
relative to the plan's current step and whether the message asks for a fix. Every
interrupt sample is kept and each silent one with probability ``silent_keep`` (the
training recipe subsamples silent samples anyway). The output directory holds the
dataset shards (:class:`~proassist.policies.learned.dataset.DatasetWriter`) and ``episodes.jsonl``
(the oracle's episode records); ``proassist collect`` adds ``challenge.jsonl`` (their
gold EgoProactive export, :func:`proassist.analysis.challenge.export_run`).

**DAgger** (``CollectOptions.driver``, ``proassist collect --driver MODEL.pt``): the
duplex assistant with that learned interaction model *acts* (its messages reach the
person, who reacts to them), while the oracle runs in shadow on the same privileged
info and only *labels* every decision point it reaches; the shadow duplex state follows
the executed decisions, so the features are exactly those the model saw. With ``beta``
an episode is driven by the oracle instead (probability per episode). Aggregate the
rounds' datasets by training on all of them (``InteractionDataset`` takes several
directories).

Episode seeds are drawn at or above :data:`TRAIN_SEED_BASE`, so evaluation seeds below
it are held out by construction.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from proassist.envs.registration import DOMAINS as ENV_DOMAIN_LIST
from proassist.envs.registration import env_id_for
from proassist.policies.base import observation_time
from proassist.policies.learned import TRAIN_SEED_BASE

__all__ = [
    "DOMAINS",
    "PROFILES",
    "TRAIN_SEED_BASE",
    "EpisodeSpec",
    "ShadowDuplex",
    "collect",
    "episode_specs",
    "oracle_labels",
    "run_episode",
]

#: Domains and their env ids (from the env table).
DOMAINS: dict[str, str] = {d: env_id_for(d) for d in ENV_DOMAIN_LIST}
#: Person profiles drawn by the data engine (``scenarios/profiles``).
PROFILES: tuple[str, ...] = ("careful", "typical", "distractible", "stubborn")
#: Intents whose message asks the planner for a recovery (``fix``) step.
FIX_INTENTS: tuple[str, ...] = ("correct_deviation", "warn")
#: Where the labels come from: the oracle's messages (imitation, DAgger), or the
#: ground-truth deviations (a detector; :mod:`proassist.policies.learned.truth`).
LABELS: tuple[str, ...] = ("oracle", "deviations")


@dataclass(frozen=True)
class EpisodeSpec:
    """One data-engine episode.

    Attributes:
        index: Episode number in the dataset.
        domain: ``kitchen``, ``assembly`` or ``maintenance``.
        seed: Env seed (task, person timing, deviations).
        profile: Person profile name.
        deviation_rate: Per-kind deviation probability per applicable step.
        task: The task (library name or task-file path); ``None``: the domain env
            samples one from the seed.
    """

    index: int
    domain: str
    seed: int
    profile: str
    deviation_rate: float
    task: str | None = None


@dataclass
class CollectOptions:
    """How each episode is rendered and sampled (see :func:`collect`).

    ``driver``: a learned interaction model's ``model.pt``: the duplex assistant with it
    acts (DAgger) while the oracle only labels; ``beta``: the probability that an
    episode is driven by the oracle instead (one draw per episode from its seed).
    ``percepts``: render segmentation too and record the percept features after the
    plan features (:class:`~proassist.policies.learned.features.PerceptTracker`).
    ``oracle_kwargs``: arguments of the labelling oracle (e.g. ``correction_delay``).
    ``labels``: ``"oracle"`` (the oracle's messages) or ``"deviations"`` (the ground
    truth; the tracked duplex acts, silent or with ``driver``:
    :mod:`~proassist.policies.learned.truth`); ``label_horizon_s``: with deviation
    labels, only the first seconds of each deviation's active span are samples.
    """

    clip_len: int = 6
    frame_size: int = 32
    render_size: int = 64
    silent_keep: float = 0.3
    planner_latency_s: float = 0.0
    max_duration: float | None = None
    extra_env: dict[str, Any] = field(default_factory=dict)
    driver: str | None = None
    beta: float = 0.0
    percepts: bool = True
    oracle_kwargs: dict[str, Any] = field(default_factory=dict)
    labels: str = "oracle"
    label_horizon_s: float | None = None

    def __post_init__(self) -> None:
        if self.labels not in LABELS:
            raise ValueError(f"labels must be one of {list(LABELS)}, got {self.labels!r}")
        if self.label_horizon_s is not None and self.label_horizon_s <= 0:
            raise ValueError(f"label_horizon_s must be > 0 seconds, got {self.label_horizon_s}")


def episode_specs(
    n: int,
    seed: int,
    domains: Sequence[str] | None = None,
    rate_range: tuple[float, float] = (0.08, 0.25),
    tasks: Sequence[str] | None = None,
) -> list[EpisodeSpec]:
    """Draw ``n`` episode specs: domains in turn, random profile, rate and seed.

    With ``tasks`` (e.g. a train split of the tasks, to test on the others), the
    episodes cycle through those tasks instead (each in its own domain's env) and
    ``domains`` is ignored; the seeds, profiles and rates are drawn the same way.

    Raises:
        ValueError: On an unknown domain or task, ``n < 1`` or a bad rate range.
    """
    task_list = list(tasks or [])
    if task_list:
        domains = [_task_domain(t) for t in task_list]
    domains = list(domains or DOMAINS)
    bad = [d for d in domains if d not in DOMAINS]
    if bad or not domains:
        raise ValueError(f"unknown domain(s) {bad}; expected some of {list(DOMAINS)}")
    if n < 1:
        raise ValueError(f"need at least one episode, got {n}")
    lo, hi = rate_range
    if not 0.0 <= lo <= hi <= 1.0:
        raise ValueError(f"rate_range must satisfy 0 <= lo <= hi <= 1, got {rate_range}")
    rng = np.random.default_rng(seed)
    seeds = rng.choice(2**31 - TRAIN_SEED_BASE, size=n, replace=False) + TRAIN_SEED_BASE
    return [
        EpisodeSpec(
            index=i,
            domain=domains[i % len(domains)],
            seed=int(seeds[i]),
            profile=PROFILES[int(rng.integers(len(PROFILES)))],
            deviation_rate=float(rng.uniform(lo, hi)),
            task=task_list[i % len(task_list)] if task_list else None,
        )
        for i in range(n)
    ]


def _task_domain(task: str) -> str:
    """The domain of a task (library name or task-file path)."""
    from proassist.scenarios import load_scenario

    return str(load_scenario(task).domain)


class ShadowDuplex:
    """The state a duplex assistant would hold had it made the oracle's decisions.

    Keeps the observation history, the dialogue and the plan written by a
    non-privileged task-graph planner (initial plan at reset, a revision after each
    interrupt, effective ``planner_latency_s`` later), and computes the learned model's
    inputs from them.

    Args:
        env_info: The episode description given to policies.
        clip_len: Frames per clip.
        frame_size: Model frame side.
        planner_latency_s: Simulated seconds before a revised plan takes effect.
        percepts: Append the percept features to the plan features.
    """

    def __init__(
        self,
        env_info: dict[str, Any],
        clip_len: int,
        frame_size: int,
        planner_latency_s: float = 0.0,
        percepts: bool = False,
    ) -> None:
        from proassist.policies.duplex.planners import TaskGraphPlanner
        from proassist.policies.learned.features import InputTracker

        self.env_info = env_info
        self.procedure = list(env_info["plan"])
        self.clip_len, self.frame_size = clip_len, frame_size
        self.latency = planner_latency_s
        self.frames: deque[np.ndarray] = deque(maxlen=clip_len)
        self.dialogue: list[Any] = []
        self.tracker = InputTracker(env_info, percepts)
        self.planner = TaskGraphPlanner()
        self.plan = self.planner.replan([], None, None, self._context(0.0))
        self.latest = self.plan
        self._pending: tuple[float, Any] | None = None

    def _context(self, time: float) -> Any:
        from proassist.policies.duplex.components import PlanContext

        goal = str(self.env_info.get("goal", ""))
        return PlanContext(goal, self.procedure, time, dialogue=tuple(self.dialogue))

    def inputs(self, obs: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """The clip and plan features at this decision point (``obs`` is the newest)."""
        from proassist.policies.duplex.components import DialogueTurn
        from proassist.policies.learned.features import clip_from_frames

        time = observation_time(obs)
        if self._pending is not None and self._pending[0] <= time + 1e-9:
            self.plan, self._pending = self._pending[1], None
        utterance = str(obs.get("utterance", "") or "")
        self.frames.append(np.asarray(obs["rgb"]))
        if utterance.strip():
            self.dialogue.append(DialogueTurn(time, "person", utterance.strip()))
        clip = clip_from_frames(list(self.frames), self.clip_len, self.frame_size)
        return clip, self.tracker.update(obs, self.plan, self.dialogue)[1]

    def commit(self, obs: dict[str, Any], decision: Any) -> None:
        """Record the decision made at ``obs``; an interrupt asks for a revised plan."""
        from proassist.policies.duplex.components import DialogueTurn

        if not decision.interrupt:
            return
        time = observation_time(obs)
        self.dialogue.append(
            DialogueTurn(time, "assistant", decision.text, decision.intent, decision.step)
        )
        clip = list(self.frames)
        revised = self.planner.replan(clip, self.latest, decision, self._context(time))
        self.latest = revised
        if self.latency <= 0:
            self.plan = revised
        else:
            self._pending = (time + self.latency, revised)


def oracle_labels(
    action: dict[str, Any], procedure: Sequence[dict[str, Any]], plan: Any
) -> tuple[Any, dict[str, Any]]:
    """The :class:`~proassist.policies.duplex.components.Decision` and the sample labels of an
    oracle action, relative to the shadow ``plan``.

    The offset label is the position of the named step in ``plan.steps`` minus the
    current position (a fix step's id is its affected step; the first match counts),
    shifted by ``MAX_OFFSET``; -1 when there is no plan, no step or it is out of range.
    """
    from proassist.policies.duplex.components import SILENT, Decision
    from proassist.policies.learned.features import MAX_OFFSET
    from proassist.sim.messages import INTENTS

    if int(action["decision"]) == 0:
        return SILENT, {"decision": 0}
    intent = INTENTS[int(action["intent"])]
    index = int(action["step"])
    step_id = str(procedure[index]["id"]) if index < len(procedure) else None
    fix = intent in FIX_INTENTS
    offset = -1
    if plan is not None and plan.current is not None and step_id is not None:
        where = [i for i, s in enumerate(plan.steps) if s.id == step_id]
        if where and abs(where[0] - plan.current) <= MAX_OFFSET:
            offset = where[0] - plan.current + MAX_OFFSET
    text = str(action.get("text", ""))
    decision = Decision(True, intent, step_id, text, fix)
    labels = {"decision": 1, "intent": INTENTS.index(intent), "offset": offset}
    return decision, labels | {"fix": int(fix), "text": text}


def _make_env(spec: EpisodeSpec, opts: CollectOptions) -> Any:
    import gymnasium as gym

    import proassist.envs  # noqa: F401
    from proassist.sim.deviations.base import registered_kinds

    rates = {kind: spec.deviation_rate for kind in registered_kinds()}
    kwargs = dict(
        privileged=True,
        width=opts.render_size,
        height=opts.render_size,
        deviation_rates=rates,
        person=spec.profile,
        max_duration=opts.max_duration,
    )
    if opts.percepts or opts.labels == "deviations":  # the tracked plan reads segmentation
        kwargs["obs_modes"] = ("rgb", "segmentation")
    if spec.task is not None:
        kwargs["task"] = spec.task
    return gym.make(DOMAINS[spec.domain], **(kwargs | dict(opts.extra_env)))


def run_episode(spec: EpisodeSpec, opts: CollectOptions) -> tuple[dict[str, Any], dict]:
    """Roll out the oracle for one spec.

    Returns:
        ``(samples, record)``: samples as arrays (``clips, feats, decision, intent,
        offset, fix, t, text``) and the episode record.
    """
    if opts.labels == "deviations":
        from proassist.policies.learned.truth import run_truth_episode

        return run_truth_episode(spec, opts)
    env = _make_env(spec, opts)
    try:
        rows, driven = _oracle_rollout(env, spec, opts)
        name = "duplex-learned (DAgger driver)" if driven else "oracle"
        record = env.unwrapped.episode_record(policy=name)
    finally:
        env.close()
    record["collect"] = vars(spec) | {"n_samples": len(rows), "driver": driven}
    return _stack(rows, opts), record


def _oracle_rollout(env: Any, spec: EpisodeSpec, opts: CollectOptions) -> tuple[list, bool]:
    """One episode of ``env``, the oracle labelling every decision point (a driver, if
    any, acting): the kept ``(clip, feats, labels)`` rows and whether a driver acted."""
    from proassist.policies import make_policy
    from proassist.policies.rollout import env_info

    keep_rng = np.random.default_rng([spec.seed, 1])
    rows: list[tuple[np.ndarray, np.ndarray, dict[str, Any]]] = []
    obs, info = env.reset(seed=spec.seed)
    oracle = make_policy("oracle", **opts.oracle_kwargs)
    info_ep = env_info(env)
    oracle.reset(env_info=info_ep, seed=spec.seed)
    driver = _driver(spec, opts, info_ep)
    shadow = ShadowDuplex(
        info_ep, opts.clip_len, opts.frame_size, opts.planner_latency_s, opts.percepts
    )
    done = False
    while not done:
        label = oracle.act(obs, info)
        clip, feats = shadow.inputs(obs)
        decision, labels = oracle_labels(label, shadow.procedure, shadow.plan)
        if labels["decision"] == 1 or keep_rng.random() < opts.silent_keep:
            rows.append((clip, feats, labels | {"t": observation_time(obs)}))
        action = label if driver is None else driver.act(obs, None)  # as rollout: no info
        if driver is not None:
            decision = oracle_labels(action, shadow.procedure, shadow.plan)[0]
        shadow.commit(obs, decision)
        obs, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
    return rows, driver is not None


def _driver(spec: EpisodeSpec, opts: CollectOptions, info_ep: dict[str, Any]) -> Any:
    """The learned duplex that acts in this episode (DAgger), or None (the oracle acts)."""
    if opts.driver is None or np.random.default_rng([spec.seed, 2]).random() < opts.beta:
        return None
    from proassist.policies import make_policy

    policy = make_policy("duplex", interaction="learned", checkpoint=opts.driver)
    policy.reset(env_info=info_ep, seed=spec.seed)
    return policy


def _stack(rows: list, opts: CollectOptions) -> dict[str, Any]:
    shape = (0, opts.clip_len, opts.frame_size, opts.frame_size, 3)
    return {
        "clips": np.stack([r[0] for r in rows]) if rows else np.zeros(shape, np.uint8),
        "feats": [r[1] for r in rows],
        "labels": [r[2] for r in rows],
    }


def _jsonable(value: Any) -> Any:
    """JSON fallback for dataclasses in records (e.g. a profile's ``Duration``)."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _episode_job(args: tuple[EpisodeSpec, CollectOptions]) -> tuple[dict[str, Any], dict]:
    return run_episode(*args)


def _results(specs: list[EpisodeSpec], opts: CollectOptions, workers: int, progress: bool):
    """Yield ``(spec, samples, record)`` in spec order (a process pool when workers > 1)."""
    from tqdm.auto import tqdm

    jobs = [(s, opts) for s in specs]
    bar = tqdm(total=len(specs), desc="collect", unit="ep", disable=not progress)
    if workers <= 1:
        outputs: Any = map(_episode_job, jobs)
        pool = None
    else:
        import multiprocessing as mp

        pool = mp.get_context("fork").Pool(workers)
        outputs = pool.imap(_episode_job, jobs)
    try:
        for spec, (samples, record) in zip(specs, outputs, strict=True):
            bar.update(1)
            yield spec, samples, record
    finally:
        bar.close()
        if pool is not None:
            pool.close()
            pool.join()


def collect(
    out_dir: str | Path,
    episodes: int,
    seed: int = 0,
    domains: Sequence[str] | None = None,
    workers: int = 1,
    options: CollectOptions | None = None,
    rate_range: tuple[float, float] = (0.08, 0.25),
    progress: bool = True,
    tasks: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Collect a dataset of oracle rollouts (module docstring).

    Args:
        out_dir: Dataset directory (created).
        episodes: Number of episodes.
        seed: Seeds the episode specs (and through them everything else).
        domains: Domains to cycle through (default all three).
        workers: Parallel worker processes (episodes are written in order either way).
        options: Rendering and sampling options (:class:`CollectOptions`).
        rate_range: Per-episode deviation rate drawn uniformly from this range.
        progress: Show a progress bar.
        tasks: Only these tasks, in turn (a train split; :func:`episode_specs`).

    Returns:
        A summary: ``dir, episodes, n_samples, n_interrupts, n_deviations``.
    """
    from proassist.policies.learned.dataset import DatasetWriter

    opts = options or CollectOptions()
    specs = episode_specs(episodes, seed, domains, rate_range, tasks)
    out = Path(out_dir)
    meta = {"seed": seed, "episodes": episodes, "options": vars(opts) | {"extra_env": {}}}
    meta |= {
        "domains": list(dict.fromkeys(s.domain for s in specs)),
        "rate_range": list(rate_range),
    }
    meta["tasks"] = list(tasks) if tasks else None
    writer = DatasetWriter(out, opts.clip_len, opts.frame_size, meta=meta, percepts=opts.percepts)
    records, n_int = [], 0
    for spec, samples, record in _results(specs, opts, workers, progress):
        for clip, feats, labels in zip(*samples.values(), strict=True):
            writer.add(clip, feats, labels | {"episode": spec.index})
            n_int += int(labels["decision"])
        records.append(record)
    writer.close()
    with open(out / "episodes.jsonl", "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, default=_jsonable) + "\n")
    n_dev = sum(e.get("type") == "deviation" for r in records for e in r["events"])
    total = sum(r["collect"]["n_samples"] for r in records)
    return {"dir": str(out), "episodes": len(records), "n_samples": total} | {
        "n_interrupts": n_int,
        "n_deviations": int(n_dev),
    }
