"""Issue 11's goals for a learned assistant, read from ``proassist sanity`` results.

:data:`GOALS` are the targets (as data) that a row of the sanity table (by default
:data:`GOAL_ROW`, the best non-privileged assistant) is held to, checked with 95 % CIs
on one or more ``sanity.json`` results (``proassist goals``; ``proassist sanity``
writes them for its own run):

- a **paired** goal compares per-seed net assistance with other rows run on the same
  seeds: the per-seed differences ``row - fraction * other`` (each seed's value the
  mean over its envs) with a bootstrap CI over seeds, each seed with its episodes in
  every env (:func:`~proassist.analysis.sanity_ci.seed_means`); with several other
  rows the worst decides; ``apart`` also asks the two rows' own CIs not to overlap;
- any other goal compares the row's value of a metric (the mean over envs) with a
  threshold, with the CI that ``sanity.json`` holds for it (a bootstrap over seeds,
  :func:`~proassist.analysis.sanity_ci.seed_block_metrics`, where the run kept each
  seed's episode statistics).

A goal is **met** when its whole CI is on the goal's side of the threshold, **unmet**
when it is all on the other side, **undecided** when it straddles it, and n/a when a
value is missing (a row not run, or a ``sanity.json`` written before it kept per-seed
values). Several results are pooled as one larger seed set: their seeds must differ and
their envs agree; per-seed values and episode statistics are joined (a metric is then
computed on the joined seeds as on one run); results without per-seed statistics give
seed-weighted means of their values with the CIs combined as standard errors
(:func:`~proassist.analysis.sanity_ci.mean_ci_bound`). The per-decision latency goal
is measured by ``make bench``, not here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from proassist.analysis.metrics.stats import bootstrap_ci
from proassist.analysis.sanity import CONTENT_BLIND
from proassist.analysis.sanity_ci import (
    CI_SUFFIXES,
    KINDS_KEY,
    STATS_KEY,
    as_number,
    join_tables,
    mean_ci_bound,
    seed_block_metrics,
    seed_means,
)
from proassist.analysis.sanity_report import format_value

__all__ = [
    "GOALS",
    "GOAL_ROW",
    "Goal",
    "GoalCheck",
    "RowView",
    "check_goals",
    "check_poolable",
    "goal_lines",
    "merged_stats",
    "paired_seeds",
    "row_views",
]

#: The row held to :data:`GOALS` unless another is named.
GOAL_ROW = "stepwatch+learned"


@dataclass(frozen=True)
class Goal:
    """One goal of the assistant row (module docstring).

    Attributes:
        name: Short id.
        text: What is required, in words.
        metric: Score key (a paired goal: ``net_assistance``, per seed).
        op: ``">="``, ``">"`` or ``"<="``: how the value must compare with ``target``.
        target: The threshold.
        versus: Rows a paired goal compares with (empty: not paired).
        fraction: A paired goal's value is ``row - fraction * other`` per seed.
        apart: A paired goal is met only if the row's CI also lies above the other's.
    """

    name: str
    text: str
    metric: str
    op: str
    target: float
    versus: tuple[str, ...] = ()
    fraction: float = 1.0
    apart: bool = False

    def __post_init__(self) -> None:
        if self.op not in (">=", ">", "<="):
            raise ValueError(f"goal {self.name!r}: op must be '>=', '>' or '<=', got {self.op!r}")


#: Issue 11's goals (measured on held-out seeds, all three envs, 95 % CIs).
GOALS: tuple[Goal, ...] = (
    Goal(
        "half-oracle",
        "net assistance >= half the oracle's (paired: row - 0.5 x oracle >= 0)",
        "net_assistance",
        ">=",
        0.0,
        ("oracle",),
        0.5,
    ),
    Goal(
        "above-blind",
        "net assistance above every content-blind row, CIs apart",
        "net_assistance",
        ">",
        0.0,
        CONTENT_BLIND,
        apart=True,
    ),
    Goal("interruptions", "<= 6 interruptions a minute", "interruptions_per_min", "<=", 6.0),
    Goal("oop-recall", "content-aware OOP recall >= 0.6", "oop_recall", ">=", 0.6),
)


@dataclass
class RowView:
    """One row over the pooled results.

    Attributes:
        seeds: ``{seed: net assistance, mean over envs}``; None without per-seed values.
        scores: Metric values and their CI bounds (pooled: seed-weighted).
    """

    seeds: dict[int, float] | None
    scores: dict[str, float | None]


@dataclass
class GoalCheck:
    """The outcome of one :class:`Goal`.

    Attributes:
        goal: What was checked.
        status: ``"met"``, ``"unmet"``, ``"undecided"`` or ``"n/a"``.
        value: The goal's value (a paired goal: the mean difference that decides).
        low: Its 95 % CI's lower bound.
        high: Its upper bound.
        versus: The other row that decides a paired goal (None otherwise).
        detail: The numbers behind it, in words.
    """

    goal: Goal
    status: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    versus: str | None = None
    detail: str = ""


def row_views(
    results: Sequence[Mapping[str, Any]], metrics: Iterable[str] = (g.metric for g in GOALS)
) -> dict[str, RowView]:
    """Every row that ran without errors in all of ``results``, pooled (module doc).

    Args:
        results: ``sanity.json`` results (:func:`~proassist.analysis.sanity.run_sanity`).
        metrics: The metrics whose values and CIs are pooled (one result: all of them).

    Returns:
        ``{label: RowView}``.

    Raises:
        ValueError: If ``results`` is empty, their envs or env kwargs differ or their
            seeds overlap.
    """
    check_poolable(results)
    metrics = sorted(set(metrics))
    weights = {str(i): float(len(r["seeds"])) for i, r in enumerate(results)}
    tables = [{row["label"]: row for row in r["rows"] if not row.get("errors")} for r in results]
    labels = [lb for lb in tables[0] if all(lb in t for t in tables[1:])]
    out = {}
    for label in labels:
        rows = [t[label] for t in tables]
        out[label] = RowView(_joined_seeds(rows), _pooled_scores(rows, weights, metrics))
    return out


def check_poolable(results: Sequence[Mapping[str, Any]]) -> None:
    """Raise ``ValueError`` unless ``results`` can be pooled (see :func:`row_views`)."""
    if not results:
        raise ValueError("no sanity results to read")
    envs = [sorted(r["envs"]) for r in results]
    if any(e != envs[0] for e in envs[1:]):
        raise ValueError(f"sanity results on different envs: {envs}")
    settings = [r.get("env_kwargs") or {} for r in results]
    if any(k != settings[0] for k in settings[1:]):
        raise ValueError(f"sanity results with different env kwargs: {settings}")
    backends = sorted({b for r in results for b in _backends(r)})
    if len(backends) > 1:
        raise ValueError(f"sanity results scored with different text similarities: {backends}")
    seen: set[int] = set()
    for r in results:
        both = seen & {int(s) for s in r["seeds"]}
        if both:
            raise ValueError(f"sanity results share seeds {sorted(both)[:5]}: pool disjoint sets")
        seen |= {int(s) for s in r["seeds"]}


def _backends(result: Mapping[str, Any]) -> set[str]:
    """The text-similarity backends a result's cells were scored with."""
    cells = (s for row in result["rows"] for s in (row.get("per_env") or {}).values())
    return {str(s["text_sim_backend"]) for s in cells if s.get("text_sim_backend")}


def _joined_seeds(rows: Sequence[Mapping[str, Any]]) -> dict[int, float] | None:
    """The rows' per-seed net assistance joined (None if one has none)."""
    out: dict[int, float] = {}
    for row in rows:
        means = seed_means(row["per_env"])
        if means is None:
            return None
        out.update(means)
    return out


def _pooled_scores(
    rows: Sequence[Mapping[str, Any]], weights: Mapping[str, float], metrics: Sequence[str]
) -> dict[str, float | None]:
    """``metrics`` and their CI bounds over ``rows``: from the joined per-seed statistics,
    else seed-weighted (module doc)."""
    if len(rows) == 1:
        return dict(rows[0]["scores"])
    merged = merged_stats(rows)
    scores = {str(i): row["scores"] for i, row in enumerate(rows)}
    out: dict[str, float | None] = {}
    blocks = seed_block_metrics(merged, metrics) if merged else {}
    for metric in metrics:
        block = blocks.get(metric)
        if block is not None:
            out[metric], out[metric + CI_SUFFIXES[0]], out[metric + CI_SUFFIXES[1]] = block
            continue
        values = [as_number(s.get(metric)) for s in scores.values()]
        if any(v is None for v in values):
            out[metric] = None
            continue
        out[metric] = float(np.average(values, weights=list(weights.values())))
        for suffix in CI_SUFFIXES:
            out[metric + suffix] = mean_ci_bound(scores, metric + suffix, weights)
    return out


def merged_stats(
    rows: Sequence[Mapping[str, Any]], key: str = STATS_KEY
) -> dict[str, dict[str, Any]] | None:
    """The rows' per-seed tables ``key`` (default the episode statistics) joined per env
    (one larger seed set, :func:`~proassist.analysis.sanity_ci.join_tables`; the kinds
    of :data:`~proassist.analysis.sanity_ci.KINDS_KEY` united); None unless every row
    has them in the same envs, with the same statistics."""
    tables: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        for env, scores in row["per_env"].items():
            if not scores.get(key):
                return None
            tables.setdefault(env, []).append(scores[key])
    if any(set(row["per_env"]) != set(tables) for row in rows):
        return None
    joined = {e: join_tables(t, united=key == KINDS_KEY) for e, t in tables.items()}
    return None if None in joined.values() else {e: {key: v} for e, v in joined.items()}


def check_goals(
    results: Sequence[Mapping[str, Any]], row: str = GOAL_ROW, goals: Sequence[Goal] = GOALS
) -> list[GoalCheck]:
    """Check ``goals`` for ``row`` on ``results`` (one or more ``sanity.json``), pooled.

    Args:
        results: ``sanity.json`` results; several are pooled (:func:`row_views`).
        row: The row held to the goals.
        goals: The goals.

    Returns:
        One :class:`GoalCheck` per goal, in order.

    Raises:
        ValueError: As :func:`row_views`.
    """
    views = row_views(results, (g.metric for g in goals))
    if row not in views:
        return [GoalCheck(g, "n/a", detail=_absent(results, row)) for g in goals]
    out = []
    for goal in goals:
        if not goal.versus:
            out.append(_plain(goal, views[row]))
            continue
        missing = {o: _absent(results, o) for o in goal.versus if o not in views}
        out.append(_paired(goal, row, views, missing))
    return out


def _absent(results: Sequence[Mapping[str, Any]], label: str) -> str:
    """Why row ``label`` is not in :func:`row_views`: not run, or errored where."""
    for result in results:
        row = next((r for r in result["rows"] if r["label"] == label), None)
        if row is None:
            return f"{label} did not run"
        if row.get("errors"):
            return f"{label} errored in {', '.join(sorted(row['errors']))}"
    return f"{label} is missing"


def _status(op: str, target: float, low: float, high: float) -> str:
    """met / unmet / undecided: where the CI ``[low, high]`` lies against ``target``."""
    if op == "<=":
        return "met" if high <= target else "unmet" if low > target else "undecided"
    above = low > target if op == ">" else low >= target
    below = high <= target if op == ">" else high < target
    return "met" if above else "unmet" if below else "undecided"


def _plain(goal: Goal, view: RowView) -> GoalCheck:
    """A goal on the row's own value of ``goal.metric``."""
    value = as_number(view.scores.get(goal.metric))
    low, high = (as_number(view.scores.get(goal.metric + s)) for s in CI_SUFFIXES)
    if value is None or low is None or high is None:
        return GoalCheck(goal, "n/a", value, detail=f"no {goal.metric} or its CI")
    status = _status(goal.op, goal.target, low, high)
    detail = f"{format_value(value)} [{format_value(low)}, {format_value(high)}]"
    return GoalCheck(goal, status, value, low, high, None, detail)


def _paired(
    goal: Goal, row: str, views: Mapping[str, RowView], missing: Mapping[str, str]
) -> GoalCheck:
    """A paired goal: the per-seed differences to each of ``goal.versus`` (``missing``:
    those not in ``views``, with why); the worst decides, an unmet one before n/a."""
    mine = views[row].seeds
    if mine is None:
        return GoalCheck(goal, "n/a", detail=f"{row}: no per-seed values")
    checks = [GoalCheck(goal, "n/a", versus=o, detail=why) for o, why in missing.items()]
    for other in (o for o in goal.versus if o not in missing):
        theirs = views[other].seeds
        if theirs is None:
            checks.append(
                GoalCheck(goal, "n/a", versus=other, detail=f"{other}: no per-seed values")
            )
            continue
        checks.append(_pair(goal, row, mine, other, theirs))
    order = {"unmet": 0, "n/a": 1, "undecided": 2, "met": 3}
    return min(checks, key=lambda c: (order[c.status], c.value if c.value is not None else 0.0))


def _pair(
    goal: Goal, row: str, mine: Mapping[int, float], other: str, theirs: Mapping[int, float]
) -> GoalCheck:
    """:func:`_paired` against one other row, on the seeds both ran."""
    paired = paired_seeds(mine, theirs, goal.fraction)
    if paired is None:
        detail = f"no seed with values of both {row} and {other}"
        return GoalCheck(goal, "n/a", versus=other, detail=detail)
    a, b, diffs, (low, high) = paired
    status = _status(goal.op, goal.target, low, high)
    (alow, ahigh), (blow, bhigh) = bootstrap_ci(list(a)), bootstrap_ci(list(b))
    detail = (
        f"{row} {_signed(a.mean())} [{_signed(alow)}, {_signed(ahigh)}] - "
        f"{goal.fraction:g} x {other} {_signed(b.mean())} [{_signed(blow)}, {_signed(bhigh)}]"
        f" = {_signed(diffs.mean())} [{_signed(low)}, {_signed(high)}] over {len(diffs)} seeds"
    )
    if goal.fraction != 1.0:
        detail += f"; {row} / {other} {_ratio(a, b)}"
    if goal.apart:
        apart = alow > bhigh
        status = "undecided" if status == "met" and not apart else status
        detail += "; CIs apart" if apart else "; CIs overlap"
    return GoalCheck(goal, status, float(diffs.mean()), low, high, other, detail)


def paired_seeds(
    mine: Mapping[int, float], theirs: Mapping[int, float], fraction: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[float, float]] | None:
    """``(a, b, a - fraction * b, its bootstrap 95 % CI)`` over the seeds both
    ``{seed: value}`` have finite values for (in seed order); None when there is none."""
    common = [s for s in sorted(set(mine) & set(theirs)) if np.isfinite(mine[s] + theirs[s])]
    if not common:
        return None
    a, b = np.array([mine[s] for s in common]), np.array([theirs[s] for s in common])
    diffs = a - fraction * b
    return a, b, diffs, bootstrap_ci(list(diffs))


def _ratio(a: np.ndarray, b: np.ndarray) -> str:
    """``mean(a) / mean(b)`` with a bootstrap CI over the paired seeds."""
    if b.mean() == 0.0:
        return "n/a"

    def ratio(idx: np.ndarray) -> float:
        i = idx.astype(int)
        return float(a[i].mean() / b[i].mean()) if b[i].mean() != 0.0 else float("nan")

    low, high = bootstrap_ci(list(range(len(a))), statistic=ratio)
    return f"{a.mean() / b.mean():.2f} [{low:.2f}, {high:.2f}]"


def _signed(value: float) -> str:
    return format_value(value, signed=True)


_MARK = {"met": "✔", "unmet": "✖", "undecided": "~", "n/a": "?"}


def goal_lines(checks: Sequence[GoalCheck], row: str = GOAL_ROW) -> list[str]:
    """One line per goal: mark, what it requires, its status and the numbers.

    Args:
        checks: :func:`check_goals`' outcomes.
        row: The row they are of.

    Returns:
        The lines (plain text; ``proassist sanity`` prefixes ``- `` for Markdown).
    """
    return [
        f"{_MARK[c.status]} {row}: {c.goal.text}: {c.status.upper()} ({c.detail})" for c in checks
    ]
