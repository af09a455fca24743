"""The episode timeline figure: steps, deviations, gold windows, utterances, recoveries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: One consistent style for every ProAssist figure.
STYLE: dict[str, Any] = {
    "figure.dpi": 110,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 9,
}
KIND_COLORS: dict[str, str] = {
    "omission": "#d62728",
    "order": "#ff7f0e",
    "substitution": "#9467bd",
    "placement": "#8c564b",
    "measurement": "#e377c2",
    "timing": "#7f7f7f",
    "setting": "#bcbd22",
    "repetition": "#17becf",
    "distraction": "#1f77b4",
    "hesitation": "#aec7e8",
    "safety": "#000000",
}


def _step_spans(events: list[dict[str, Any]]) -> list[tuple[str, float, float, bool]]:
    open_: dict[str, tuple[float, bool]] = {}
    spans = []
    end_t = max((e["t"] for e in events), default=0.0)
    for e in events:
        if e["type"] == "step_start":
            open_[e["step"]] = (e["t"], bool(e.get("recovery")))
        elif e["type"] == "step_end" and e["step"] in open_:
            t0, rec = open_.pop(e["step"])
            spans.append((e["step"], t0, e["t"], rec))
    spans += [(s, t0, end_t, rec) for s, (t0, rec) in open_.items()]
    return spans


def _draw_steps(ax: Any, record: dict[str, Any]) -> dict[str, int]:
    rows = {s["id"]: i for i, s in enumerate(record["plan"])}
    for step, t0, t1, rec in _step_spans(record["events"]):
        row = rows.setdefault(step, len(rows))
        ax.barh(row, t1 - t0, left=t0, height=0.6, color="#f4a261" if rec else "#2a9d8f")
    ax.set_yticks(list(rows.values()), list(rows.keys()), fontsize=7)
    ax.invert_yaxis()
    return rows


def _draw_deviations(ax: Any, record: dict[str, Any], rows: dict[str, int]) -> None:
    resolved = {e["id"]: e for e in record["events"] if e["type"] == "deviation_resolved"}
    for e in record["events"]:
        if e["type"] != "deviation":
            continue
        color = KIND_COLORS.get(e["kind"], "red")
        row = rows.get(e["step"], 0)
        ax.plot(e["onset"], row, marker="X", color=color, markersize=9, zorder=5)
        ax.annotate(
            e["kind"],
            (e["onset"], row),
            textcoords="offset points",
            xytext=(4, -10),
            fontsize=7,
            color=color,
        )
        if e["id"] in resolved:
            r = resolved[e["id"]]
            ax.plot(
                r["t"], row, marker="o", color="green" if r.get("assisted") else "olive", zorder=5
            )
        ax.axvline(e["deadline"], color=color, linestyle=":", alpha=0.6)


def _draw_gold(ax: Any, record: dict[str, Any]) -> None:
    from proassist.analysis.gold import gold_moments

    for m in gold_moments(record):
        ax.axvspan(m.window[0], m.window[1], color="#ffd166", alpha=0.25, lw=0)


def _draw_utterances(ax: Any, record: dict[str, Any], n_rows: int) -> None:
    for e in record["events"]:
        if e["type"] == "assistant_message":
            ax.axvline(e["t"], color="#264653", alpha=0.8, lw=1.2)
            label = e.get("intent") or "text"
            ax.text(e["t"], -0.9, label, rotation=90, fontsize=6, va="bottom", color="#264653")
        elif e["type"] == "person_utterance":
            ax.plot(e["t"], n_rows - 0.2, marker="v", color="#e76f51")


def plot_timeline(record: dict[str, Any], path: str | Path) -> Path:
    """Draw one episode record's timeline to ``path`` (PNG or SVG by suffix).

    Bars: plan steps as executed (teal) and recovery steps (orange). X: deviation
    onsets by kind; o: recoveries (green assisted, olive self); dotted: deadlines;
    yellow spans: gold intervention windows; dark lines: assistant messages; red
    triangles: person utterances.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(11, 0.28 * len(record["plan"]) + 2.2))
        rows = _draw_steps(ax, record)
        _draw_gold(ax, record)
        _draw_deviations(ax, record, rows)
        _draw_utterances(ax, record, len(rows))
        outcome = "success" if record.get("success") else "failure"
        ax.set_title(
            f"{record['task']} · seed {record.get('seed')} · {record.get('policy')} · {outcome}"
        )
        ax.set_xlabel("simulated time (s)")
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
    return path
