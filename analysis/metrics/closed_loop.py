"""Net assistance: the closed-loop headline of this testbed.

The same seed (same person, same latent deviations) is run with the assistant and with
the silent assistant, and the two episodes are compared pair by pair
(:func:`proassist.analysis.metrics.stats.pair_records`). Per pair ``i``, with task
success ``S`` (1/0), task time ``T`` (s) and the episode's time limit ``T_max``:

``net_i = (S_policy - S_silent) - λ · max(0, T_policy - T_silent) / T_max``

**net assistance** is the mean of ``net_i`` over pairs (bootstrap 95 % CI over pairs),
with ``λ = 1`` (:data:`NET_TIME_WEIGHT`): every second the assistant cost the person
counts against the success it gained, as a fraction of the time limit (a message that
costs the whole time limit cancels a rescued episode). Time saved is not credited
(``max(0, ·)``): an episode that ends early because it failed must not look better, and
what saving time buys (fewer time-outs) is already in the success term. Range
``[-1 - λ, 1]``; the silent assistant scores exactly 0.

``T_max``: the record's ``max_duration``, else ``env_kwargs["max_duration"]``, else the
task's ``max_duration`` (:func:`proassist.scenarios.loader.load_scenario`), else
:data:`DEFAULT_TIME_LIMIT` (the scenario default, 600 s).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from proassist.analysis.metrics.content import episode_minutes
from proassist.analysis.metrics.oop import task_success

#: λ: weight of the time lost (fraction of the time limit) against success gained.
NET_TIME_WEIGHT: float = 1.0

#: Time limit (s) when neither the record nor its task gives one (the scenario default).
DEFAULT_TIME_LIMIT: float = 600.0


@functools.lru_cache(maxsize=256)
def _task_time_limit(task: str) -> float | None:
    try:
        from proassist.scenarios.loader import load_scenario

        return float(load_scenario(task).max_duration)
    except Exception:  # noqa: BLE001 - an unknown or custom task: fall back to the default
        return None


def time_limit(record: Mapping[str, Any]) -> float:
    """The episode's time limit ``T_max`` in seconds (module docstring)."""
    for value in (record.get("max_duration"), (record.get("env_kwargs") or {}).get("max_duration")):
        if value is not None and float(value) > 0:
            return float(value)
    task = record.get("task")
    limit = _task_time_limit(str(task)) if task else None
    return limit if limit is not None and limit > 0 else DEFAULT_TIME_LIMIT


def net_assistance_value(
    record_policy: Mapping[str, Any],
    record_silent: Mapping[str, Any],
    weight: float = NET_TIME_WEIGHT,
) -> float:
    """``net_i`` of one (policy, silent) pair of the same seed (module docstring)."""
    gained = float(task_success(record_policy)) - float(task_success(record_silent))
    lost = 60.0 * (episode_minutes(record_policy) - episode_minutes(record_silent))
    limit = max(time_limit(record_policy), time_limit(record_silent))
    return gained - weight * max(0.0, lost) / limit
