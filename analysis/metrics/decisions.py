"""Decision-level scores of interrupt/silent decisions (PWR; the EgoProactive challenge
scorer): TP/FP/TN/FN with interrupt as the positive class, the F1 family and 8 s chunks.
The definitions are in :mod:`proassist.analysis.metrics.scores`' docstring, which
re-exports these."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "chunk_labels",
    "chunked_decision_scores",
    "decision_counts",
    "decision_scores",
    "f1_family",
    "ratio",
    "scores_from_counts",
]


def ratio(num: Any, den: Any, zero: float = math.nan) -> Any:
    """``num / den`` elementwise (arrays or numbers), ``zero`` where ``den`` is not > 0."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    safe = np.where(den > 0, den, 1.0)
    return np.where(den > 0, num / safe, zero)


def f1_family(tp: Any, fp: Any, tn: Any, fn: Any) -> dict[str, Any]:
    """IF1, SF1, G-Mean, Macro-F1, precision and recall of counts (arrays or numbers; any
    0/0 is 0: :mod:`~proassist.analysis.metrics.scores`)."""
    if1 = ratio(2 * np.asarray(tp), 2 * np.asarray(tp) + fp + fn, 0.0)
    sf1 = ratio(2 * np.asarray(tn), 2 * np.asarray(tn) + fp + fn, 0.0)
    return {
        "if1": if1,
        "sf1": sf1,
        "g_mean": np.sqrt(if1 * sf1),
        "macro_f1": (if1 + sf1) / 2.0,
        "precision": ratio(tp, np.asarray(tp) + fp, 0.0),
        "recall": ratio(tp, np.asarray(tp) + fn, 0.0),
    }


def decision_counts(gold: Sequence[bool], pred: Sequence[bool]) -> dict[str, int]:
    """TP/FP/TN/FN with interrupt (True) as the positive class.

    Raises:
        ValueError: If the sequences differ in length.
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold and pred must have the same length, got {len(gold)}, {len(pred)}")
    pairs = [(bool(g), bool(p)) for g, p in zip(gold, pred, strict=True)]
    return {
        "tp": sum(g and p for g, p in pairs),
        "fp": sum(p and not g for g, p in pairs),
        "tn": sum(not g and not p for g, p in pairs),
        "fn": sum(g and not p for g, p in pairs),
    }


def decision_scores(gold: Sequence[bool], pred: Sequence[bool]) -> dict[str, float]:
    """IF1, SF1, G-Mean, Macro-F1, precision, recall and the counts (module docstring).

    Args:
        gold: Per decision point, True where interrupting is correct.
        pred: Per decision point, True where the policy interrupted.
    """
    c = decision_counts(gold, pred)
    return scores_from_counts(c["tp"], c["fp"], c["tn"], c["fn"])


def scores_from_counts(tp: int, fp: int, tn: int, fn: int) -> dict[str, float]:
    """IF1, SF1, G-Mean, Macro-F1, precision, recall (and the counts) from TP/FP/TN/FN."""
    out = {k: float(v) for k, v in f1_family(tp, fp, tn, fn).items()}
    return out | {"tp": float(tp), "fp": float(fp), "tn": float(tn), "fn": float(fn)}


def chunk_labels(
    times: Sequence[float], labels: Sequence[bool], chunk_s: float = 8.0
) -> list[bool]:
    """Per chunk ``[i·chunk_s, (i+1)·chunk_s)`` containing a decision point, whether any
    of its labels is True; chunks in time order (empty chunks are left out)."""
    chunks: dict[int, bool] = {}
    for t, lab in zip(times, labels, strict=True):
        i = int(math.floor(float(t) / chunk_s + 1e-9))
        chunks[i] = chunks.get(i, False) or bool(lab)
    return [chunks[i] for i in sorted(chunks)]


def chunked_decision_scores(
    episodes: Sequence[tuple[Sequence[float], Sequence[bool], Sequence[bool]]],
    chunk_s: float = 8.0,
) -> dict[str, float]:
    """Decision scores over chunks pooled across episodes.

    Args:
        episodes: Per episode ``(times, gold, pred)`` of its decision points.
        chunk_s: Chunk length in seconds.
    """
    gold, pred = [], []
    for times, g, p in episodes:
        gold += chunk_labels(times, g, chunk_s)
        pred += chunk_labels(times, p, chunk_s)
    return decision_scores(gold, pred)
