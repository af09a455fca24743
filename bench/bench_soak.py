"""Soak: many short episodes in ONE process, with the resident memory sampled as it goes.

Each episode is one sweep unit (:func:`proassist.analysis.sweeps.units.episode_unit`:
build the policy and the env, roll out, score, return the record), with the env id
cycling over the three domains (every task of the library gets loaded), random
deviations at high rates, a ``max_duration`` of 20 s and no rendering. RSS (from
``/proc/self/statm``, else ``resource``'s peak) is sampled every ``sample_every``
episodes; the growth is reported as the least-squares slope after the first sample
(warm-up: imports, caches filled once), in MiB per 1,000 episodes. Goal: flat.

Run it alone: ``python -m bench soak`` (10,000 episodes; ``--quick``: 1,000).
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any

ENV_IDS = ("ProAssist-Kitchen-v0", "ProAssist-Assembly-v0", "ProAssist-Maintenance-v0")
#: High random-deviation rates, so most short episodes have deviations to track.
DEVIATION_RATES = {
    "omission": 0.2,
    "order": 0.15,
    "substitution": 0.2,
    "placement": 0.15,
    "setting": 0.15,
    "safety": 0.2,
    "distraction": 0.1,
    "hesitation": 0.1,
}
#: The slope goal: below this many MiB per 1,000 episodes counts as flat.
FLAT_MIB_PER_1000 = 1.0
_MIB = 1024.0 * 1024.0


def rss_mib() -> float:
    """The process's resident set size now, in MiB (peak RSS where /proc is missing)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / _MIB
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / _MIB if sys.platform == "darwin" else peak / 1024.0


@dataclass
class SoakResult:
    """What :func:`soak` measured.

    Attributes:
        episodes: Episodes run.
        samples: ``(episodes done, RSS MiB)`` pairs, the first at 0 episodes.
        seconds: Wall seconds of the whole soak.
        steps: Env steps (decision points) over all episodes.
        deviations: Deviation events over all episodes.
    """

    episodes: int
    samples: list[tuple[int, float]] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0
    deviations: int = 0

    @property
    def growth_mib(self) -> float:
        """RSS at the end minus RSS at the first sample after warm-up (MiB)."""
        return self.samples[-1][1] - self.samples[min(1, len(self.samples) - 1)][1]

    @property
    def slope_mib_per_1000(self) -> float:
        """Least-squares RSS slope after warm-up, in MiB per 1,000 episodes."""
        pts = self.samples[1:] if len(self.samples) > 2 else self.samples
        if len(pts) < 2:
            return 0.0
        xs = [float(n) for n, _ in pts]
        ys = [m for _, m in pts]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
        return sxy / sxx * 1000.0 if sxx else 0.0


def soak_unit(index: int, policy: str = "periodic", max_duration: float = 20.0) -> dict[str, Any]:
    """The sweep unit of soak episode ``index`` (seed = index, env cycles the domains)."""
    return {
        "env_id": ENV_IDS[index % len(ENV_IDS)],
        "seed": index,
        "policy": policy,
        "policy_kwargs": {"period": 4.0} if policy == "periodic" else {},
        "env_kwargs": {
            "deviation_rates": dict(DEVIATION_RATES),
            "max_duration": float(max_duration),
            "render": False,
        },
    }


def soak(
    n_episodes: int,
    sample_every: int = 500,
    policy: str = "periodic",
    max_duration: float = 20.0,
) -> SoakResult:
    """Run ``n_episodes`` sweep units in this process, sampling RSS every ``sample_every``.

    Args:
        n_episodes: Episodes to run (>= 1).
        sample_every: Episodes between RSS samples (>= 1).
        policy: A cheap policy that needs no pixels (``periodic``, ``random``, ``silent``).
        max_duration: Simulated seconds per episode.

    Raises:
        ValueError: On ``n_episodes`` or ``sample_every`` < 1.
    """
    if n_episodes < 1 or sample_every < 1:
        raise ValueError(
            f"need n_episodes >= 1 and sample_every >= 1, got {n_episodes}, {sample_every}"
        )
    from proassist.analysis.sweeps.units import episode_unit

    result = SoakResult(n_episodes)
    gc.collect()
    result.samples.append((0, rss_mib()))
    t0 = time.perf_counter()
    for i in range(n_episodes):
        record = episode_unit(soak_unit(i, policy, max_duration))["episode"]
        result.steps += len(record["decisions"])
        result.deviations += sum(e.get("type") == "deviation" for e in record["events"])
        if (i + 1) % sample_every == 0 or i + 1 == n_episodes:
            gc.collect()
            result.samples.append((i + 1, rss_mib()))
    result.seconds = time.perf_counter() - t0
    return result


def _rows(res: SoakResult) -> list[dict]:
    start, end = res.samples[0][1], res.samples[-1][1]
    warm = res.samples[min(1, len(res.samples) - 1)]
    return [
        {
            "name": f"soak {res.episodes} episodes (20 s, no render), 1 process",
            "value": f"{res.seconds:.1f} s ({res.seconds / res.episodes * 1000:.1f} ms/episode)",
            "reference": f"{res.steps} steps, {res.deviations} deviations",
        },
        {
            "name": "soak RSS start -> end",
            "value": f"{start:.1f} -> {end:.1f} MiB",
            "reference": f"{warm[1]:.1f} MiB after {warm[0]} episodes (warm-up)",
            "ratio": f"{res.growth_mib:+.1f} MiB after warm-up",
        },
        {
            "name": "soak RSS slope after warm-up",
            "value": f"{res.slope_mib_per_1000:+.2f} MiB / 1000 episodes",
            "reference": " ".join(f"{n}:{m:.0f}" for n, m in res.samples),
            "goal": f"< {FLAT_MIB_PER_1000:g} (flat)",
        },
    ]


def run(quick: bool = False) -> list[dict]:
    """The soak bench: 10,000 episodes (1,000 when ``quick``), RSS every 500 (100)."""
    res = soak(1000, 100) if quick else soak(10_000, 500)
    return _rows(res)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    for row in run(quick=n <= 1000) if n in (1000, 10_000) else _rows(soak(n, max(n // 20, 1))):
        print(row)
