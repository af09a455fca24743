"""Timing figures: detection-latency CDFs, time-matched P/R/F1 against tolerance, and
recovery rate by deviation kind.

Each figure has a pure data function (records in, numbers out, tested on its own) and a
drawing function that writes PNG + SVG with the shared style
(:mod:`proassist.analysis.plots.style`).

- **Latency CDF** per deviation kind and label: ``F(x)`` = fraction of that kind's
  deviations first detected with latency ``<= x`` (latency as in
  :func:`proassist.analysis.metrics.scores.oop_detections`); a curve levels off at the fraction
  ever detected inside the deviation's active span.
- **Tolerance curves**: for a tolerance ``tau`` every window of
  :class:`~proassist.sim.gold.GoldConfig` (and ``oop_tolerance``) is scaled by
  ``tau / GoldConfig().deviation_late`` (so ``tau = 2 s`` is the default config: deviation
  onset ± 2 s, next-step guidance 3 s early / 1.5 s late); messages are matched again
  (:func:`~proassist.analysis.metrics.scores.match_messages`) and precision = ΣM/ΣP, recall =
  ΣM/ΣG, F1 = 2ΣM/(ΣP+ΣG) pooled over the label's episodes, with a bootstrap 95 % band
  for F1 (episodes resampled).
- **Recovery by kind**: recovered / deviations of the kind, pooled over the label's
  episodes, with a bootstrap 95 % CI (episodes resampled); the hatched part is the
  share recovered with the assistant's help.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proassist.analysis.metrics.stats import N_BOOT, bootstrap_counts, percentile_ci
from proassist.analysis.plots.style import (
    KIND_COLORS,
    SILENT_COLOR,
    STYLE,
    grid_shape,
    hide_unused,
    pyplot,
    save_figure,
    short_label,
)
from proassist.sim.gold import GoldConfig

Groups = Mapping[str, Sequence[Mapping[str, Any]]]
#: Tolerances (s) of the P/R/F1 curves.
DEFAULT_TOLERANCES: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
_WINDOW_FIELDS = (
    "next_early",
    "next_late",
    "deviation_early",
    "deviation_late",
    "question_late",
    "hesitation_late",
    "opening_late",
    "oop_tolerance",
)


def _kinds(groups: Groups, config: GoldConfig) -> list[str]:
    from proassist.analysis.metrics.scores import oop_detections

    kinds = {str(d["kind"]) for recs in groups.values() for r in recs for d in oop_detections(r)}
    order = list(KIND_COLORS)
    return sorted(kinds, key=lambda k: (order.index(k) if k in order else len(order), k))


def latency_curves(
    groups: Groups, config: GoldConfig | None = None
) -> dict[str, dict[str, tuple[list[float], int]]]:
    """Per deviation kind, per label: ``(sorted latencies of detected deviations, n)``
    where ``n`` counts every deviation of that kind (detected or not)."""
    from proassist.analysis.metrics.scores import oop_detections

    out: dict[str, dict[str, tuple[list[float], int]]] = {}
    for label, recs in groups.items():
        dets = [d for r in recs for d in oop_detections(r, config)]
        for kind in {str(d["kind"]) for d in dets}:
            mine = [d for d in dets if str(d["kind"]) == kind]
            lat = sorted(float(d["latency"]) for d in mine if d["latency"] is not None)
            out.setdefault(kind, {})[label] = (lat, len(mine))
    order = _kinds(groups, config or GoldConfig())
    return {k: out[k] for k in order if k in out}


def _draw_cdf(ax: Any, lat: list[float], n: int, x_max: float, x_min: float, **kw: Any) -> Any:
    xs = [x_min, *lat, x_max]
    ys = [0.0, *[(i + 1) / n for i in range(len(lat))], len(lat) / n]
    (line,) = ax.step(xs, ys, where="post", lw=1.8, **kw)
    return line


def plot_latency_cdfs(
    groups: Groups, out_dir: Path, colors: Mapping[str, str], config: GoldConfig | None = None
) -> list[Path] | None:
    """Detection-latency CDFs, one panel per deviation kind, one line per label.

    Returns:
        The written paths, or None when no episode has a deviation.
    """
    cfg = config or GoldConfig()
    curves = latency_curves(groups, cfg)
    if not curves:
        return None
    plt = pyplot()
    all_lat = [x for per in curves.values() for lat, _ in per.values() for x in lat]
    x_min, x_max = -cfg.oop_tolerance - 0.5, max([cfg.oop_tolerance * 2, *all_lat]) + 0.5
    with plt.rc_context(STYLE):
        rows, cols = grid_shape(len(curves), 4)
        fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.7 * rows + 0.6), squeeze=False)
        handles: dict[str, Any] = {}
        for ax, (kind, per) in zip(axes.flat, curves.items(), strict=False):
            for label, (lat, n) in per.items():
                ls = "--" if colors[label] == SILENT_COLOR else "-"
                handles[label] = _draw_cdf(ax, lat, n, x_max, x_min, color=colors[label], ls=ls)
            ax.axvspan(-cfg.oop_tolerance, cfg.oop_tolerance, color="#ffd166", alpha=0.25, lw=0)
            ax.set_title(f"{kind} ({_n_text(per)})", color=KIND_COLORS.get(kind, "black"))
            ax.set_ylim(-0.02, 1.05)
            ax.set_xlim(x_min, x_max)
        hide_unused(axes, len(curves))
        for ax in axes[:, 0]:
            ax.set_ylabel("fraction detected")
        for ax in axes[-1, :]:
            ax.set_xlabel("latency after onset (s)")
        _legend(fig, handles)
        fig.suptitle(f"Detection latency by deviation kind (yellow: ±{cfg.oop_tolerance:g} s)")
        fig.tight_layout(rect=(0, 0.06 + 0.02 * (len(handles) // 4), 1, 1))
        return save_figure(fig, out_dir, "latency_cdf")


def _n_text(per: Mapping[str, tuple[list[float], int]]) -> str:
    ns = sorted({n for _, n in per.values()})
    return f"n={ns[0]} per label" if len(ns) == 1 else f"n={min(ns)}–{max(ns)} per label"


def _legend(fig: Any, handles: Mapping[str, Any]) -> None:
    fig.legend(
        list(handles.values()),
        [short_label(lab, 40) for lab in handles],
        loc="lower center",
        ncol=min(4, len(handles)),
        frameon=False,
    )


def scaled_config(tau: float, base: GoldConfig | None = None) -> GoldConfig:
    """``base`` with every window scaled by ``tau / base.deviation_late`` (module docstring).

    Raises:
        ValueError: If ``tau`` is not positive.
    """
    base = base or GoldConfig()
    if not tau > 0:
        raise ValueError(f"tolerance must be > 0 s, got {tau}")
    k = tau / base.deviation_late
    return dataclasses.replace(base, **{f: getattr(base, f) * k for f in _WINDOW_FIELDS})


def _match_counts(record: Mapping[str, Any], cfg: GoldConfig) -> tuple[int, int, int]:
    from proassist.analysis.metrics.content import messages_of
    from proassist.analysis.metrics.scores import match_messages
    from proassist.sim.gold import gold_moments

    res = match_messages(messages_of(record), gold_moments(record, cfg), cfg)
    return res.n_matched, res.n_pred, res.n_gold


def _f1(m: np.ndarray, p: np.ndarray, g: np.ndarray) -> np.ndarray:
    den = p + g
    return np.where(den > 0, 2 * m / np.where(den > 0, den, 1), 0.0)


def tolerance_curves(
    groups: Groups,
    taus: Sequence[float] = DEFAULT_TOLERANCES,
    rng: np.random.Generator | None = None,
    n_boot: int = N_BOOT,
) -> dict[str, dict[str, list[float]]]:
    """Per label: ``tau, precision, recall, f1, f1_lo, f1_hi`` lists, one entry per tau."""
    rng = rng if rng is not None else np.random.default_rng(0)
    out: dict[str, dict[str, list[float]]] = {}
    for label, recs in groups.items():
        cur: dict[str, list[float]] = {k: [] for k in ("precision", "recall", "f1")}
        cur |= {"tau": [float(t) for t in taus], "f1_lo": [], "f1_hi": []}
        counts = bootstrap_counts(len(recs), rng, n_boot)
        for tau in taus:
            mat = np.array([_match_counts(r, scaled_config(tau)) for r in recs], dtype=float)
            m, p, g = mat.sum(axis=0)
            cur["precision"].append(m / p if p else 0.0)
            cur["recall"].append(m / g if g else 0.0)
            cur["f1"].append(float(_f1(m, p, g)))
            boot = counts @ mat
            lo, hi = percentile_ci(_f1(boot[:, 0], boot[:, 1], boot[:, 2]))
            cur["f1_lo"].append(lo)
            cur["f1_hi"].append(hi)
        out[label] = cur
    return out


def plot_tolerance_curves(
    groups: Groups,
    out_dir: Path,
    colors: Mapping[str, str],
    taus: Sequence[float] = DEFAULT_TOLERANCES,
    rng: np.random.Generator | None = None,
) -> list[Path]:
    """Time-matched precision, recall and F1 (with 95 % band) against the tolerance."""
    curves = tolerance_curves(groups, taus, rng)
    plt = pyplot()
    default = GoldConfig().deviation_late
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), sharey=True)
        handles = {}
        for ax, key in zip(axes, ("precision", "recall", "f1"), strict=True):
            for label, cur in curves.items():
                (handles[label],) = ax.plot(
                    cur["tau"], cur[key], marker="o", ms=3.5, color=colors[label]
                )
                if key == "f1":
                    ax.fill_between(
                        cur["tau"], cur["f1_lo"], cur["f1_hi"], color=colors[label], alpha=0.15
                    )
            ax.axvline(default, color="black", ls=":", lw=1)
            ax.set_title({"f1": "F1 (95% CI band)"}.get(key, key.capitalize()))
            ax.set_xlabel("tolerance τ (s)")
            ax.set_ylim(-0.02, 1.02)
        axes[0].set_ylabel("time-matched score")
        axes[0].annotate("default", (default, 1.0), xytext=(3, -10), textcoords="offset points")
        _legend(fig, handles)
        fig.suptitle("Time-matched precision / recall / F1 against the tolerance window")
        fig.tight_layout(rect=(0, 0.08 + 0.03 * (len(handles) // 4), 1, 1))
        return save_figure(fig, out_dir, "tolerance_prf")


def recovery_by_kind(
    groups: Groups, rng: np.random.Generator | None = None, n_boot: int = N_BOOT
) -> dict[str, dict[str, dict[str, float]]]:
    """Per deviation kind, per label: ``rate, lo, hi, assisted, n`` (module docstring)."""
    from proassist.analysis.metrics.scores import recoveries

    rng = rng if rng is not None else np.random.default_rng(0)
    per_label = {lab: [recoveries(r) for r in recs] for lab, recs in groups.items()}
    out: dict[str, dict[str, dict[str, float]]] = {}
    for kind in _kinds(groups, GoldConfig()):
        for label, eps in per_label.items():
            mat = _kind_counts(eps, kind)
            if mat[:, 2].sum() > 0:
                out.setdefault(kind, {})[label] = _recovery_rate(mat, rng, n_boot)
    return out


def _kind_counts(eps: list[list[dict[str, Any]]], kind: str) -> np.ndarray:
    """Per episode ``(recovered, assisted, deviations)`` of ``kind``, as floats."""
    return np.array(
        [
            [
                sum(d["recovered"] for d in ep if d["kind"] == kind),
                sum(d["assisted"] for d in ep if d["kind"] == kind),
                sum(d["kind"] == kind for d in ep),
            ]
            for ep in eps
        ],
        dtype=float,
    ).reshape(-1, 3)


def _recovery_rate(mat: np.ndarray, rng: np.random.Generator, n_boot: int) -> dict[str, float]:
    """Pooled recovery rate of :func:`_kind_counts` rows with its episode-bootstrap CI."""
    rec, assisted, n = mat.sum(axis=0)
    boot = bootstrap_counts(len(mat), rng, n_boot) @ mat
    ratio = np.where(boot[:, 2] > 0, boot[:, 0] / np.maximum(boot[:, 2], 1), np.nan)
    lo, hi = percentile_ci(ratio)
    return {"rate": rec / n, "lo": lo, "hi": hi, "assisted": assisted / n, "n": float(n)}


def plot_recovery_by_kind(
    groups: Groups,
    out_dir: Path,
    colors: Mapping[str, str],
    rng: np.random.Generator | None = None,
) -> list[Path] | None:
    """Grouped bars: recovery rate per deviation kind and label, 95 % CI error bars.

    Returns:
        The written paths, or None when no episode has a deviation.
    """
    data = recovery_by_kind(groups, rng)
    if not data:
        return None
    plt = pyplot()
    labels = list(groups)
    width = 0.8 / len(labels)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(data) * max(1, len(labels) / 3)), 3.8))
        handles = {}
        for j, label in enumerate(labels):
            xs = [i for i, k in enumerate(data) if label in data[k]]
            st = [data[k][label] for k in data if label in data[k]]
            if not xs:
                continue
            pos = np.array(xs) + (j - (len(labels) - 1) / 2) * width
            rate = np.array([s["rate"] for s in st])
            err = np.array([[s["rate"] - s["lo"], s["hi"] - s["rate"]] for s in st]).T
            handles[label] = ax.bar(pos, rate, width, color=colors[label], alpha=0.85)
            ax.bar(pos, [s["assisted"] for s in st], width, fill=False, hatch="///", lw=0)
            ax.errorbar(pos, rate, yerr=np.nan_to_num(err), fmt="none", ecolor="black", capsize=2)
        ax.set_xticks(range(len(data)), [f"{k}\n({_n(data[k])})" for k in data])
        ax.set_ylim(0, 1.1)
        ax.set_ylabel("recovery rate")
        ax.set_title("Recovery by deviation kind (95% CI; hatched: assisted)")
        _legend(fig, handles)
        fig.tight_layout(rect=(0, 0.08 + 0.03 * (len(handles) // 4), 1, 1))
        return save_figure(fig, out_dir, "recovery_by_kind")


def _n(per_label: Mapping[str, Mapping[str, float]]) -> str:
    ns = sorted({int(s["n"]) for s in per_label.values()})
    return f"n={ns[0]} per label" if len(ns) == 1 else f"n={ns[0]}–{ns[-1]} per label"
