"""Deviation labels from the ground truth: data for a learned deviation detector.

``proassist collect --labels deviations`` (:class:`~proassist.policies.learned.collect.
CollectOptions` ``labels="deviations"``) does not imitate the oracle's messages. The
non-privileged duplex assistant acts, with the tracked plan (``plan_mode="tracked"``)
and, as its interaction model, a :class:`FeatureRecorder`: it computes at every
decision point exactly the inputs the learned interaction model computes there
(clip, plan features, percepts, from the plan and dialogue the duplex holds), then
lets an inner model decide: none (the assistant stays silent, round 0), or a trained
model (``driver``: DAgger, the model acts on the states it reaches). Each decision
point is labelled from the privileged ``info["active_deviations"]``
(:func:`deviation_labels`):

* **interrupt** while a visible deviation is ``active`` (onset passed, not resolved,
  the person not yet putting it right) and one of its steps (the affected step or a
  recovery step or a related step, ``addressable_steps``) is within ``MAX_OFFSET`` of the plan's current step, counting the
  completed steps too (offset base ``"history"``: a repeated step, or a skipped step
  the tracked plan took for done, is named by a negative offset): intent the
  kind's gold intent (:data:`~proassist.sim.gold.DEVIATION_INTENTS`: ``warn`` for
  safety, ``re_engage`` for distraction and hesitation, else ``correct_deviation``),
  step offset to that step; the latest onset first when several are active;
* **silent** otherwise (no open deviation, one already being recovered, or one whose
  step the plan cannot name).

``label_horizon_s`` (``collect --label-horizon S``) keeps only the first S seconds of
each active span (later points are not samples).

Every decision point of the deviation's active span is a positive, not only its onset:
the model learns *is something wrong now, and with which step*, which the camera shows
for seconds after the onset. A correction that is a few seconds late still rescues the
episode (``oracle-late`` rows of ``proassist sanity``); the model's ``min_gap_s`` keeps
it from repeating itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from proassist.policies.base import observation_time
from proassist.policies.duplex.components import SILENT, Decision, DialogueTurn, utterance_for
from proassist.policies.duplex.plan_format import Plan

__all__ = ["FeatureRecorder", "deviation_labels", "named_offset"]


class FeatureRecorder:
    """An interaction model that records the learned model's inputs, then delegates.

    Args:
        inner: The interaction model that decides (``None``: always silent).
        clip_len: Frames per clip.
        frame_size: Model frame side.
        percepts: Append the percept features to the plan features.
    """

    def __init__(
        self, inner: Any | None, clip_len: int, frame_size: int, percepts: bool = True
    ) -> None:
        from proassist.policies.learned.features import InputTracker

        self.inner = inner
        self.clip_len, self.frame_size, self.use_percepts = clip_len, frame_size, percepts
        self.inputs = InputTracker({}, percepts)
        modes = set(getattr(inner, "obs_modes", ("rgb",))) | {"rgb"}
        self.obs_modes = tuple(m for m in ("rgb", "segmentation") if m in modes or percepts)
        #: ``(clip, feats, plan)`` of the last decision point.
        self.last: tuple[np.ndarray, np.ndarray, Plan | None] | None = None

    def reset(self, env_info: dict[str, Any]) -> None:
        """Start an episode (and the inner model's)."""
        from proassist.policies.learned.features import InputTracker

        self.inputs = InputTracker(env_info, self.use_percepts)
        self.last = None
        if self.inner is not None:
            self.inner.reset(env_info)

    def decide(
        self,
        obs_history: Sequence[dict[str, Any]],
        plan: Plan | None,
        dialogue: Sequence[DialogueTurn],
    ) -> Decision:
        """Record the inputs at this decision point; the inner model's decision."""
        from proassist.policies.learned.features import clip_from_frames

        feats = self.inputs.update(obs_history[-1], plan, dialogue)[1]
        frames = [np.asarray(o["rgb"]) for o in list(obs_history)[-self.clip_len :]]
        self.last = (clip_from_frames(frames, self.clip_len, self.frame_size), feats, plan)
        if self.inner is None:
            return SILENT
        return self.inner.decide(obs_history, plan, dialogue)


def named_offset(plan: Plan | None, steps: Sequence[str], base: str = "history") -> int:
    """The offset label (position minus the current position, plus ``MAX_OFFSET``,
    counted over :func:`~proassist.policies.learned.features.offset_steps` of ``base``)
    of the step nearest the current one whose id is in ``steps``, within
    ``MAX_OFFSET``; -1 when there is none."""
    from proassist.policies.learned.features import MAX_OFFSET, offset_steps

    listed, current = offset_steps(plan, base)
    if current is None:
        return -1
    wanted = set(steps)
    found = [i for i, s in enumerate(listed) if s.id in wanted]
    near = sorted((abs(i - current), i) for i in found if abs(i - current) <= MAX_OFFSET)
    return -1 if not near else near[0][1] - current + MAX_OFFSET


def deviation_labels(
    active: Sequence[dict[str, Any]],
    plan: Plan | None,
    now: float = 0.0,
    horizon: float | None = None,
) -> dict[str, Any]:
    """The sample labels of one decision point (module docstring) from
    ``info["active_deviations"]`` and the plan the model saw.

    With ``horizon``, a point more than ``horizon`` seconds after the onset of every
    active deviation is not a sample (``{"skip": True}``): neither a positive (where
    the plan has drifted from the deviation, its step is ambiguous) nor a negative
    (the deviation is still there)."""
    from proassist.policies.learned.collect import FIX_INTENTS
    from proassist.sim.deviations.base import addressable_steps
    from proassist.sim.gold import DEVIATION_INTENTS
    from proassist.sim.messages import INTENTS

    live = [d for d in active if d.get("status") == "active" and d.get("visible", True)]
    if horizon is not None and live:
        live = [d for d in live if now - float(d.get("onset", d.get("t", 0.0))) <= horizon]
        if not live:
            return {"decision": 0, "skip": True}
    for dev in sorted(live, key=lambda d: -float(d.get("onset", d.get("t", 0.0)))):
        offset = named_offset(plan, sorted(addressable_steps(dev)))
        if offset < 0:
            continue
        intent = DEVIATION_INTENTS.get(str(dev.get("kind")), "correct_deviation")
        text = str((dev.get("recovery_steps") or [{}])[0].get("instruction", ""))
        labels = {"decision": 1, "intent": INTENTS.index(intent), "offset": offset}
        return labels | {"fix": int(intent in FIX_INTENTS), "text": utterance_for(intent, text)}
    return {"decision": 0}


def truth_duplex(opts: Any, seed: int) -> Any:
    """The acting duplex of a ``labels="deviations"`` episode: tracked plan, and a
    :class:`FeatureRecorder` around the driver's learned model (none: silent)."""
    from proassist.policies import make_policy

    kwargs: dict[str, Any] = {"plan_mode": "tracked", "planner_latency": opts.planner_latency_s}
    driven = opts.driver is not None and np.random.default_rng([seed, 2]).random() >= opts.beta
    if driven:
        kwargs |= {"interaction": "learned", "checkpoint": opts.driver}
    policy = make_policy("duplex", **kwargs)
    inner = policy.interaction if driven else None
    policy.interaction = FeatureRecorder(inner, opts.clip_len, opts.frame_size, opts.percepts)
    return policy


def run_truth_episode(spec: Any, opts: Any) -> tuple[dict[str, Any], dict]:
    """Roll out :func:`truth_duplex` for one spec, labelling every decision point from
    the ground truth; returns ``(samples, record)`` as
    :func:`~proassist.policies.learned.collect.run_episode` does."""
    from proassist.policies.learned.collect import _make_env, _stack
    from proassist.policies.rollout import env_info

    env = _make_env(spec, opts)
    keep_rng = np.random.default_rng([spec.seed, 1])
    rows: list[tuple[np.ndarray, np.ndarray, dict[str, Any]]] = []
    try:
        obs, info = env.reset(seed=spec.seed)
        policy = truth_duplex(opts, spec.seed)
        policy.reset(env_info=env_info(env), seed=spec.seed)
        done = False
        while not done:
            action = policy.act(obs, None)  # as rollout: no info (the env is privileged)
            clip, feats, plan = policy.interaction.last
            now, active = observation_time(obs), info.get("active_deviations") or []
            labels = deviation_labels(active, plan, now, opts.label_horizon_s)
            keep = labels["decision"] == 1 or keep_rng.random() < opts.silent_keep
            if keep and not labels.get("skip"):
                rows.append((clip, feats, labels | {"t": now}))
            obs, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
        record = env.unwrapped.episode_record(policy="duplex (deviation labels)")
        record |= policy.episode_extras()
    finally:
        env.close()
    driver = policy.interaction.inner is not None
    record["collect"] = vars(spec) | {"n_samples": len(rows), "driver": driver}
    return _stack(rows, opts), record
