"""Every ProAssist metric, defined once, as pure functions of episode records.

Gold intervention moments and windows: :mod:`proassist.sim.gold` (defaults in
:class:`~proassist.sim.gold.GoldConfig`). Split modules, re-exported here:
:mod:`.decisions` (TP/FP/TN/FN, the F1 family, chunks), :mod:`.content` (content score g), :mod:`.timing` (matching, STS), :mod:`.oop`
(OOP detection, recovery), :mod:`.balanced` (PWR-comparable instances), :mod:`.stats`
and :mod:`.closed_loop` (bootstrap, assistance effect, net assistance).

Decision level (PWR; the EgoProactive challenge scorer), interrupt = positive, with
TP/FP/TN/FN pooled over episodes. Three countings: the headline ``if1, sf1, g_mean,
macro_f1`` count each gold window once (:func:`collapse_windows`: one TP if the policy
spoke in the window, else one FN; further interrupts in the same window are FPs;
decision points outside windows are TN/FP); ``point_*`` count every decision point (a
point inside a window is gold-interrupt); ``chunk_*`` count 8 s chunks:

- IF1 = 2·TP / (2·TP + FP + FN); SF1 = 2·TN / (2·TN + FN + FP) (F1 of the silent class)
- G-Mean = √(IF1·SF1); Macro-F1 = (IF1 + SF1) / 2; precision = TP / (TP + FP);
  recall = TP / (TP + FN). Any 0/0 is 0 (so "never interrupts" has IF1 = G-Mean = 0).
- Chunked (EgoProactive): decision points are grouped in chunks ``[8i, 8(i+1))`` s; a
  chunk is an interrupt iff any of its decision points is (gold and prediction alike).
- PQS (PWR) = mean over decision points of: 1 for a correct silence (gold False, silent),
  ``g`` for a correct interrupt (gold True, interrupt), 0 otherwise; ``g`` is the content
  score of the action against the decision point's gold moment
  (:func:`.metrics_content.content_score`: structured 1 / 0.5 / 0.25 / 0; free text
  ``max(0, cos)`` of all-MiniLM-L6-v2 embeddings).
- PWR-comparable (``pwr_*``, :mod:`.balanced`): the same formulas on a balanced
  instance set per episode (each gold moment's anchor decision point and as many
  sampled gold-silent points, seeded by the record), so a 50/50 coin scores ≈ 0.5.
- OOP (:mod:`.oop`): ``oop_recall`` counts a deviation only when a correcting message
  names its step or a recovery step within ±tol of onset (content-aware);
  ``oop_recall_any`` is the content-blind PWR definition; ``oop_precision`` = correcting
  messages addressing an active deviation / correcting messages.
- Closed loop: the paired ``assistance_effect_*`` and ``net_assistance`` are computed
  against silent episodes of the same seeds (:mod:`.stats`, :mod:`.closed_loop`).

Episode-level metrics are registered with :func:`register_metric`: each is a function of
the *summed* additive statistics of :func:`episode_stats` (so it applies to one episode
or to a pool of them), vectorised over numpy arrays for the bootstrap. Pooled values are
ratios of sums over episodes (e.g. ``oop_recall`` = all detected / all deviations;
``task_success`` = successes / episodes). Where a denominator is 0 the value is NaN,
except the F1 family and the match rates (0, as above). :func:`score_episodes` reports
each with a bootstrap 95 % CI over episodes (``<name>_ci_low`` / ``<name>_ci_high``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from proassist.analysis.metrics.balanced import balanced_counts
from proassist.analysis.metrics.content import (
    content_score,
    default_text_sim,
    episode_minutes,
    is_correcting,
    messages_of,
    run_info,
)
from proassist.analysis.metrics.decisions import (
    chunk_labels,
    chunked_decision_scores,
    decision_counts,
    decision_scores,
    f1_family,
    ratio,
    scores_from_counts,
)
from proassist.analysis.metrics.oop import (
    false_alarms,
    kind_counts,
    kind_recalls,
    latency_distribution,
    oop_detections,
    oop_precision_counts,
    recoveries,
    task_success,
)
from proassist.analysis.metrics.reception import RECEPTION_METRICS, reception_counts
from proassist.analysis.metrics.stats import N_BOOT, bootstrap_counts, percentile_ci
from proassist.analysis.metrics.text_similarity import TextSim
from proassist.analysis.metrics.timing import match_messages, match_scores, sts_scores
from proassist.scenarios.registry import Registry
from proassist.sim.gold import (
    GoldConfig,
    GoldMoment,
    decision_times,
    gold_content,
    gold_moments,
)

__all__ = [
    "content_score",
    "decision_scores",
    "chunked_decision_scores",
    "episode_stats",
    "episode_scores",
    "get_metric",
    "is_correcting",
    "latency_distribution",
    "list_metrics",
    "METRICS",
    "match_messages",
    "match_scores",
    "metric_of_sums",
    "oop_detections",
    "pqs_values",
    "recoveries",
    "register_metric",
    "score_episodes",
    "scores_from_counts",
    "stats_matrix",
    "sts_scores",
]

MetricFn = Callable[[Mapping[str, Any]], Any]
#: Every episode-level metric, by name (``@register_metric`` adds to it; plugins may too).
METRICS: Registry[MetricFn] = Registry("metric")


def register_metric(name: str) -> Callable[[MetricFn], MetricFn]:
    """Register an episode-level metric: a function of summed :func:`episode_stats`.

    Raises:
        proassist.scenarios.registry.RegistryError: A ``ValueError`` if ``name`` is
            already registered (the registry is left unchanged).
    """
    return METRICS.register(name)


def get_metric(name: str) -> MetricFn:
    """Look up a registered metric.

    Raises:
        proassist.scenarios.registry.RegistryError: A ``KeyError`` for an unknown
            name, with the closest registered names ("did you mean").
    """
    return METRICS.get(name)


def list_metrics() -> list[str]:
    """Names of the registered metrics, sorted."""
    return sorted(METRICS.names())


def predicted_decisions(record: Mapping[str, Any]) -> list[bool]:
    """Per decision point, whether the policy interrupted (``decision == 1``)."""
    return [bool(int(d.get("decision") or 0)) for d in record["decisions"]]


def pqs_values(
    record: Mapping[str, Any],
    config: GoldConfig | None = None,
    text_sim: TextSim | None = None,
    content: Sequence[GoldMoment | None] | None = None,
) -> list[float]:
    """PQS term of each decision point: 1 (correct silence), g (correct interrupt), 0."""
    content = gold_content(record, config) if content is None else content
    out = []
    for d, moment in zip(record["decisions"], content, strict=True):
        interrupt = bool(int(d.get("decision") or 0))
        if moment is None:
            out.append(0.0 if interrupt else 1.0)
        else:
            out.append(content_score(d, moment, text_sim) if interrupt else 0.0)
    return out


def collapse_windows(
    content: Sequence[GoldMoment | None], pred: Sequence[bool]
) -> tuple[list[bool], list[bool]]:
    """Window-level gold/pred sequences: each gold window counts once.

    A decision point outside every window stays as it is (gold silent). The decision
    points of one gold window collapse into one gold-interrupt point, predicted
    interrupt iff the policy interrupted at least once inside the window; every further
    interrupt inside the same window is an extra (gold silent, predicted interrupt)
    point, i.e. a redundant interruption counts as a false positive. Silences inside a
    window are not true negatives. This is the headline decision scoring: a policy that
    speaks once, in time, for every gold moment and never elsewhere gets IF1 = SF1 = 1,
    whereas the point-wise variant (``point_*``) would require speaking at every
    decision point of every window.
    """
    gold_out: list[bool] = []
    pred_out: list[bool] = []
    hits: dict[int, int] = {}
    for moment, p in zip(content, pred, strict=True):
        if moment is None:
            gold_out.append(False)
            pred_out.append(bool(p))
            continue
        key = id(moment)
        hits.setdefault(key, 0)
        if p:
            hits[key] += 1
            if hits[key] > 1:
                gold_out.append(False)
                pred_out.append(True)
    for count in hits.values():
        gold_out.append(True)
        pred_out.append(count > 0)
    return gold_out, pred_out


def _decision_stats(record, content, times, moments, config: GoldConfig, text_sim) -> dict:
    gold = [m is not None for m in content]
    pred = predicted_decisions(record)
    point = decision_counts(gold, pred)
    c = decision_counts(*collapse_windows(content, pred))
    chunk = decision_counts(
        chunk_labels(times, gold, config.chunk_s), chunk_labels(times, pred, config.chunk_s)
    )
    pqs = pqs_values(record, config, text_sim, content)
    return (
        {k: float(v) for k, v in c.items()}
        | {f"point_{k}": float(v) for k, v in point.items()}
        | {f"chunk_{k}": float(v) for k, v in chunk.items()}
        | balanced_counts(record, times, content, moments, pred)
        | {"pqs_sum": float(sum(pqs)), "n_decisions": float(len(pqs))}
    )


def _time_stats(record, moments, config: GoldConfig, text_sim) -> dict[str, float]:
    msgs = messages_of(record)
    result = match_messages(msgs, moments, config, text_sim)
    dts = [d for _, _, d in result.pairs]
    sts = sts_scores(msgs, moments, config, text_sim)
    return {
        "match_m": float(result.n_matched),
        "match_p": float(result.n_pred),
        "match_g": float(result.n_gold),
        "match_dt_sum": float(sum(dts)),
        "match_absdt_sum": float(sum(abs(d) for d in dts)),
        "sts_sum": float(sum(sts)),
        "n_moments": float(len(sts)),
    }


def _oop_stats(record, moments, config: GoldConfig) -> dict[str, float]:
    det = oop_detections(record, config)
    rec = recoveries(record)
    lat = [d["latency"] for d in det if d["latency"] is not None]
    ttr = [r["time_to_recovery"] for r in rec if r["recovered"]]
    n_correcting, n_addressed = oop_precision_counts(record, config)
    return {
        "n_dev": float(len(rec)),
        "n_dev_visible": float(len(det)),
        "oop_detected": float(sum(d["detected"] for d in det)),
        "oop_detected_any": float(sum(d["detected_any"] for d in det)),
        "oop_correcting": float(n_correcting),
        "oop_addressed": float(n_addressed),
        "latency_sum": float(sum(lat)),
        "n_latency": float(len(lat)),
        "false_alarms": float(false_alarms(record, config, moments)),
        "recovered": float(sum(r["recovered"] for r in rec)),
        "assisted": float(sum(r["assisted"] for r in rec)),
        "ttr_sum": float(sum(ttr)),
        "deadlines_missed": float(sum(r["deadline_missed"] for r in rec)),
    }


def episode_stats(
    record: Mapping[str, Any], config: GoldConfig | None = None, text_sim: TextSim | None = None
) -> dict[str, float]:
    """The additive statistics of one episode that every registered metric is built from.

    Keys: decision counts ``tp, fp, tn, fn`` (window-collapsed), ``point_*`` and
    ``chunk_*``; ``pqs_sum, n_decisions``;
    matching ``match_m`` (matched), ``match_p`` (messages), ``match_g`` (moments),
    ``match_dt_sum, match_absdt_sum``; ``sts_sum, n_moments``; OOP ``n_dev,
    n_dev_visible, oop_detected`` (content-aware), ``oop_detected_any``, ``oop_correcting,
    oop_addressed``, ``latency_sum, n_latency, false_alarms``; balanced (PWR)
    ``pwr_tp, pwr_fp, pwr_tn, pwr_fn``; closed loop ``recovered,
    assisted, ttr_sum, deadlines_missed``; reception ``rx_*`` (:mod:`.reception`);
    ``success, task_time`` (s), ``minutes``,
    ``messages`` (assistant messages), ``episodes`` (1).
    """
    cfg = config or GoldConfig()
    moments = gold_moments(record, cfg)
    times = decision_times(record)
    content = [_moment_at(moments, t) for t in times]
    minutes = episode_minutes(record)
    return (
        _decision_stats(record, content, times, moments, cfg, text_sim)
        | _time_stats(record, moments, cfg, text_sim)
        | _oop_stats(record, moments, cfg)
        | reception_counts(record)
        | {
            "success": float(task_success(record)),
            "task_time": 60.0 * minutes,
            "minutes": minutes,
            "messages": float(len(messages_of(record))),
            "episodes": 1.0,
        }
    )


def _moment_at(moments: Sequence[GoldMoment], t: float) -> GoldMoment | None:
    from proassist.sim.gold import moment_at

    return moment_at(moments, t)


def _family_metric(prefix: str, name: str) -> MetricFn:
    def metric(s: Mapping[str, Any]) -> Any:
        counts = (s[f"{prefix}{c}"] for c in ("tp", "fp", "tn", "fn"))
        return f1_family(*counts)[name]

    return metric


for _prefix in ("", "point_", "chunk_", "pwr_"):
    for _name in ("if1", "sf1", "g_mean", "macro_f1", "precision", "recall"):
        register_metric(f"{_prefix}{_name}")(_family_metric(_prefix, _name))
for _name, _count in RECEPTION_METRICS.items():  # reception.py: ratios over reactions
    register_metric(_name)(lambda s, c=_count: ratio(s[c], s["rx_n"]))


@register_metric("pqs")
def _pqs(s: Mapping[str, Any]) -> Any:
    """PQS = Σ per-decision terms / decision points (PWR)."""
    return ratio(s["pqs_sum"], s["n_decisions"])


@register_metric("match_precision")
def _match_precision(s: Mapping[str, Any]) -> Any:
    """Matched messages / messages (ProAssist)."""
    return ratio(s["match_m"], s["match_p"], 0.0)


@register_metric("match_recall")
def _match_recall(s: Mapping[str, Any]) -> Any:
    """Matched moments / gold moments (ProAssist)."""
    return ratio(s["match_m"], s["match_g"], 0.0)


@register_metric("match_f1")
def _match_f1(s: Mapping[str, Any]) -> Any:
    """2·matched / (messages + moments) (ProAssist)."""
    return ratio(2 * np.asarray(s["match_m"]), np.asarray(s["match_p"]) + s["match_g"], 0.0)


@register_metric("match_redundant_rate")
def _match_redundant(s: Mapping[str, Any]) -> Any:
    """Unmatched messages / messages (ProAssist)."""
    return ratio(np.asarray(s["match_p"]) - s["match_m"], s["match_p"], 0.0)


@register_metric("match_missed_rate")
def _match_missed(s: Mapping[str, Any]) -> Any:
    """Unmatched gold moments / gold moments (ProAssist)."""
    return ratio(np.asarray(s["match_g"]) - s["match_m"], s["match_g"], 0.0)


@register_metric("match_time_diff")
def _match_time_diff(s: Mapping[str, Any]) -> Any:
    """Mean signed t_message - t_moment over matched pairs (negative = early)."""
    return ratio(s["match_dt_sum"], s["match_m"])


@register_metric("match_abs_time_diff")
def _match_abs_time_diff(s: Mapping[str, Any]) -> Any:
    """Mean |t_message - t_moment| over matched pairs."""
    return ratio(s["match_absdt_sum"], s["match_m"])


@register_metric("sts")
def _sts(s: Mapping[str, Any]) -> Any:
    """Mean STS over gold moments (Pro²Assist)."""
    return ratio(s["sts_sum"], s["n_moments"])


@register_metric("oop_recall")
def _oop_recall(s: Mapping[str, Any]) -> Any:
    """Deviations addressed (right step, correcting) within ±tol of onset / deviations."""
    return ratio(s["oop_detected"], s["n_dev_visible"])


@register_metric("oop_recall_any")
def _oop_recall_any(s: Mapping[str, Any]) -> Any:
    """Deviations with any correcting message within ±tol of onset / deviations (PWR)."""
    return ratio(s["oop_detected_any"], s["n_dev_visible"])


@register_metric("oop_precision")
def _oop_precision(s: Mapping[str, Any]) -> Any:
    """Correcting messages addressing an active deviation / correcting messages."""
    return ratio(s["oop_addressed"], s["oop_correcting"])


@register_metric("oop_latency_mean")
def _oop_latency(s: Mapping[str, Any]) -> Any:
    """Mean first-detection latency (s) over detected-in-span deviations."""
    return ratio(s["latency_sum"], s["n_latency"])


@register_metric("false_alarms_per_min")
def _fa_rate(s: Mapping[str, Any]) -> Any:
    """Correcting messages outside every deviation span / minutes."""
    return ratio(s["false_alarms"], s["minutes"])


@register_metric("recovery_rate")
def _recovery_rate(s: Mapping[str, Any]) -> Any:
    """Recovered deviations / deviations."""
    return ratio(s["recovered"], s["n_dev"])


@register_metric("assisted_recovery_rate")
def _assisted_rate(s: Mapping[str, Any]) -> Any:
    """Deviations recovered with the assistant's help / deviations."""
    return ratio(s["assisted"], s["n_dev"])


@register_metric("self_recovery_rate")
def _self_rate(s: Mapping[str, Any]) -> Any:
    """Deviations the person recovered alone / deviations."""
    return ratio(np.asarray(s["recovered"]) - s["assisted"], s["n_dev"])


@register_metric("time_to_recovery")
def _ttr(s: Mapping[str, Any]) -> Any:
    """Mean resolution time - onset (s) over recovered deviations."""
    return ratio(s["ttr_sum"], s["recovered"])


@register_metric("deadline_miss_rate")
def _deadline_rate(s: Mapping[str, Any]) -> Any:
    """Deviations whose deadline was missed / deviations."""
    return ratio(s["deadlines_missed"], s["n_dev"])


@register_metric("task_success")
def _task_success(s: Mapping[str, Any]) -> Any:
    """Successful episodes / episodes."""
    return ratio(s["success"], s["episodes"])


@register_metric("task_time")
def _task_time(s: Mapping[str, Any]) -> Any:
    """Mean episode duration (s)."""
    return ratio(s["task_time"], s["episodes"])


@register_metric("interruptions_per_min")
def _interruptions(s: Mapping[str, Any]) -> Any:
    """Assistant messages / minutes."""
    return ratio(s["messages"], s["minutes"])


def episode_scores(
    record: Mapping[str, Any], config: GoldConfig | None = None, text_sim: TextSim | None = None
) -> dict[str, float]:
    """Every registered metric on one episode."""
    stats = episode_stats(record, config, text_sim)
    return {name: float(METRICS.get(name)(stats)) for name in list_metrics()}


def _breakdowns(records: Sequence[Mapping[str, Any]], config: GoldConfig) -> dict[str, float]:
    totals: Counter[str] = Counter()
    for rec in records:
        totals.update(kind_counts(rec, config))
    out: dict[str, float] = kind_recalls(totals)
    lat = [x for xs in latency_distribution(records, config).values() for x in xs]
    out["oop_latency_median"] = float(np.median(lat)) if lat else math.nan
    return out


def score_episodes(
    records: Sequence[Mapping[str, Any]],
    config: GoldConfig | None = None,
    rng: np.random.Generator | None = None,
    n_boot: int = N_BOOT,
    text_sim: TextSim | None = None,
    stats: tuple[Sequence[str], np.ndarray] | None = None,
) -> dict[str, Any]:
    """The flat ``scores`` dict of a set of episodes.

    Every registered metric pooled over the episodes (ratio of summed
    :func:`episode_stats`), with ``<name>_ci_low`` / ``<name>_ci_high`` from a percentile
    bootstrap over episodes; plus ``oop_recall_<kind>`` (content-aware) and
    ``oop_recall_any_<kind>`` (content-blind), ``oop_latency_median``, the
    pooled ``tp, fp, tn, fn``, ``n_episodes, n_decisions, n_deviations`` and
    :func:`~.content.run_info` (``text_sim_backend``, a string, and counts).

    Args:
        records: Episode records (CONTRACTS.md §5).
        config: Windows and thresholds.
        rng: Generator of the bootstrap; ``default_rng(0)`` when None.
        n_boot: Bootstrap resamples (0 disables the CIs).
        text_sim: Free-text similarity; when None MiniLM (only loaded if needed), or
            the token-overlap fallback without the ``[hf]`` extra.
        stats: The records' :func:`stats_matrix` when already computed (with the same
            ``config`` and ``text_sim``), so it is not computed again.

    Raises:
        ValueError: If ``records`` is empty, or ``stats`` has not a row per record.
    """
    if not records:
        raise ValueError("score_episodes needs at least one episode record")
    cfg = config or GoldConfig()
    info = run_info(records, text_sim)
    keys, mat = stats if stats is not None else stats_matrix(records, cfg, text_sim)
    if len(mat) != len(records):
        raise ValueError(f"stats has {len(mat)} rows for {len(records)} records")
    total = dict(zip(keys, mat.sum(axis=0), strict=True))
    scores = _metric_scores(keys, mat, total, rng, n_boot)
    scores |= {k: float(total[k]) for k in ("tp", "fp", "tn", "fn")}
    scores |= {
        "n_episodes": float(len(records)),
        "n_decisions": float(total["n_decisions"]),
        "n_deviations": float(total["n_dev"]),
    }
    return scores | _breakdowns(records, cfg) | info


def _metric_scores(
    keys: Sequence[str],
    mat: np.ndarray,
    total: Mapping[str, Any],
    rng: np.random.Generator | None,
    n_boot: int,
) -> dict[str, float]:
    """Every registered metric of ``total`` (the sum of ``mat``'s rows), with its
    episode-bootstrap CI over those rows (``n_boot`` resamples; none when 0)."""
    boot = None
    if n_boot > 0:
        boot = bootstrap_counts(len(mat), rng or np.random.default_rng(0), n_boot) @ mat
    scores: dict[str, float] = {}
    for name in list_metrics():
        scores[name] = float(METRICS.get(name)(total))
        if boot is not None:
            lo, hi = percentile_ci(np.asarray(metric_of_sums(name, keys, boot)))
            scores[f"{name}_ci_low"], scores[f"{name}_ci_high"] = lo, hi
    return scores


def stats_matrix(
    records: Sequence[Mapping[str, Any]],
    config: GoldConfig | None = None,
    text_sim: TextSim | None = None,
) -> tuple[list[str], np.ndarray]:
    """Every episode's :func:`episode_stats`: their sorted keys and an ``(episodes, keys)``
    matrix (a metric of a pool of episodes is the metric of its rows' sum)."""
    per = [episode_stats(r, config, text_sim or default_text_sim()) for r in records]
    keys = sorted(per[0]) if per else []
    return keys, np.array([[p[k] for k in keys] for p in per], dtype=float)


def metric_of_sums(name: str, keys: Sequence[str], sums: np.ndarray) -> Any:
    """Registered metric ``name`` of summed statistics ``sums`` (last axis: ``keys``;
    leading axes, e.g. bootstrap resamples, are kept).

    Raises:
        KeyError: If the metric needs a statistic not in ``keys``.
    """
    columns = np.moveaxis(np.asarray(sums, dtype=float), -1, 0)
    return METRICS.get(name)(dict(zip(keys, columns, strict=True)))
