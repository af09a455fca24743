"""Comparison figures: ablation bars per label and the paired assistance effect.

- **Ablation bars**: per chosen metric, one bar per label: the value pooled over the
  label's episodes with its bootstrap 95 % CI
  (:func:`proassist.analysis.metrics.scores.score_episodes`).
- **Assistance effect**: for each label that has a silent counterpart (a silent label
  with episodes of the same env settings, tasks and seeds), the per-pair differences
  ``metric(policy episode) - metric(silent episode)`` as dots, and their mean with the
  bootstrap 95 % CI of :func:`proassist.analysis.metrics.stats.assistance_effect` (pairs by
  ``(task, seed)``, metrics ``task_success``, ``recovery_rate``, ``task_time``). An eval
  folder keeps no silent episodes; its ``scores.json`` mean and CI are drawn without dots.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proassist.analysis.plots.data import RunData, env_key, is_silent
from proassist.analysis.plots.style import (
    STYLE,
    grid_shape,
    hide_unused,
    metric_label,
    pyplot,
    save_figure,
    short_label,
)

#: The metrics of the assistance effect (:mod:`proassist.analysis.metrics.stats`).
EFFECT_METRICS: tuple[str, ...] = ("task_success", "recovery_rate", "task_time")
_EFFECT_TITLES = {
    "task_success": "Δ task success (0/1)",
    "recovery_rate": "Δ recovery rate",
    "task_time": "Δ task time (s)",
}


def plot_ablation(
    scores: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str],
    out_dir: Path,
    colors: Mapping[str, str],
) -> list[Path]:
    """One panel per metric, one bar per label with its 95 % CI (``scores`` per label)."""
    plt = pyplot()
    labels = list(scores)
    rows, cols = grid_shape(len(metrics), 3)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            rows,
            cols,
            figsize=(max(3.6, 0.55 * len(labels) + 1.6) * cols, 3.4 * rows + 0.8),
            squeeze=False,
        )
        for ax, metric in zip(axes.flat, metrics, strict=False):
            _bars(ax, [scores[lab] for lab in labels], metric, [colors[lab] for lab in labels])
            ax.set_xticks(range(len(labels)), [short_label(lab, 18) for lab in labels])
            ax.tick_params(axis="x", labelrotation=35, labelsize=7)
            for tick in ax.get_xticklabels():
                tick.set_horizontalalignment("right")
            ax.set_title(metric_label(metric))
        hide_unused(axes, len(metrics))
        fig.suptitle("Per-label scores (pooled over episodes, 95% bootstrap CI)")
        fig.tight_layout()
        return save_figure(fig, out_dir, "ablation")


def _bars(ax: Any, scores: Sequence[Mapping[str, float]], metric: str, colors: list[str]) -> None:
    vals = np.array([float(s.get(metric, math.nan)) for s in scores])
    lo = np.array([float(s.get(f"{metric}_ci_low", math.nan)) for s in scores])
    hi = np.array([float(s.get(f"{metric}_ci_high", math.nan)) for s in scores])
    xs = np.arange(len(vals))
    ax.bar(xs, np.nan_to_num(vals), color=colors, alpha=0.85, width=0.7)
    err = np.nan_to_num(np.vstack([vals - lo, hi - vals]).clip(min=0))
    ax.errorbar(xs, np.nan_to_num(vals), yerr=err, fmt="none", ecolor="black", capsize=3)
    top = np.nanmax(np.concatenate([hi, vals, [0.0]]))
    for x, v in zip(xs, vals, strict=True):
        text = "n/a" if math.isnan(v) else f"{v:.2f}"
        ax.annotate(
            text,
            (x, 0),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            fontsize=7,
            color="white" if v > 0.12 * top else "black",
        )
    if top <= 1.0 and np.nanmin(np.concatenate([lo, vals, [0.0]])) >= 0:
        ax.set_ylim(0, 1.05)


def _paired_values(record: Mapping[str, Any]) -> dict[str, float]:
    from proassist.analysis.metrics.scores import episode_stats, get_metric

    stats = episode_stats(record)
    return {m: float(get_metric(m)(stats)) for m in EFFECT_METRICS}


def _silent_match(data: RunData, recs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    keys = {(env_key(r), r.get("task"), r.get("seed")) for r in recs}
    out = []
    for srecs in data.groups.values():
        if is_silent(srecs):
            out += [s for s in srecs if (env_key(s), s.get("task"), s.get("seed")) in keys]
    return out


def assistance_pairs(
    data: RunData, rng: np.random.Generator | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per non-silent label with silent counterparts, per effect metric:
    ``diffs`` (per pair, NaN pairs left out), ``mean``, ``lo``, ``hi``, ``n_pairs``.

    Episodes pair within one env setting by ``(task, seed)``; episodes without a silent
    twin are left out. An eval folder gives its ``scores.json`` effect without diffs.
    """
    from proassist.analysis.metrics.stats import assistance_effect

    rng = rng if rng is not None else np.random.default_rng(0)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for label, recs in data.groups.items():
        silent = [] if is_silent(recs) else _silent_match(data, recs)
        twins = {(env_key(s), s.get("task"), s.get("seed")): s for s in silent}
        pol = [r for r in recs if (env_key(r), r.get("task"), r.get("seed")) in twins]
        if not pol:
            continue
        sil = [twins[(env_key(r), r.get("task"), r.get("seed"))] for r in pol]
        effect = assistance_effect(pol, sil, rng)
        vals = [(_paired_values(p), _paired_values(s)) for p, s in zip(pol, sil, strict=True)]
        out[label] = {}
        for m in EFFECT_METRICS:
            d = [p[m] - s[m] for p, s in vals if not math.isnan(p[m] - s[m])]
            key = f"assistance_effect_{m}"
            out[label][m] = {"diffs": d, "mean": effect[key], "n_pairs": len(d)}
            out[label][m] |= {"lo": effect[f"{key}_ci_low"], "hi": effect[f"{key}_ci_high"]}
    if not out and data.kind == "eval" and "assistance_effect_task_success" in data.scores:
        out[data.labels[0]] = _from_scores(data.scores)
    return out


def _from_scores(scores: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for m in EFFECT_METRICS:
        key = f"assistance_effect_{m}"
        if key in scores:
            out[m] = {"diffs": [], "mean": scores[key], "n_pairs": scores.get("n_pairs")}
            out[m] |= {"lo": scores.get(f"{key}_ci_low"), "hi": scores.get(f"{key}_ci_high")}
    return out


def _num(x: Any) -> float:
    return math.nan if x is None else float(x)


def plot_assistance_effect(
    effects: Mapping[str, Mapping[str, Mapping[str, Any]]],
    out_dir: Path,
    colors: Mapping[str, str],
    rng: np.random.Generator | None = None,
) -> list[Path] | None:
    """Per effect metric, per label: pair differences (dots) and mean ± 95 % CI.

    Returns:
        The written paths, or None when no label has a silent counterpart.
    """
    if not effects:
        return None
    rng = rng if rng is not None else np.random.default_rng(0)
    plt = pyplot()
    labels = list(effects)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 3, figsize=(max(9.0, 3 * (0.6 * len(labels) + 1.4)), 3.6))
        for ax, metric in zip(axes, EFFECT_METRICS, strict=True):
            for i, label in enumerate(labels):
                st = effects[label].get(metric)
                if st is None:
                    continue
                d = np.asarray(st["diffs"], dtype=float)
                jitter = rng.uniform(-0.18, 0.18, size=d.size)
                ax.scatter(i + jitter, d, s=20, color=colors[label], alpha=0.6, lw=0)
                mean, lo, hi = _num(st["mean"]), _num(st["lo"]), _num(st["hi"])
                yerr = np.nan_to_num([[mean - lo], [hi - mean]]).clip(min=0)
                ax.errorbar(i, mean, yerr=yerr, fmt="D", color="black", ms=5, capsize=4)
                n = st.get("n_pairs")
                note = f"{mean:.2g}" + (f"\nn={int(n)}" if n is not None else "")
                ax.annotate(
                    note,
                    (i, mean),
                    xytext=(7, 0),
                    textcoords="offset points",
                    fontsize=7,
                    va="center",
                )
            ax.axhline(0, color="black", lw=0.8)
            ax.set_xticks(range(len(labels)), [short_label(lab, 18) for lab in labels])
            ax.tick_params(axis="x", labelrotation=35, labelsize=7)
            for tick in ax.get_xticklabels():
                tick.set_horizontalalignment("right")
            ax.set_xlim(-0.6, len(labels) - 0.4)
            ax.set_title(_EFFECT_TITLES[metric])
        fig.suptitle("Assistance effect: policy − silent, paired by (task, seed); mean ± 95% CI")
        fig.tight_layout()
        return save_figure(fig, out_dir, "assistance_effect")
