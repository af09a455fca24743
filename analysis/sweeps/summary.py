"""Summary of a sweep: per label, counts and each chosen metric with its 95 % bootstrap CI.

One definition per metric, the same as ``proassist eval``, the plots and the report
(issue 12): a **registered metric** (:func:`proassist.analysis.metrics.scores.list_metrics`)
is **pooled over the label's episodes** (:func:`~proassist.analysis.metrics.scores.score_episodes`:
the ratio of summed per-episode counts, bootstrap over episodes) whenever the episode
records of all its ``ok`` units are at hand; any other score (a custom unit's) is the
**mean over units** with the percentile bootstrap of the mean
(:func:`proassist.analysis.metrics.stats.bootstrap_ci`). Every stat says which
(``"pooled"``). Both are seeded, so the summary is reproducible. Booleans count as 0/1;
non-numeric and NaN values are left out. The printed ``±`` is the CI half-width.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: Most metric columns the printed table shows when the sweep names none.
MAX_AUTO_METRICS = 6


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def auto_metrics(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Sorted names of numeric scores present in ``ok`` rows (when a sweep names none)."""
    names = {
        k
        for r in rows
        if r.get("status") == "ok"
        for k, v in r.get("scores", {}).items()
        if _number(v) is not None and not k.endswith(("_ci_low", "_ci_high"))
    }
    return sorted(names)


def _metric_stats(values: list[float], rng: np.random.Generator) -> dict[str, Any]:
    from proassist.analysis.metrics.stats import bootstrap_ci

    if not values:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    lo, hi = bootstrap_ci(values, rng=rng)
    return {"mean": float(np.mean(values)), "ci_low": lo, "ci_high": hi, "n": len(values)}


def summarize(
    name: str,
    units: Sequence[Mapping[str, Any]],
    rows: Mapping[str, Mapping[str, Any]],
    metrics: Sequence[str] = (),
    rng: np.random.Generator | None = None,
    episodes: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Summarise the rows of the sweep's units.

    Args:
        name: Sweep name.
        units: The sweep's units (their order gives the order of labels).
        rows: Final result rows by unit id (units without a row are ``pending``).
        metrics: Score names to summarise; all numeric scores when empty.
        rng: Bootstrap generator (``default_rng(0)`` when None).
        episodes: Episode records by unit id; registered metrics are pooled over them.

    Returns:
        ``{"name", "metrics", "n_units", "ok", "failed", "pending", "labels": [...]}``;
        each label entry has ``label``, ``n``, ``ok``, ``failed``, ``pending`` and
        ``metrics: {name: {mean, ci_low, ci_high, n}}``.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    mine = [rows[u["unit_id"]] for u in units if u["unit_id"] in rows]
    metric_names = list(metrics) or auto_metrics(mine)
    by_label: dict[str, list[Mapping[str, Any]]] = {}
    for unit in units:
        by_label.setdefault(unit["label"], []).append(unit)
    eps = episodes or {}
    labels = [_label_entry(lab, us, rows, metric_names, rng, eps) for lab, us in by_label.items()]
    return {
        "name": name,
        "metrics": metric_names,
        "n_units": len(units),
        "ok": sum(e["ok"] for e in labels),
        "failed": sum(e["failed"] for e in labels),
        "pending": sum(e["pending"] for e in labels),
        "labels": labels,
    }


def _label_entry(
    label: str,
    units: list[Mapping[str, Any]],
    rows: Mapping[str, Mapping[str, Any]],
    metric_names: list[str],
    rng: np.random.Generator,
    episodes: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    mine = [rows[u["unit_id"]] for u in units if u["unit_id"] in rows]
    ok = [r for r in mine if r.get("status") == "ok"]
    stats = {}
    for m in metric_names:
        values = [v for r in ok if (v := _number(r.get("scores", {}).get(m))) is not None]
        stats[m] = _metric_stats(values, rng) | {"pooled": False}
    records = [episodes.get(str(r.get("unit_id"))) for r in ok]
    if ok and all(rec is not None for rec in records):
        stats |= _pooled(records, metric_names, rng)
    return {
        "label": label,
        "n": len(units),
        "ok": len(ok),
        "failed": len(mine) - len(ok),
        "pending": len(units) - len(mine),
        "metrics": stats,
    }


def _pooled(
    records: list[Any], metric_names: list[str], rng: np.random.Generator
) -> dict[str, dict[str, Any]]:
    """Registered metrics pooled over ``records`` (as the plots and the report do)."""
    from proassist.analysis.metrics.scores import list_metrics, score_episodes

    names = [m for m in metric_names if m in set(list_metrics())]
    if not names:
        return {}
    scores = score_episodes(records, rng=rng)
    out = {}
    for m in names:
        mean, lo, hi = (_number(scores.get(k)) for k in (m, f"{m}_ci_low", f"{m}_ci_high"))
        out[m] = {"mean": mean, "ci_low": lo, "ci_high": hi, "n": len(records), "pooled": True}
    return out


def _cell(stat: Mapping[str, Any]) -> str:
    if stat["mean"] is None:
        return "n/a"
    lo, hi = stat["ci_low"], stat["ci_high"]
    if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return f"{stat['mean']:.3g}"
    return f"{stat['mean']:.3g} ± {max(hi - stat['mean'], stat['mean'] - lo):.2g}"


def format_table(summary: Mapping[str, Any], max_metrics: int | None = None) -> str:
    """A plain-text table: label, ok/n, failed, then ``value ± 95 % CI half-width`` per
    metric (module docstring: pooled over episodes for registered metrics)."""
    metrics = list(summary["metrics"])[: max_metrics or None]
    header = ["label", "ok/n", "failed", *metrics]
    body = [
        [e["label"], f"{e['ok']}/{e['n']}", str(e["failed"])]
        + [_cell(e["metrics"][m]) for m in metrics]
        for e in summary["labels"]
    ]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
