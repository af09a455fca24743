"""PWR-comparable decision metrics on a balanced instance set (``pwr_*``).

PWR ("Plan, Watch, Recover") scores one interrupt/silent decision per *instance*, on an
instance set with as many gold-interrupt as gold-silent instances, so a coin flipping
50/50 gets IF1 = SF1 = G-Mean ≈ 0.5 and always-interrupt gets SF1 = G-Mean = 0. In a
stream every decision point is a candidate instance; per episode:

- **Positive instances**: per gold moment ``m`` (:func:`proassist.sim.gold.gold_moments`),
  its *anchor point*: the first decision point ``t_k >= m.t`` whose gold moment
  (:func:`proassist.sim.gold.moment_at`, the scorer's priority rule) is ``m``; a moment
  that owns no such point (covered by a higher-priority moment) has none. This is the
  time an assistant that has seen the event answers it (the next observation).
- **Negative instances**: the gold-silent decision points (in no gold window).
- **Balancing**: ``n = min(#positive, #negative)`` of each, drawn without replacement by
  ``numpy.random.default_rng([crc32(task), seed])`` (the record's task and seed), so the
  set is deterministic per record and the same for every assistant on that seed.
- **Prediction** of an instance: the policy's decision at that point (interrupt or not;
  content is not judged, as in PWR's IF1).

Counts are pooled over episodes and scored with the usual formulas:
``pwr_if1 = 2·TP / (2·TP + FP + FN)``, ``pwr_sf1 = 2·TN / (2·TN + FN + FP)``,
``pwr_g_mean = √(pwr_if1 · pwr_sf1)``, ``pwr_macro_f1``, ``pwr_precision``,
``pwr_recall`` (:mod:`.scores`). Floors: a predictor independent of the gold labels that
interrupts with probability ``q`` at every instance has expected IF1 = 2q / (1 + 2q) and
SF1 = 2(1 - q) / (3 - 2q), so G-Mean ≤ 0.5 (coin, q = 0.5: 0.5; always-interrupt: 0).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from proassist.sim.gold import GoldMoment


def instance_rng(record: Mapping[str, Any]) -> np.random.Generator:
    """The record's deterministic sampling generator (task and seed)."""
    task = zlib.crc32(str(record.get("task", "")).encode("utf-8"))
    seed = int(record.get("seed") or 0) & 0xFFFFFFFF
    return np.random.default_rng([task, seed])


def anchor_points(
    times: Sequence[float], content: Sequence[GoldMoment | None], moments: Sequence[GoldMoment]
) -> list[int]:
    """Per gold moment that owns one, the index of its anchor decision point (sorted)."""
    out: set[int] = set()
    for m in moments:
        for k, (t, owner) in enumerate(zip(times, content, strict=True)):
            if t >= m.t - 1e-9 and owner == m:
                out.add(k)
                break
    return sorted(out)


def balanced_instances(
    times: Sequence[float],
    content: Sequence[GoldMoment | None],
    moments: Sequence[GoldMoment],
    rng: np.random.Generator,
) -> tuple[list[int], list[int]]:
    """``(positive indices, negative indices)`` of the balanced set (module docstring)."""
    pos = anchor_points(times, content, moments)
    neg = [k for k, owner in enumerate(content) if owner is None]
    n = min(len(pos), len(neg))
    if n == 0:
        return [], []
    pick_pos = rng.choice(len(pos), size=n, replace=False) if len(pos) > n else range(n)
    pick_neg = rng.choice(len(neg), size=n, replace=False)
    return sorted(pos[i] for i in pick_pos), sorted(neg[i] for i in pick_neg)


def balanced_counts(
    record: Mapping[str, Any],
    times: Sequence[float],
    content: Sequence[GoldMoment | None],
    moments: Sequence[GoldMoment],
    pred: Sequence[bool],
) -> dict[str, float]:
    """``pwr_tp, pwr_fp, pwr_tn, pwr_fn`` of one episode on its balanced instance set."""
    pos, neg = balanced_instances(times, content, moments, instance_rng(record))
    tp = sum(bool(pred[k]) for k in pos)
    fp = sum(bool(pred[k]) for k in neg)
    return {
        "pwr_tp": float(tp),
        "pwr_fn": float(len(pos) - tp),
        "pwr_fp": float(fp),
        "pwr_tn": float(len(neg) - fp),
    }
