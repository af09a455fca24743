"""Paired differences between two rows of ``proassist sanity`` results (``proassist compare``).

Two assistants run on the same seeds of the same envs (one sanity run, or several pooled
as :mod:`~proassist.analysis.goals` pools them: disjoint seeds, the same envs and env
kwargs) are compared **paired**, so the person's and the deviations' randomness, shared
by a seed, cancels:

- net assistance: each seed's value (the mean over its envs) of row A minus row B's, a
  bootstrap over those differences (:func:`~proassist.analysis.goals.paired_seeds`);
- a registered episode metric: A's metric minus B's, both made from the seeds' episode
  statistics as their values are (the mean over the envs where both rows have a
  value), with one bootstrap over seeds that resamples a seed's
  episodes of both rows in every env together
  (:func:`~proassist.analysis.sanity_ci.seed_block_difference`). The Δ success between A
  and B is the ``task_success`` difference (the silent run cancels);
- a per-kind recall (``oop_recall_<kind>``, ``oop_recall_any_<kind>``): the same from
  each seed's detections by kind.

A difference is *shown* when its 95 % CI excludes 0. Rows added with ``proassist sanity
--add-row`` compare like the reference rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from proassist.analysis.goals import merged_stats, paired_seeds, row_views
from proassist.analysis.sanity_ci import KINDS_KEY, difference_metric, seed_block_difference

__all__ = ["DEFAULT_METRICS", "Difference", "compare_rows", "difference_lines"]

#: What ``proassist compare`` reports unless told otherwise.
DEFAULT_METRICS: tuple[str, ...] = (
    "net_assistance",
    "task_success",
    "interruptions_per_min",
    "oop_recall",
    "oop_precision",
    "pwr_g_mean",
    "trust_at_message",
)


@dataclass
class Difference:
    """Row A minus row B on one metric, paired over seeds.

    Attributes:
        metric: ``net_assistance``, a registered episode metric or a per-kind recall.
        value: The difference (None: not computable, e.g. a row without per-seed values).
        low: Its 95 % CI's lower bound.
        high: Its upper bound.
        seeds: The seeds it is paired over.
        envs: The envs it averages (a metric: those where both rows have a value).
        reason: Why there is no value.
    """

    metric: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    seeds: int = 0
    envs: int = 0
    reason: str = ""


def compare_rows(
    results: Sequence[Mapping[str, Any]], a: str, b: str, metrics: Sequence[str] = DEFAULT_METRICS
) -> list[Difference]:
    """Row ``a`` minus row ``b`` on each of ``metrics`` over ``results``, pooled.

    Raises:
        ValueError: As :func:`~proassist.analysis.goals.row_views`, or when a row did not
            run without errors in every result.
        KeyError: On a metric that is neither ``net_assistance``, registered, nor a
            per-kind recall of a registered kind (with "did you mean").
    """
    keys = {m: difference_metric(m)[0] for m in metrics if m != "net_assistance"}
    views = row_views(results, ())
    for label in (a, b):
        if label not in views:
            raise ValueError(f"row {label!r} did not run without errors in every result")
    tables = {(r, k): _row_tables(results, r, k) for r in (a, b) for k in set(keys.values())}
    n_envs = len(results[0]["envs"])
    out = []
    for metric in metrics:
        if metric == "net_assistance":
            out.append(_net(views[a].seeds, views[b].seeds, n_envs))
            continue
        mine, theirs = tables[a, keys[metric]], tables[b, keys[metric]]
        got = seed_block_difference(mine, theirs, metric) if mine and theirs else None
        why = _NO_STATS if not (mine and theirs) else _UNDEFINED[keys[metric] == KINDS_KEY]
        out.append(Difference(metric, *got) if got else Difference(metric, reason=why))
    return out


_NO_STATS = "no per-seed tables of both rows (a run written before they were kept)"
_UNDEFINED = (
    "not defined for both rows in any env on their shared seeds (e.g. no messages)",
    "no deviation of the kind met by both rows in any env on their shared seeds",
)


def _net(
    mine: Mapping[int, float] | None, theirs: Mapping[int, float] | None, n_envs: int
) -> Difference:
    """The paired net-assistance difference of two rows' per-seed values."""
    if mine is None or theirs is None:
        return Difference("net_assistance", reason="no per-seed net values of both rows")
    paired = paired_seeds(mine, theirs)
    if paired is None:
        return Difference("net_assistance", reason="no seed with values of both rows")
    _, _, diffs, (low, high) = paired
    return Difference("net_assistance", float(np.mean(diffs)), low, high, len(diffs), n_envs)


def _row_tables(
    results: Sequence[Mapping[str, Any]], label: str, key: str
) -> dict[str, Any] | None:
    """Row ``label``'s ``per_env`` (one result) or its per-seed tables ``key`` joined over
    ``results`` (:func:`~proassist.analysis.goals.merged_stats`)."""
    rows = [next(r for r in result["rows"] if r["label"] == label) for result in results]
    if len(rows) > 1:
        return merged_stats(rows, key)
    per_env = rows[0]["per_env"]
    return dict(per_env) if all(scores.get(key) for scores in per_env.values()) else None


def difference_lines(diffs: Sequence[Difference], a: str, b: str) -> list[str]:
    """One line per metric: ``a - b``, the CI, the seeds and envs, and which is higher if
    shown (or why there is no value)."""
    lines = []
    for d in diffs:
        if d.value is None or d.low is None or d.high is None:
            lines.append(f"{d.metric}: n/a ({d.reason})")
            continue
        shown = a if d.low > 0 else b if d.high < 0 else None
        verdict = f"{shown} higher" if shown else "no difference shown"
        lines.append(
            f"{d.metric}: {a} - {b} = {d.value:+.3f} [{d.low:+.3f}, {d.high:+.3f}] "
            f"over {d.seeds} seeds, {d.envs} env{'' if d.envs == 1 else 's'}: {verdict}"
        )
    return lines
