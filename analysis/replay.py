"""Replay a recorded episode (app layer): the same env, seed and policy, recorded as MP4.

``proassist plot --video`` uses :func:`render_video`; plots and metrics stay pure
functions of records, so replaying (which runs the env and a policy) lives here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["REPLAY_KEYS", "render_video", "replay_kwargs", "replay_policy"]

#: ``env_kwargs`` of a record that are passed again to ``gym.make`` on replay.
REPLAY_KEYS: tuple[str, ...] = (
    "decision_dt",
    "deviation_rates",
    "deviation_kinds",
    "deviation_script",
    "person",
    "max_duration",
)


def replay_kwargs(record: Mapping[str, Any]) -> dict[str, Any]:
    """The ``gym.make`` keyword arguments that reproduce a record's episode."""
    kw = record.get("env_kwargs") or {}
    out = {k: kw[k] for k in REPLAY_KEYS if kw.get(k) is not None}
    tasks = kw.get("tasks") or []
    if len(tasks) == 1:
        out["task"] = tasks[0]
    return out


def replay_policy(record: Mapping[str, Any]) -> Any:
    """The record's policy, by registry name or, failing that, by class name."""
    from proassist.policies import list_policies, make_policy

    name = str(record.get("policy"))
    kwargs = dict(record.get("policy_kwargs") or {})
    if name in list_policies():
        return make_policy(name, **kwargs)
    for candidate in list_policies():
        try:
            policy = make_policy(candidate, **kwargs)
        except Exception:  # noqa: BLE001 - a candidate needing other arguments is skipped
            continue
        if type(policy).__name__ == name:
            return policy
    return make_policy(name, **kwargs)  # raises with "did you mean"


def render_video(record: Mapping[str, Any], path: str | Path) -> tuple[Path, bool]:
    """Replay ``record``'s episode with :class:`~proassist.envs.wrappers.VideoRecorder`.

    Returns:
        ``(path, identical)``: the MP4, and whether the replay's event log equals the
        record's (True for deterministic policies).

    Raises:
        ValueError: The record lacks ``env_id`` or ``seed``.
    """
    import gymnasium as gym

    import proassist.envs  # noqa: F401  (registers the ids)
    from proassist.analysis.evaluation import rollout
    from proassist.envs.wrappers import VideoRecorder

    if record.get("env_id") is None or record.get("seed") is None:
        raise ValueError("cannot replay: the episode record lacks 'env_id' or 'seed'")
    policy = replay_policy(record)
    env = gym.make(
        str(record["env_id"]),
        render_mode="rgb_array",
        privileged=bool(getattr(policy, "privileged", False)),
        **replay_kwargs(record),
    )
    path = Path(path)
    env = VideoRecorder(env, path)
    try:
        replay = rollout(env, policy, int(record["seed"]))
    finally:
        env.close()
    return path, replay["events"] == record.get("events")
