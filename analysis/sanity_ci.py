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
- the paired ``assistance_effect_*`` (Δ success, recovery rate, task time) from each
  seed's differences with silent (:func:`per_seed_paired`), and the per-kind OOP
  recalls ``oop_recall_<kind>``, ``oop_recall_any_<kind>`` from each seed's detections
  by kind (:func:`per_seed_kinds`), both in :func:`seed_block_means`;
- anything else (results written before the per-seed values were kept) combines the
  envs' bounds as standard errors (:func:`mean_ci_bound`), which assumes the envs
  independent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "CI_SUFFIXES",
    "KINDS_KEY",
    "PAIRED_KEY",
    "PER_SEED_KEY",
    "SEED_KEYS",
    "STATS_KEY",
    "as_number",
    "difference_metric",
    "join_tables",
    "mean_ci_bound",
    "per_seed_kinds",
    "per_seed_net",
    "per_seed_paired",
    "per_seed_stats",
    "seed_block_ci",
    "seed_block_difference",
    "seed_block_means",
    "seed_block_metrics",
    "seed_means",
    "seed_table",
]

#: Suffixes of a score's 95 % CI bounds.
CI_SUFFIXES: tuple[str, str] = ("_ci_low", "_ci_high")
#: Per-env key of a row's ``[seed, net assistance]`` pairs (in ``sanity.json``).
PER_SEED_KEY = "net_assistance_per_seed"
#: Per-env key of a row's episode statistics by seed: ``{"keys", "seeds", "values"}``
#: (``values[i][j]``: seed ``seeds[i]``'s statistic ``keys[j]``).
STATS_KEY = "episode_stats_per_seed"
#: Per-env key of each seed's policy-minus-silent differences of the paired outcomes
#: (:data:`~proassist.analysis.metrics.stats.PAIRED_OUTCOMES`; null where NaN), a
#: :func:`seed_table`.
PAIRED_KEY = "paired_per_seed"
#: Per-env key of each seed's OOP detections by kind
#: (:func:`~proassist.analysis.metrics.oop.kind_counts`), a :func:`seed_table`.
KINDS_KEY = "oop_kinds_per_seed"
#: The per-env keys holding per-seed values rather than scores.
SEED_KEYS: tuple[str, ...] = (PER_SEED_KEY, STATS_KEY, PAIRED_KEY, KINDS_KEY)


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


def per_seed_stats(
    records: Sequence[Mapping[str, Any]],
    stats: tuple[Sequence[str], np.ndarray] | None = None,
) -> dict[str, Any]:
    """:data:`STATS_KEY`'s value: each episode's
    :func:`~proassist.analysis.metrics.scores.episode_stats` (as
    :func:`~proassist.analysis.metrics.scores.score_episodes` computes them), by seed;
    ``stats``: the records' ``stats_matrix`` when already computed
    (:attr:`~proassist.analysis.evaluation.Evaluation.stats`)."""
    from proassist.analysis.metrics.scores import stats_matrix

    keys, mat = stats if stats is not None else stats_matrix(records)
    order = sorted(range(len(records)), key=lambda i: int(records[i]["seed"]))
    seeds = [int(records[i]["seed"]) for i in order]
    return {"keys": list(keys), "seeds": seeds, "values": np.asarray(mat)[order].tolist()}


def seed_table(seeds: Sequence[int], rows: Sequence[Mapping[str, float]]) -> dict[str, Any]:
    """``{"keys", "seeds", "values"}``: a row of values per seed, in seed order (``keys``:
    every row's keys, sorted; a key a row lacks is 0; NaN written as None; ints kept)."""
    keys = sorted({k for r in rows for k in r})
    order = sorted(range(len(seeds)), key=lambda i: int(seeds[i]))
    values = [[_entry(rows[i].get(k, 0)) for k in keys] for i in order]
    return {"keys": keys, "seeds": [int(seeds[i]) for i in order], "values": values}


def join_tables(tables: Sequence[Mapping[str, Any]], united: bool = False) -> dict[str, Any] | None:
    """One :func:`seed_table` of ``tables``, their seeds one after the other; their keys
    must agree (None otherwise), or with ``united`` (counts by kind, which differ between
    runs) the keys are all of theirs, a key a table lacks 0."""
    keys = sorted({k for t in tables for k in t["keys"]}) if united else list(tables[0]["keys"])
    if not united and any(list(t["keys"]) != keys for t in tables):
        return None
    seeds: list[int] = []
    values: list[list[Any]] = []
    for table in tables:
        where = {k: j for j, k in enumerate(table["keys"])}
        seeds += [int(x) for x in table["seeds"]]
        values += [[row[where[k]] if k in where else 0 for k in keys] for row in table["values"]]
    return {"keys": keys, "seeds": seeds, "values": values}


def _entry(value: Any) -> float | int | None:
    return int(value) if isinstance(value, int | np.integer) else as_number(value)


def per_seed_paired(
    records: Sequence[Mapping[str, Any]], silent: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """:data:`PAIRED_KEY`'s value: each seed's policy-minus-silent differences."""
    from proassist.analysis.metrics.stats import paired_outcome_differences

    pairs = paired_outcome_differences(records, silent)
    return seed_table([int(p["seed"]) for p, _ in pairs], [d for _, d in pairs])


def per_seed_kinds(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """:data:`KINDS_KEY`'s value: each seed's OOP detection counts by kind."""
    from proassist.analysis.metrics.oop import kind_counts

    return seed_table([int(r["seed"]) for r in records], [kind_counts(r) for r in records])


def seed_block_means(per_env: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[float, float]]:
    """``{score: (low, high)}``: 95 % CIs, a bootstrap over the seeds every env ran, of
    the mean over envs of ``assistance_effect_<outcome>`` (from :data:`PAIRED_KEY`: a
    resample's per-env mean of its seeds' differences, NaN left out) and of
    ``oop_recall_<kind>``, ``oop_recall_any_<kind>`` (from :data:`KINDS_KEY`: a
    resample's per-env ratio of its seeds' summed counts). As each value is made, an
    env without the outcome or kind on all the seeds is left out of the mean over envs;
    a resample where another env has none is dropped (as in :func:`seed_block_metrics`);
    deterministic. Empty for a key an env lacks (:func:`_stat_tables`)."""
    out: dict[str, tuple[float, float]] = {}
    for key, fn in ((PAIRED_KEY, _paired_means), (KINDS_KEY, _kind_ratios)):
        tables = _stat_tables(per_env, key)
        if tables is not None:
            out |= _env_mean_cis(tables, fn)
    return out


def _paired_means(
    keys: Sequence[str], boot_sum: np.ndarray, boot_n: np.ndarray
) -> dict[str, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        means = boot_sum / boot_n
    return {f"assistance_effect_{k}": means[:, j] for j, k in enumerate(keys)}


def _kind_ratios(
    keys: Sequence[str], boot_sum: np.ndarray, boot_n: np.ndarray
) -> dict[str, np.ndarray]:
    from proassist.analysis.metrics.oop import kind_recalls

    return kind_recalls(dict(zip(keys, boot_sum.T, strict=True)))


def _env_mean_cis(
    tables: Sequence[tuple[list[str], np.ndarray]], fn: Callable[..., dict[str, np.ndarray]]
) -> dict[str, tuple[float, float]]:
    """CIs of the mean over envs of ``fn(keys, resampled sums, resampled counts)``: the
    envs with a value on all the seeds, resamples where one of them has none dropped."""
    from proassist.analysis.metrics.stats import percentile_ci

    counts = _seed_counts(len(tables[0][1]))
    per_env = []
    for keys, mat in tables:
        finite = ~np.isnan(mat)
        per_env.append(fn(keys, counts @ np.where(finite, mat, 0.0), counts @ finite))
    out = {}
    for name in sorted({n for e in per_env for n in e}):
        rows = [np.asarray(e[name], dtype=float) for e in per_env if name in e]
        kept = [r for r in rows if not math.isnan(r[0])]
        if kept:
            out[name] = percentile_ci(np.mean(kept, axis=0)[1:])
    return out


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


def seed_block_difference(
    per_env_a: Mapping[str, Mapping[str, Any]],
    per_env_b: Mapping[str, Mapping[str, Any]],
    metric: str,
) -> tuple[float, float, float, int, int] | None:
    """``(value, low, high, seeds, envs)``: ``metric`` (:func:`difference_metric`) of row
    A minus row B, each the mean over the ``envs`` where both have a value on all the
    seeds, with a 95 % CI from one bootstrap over the seeds both ran in every env (a
    seed's episodes of both rows resampled together; resamples where a kept env has no
    value dropped; deterministic). None when a row lacks the per-seed table, they share
    no seed, or no env has a value of both."""
    from proassist.analysis.metrics.stats import percentile_ci

    key, value_of = difference_metric(metric)
    envs = [e for e in per_env_a if e in per_env_b]
    both = {(r, e): p[e] for r, p in (("a", per_env_a), ("b", per_env_b)) for e in envs}
    tables = _stat_tables(both, key) if envs else None
    if tables is None:
        return None
    counts = _seed_counts(len(tables[0][1]))
    try:
        per = [value_of(k, counts @ m) for k, m in tables]
    except KeyError:
        return None
    kept = [(a, b) for a, b in zip(per[: len(envs)], per[len(envs) :], strict=True)]
    kept = [(a, b) for a, b in kept if not (math.isnan(a[0]) or math.isnan(b[0]))]
    if not kept:
        return None
    diff = np.mean([a for a, _ in kept], axis=0) - np.mean([b for _, b in kept], axis=0)
    return float(diff[0]), *percentile_ci(diff[1:]), len(tables[0][1]), len(kept)


def difference_metric(metric: str) -> tuple[str, Callable[[Sequence[str], np.ndarray], Any]]:
    """``(per-seed table key, f(keys, summed rows) -> values)`` of ``metric``: a registered
    episode metric (:data:`STATS_KEY`), else a per-kind recall of a registered deviation
    kind (:data:`KINDS_KEY`).

    Raises:
        KeyError: From the metric or kind registry ("did you mean") on another name.
    """
    from proassist.analysis.metrics.oop import kind_recalls, recall_kind
    from proassist.analysis.metrics.scores import METRICS, metric_of_sums
    from proassist.scenarios.model import DEVIATION_KINDS

    kind = recall_kind(metric)
    if metric in METRICS.names() or kind is None:
        METRICS.get(metric)  # an unknown name fails here, with "did you mean"
        return STATS_KEY, lambda keys, sums: np.asarray(metric_of_sums(metric, keys, sums), float)
    DEVIATION_KINDS.get(kind)  # a plugin's kind needs its plugin loaded

    def recall(keys: Sequence[str], sums: np.ndarray) -> np.ndarray:
        values = kind_recalls(dict(zip(keys, np.moveaxis(sums, -1, 0), strict=True)))
        return np.asarray(values.get(metric, np.full(sums.shape[:-1], np.nan)), float)

    return KINDS_KEY, recall


def _seed_counts(n_seeds: int) -> np.ndarray:
    """Row 0: every seed once; then the seed bootstrap's resample counts (deterministic)."""
    from proassist.analysis.metrics.stats import bootstrap_counts

    boot = bootstrap_counts(n_seeds, np.random.default_rng(0))
    return np.vstack([np.ones((1, n_seeds), dtype=boot.dtype), boot])


def _stat_tables(
    per_env: Mapping[str, Mapping[str, Any]], key: str = STATS_KEY
) -> list[tuple[list[str], np.ndarray]] | None:
    """Each env's ``(keys, seeds x keys matrix)`` of its :func:`seed_table` ``key`` over
    the seeds common to all envs (None, NaN); None when an env lacks it, has no seed, a
    seed twice, or no seed in common with the others."""
    given = [e.get(key) for e in per_env.values()]
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
