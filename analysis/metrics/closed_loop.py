"""Net assistance: the closed-loop headline of this testbed.

The same seed (same person, same latent deviations) is run with the assistant and with
the silent assistant, and the two episodes are compared pair by pair
(:func:`proassist.analysis.metrics.stats.pair_records`). Per pair ``i``, with task
success ``S`` (1/0) and task time ``T`` (s):

- when the assistant **changed the outcome** (``S_policy != S_silent``):
  ``net_i = S_policy - S_silent`` (+1 rescued, -1 caused a failure);
- otherwise it is charged for the **time it cost the person**, relative to the
  person's own time without it:
  ``net_i = -λ · min(1, max(0, T_policy - T_silent) / T_silent)``.

**net assistance** is the mean of ``net_i`` over pairs (bootstrap 95 % CI over pairs),
with ``λ = 1`` (:data:`NET_TIME_WEIGHT`): slowing the person down by 10 % costs as much
as a tenth of a rescued episode. The silent assistant scores exactly 0; the range is
``[-1, 1]``.

Why relative to the silent run's time and only on unchanged outcomes: a time limit
(600 s for tasks done in ~2 minutes) made talking and lateness nearly free (issue 10),
while the person's own time is the scale on which an interruption is felt; and when
the outcome changed, the outcome is what counts (a rescued episode is longer because
the person finished the task, an episode that failed early is not better for being
short). Time saved is not credited (``max(0, ·)``): what saving time buys (fewer
time-outs) is already in the success term.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from proassist.analysis.metrics.content import episode_minutes
from proassist.analysis.metrics.oop import task_success

#: λ: weight of the relative time lost against a rescued episode.
NET_TIME_WEIGHT: float = 1.0

#: Shortest reference time (s), so a silent episode ending at once does not divide by 0.
MIN_REFERENCE_TIME: float = 1.0


def relative_time_lost(record_policy: Mapping[str, Any], record_silent: Mapping[str, Any]) -> float:
    """``min(1, max(0, T_policy - T_silent) / T_silent)`` of one pair (module docstring)."""
    t_policy = 60.0 * episode_minutes(record_policy)
    t_silent = 60.0 * episode_minutes(record_silent)
    lost = max(0.0, t_policy - t_silent) / max(MIN_REFERENCE_TIME, t_silent)
    return min(1.0, lost)


def net_assistance_value(
    record_policy: Mapping[str, Any],
    record_silent: Mapping[str, Any],
    weight: float = NET_TIME_WEIGHT,
) -> float:
    """``net_i`` of one (policy, silent) pair of the same seed (module docstring)."""
    gained = float(task_success(record_policy)) - float(task_success(record_silent))
    if gained != 0.0:
        return gained
    return -weight * relative_time_lost(record_policy, record_silent)
