"""Replay a recorded episode exactly (app layer), e.g. to record it as an MP4.

A replay rebuilds the env from the record (``env_id``, ``seed`` and every recorded
``env_kwargs`` entry, :func:`replay_kwargs`) and feeds it the record's ``decisions`` as
the assistant's actions (:func:`decision_action`); the policy is not run again, so what
it saw (``obs_modes`` such as segmentation, a model's randomness) cannot make the
replay diverge. The regenerated event log and decisions are then compared with the
stored ones: :class:`ReplayError` says where they first differ (or why the episode
cannot be rebuilt) and no video is kept. ``proassist plot --video`` uses
:func:`render_video`; plots and metrics stay pure functions of records, so replaying
(which runs the env) lives here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "NOT_REPLAYED",
    "ReplayError",
    "compare_replay",
    "decision_action",
    "render_video",
    "replay_episode",
    "replay_kwargs",
]

#: Recorded ``env_kwargs`` a replay does not pass on: the replay renders its own RGB
#: frames (``render``, ``render_mode``, ``egl``), and ``privileged`` changes only what
#: a policy is shown, never the episode; ``tasks`` becomes ``task``.
NOT_REPLAYED: frozenset[str] = frozenset(
    {"render", "render_mode", "egl", "renderer", "privileged", "tasks"}
)


class ReplayError(ValueError):
    """The recorded episode cannot be reproduced; the message says why (one line)."""


def replay_kwargs(record: Mapping[str, Any]) -> dict[str, Any]:
    """The ``gym.make`` keyword arguments that rebuild a record's env.

    Every recorded env argument is passed again as recorded (``None`` included: it can
    differ from the default, e.g. ``max_random_deviations``), except
    :data:`NOT_REPLAYED`; a single recorded task becomes ``task``.
    """
    from proassist.envs.arguments import ENV_ARGUMENTS

    kw = record.get("env_kwargs") or {}
    out = {k: v for k, v in kw.items() if k in ENV_ARGUMENTS and k not in NOT_REPLAYED}
    tasks = kw.get("tasks") or []
    if len(tasks) == 1:
        out["task"] = tasks[0]
    return out


def _step_index(decision: Mapping[str, Any], plan_ids: Sequence[str]) -> int:
    from proassist.envs.spaces import NO_STEP

    if decision.get("step_index") is not None:
        return int(decision["step_index"])
    step = decision.get("step")
    if step is None:
        return NO_STEP
    if step not in plan_ids:
        raise ReplayError(f"decision at t={decision.get('t')} names step {step!r}, not in the plan")
    return list(plan_ids).index(step)


def decision_action(decision: Mapping[str, Any], plan_ids: Sequence[str]) -> dict[str, Any]:
    """The env action that produced a recorded decision (CONTRACTS.md §5).

    Args:
        decision: One entry of a record's ``decisions``.
        plan_ids: The episode's plan step ids (to index a step recorded by id).

    Raises:
        ReplayError: An unknown intent or step.
    """
    from proassist.envs.spaces import NO_STEP
    from proassist.sim.messages import INTENTS

    if not decision.get("decision"):
        return {"decision": 0, "intent": 0, "step": NO_STEP, "text": ""}
    intent = decision.get("intent")
    if intent is not None and intent not in INTENTS:
        raise ReplayError(f"decision at t={decision.get('t')} has unknown intent {intent!r}")
    return {
        "decision": 1,
        "intent": 0 if intent is None else INTENTS.index(intent),
        "step": _step_index(decision, plan_ids),
        "text": str(decision.get("text") or ""),
    }


def _check_record(record: Mapping[str, Any]) -> None:
    missing = [k for k in ("env_id", "seed", "events", "decisions") if record.get(k) is None]
    if missing:
        raise ReplayError(f"cannot replay: the episode record lacks {', '.join(missing)}")
    if not record["decisions"]:
        raise ReplayError("cannot replay: the episode record has no decisions")


def _make_env(record: Mapping[str, Any], render: bool) -> Any:
    import gymnasium as gym

    import proassist.envs  # noqa: F401  (registers the ids)

    mode = "rgb_array" if render else None
    try:
        return gym.make(
            str(record["env_id"]), render_mode=mode, render=render, **replay_kwargs(record)
        )
    except (ValueError, TypeError, KeyError, gym.error.Error) as exc:
        why = " ".join(str(exc).split())
        raise ReplayError(f"cannot rebuild the recorded env {record['env_id']}: {why}") from exc


def _run_decisions(env: Any, record: Mapping[str, Any]) -> dict[str, Any]:
    """Reset from the record's seed and step through its decisions; the new record."""
    env.reset(seed=int(record["seed"]))
    u = env.unwrapped
    tasks = (record.get("env_kwargs") or {}).get("tasks")
    if u.scenario.name != record.get("task") or (tasks and list(tasks) != list(u.tasks)):
        raise ReplayError(
            f"cannot replay: the env now draws task {u.scenario.name!r} from {u.tasks} "
            f"where the record has {record.get('task')!r} from {tasks}"
        )
    plan_ids = [s["id"] for s in u.plan]
    decisions = record["decisions"]
    for k, decision in enumerate(decisions):
        if u.simulation.done:
            raise ReplayError(
                f"the replayed episode ended at t={u.simulation.time:g} s after {k} of the "
                f"record's {len(decisions)} decisions"
            )
        env.step(decision_action(decision, plan_ids))
    if not u.simulation.done:
        raise ReplayError(
            f"the record's {len(decisions)} decisions end at t={u.simulation.time:g} s "
            "but the replayed episode goes on"
        )
    return u.episode_record(policy=str(record.get("policy") or ""))


def _canonical(items: Sequence[Any]) -> list[str]:
    return [json.dumps(x, sort_keys=True, default=str) for x in items]


def _first_difference(name: str, stored: Sequence[Any], replayed: Sequence[Any]) -> str | None:
    a, b = _canonical(stored), _canonical(replayed)
    if a == b:
        return None
    k = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))

    def show(items: Sequence[Any]) -> str:
        if k >= len(items):
            return "nothing"
        item = items[k]
        return f"{item.get('type', 'decision')} at t={item.get('t')}"

    return (
        f"{name} {k} differs: recorded {show(stored)}, replayed {show(replayed)} "
        f"({len(stored)} recorded, {len(replayed)} replayed)"
    )


def compare_replay(record: Mapping[str, Any], replayed: Mapping[str, Any]) -> None:
    """Raise :class:`ReplayError` unless ``replayed`` has ``record``'s events and decisions."""
    from proassist.sim.person.language import backend

    for name, key in (("event", "events"), ("decision", "decisions")):
        why = _first_difference(name, record.get(key) or [], replayed.get(key) or [])
        if why is None:
            continue
        hint = ""
        recorded_lang = record.get("person_language")
        if recorded_lang and recorded_lang != backend():
            hint = f"; the person understood text with {recorded_lang!r}, here {backend()!r}"
        raise ReplayError(f"the replay does not reproduce the recorded episode: {why}{hint}")


def replay_episode(record: Mapping[str, Any], video: str | Path | None = None) -> dict[str, Any]:
    """Re-run ``record``'s episode with its recorded decisions (module docstring).

    Args:
        record: An episode record (CONTRACTS.md §5).
        video: When given, the replay is also written there as an MP4
            (:class:`~proassist.envs.wrappers.VideoRecorder`).

    Returns:
        The regenerated episode record (its events and decisions equal ``record``'s).

    Raises:
        ReplayError: The record cannot be replayed or the replay differs from it.
    """
    _check_record(record)
    env = _make_env(record, render=video is not None)
    if video is not None:
        from proassist.envs.wrappers import VideoRecorder

        env = VideoRecorder(env, video)
    try:
        replayed = _run_decisions(env, record)
    finally:
        env.close()
    compare_replay(record, replayed)
    return replayed


def render_video(record: Mapping[str, Any], path: str | Path) -> Path:
    """Replay ``record``'s episode into the MP4 ``path`` (:func:`replay_episode`).

    The video is written to a temporary file next to ``path`` and moved there only when
    the replay reproduces the record, so ``path`` never holds another episode.

    Raises:
        ReplayError: The episode cannot be reproduced (``path`` is left untouched).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.replay{path.suffix or '.mp4'}")
    try:
        replay_episode(record, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
