"""Bootstrap confidence intervals and the paired assistance effect.

**Bootstrap CI** (percentile method): resample the items with replacement ``n_boot``
times (default 2000) with a seeded ``numpy.random.Generator``, compute the statistic on
each resample, and take the ``(1 - level) / 2`` and ``(1 + level) / 2`` percentiles
(2.5 % and 97.5 % for ``level=0.95``). NaN resample values are ignored.

**Assistance effect** (this testbed): the same seeds (same person, same deviations) run
with the policy and with the silent assistant. Episodes are paired by ``(task, seed)``;
per pair ``d = metric(policy episode) - metric(silent episode)`` for

- ``task_success`` (1/0),
- ``recovery_rate`` (recovered / deviations of the episode; a pair where either
  episode has no deviation is left out of this metric),
- ``task_time`` (episode duration in seconds).

Reported: the mean of ``d`` as ``assistance_effect_<metric>`` with bootstrap 95 % CI
``..._ci_low`` / ``..._ci_high`` (pairs resampled), and ``n_pairs``;
``assistance_effect_task_time`` is in seconds (positive = the assistant made the person
slower). Plus the headline ``net_assistance`` (:mod:`.closed_loop`):
mean over pairs of ``(S_policy - S_silent) - λ · max(0, T_policy - T_silent) / T_max``,
λ = 1, with its bootstrap CI.

**Paired difference between two assistants** (:func:`paired_difference`): episodes of
assistants A and B on the same ``(task, seed)`` are paired; per pair
``d = value(A) - value(B)`` for an episode value (``task_success``, ``task_time``,
``recovery_rate``, or any registered metric on the single episode), or for
``net_assistance`` given the silent episodes of the same seeds
(``d = net(A, silent) - net(B, silent)``). Reported: mean, bootstrap CI, pairs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

#: Default number of bootstrap resamples.
N_BOOT: int = 2000
#: The episode outcomes the assistance effect pairs with silent (module docstring).
PAIRED_OUTCOMES: tuple[str, ...] = ("task_success", "recovery_rate", "task_time")


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    return rng if rng is not None else np.random.default_rng(0)


def bootstrap_counts(n_items: int, rng: np.random.Generator, n_boot: int = N_BOOT) -> np.ndarray:
    """How often each item appears in each resample: an ``(n_boot, n_items)`` int array."""
    if n_items <= 0:
        return np.zeros((n_boot, 0), dtype=np.int64)
    idx = rng.integers(0, n_items, size=(n_boot, n_items))
    counts = np.zeros((n_boot, n_items), dtype=np.int64)
    np.add.at(counts, (np.arange(n_boot)[:, None], idx), 1)
    return counts


def percentile_ci(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap samples, ignoring NaN ((nan, nan) if all NaN)."""
    samples = np.asarray(samples, dtype=float)
    samples = samples[~np.isnan(samples)]
    if samples.size == 0:
        return math.nan, math.nan
    lo, hi = np.percentile(samples, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


def bootstrap_ci(
    values: Sequence[float],
    rng: np.random.Generator | None = None,
    n_boot: int = N_BOOT,
    level: float = 0.95,
    statistic: Callable[[np.ndarray], float] = np.mean,
) -> tuple[float, float]:
    """Percentile bootstrap CI of ``statistic`` over ``values`` (NaN values dropped).

    Args:
        values: The sample.
        rng: Seeded generator; ``default_rng(0)`` when None (deterministic).
        n_boot: Number of resamples.
        level: Confidence level in (0, 1).
        statistic: Function of a 1-D array.

    Returns:
        ``(low, high)``; ``(nan, nan)`` for an empty sample.

    Raises:
        ValueError: If ``level`` is not in (0, 1) or ``n_boot < 1``.
    """
    if not 0.0 < level < 1.0 or n_boot < 1:
        raise ValueError(f"need 0 < level < 1 and n_boot >= 1, got {level}, {n_boot}")
    arr = np.asarray([v for v in values if not math.isnan(float(v))], dtype=float)
    if arr.size == 0:
        return math.nan, math.nan
    idx = _rng(rng).integers(0, arr.size, size=(n_boot, arr.size))
    return percentile_ci(np.array([statistic(arr[row]) for row in idx]), level)


def _pair_key(record: Mapping[str, Any], which: str) -> tuple[str, int]:
    if "task" not in record or "seed" not in record:
        raise ValueError(f"a {which} episode record lacks 'task' or 'seed'; cannot pair")
    return str(record["task"]), int(record["seed"])


def pair_records(
    records_policy: Sequence[Mapping[str, Any]], records_silent: Sequence[Mapping[str, Any]]
) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """Pair policy and silent episodes by ``(task, seed)``, in the policy order.

    Raises:
        ValueError: On duplicate keys, or when the two sets of keys differ.
    """
    sides = {}
    for name, recs in (("policy", records_policy), ("silent", records_silent)):
        keyed = {}
        for r in recs:
            key = _pair_key(r, name)
            if key in keyed:
                raise ValueError(f"duplicate {name} episode for (task, seed) = {key}")
            keyed[key] = r
        sides[name] = keyed
    pol, sil = sides["policy"], sides["silent"]
    if set(pol) != set(sil):
        only_p = sorted(set(pol) - set(sil))
        only_s = sorted(set(sil) - set(pol))
        raise ValueError(
            "policy and silent episodes must have the same (task, seed) pairs; "
            f"only in policy: {only_p}; only in silent: {only_s}"
        )
    return [(pol[k], sil[k]) for k in pol]


def _episode_values(record: Mapping[str, Any]) -> dict[str, float]:
    from proassist.analysis.metrics.content import episode_minutes
    from proassist.analysis.metrics.oop import recoveries, task_success

    recs = recoveries(record)
    rate = sum(r["recovered"] for r in recs) / len(recs) if recs else math.nan
    return {
        "task_success": float(task_success(record)),
        "recovery_rate": rate,
        "task_time": 60.0 * episode_minutes(record),
    }


def paired_outcome_differences(
    records_policy: Sequence[Mapping[str, Any]], records_silent: Sequence[Mapping[str, Any]]
) -> list[tuple[Mapping[str, Any], dict[str, float]]]:
    """``(policy record, {outcome: policy - silent})`` of every :func:`pair_records`
    pair, for each of :data:`PAIRED_OUTCOMES` (NaN where an episode has none)."""
    out = []
    for p, s in pair_records(records_policy, records_silent):
        vp, vs = _episode_values(p), _episode_values(s)
        out.append((p, {name: vp[name] - vs[name] for name in PAIRED_OUTCOMES}))
    return out


def assistance_effect(
    records_policy: Sequence[Mapping[str, Any]],
    records_silent: Sequence[Mapping[str, Any]],
    rng: np.random.Generator | None = None,
    n_boot: int = N_BOOT,
) -> dict[str, float]:
    """Paired policy-minus-silent differences with bootstrap CIs (module docstring).

    Raises:
        ValueError: If the episodes do not pair one-to-one by ``(task, seed)``, or
            there are none.
    """
    from proassist.analysis.metrics.closed_loop import net_assistance_value

    pairs = pair_records(records_policy, records_silent)
    if not pairs:
        raise ValueError("assistance_effect needs at least one (task, seed) pair")
    gen = _rng(rng)
    out: dict[str, float] = {"n_pairs": float(len(pairs))}
    diffs = [d for _, d in paired_outcome_differences(records_policy, records_silent)]
    for name in PAIRED_OUTCOMES:
        d = [x[name] for x in diffs if not math.isnan(x[name])]
        out |= _mean_ci(f"assistance_effect_{name}", d, gen, n_boot)
    net = [net_assistance_value(p, s) for p, s in pairs]
    return out | _mean_ci("net_assistance", net, gen, n_boot)


def _mean_ci(
    key: str, values: Sequence[float], rng: np.random.Generator, n_boot: int
) -> dict[str, float]:
    lo, hi = bootstrap_ci(values, rng, n_boot)
    mean = float(np.mean(values)) if len(values) else math.nan
    return {key: mean, f"{key}_ci_low": lo, f"{key}_ci_high": hi}


def _value_fn(key: str) -> Callable[[Mapping[str, Any]], float]:
    if key in PAIRED_OUTCOMES:
        return lambda r: _episode_values(r)[key]
    from proassist.analysis.metrics.scores import episode_scores, get_metric

    get_metric(key)  # an unknown key fails here, with "did you mean"
    return lambda r: episode_scores(r)[key]


def paired_difference(
    records_a: Sequence[Mapping[str, Any]],
    records_b: Sequence[Mapping[str, Any]],
    key: str,
    records_silent: Sequence[Mapping[str, Any]] | None = None,
    rng: np.random.Generator | None = None,
    n_boot: int = N_BOOT,
) -> dict[str, float]:
    """Paired A-minus-B difference of ``key`` on the same seeds (module docstring).

    Args:
        records_a: Episodes of assistant A.
        records_b: Episodes of assistant B, the same ``(task, seed)`` set.
        key: ``task_success``, ``task_time``, ``recovery_rate``, a registered metric,
            or ``net_assistance`` (needs ``records_silent``).
        records_silent: Silent episodes of the same seeds (for ``net_assistance``).
        rng: Bootstrap generator; ``default_rng(0)`` when None.
        n_boot: Bootstrap resamples.

    Returns:
        ``difference`` (mean over pairs, NaN pairs left out), ``ci_low``, ``ci_high``
        and ``n_pairs``.

    Raises:
        ValueError: If the episodes do not pair one-to-one, there are none, or
            ``net_assistance`` is asked without ``records_silent``.
    """
    pairs = pair_records(records_a, records_b)
    if not pairs:
        raise ValueError("paired_difference needs at least one (task, seed) pair")
    if key == "net_assistance":
        d = _net_differences(pairs, records_silent)
    else:
        value = _value_fn(key)
        d = [value(a) - value(b) for a, b in pairs]
    d = [x for x in d if not math.isnan(x)]
    lo, hi = bootstrap_ci(d, _rng(rng), n_boot)
    mean = float(np.mean(d)) if d else math.nan
    return {"difference": mean, "ci_low": lo, "ci_high": hi, "n_pairs": float(len(pairs))}


def _net_differences(
    pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    records_silent: Sequence[Mapping[str, Any]] | None,
) -> list[float]:
    from proassist.analysis.metrics.closed_loop import net_assistance_value

    if records_silent is None:
        raise ValueError("net_assistance differences need records_silent (the same seeds)")
    silent = {_pair_key(r, "silent"): r for r in records_silent}
    out = []
    for a, b in pairs:
        key = _pair_key(a, "policy")
        if key not in silent:
            raise ValueError(f"no silent episode for (task, seed) = {key}")
        s = silent[key]
        out.append(net_assistance_value(a, s) - net_assistance_value(b, s))
    return out
