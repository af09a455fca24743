"""Every ProAssist metric, as pure functions of episode records.

:mod:`.scores` (decision level, the metric registry, episode and pooled scores),
:mod:`.content` (content score g), :mod:`.timing` (time matching, STS), :mod:`.oop`
(content-aware OOP detection, OOP precision, recovery), :mod:`.understanding` (what the
simulated person understood from a message), :mod:`.balanced` (PWR-comparable
``pwr_*`` instances), :mod:`.stats` (bootstrap CIs, the paired assistance effect,
paired differences between assistants), :mod:`.closed_loop` (net assistance, the
headline) and :mod:`.text_similarity` (MiniLM, loaded lazily, or a token-overlap
fallback without the ``[hf]`` extra). Gold moments come from
:mod:`proassist.sim.gold`.
"""

from __future__ import annotations

from proassist.analysis.metrics.scores import (
    chunked_decision_scores,
    collapse_windows,
    content_score,
    decision_counts,
    decision_scores,
    episode_scores,
    episode_stats,
    get_metric,
    is_correcting,
    latency_distribution,
    list_metrics,
    match_messages,
    match_scores,
    oop_detections,
    pqs_values,
    predicted_decisions,
    recoveries,
    register_metric,
    score_episodes,
    scores_from_counts,
    sts_scores,
)

__all__ = [
    "chunked_decision_scores",
    "collapse_windows",
    "content_score",
    "decision_counts",
    "decision_scores",
    "episode_scores",
    "episode_stats",
    "get_metric",
    "is_correcting",
    "latency_distribution",
    "list_metrics",
    "match_messages",
    "match_scores",
    "oop_detections",
    "pqs_values",
    "predicted_decisions",
    "recoveries",
    "register_metric",
    "score_episodes",
    "scores_from_counts",
    "sts_scores",
]
