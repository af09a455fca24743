"""Shared look of every ProAssist figure: the style, label colours, saving as PNG + SVG.

The rc style and the deviation-kind colours are those of the episode timeline
(:data:`proassist.analysis.plots.timeline.STYLE`, :data:`~.plot_timeline.KIND_COLORS`), so
every figure of a report looks alike. matplotlib is imported lazily, with the Agg backend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from proassist.analysis.plots.timeline import KIND_COLORS, STYLE

__all__ = [
    "KIND_COLORS",
    "SILENT_COLOR",
    "STYLE",
    "grid_shape",
    "label_colors",
    "metric_label",
    "pyplot",
    "save_figure",
]

#: Colours of the labels (policies / variants), in order; the silent assistant is grey.
LABEL_PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
)
SILENT_COLOR = "#8c8c8c"
#: The formats every figure is written in.
FORMATS: tuple[str, ...] = ("png", "svg")


#: Readable names of the registered metrics (figure panels; tables keep the keys).
METRIC_LABELS: dict[str, str] = {
    "g_mean": "G-mean (talk / stay silent)",
    "if1": "Interrupt F1",
    "sf1": "Silence F1",
    "macro_f1": "Macro F1",
    "precision": "Interrupt precision",
    "recall": "Interrupt recall",
    "match_f1": "Time-matched F1",
    "match_precision": "Time-matched precision",
    "match_recall": "Time-matched recall",
    "match_missed_rate": "Missed moments (share)",
    "match_redundant_rate": "Redundant messages (share)",
    "match_time_diff": "Message time − moment time (s)",
    "match_abs_time_diff": "Absolute message − moment gap (s)",
    "oop_recall": "Deviations corrected (recall)",
    "oop_recall_any": "Deviations answered, any message",
    "oop_precision": "Corrections on deviations (precision)",
    "oop_latency_mean": "Detection latency, mean (s)",
    "recovery_rate": "Recovery rate",
    "assisted_recovery_rate": "Assisted recovery rate",
    "self_recovery_rate": "Self-recovery rate",
    "deadline_miss_rate": "Deadlines missed (share)",
    "time_to_recovery": "Time to recovery (s)",
    "task_success": "Task success rate",
    "task_time": "Task time (s)",
    "false_alarms_per_min": "False alarms per minute",
    "interruptions_per_min": "Interruptions per minute",
    "net_assistance": "Net assistance",
    "pqs": "PQS (per-decision quality)",
    "sts": "STS (message similarity)",
}
#: Readable suffixes of the metric families that share a base metric.
_FAMILIES: dict[str, str] = {
    "chunk_": "8 s chunks",
    "point_": "per decision point",
    "pwr_": "PWR instance set",
}


def metric_label(name: str) -> str:
    """A readable name of a metric key (``false_alarms_per_min`` -> "False alarms per
    minute"; ``chunk_if1`` -> "Interrupt F1, 8 s chunks"; unknown keys are spelled out)."""
    if name in METRIC_LABELS:
        return METRIC_LABELS[name]
    for prefix, family in _FAMILIES.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            return f"{metric_label(name[len(prefix) :])}, {family}"
    words = name.replace("_per_", " per ").replace("_", " ").split()
    words = [w.upper() if w in ("oop", "ci", "f1", "sts", "pqs") else w for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else name


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def label_colors(labels: Sequence[str], silent: Sequence[str] = ()) -> dict[str, str]:
    """A fixed colour per label: grey for silent labels, the palette in order otherwise."""
    out: dict[str, str] = {}
    i = 0
    for lab in labels:
        if lab in silent:
            out[lab] = SILENT_COLOR
        else:
            out[lab] = LABEL_PALETTE[i % len(LABEL_PALETTE)]
            i += 1
    return out


def grid_shape(n: int, max_cols: int = 3) -> tuple[int, int]:
    """``(rows, cols)`` of a subplot grid holding ``n`` panels."""
    cols = max(1, min(max_cols, n))
    return max(1, math.ceil(n / cols)), cols


def save_figure(fig: Any, out_dir: str | Path, name: str) -> list[Path]:
    """Write ``fig`` as ``out_dir/name.png`` and ``.svg``, then close it.

    Returns:
        The written paths, PNG first.
    """
    plt = pyplot()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with plt.rc_context(STYLE):
        for fmt in FORMATS:
            path = out / f"{name}.{fmt}"
            fig.savefig(path, bbox_inches="tight")
            paths.append(path)
    plt.close(fig)
    return paths


def hide_unused(axes: Any, used: int) -> None:
    """Hide the panels of a subplot grid after the first ``used``."""
    for ax in list(axes.flat)[used:]:
        ax.set_visible(False)


def short_label(label: str, width: int = 28) -> str:
    """A label wrapped onto lines of at most ``width`` characters (at commas)."""
    parts, lines, line = label.split(","), [], ""
    for part in parts:
        piece = part if not line else f"{line},{part}"
        if line and len(piece) > width:
            lines.append(line + ",")
            line = part
        else:
            line = piece
    lines.append(line)
    return "\n".join(lines)
