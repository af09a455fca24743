"""95 % CIs of the sanity suite's means over envs (:mod:`proassist.analysis.sanity`).

A row's value of a metric is the mean of its per-env values, each env run on the same
seeds. Its CI is not the mean of the envs' CI bounds (the CI of an average env, up to
sqrt(n) times too wide), and a seed drives the same random stream in every env, so its
episodes are not independent across envs (on 300 fresh seeds the envs' net values
correlate by seed at -0.06 to +0.30). So the CIs are bootstraps that resample
**seeds**, each with its episodes in every env:

- net assistance (paired with silent) from each seed's value (:func:`per_seed_net`,
  :func:`seed_block_ci`);
- every registered episode metric (:mod:`proassist.analysis.metrics.scores`: a function
  of summed additive statistics) from each seed's episode statistics
  (:func:`per_seed_stats`, :func:`seed_block_metrics`): a resample sums the statistics of
  its seeds per env, applies the metric, and averages the envs, exactly as the value
  itself is made;
- anything else (the paired ``assistance_effect_*``, per-kind breakdowns, or results
  written before the per-seed statistics were kept) combines the envs' bounds as
  standard errors (:func:`mean_ci_bound`), which assumes the envs independent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "CI_SUFFIXES",
    "PER_SEED_KEY",
    "STATS_KEY",
    "as_number",
    "mean_ci_bound",
    "per_seed_net",
    "per_seed_stats",
    "seed_block_ci",
    "seed_block_metrics",
    "seed_means",
]

#: Suffixes of a score's 95 % CI bounds.
CI_SUFFIXES: tuple[str, str] = ("_ci_low", "_ci_high")
#: Per-env key of a row's ``[seed, net assistance]`` pairs (in ``sanity.json``).
PER_SEED_KEY = "net_assistance_per_seed"
#: Per-env key of a row's episode statistics by seed: ``{"keys", "seeds", "values"}``
#: (``values[i][j]``: seed ``seeds[i]``'s statistic ``keys[j]``).
STATS_KEY = "episode_stats_per_seed"


def per_seed_net(
    records: Sequence[Mapping[str, Any]], silent: Sequence[Mapping[str, Any]]
) -> list[list[float]]:
    """``[seed, net assistance]`` of every seed both the policy and silent ran, by seed."""
    from proassist.analysis.metrics.closed_loop import net_assistance_value

    by_seed = {int(r["seed"]): r for r in silent}
    return [
        [int(r["seed"]), float(net_assistance_value(r, by_seed[int(r["seed"])]))]
        for r in sorted(records, key=lambda r: int(r["seed"]))
        if int(r["seed"]) in by_seed
    ]


def per_seed_stats(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """:data:`STATS_KEY`'s value: each episode's
    :func:`~proassist.analysis.metrics.scores.episode_stats` (as
    :func:`~proassist.analysis.metrics.scores.score_episodes` computes them), by seed."""
    from proassist.analysis.metrics.scores import stats_matrix

    ordered = sorted(records, key=lambda r: int(r["seed"]))
    keys, mat = stats_matrix(ordered)
    seeds = [int(r["seed"]) for r in ordered]
    return {"keys": keys, "seeds": seeds, "values": mat.tolist()}


def seed_block_metrics(
    per_env: Mapping[str, Mapping[str, Any]], metrics: Sequence[str]
) -> dict[str, tuple[float, float, float]]:
    """``{metric: (value, low, high)}``: each registered episode metric's mean over envs
    and its 95 % CI, a bootstrap over the seeds every env ran (module docstring; one
    resample for all envs, resamples where an env's value is NaN dropped;
    deterministic). Left out: metrics not registered, needing a statistic the envs do
    not hold, or NaN in every env; all of them when an env has no :data:`STATS_KEY`,
    a seed twice, or no seed in common with the others."""
    from proassist.analysis.metrics.scores import METRICS, metric_of_sums
    from proassist.analysis.metrics.stats import bootstrap_counts, percentile_ci

    tables = _stat_tables(per_env)
    if tables is None:
        return {}
    counts = bootstrap_counts(len(tables[0][1]), np.random.default_rng(0))
    sums = [(keys, mat.sum(axis=0), counts @ mat) for keys, mat in tables]
    out = {}
    for metric in (m for m in metrics if m in METRICS.names()):
        try:
            parts = [
                (metric_of_sums(metric, k, t), metric_of_sums(metric, k, b)) for k, t, b in sums
            ]
        except KeyError:
            continue
        kept = [(float(v), np.asarray(b, float)) for v, b in parts if not math.isnan(float(v))]
        if kept:
            low, high = percentile_ci(np.mean([b for _, b in kept], axis=0))
            out[metric] = (float(np.mean([v for v, _ in kept])), low, high)
    return out


def _stat_tables(
    per_env: Mapping[str, Mapping[str, Any]],
) -> list[tuple[list[str], np.ndarray]] | None:
    """Each env's ``(keys, seeds x keys matrix)`` over the seeds common to all envs."""
    given = [e.get(STATS_KEY) for e in per_env.values()]
    if not given or any(not g or not g.get("seeds") for g in given):
        return None
    seeds = [list(map(int, g["seeds"])) for g in given]
    if any(len(set(x)) != len(x) for x in seeds):
        return None
    common = sorted(set.intersection(*map(set, seeds)))
    if not common:
        return None
    out = []
    for g, xs in zip(given, seeds, strict=True):
        rows = dict(zip(xs, g["values"], strict=True))
        out.append((list(g["keys"]), np.array([rows[s] for s in common], dtype=float)))
    return out


def seed_means(per_env: Mapping[str, Mapping[str, Any]]) -> dict[int, float] | None:
    """``{seed: mean over envs of net assistance}`` over the seeds every env ran.

    Args:
        per_env: ``{env: scores}``, each with :data:`PER_SEED_KEY`.

    Returns:
        The per-seed means, by seed; None when an env has no per-seed values or no seed
        is common to all.
    """
    tables = [
        dict((int(s), float(v)) for s, v in e.get(PER_SEED_KEY) or []) for e in per_env.values()
    ]
    common = sorted(set.intersection(*(set(t) for t in tables))) if tables else []
    if not common or any(not t for t in tables):
        return None
    return {s: float(np.mean([t[s] for t in tables])) for s in common}


def seed_block_ci(per_env: Mapping[str, Mapping[str, Any]]) -> tuple[float, float] | None:
    """Bootstrap 95 % CI of the mean over envs of net assistance, resampling seeds.

    Each seed's envs are averaged first (:func:`seed_means`), so a resample keeps a
    seed's episodes in every env together (:func:`~proassist.analysis.metrics.stats.
    bootstrap_ci` over those per-seed means; deterministic). None when
    :func:`seed_means` is.
    """
    from proassist.analysis.metrics.stats import bootstrap_ci

    means = seed_means(per_env)
    if means is None:
        return None
    low, high = bootstrap_ci(list(means.values()))
    return float(low), float(high)


def mean_ci_bound(
    per_env: Mapping[str, Mapping[str, Any]],
    key: str,
    weights: Mapping[str, float] | None = None,
) -> float | None:
    """The CI bound ``key`` (``<metric>_ci_low``/``_high``) of the mean over envs.

    The envs' distances to their bounds add as independent standard errors (module
    doc): with weights ``w_i`` (default 1), low = m - sqrt(sum((w_i (m_i - low_i)) ** 2))
    / sum(w_i), high likewise, m the weighted mean; a bound on the wrong side of its
    value counts as 0. Returns None unless some env has the metric and every env that
    has it has this bound. (Weights pool seed sets of different sizes,
    :mod:`~proassist.analysis.goals`.)

    Raises:
        ValueError: If ``key`` is not a CI bound's key.
    """
    if not key.endswith(CI_SUFFIXES):
        raise ValueError(f"{key!r} is not a CI bound (ends in neither of {CI_SUFFIXES})")
    low = key.endswith(CI_SUFFIXES[0])
    terms = _terms(per_env, key[: -len(CI_SUFFIXES[0 if low else 1])], key, weights)
    if not terms:
        return None
    total = sum(w for w, _, _ in terms)
    mean = sum(w * m for w, m, _ in terms) / total
    spans = [w * max(0.0, m - b if low else b - m) for w, m, b in terms]
    half = math.hypot(*spans) / total
    return mean - half if low else mean + half


def _terms(
    per_env: Mapping[str, Mapping[str, Any]],
    metric: str,
    key: str,
    weights: Mapping[str, float] | None,
) -> list[tuple[float, float, float]] | None:
    """``(weight, value, bound)`` of every env with ``metric``; None if one lacks ``key``."""
    out = []
    for name, scores in per_env.items():
        m, b = as_number(scores.get(metric)), as_number(scores.get(key))
        if m is None:
            continue
        if b is None:
            return None
        out.append((1.0 if weights is None else float(weights[name]), m, b))
    return out


def as_number(value: Any) -> float | None:
    """``value`` as a float; None when missing, not a number or NaN."""
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out
