"""Learned duplex decision latency: torch's default thread count vs ProAssist's.

Builds the ``duplex`` policy with ``interaction="learned"`` and the committed
checkpoint twice in the same process: once left at torch's default intra-op thread
count (what a decision cost before inference chose its threads; the count torch has
when the benchmark starts, one per core unless ``OMP_NUM_THREADS`` says otherwise),
once with the count :func:`proassist.policies.learned.threads.apply_inference_threads`
sets. Each runs the same kitchen and assembly episodes (128x128 rgb) in closed loop
and times every ``policy.act`` and ``policy.act`` + ``env.step``; the two settings
alternate episode by episode so that drift in machine load hits both. It runs twice:
on the machine as found, then with one extra process keeping a core busy (what an
eval's other jobs, sweep workers or ``pytest -n`` do to a shared machine: OpenMP
workers that wait on a descheduled thread). The ratio is default / chosen median.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from bench.bench_policy import ENVS


def _episode_latencies(policy: Any, env_id: str, task: str, seed: int, limit: int) -> list:
    """(policy.act seconds, act + env.step seconds) of each decision of one episode."""
    import gymnasium as gym

    import proassist.envs  # noqa: F401
    from proassist.analysis.evaluation import env_info

    env = gym.make(env_id, task=task)
    try:
        obs, _ = env.reset(seed=seed)
        policy.reset(env_info=env_info(env), seed=seed)
        out: list[tuple[float, float]] = []
        done = False
        while not done and len(out) < limit:
            t0 = time.perf_counter()
            action = policy.act(obs)
            t1 = time.perf_counter()
            obs, _, terminated, truncated, _ = env.step(action)
            out.append((t1 - t0, time.perf_counter() - t0))
            done = terminated or truncated
    finally:
        env.close()
    return out


def _policy(threads: int) -> Any:
    """The learned duplex, with torch set to ``threads`` intra-op threads."""
    import torch

    from proassist.policies import make_policy
    from proassist.policies.learned.assets import default_checkpoint

    ckpt = default_checkpoint()
    if ckpt is None:
        raise FileNotFoundError("no committed checkpoint in policies/checkpoints (proassist train)")
    policy = make_policy("duplex", interaction="learned", checkpoint=str(ckpt))
    torch.set_num_threads(threads)
    return policy


def _latencies(settings: dict[str, int], episodes: int, limit: int) -> dict[str, np.ndarray]:
    """(act, act + step) seconds per decision for each named thread count."""
    import torch

    out: dict[str, list] = {name: [] for name in settings}
    policies = {name: _policy(n) for name, n in settings.items()}
    for name, policy in policies.items():  # warm-up
        torch.set_num_threads(settings[name])
        _episode_latencies(policy, *ENVS[0], seed=0, limit=10)
    for episode in range(episodes):
        env_id, task = ENVS[episode % len(ENVS)]
        for name, policy in policies.items():
            torch.set_num_threads(settings[name])
            out[name].extend(_episode_latencies(policy, env_id, task, episode, limit))
    return {name: np.asarray(v) * 1000.0 for name, v in out.items()}


def _spin(stop: Any) -> None:
    """Keep one core busy until ``stop`` is set (another job sharing the machine)."""
    while not stop.is_set():
        for _ in range(100_000):
            pass


@contextmanager
def _busy_cores(n: int) -> Iterator[None]:
    """Run ``n`` busy processes for the duration of the block."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    procs = [ctx.Process(target=_spin, args=(stop,), daemon=True) for _ in range(n)]
    for proc in procs:
        proc.start()
    try:
        yield
    finally:
        stop.set()
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()


def _rows(load: str, settings: dict[str, int], lat: dict[str, np.ndarray]) -> list[dict]:
    """Median and p95 of act and act+step per setting; ratios against torch's default."""
    (base_name, base), rows = next(iter(lat.items())), []
    for name, ms in lat.items():
        for col, what in enumerate(("policy.act", "policy.act + env.step")):
            median, base_median = float(np.median(ms[:, col])), float(np.median(base[:, col]))
            other = name != base_name
            rows.append(
                {
                    "name": f"{what}, {load}, {name} ({settings[name]} threads, {len(ms)} dec.)",
                    "value": f"median {median:.2f} ms, p95 {np.percentile(ms[:, col], 95):.2f} ms",
                    "reference": f"{base_name}: median {base_median:.2f} ms" if other else "",
                    "ratio": f"{base_median / median:.2f}x faster" if other else "",
                    "goal": "",
                }
            )
    return rows


def run(quick: bool = False) -> list[dict]:
    """Measure both thread settings, as found and with a core busy (module docstring)."""
    import torch

    from proassist.policies.learned.threads import apply_inference_threads

    default, rows = torch.get_num_threads(), []
    try:
        settings = {"torch default": default, "proassist": apply_inference_threads()}
        for busy in (0, 1):
            with _busy_cores(busy):
                lat = _latencies(settings, episodes=2, limit=40 if quick else 150)
            rows += _rows(f"+{busy} busy core" if busy else "as found", settings, lat)
    finally:
        torch.set_num_threads(default)
    return rows
