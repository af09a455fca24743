"""Evaluation runs: roll a policy out on seeds, return episode records and scores.

``evaluate`` is the one entry point users call; ``run_episode`` is the unit of work
that sweeps distribute (config + seed in, episode record out). Both read the env only
through Gymnasium; the scores are computed afterwards from the records alone.
``env_info`` and ``rollout`` live in :mod:`proassist.policies.rollout` (re-exported).

``evaluate(..., concurrency=N)`` runs N episodes at once on threads, each with its own
env and its own copy of the policy (``copy.deepcopy``): meant for policies that wait
on a model server (I/O bound), e.g. ``openai-compatible``. Records come back in seed
order and, for a policy whose decisions depend only on its inputs, equal the
sequential run's (apart from wall-clock fields such as ``model_outputs[].latency_s``).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from proassist.policies.rollout import env_info, policy_name, rollout

__all__ = [
    "Evaluation",
    "env_info",
    "evaluate",
    "needs_pixels",
    "render_choice",
    "rollout",
    "run_episode",
]


@dataclass
class Evaluation:
    """What :func:`evaluate` returns: unpack as ``records, scores = evaluate(...)``.

    Attributes:
        records: The policy's episode records.
        scores: The flat scores dict.
        silent_records: The silent assistant's records on the same seeds (the paired
            run behind ``assistance_effect_*``; empty without ``paired_silent``).
        stats: The records' episode statistics the scores were made of,
            :func:`~proassist.analysis.metrics.scores.stats_matrix`'s ``(keys, matrix)``
            (a row per record, in order); None when not computed.
    """

    records: list[dict[str, Any]]
    scores: dict[str, Any]
    silent_records: list[dict[str, Any]] = field(default_factory=list)
    stats: tuple[list[str], np.ndarray] | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.records, self.scores))


_policy_name = policy_name


def needs_pixels(policy: Any) -> bool:
    """Whether ``policy`` reads rendered frames.

    Its ``needs_pixels`` attribute; ``True`` when it does not say, since an undeclared
    policy may read ``rgb`` (and would get blank frames otherwise).
    """
    return bool(getattr(policy, "needs_pixels", True))


def render_choice(policy: Any, env_kwargs: Mapping[str, Any]) -> bool:
    """Whether the env renders pixels for ``policy``.

    ``render`` when the caller gave it, else :func:`needs_pixels`: a policy that never
    looks at pixels runs without a pybullet scene (its frames are zeros). Episode
    records carry the choice as ``record["render"]``.
    """
    if "render" in env_kwargs:
        return bool(env_kwargs["render"])
    return needs_pixels(policy)


def _make_env(env_id: str, policy: Any, env_kwargs: Mapping[str, Any]) -> Any:
    import gymnasium as gym

    import proassist.envs  # noqa: F401  (registers the ids)

    kwargs = dict(env_kwargs)
    if getattr(policy, "privileged", False):
        kwargs["privileged"] = True
    kwargs["render"] = render_choice(policy, env_kwargs)
    if getattr(policy, "obs_modes", None):
        kwargs.setdefault("obs_modes", tuple(policy.obs_modes))
    return gym.make(env_id, **kwargs)


def run_episode(
    policy_name: str,
    policy_kwargs: Mapping[str, Any] | None,
    env_id: str,
    seed: int,
    env_kwargs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One unit of work: build the policy and env, run one seed, return the record."""
    from proassist.policies import make_policy

    policy = make_policy(policy_name, **dict(policy_kwargs or {}))
    env = _make_env(env_id, policy, env_kwargs or {})
    try:
        record = rollout(env, policy, seed)
    finally:
        env.close()
    record["policy"] = policy_name
    record["policy_kwargs"] = dict(policy_kwargs or {})
    record["render"] = bool(env.unwrapped.render_pixels)
    return record


def _episode(env: Any, policy: Any, seed: int, name: str) -> dict[str, Any]:
    record = rollout(env, policy, seed)
    record["policy"] = name
    record["render"] = bool(env.unwrapped.render_pixels)
    return record


def _run_many(
    policy: Any,
    env_id: str,
    seeds: list[int],
    env_kwargs: Mapping[str, Any],
    progress: bool,
    name: str | None = None,
    concurrency: int = 1,
) -> list[dict[str, Any]]:
    name = name or _policy_name(policy)
    bar = _progress(len(seeds), name, progress)
    workers = max(1, min(int(concurrency), len(seeds)))
    if workers > 1:
        records = _run_threads(policy, env_id, seeds, env_kwargs, name, workers, bar.update)
    else:
        env = _make_env(env_id, policy, env_kwargs)
        try:
            records = []
            for seed in seeds:
                records.append(_episode(env, policy, seed, name))
                bar.update(1)
        finally:
            env.close()
    bar.close()
    return records


def _copy(policy: Any) -> Any:
    """A copy of ``policy`` for another thread (``copy.deepcopy``).

    Raises:
        TypeError: Saying that ``concurrency`` needs a copyable policy.
    """
    try:
        return copy.deepcopy(policy)
    except (TypeError, AttributeError, RuntimeError) as err:
        raise TypeError(
            f"concurrency > 1 runs a copy of the policy per thread, but "
            f"{type(policy).__name__} cannot be copied ({err}); use concurrency=1"
        ) from err


def _run_threads(
    policy: Any,
    env_id: str,
    seeds: list[int],
    env_kwargs: Mapping[str, Any],
    name: str,
    workers: int,
    tick: Callable[[int], Any],
) -> list[dict[str, Any]]:
    """Run ``seeds`` on ``workers`` threads, each with its own env and policy copy.

    The records come back in seed order. The first error stops the other threads
    from starting new episodes and is raised once they have finished.
    """
    todo = list(enumerate(seeds))[::-1]
    records: list[dict[str, Any] | None] = [None] * len(seeds)
    lock, failed = threading.Lock(), threading.Event()

    def work(worker_policy: Any) -> None:
        env = _make_env(env_id, worker_policy, env_kwargs)
        try:
            while not failed.is_set():
                with lock:
                    if not todo:
                        return
                    index, seed = todo.pop()
                records[index] = _episode(env, worker_policy, seed, name)
                with lock:
                    tick(1)
        except BaseException:
            failed.set()
            raise
        finally:
            env.close()

    replicas = [policy] + [_copy(policy) for _ in range(workers - 1)]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="episode") as pool:
        futures = [pool.submit(work, p) for p in replicas]
    for future in futures:
        future.result()
    return [r for r in records if r is not None]


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="ep", disable=not enabled, leave=False)


def evaluate(
    policy: Any,
    env_id: str,
    seeds: Iterable[int],
    *,
    paired_silent: bool = True,
    progress: bool = False,
    policy_kwargs: Mapping[str, Any] | None = None,
    concurrency: int = 1,
    **env_kwargs: Any,
) -> Evaluation:
    """Evaluate ``policy`` on ``env_id`` for each seed.

    Args:
        policy: A policy object or a registered policy name.
        env_id: A ``ProAssist-*`` id.
        seeds: Episode seeds; seed i gives the same person and deviations for every
            policy, which is what makes the paired assistance effect meaningful.
        paired_silent: Also run the ``silent`` assistant on the same seeds and add the
            ``assistance_effect_*`` scores (mean paired difference with 95% CI).
        progress: Show a progress bar.
        policy_kwargs: Constructor arguments when ``policy`` is a name.
        concurrency: Episodes run at once, on threads (module docstring); the paired
            silent run stays sequential.
        **env_kwargs: Passed to ``gym.make``. Without ``render``, pixels are rendered
            only for a policy that needs them (:func:`render_choice`; each record's
            ``render`` says which); the paired silent run never renders.

    Returns:
        ``Evaluation(records, scores, silent_records, stats)``; with a served model the
        scores add :func:`model_server_scores`.

    Raises:
        ValueError: When ``concurrency < 1``.
    """
    from proassist.analysis.metrics.scores import score_episodes, stats_matrix
    from proassist.analysis.metrics.stats import assistance_effect
    from proassist.analysis.metrics.text_similarity import text_backend
    from proassist.policies import make_policy

    text_backend()  # a forced, missing free-text scorer fails before the rollouts
    if int(concurrency) < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    name = None
    if isinstance(policy, str):
        name, policy = policy, make_policy(policy, **dict(policy_kwargs or {}))
    seeds = [int(s) for s in seeds]
    records = _run_many(policy, env_id, seeds, env_kwargs, progress, name, concurrency)
    for record in records:
        record["policy_kwargs"] = dict(policy_kwargs or {})
    stats = stats_matrix(records) if records else None
    scores = dict(score_episodes(records, stats=stats)) | model_server_scores(records)
    silent: list[dict[str, Any]] = []
    if paired_silent:
        silent_kwargs = {**env_kwargs, "render": False}
        silent = _run_many(make_policy("silent"), env_id, seeds, silent_kwargs, progress, "silent")
        scores.update(assistance_effect(records, silent))
    scores["n_episodes"] = len(records)
    return Evaluation(records, _plain(scores), silent, stats)


def model_server_scores(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """What the requests to a model server cost (empty when the records have none).

    Counted over the ``model_outputs`` entries with a ``latency_s`` (served
    components, :mod:`proassist.policies.remote`): ``model_requests``,
    ``model_request_errors`` (failed after their retries, or timed out: decided
    silent), ``model_latency_mean_s`` and ``model_latency_p95_s`` (wall clock, retries
    included) and, from the records' ``model_server``, ``model_latency_mode``
    (``"paused"``, ``"charged"`` or the seconds charged per request).
    """
    records = list(records)
    calls = [o for r in records for o in r.get("model_outputs") or [] if "latency_s" in o]
    if not calls:
        return {}
    latencies = np.asarray([float(o["latency_s"]) for o in calls])
    out: dict[str, Any] = {
        "model_requests": float(len(calls)),
        "model_request_errors": float(sum(o.get("error") is not None for o in calls)),
        "model_latency_mean_s": float(latencies.mean()),
        "model_latency_p95_s": float(np.percentile(latencies, 95)),
    }
    modes = {str((r.get("model_server") or {}).get("latency")) for r in records}
    modes.discard("None")
    if len(modes) == 1:
        mode = modes.pop()
        out["model_latency_mode"] = mode if mode in ("paused", "charged") else float(mode)
    return out


def _plain(scores: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in scores.items():
        if isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out
