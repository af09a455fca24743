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
        color = "#f4a261" if rec else "#2a9d8f"
        ax.barh(row, t1 - t0, left=t0, height=0.6, color=color, zorder=2)
    return rows


#: Points between the bottom of the timeline axes and its legend (x ticks and label fit).
LEGEND_DROP_PT = 34.0
#: Marker colours of the assistant's intents (free text: ``text``).
INTENT_COLORS: dict[str, str] = {
    "instruct_next": "#264653",
    "correct_deviation": "#d62728",
    "confirm_done": "#2a9d8f",
    "warn": "#e9c46a",
    "answer_question": "#6a4c93",
    "re_engage": "#1f77b4",
    "text": "#7f7f7f",
}


def _draw_deviations(ax: Any, record: dict[str, Any], rows: dict[str, int]) -> list[str]:
    """Deviation markers coloured by kind (named in the legend, not over the bars);
    returns the kinds drawn, in order of first onset."""
    resolved = {e["id"]: e for e in record["events"] if e["type"] == "deviation_resolved"}
    kinds: list[str] = []
    for e in record["events"]:
        if e["type"] != "deviation":
            continue
        color = KIND_COLORS.get(e["kind"], "red")
        kinds += [] if e["kind"] in kinds else [e["kind"]]
        row = rows.get(e["step"], 0)
        ax.plot(e["onset"], row, marker="X", color=color, markersize=9, zorder=5, mec="white")
        if e["id"] in resolved:
            r = resolved[e["id"]]
            assisted = r.get("assisted") or r.get("by") == "assistant"
            ax.plot(r["t"], row, marker="o", color="green" if assisted else "olive", zorder=5)
            ax.plot([e["onset"], r["t"]], [row, row], color=color, lw=1, ls="--", zorder=4)
        ax.axvline(e["deadline"], color=color, linestyle=":", alpha=0.6)
    return kinds


def _draw_gold(ax: Any, record: dict[str, Any]) -> None:
    from proassist.sim.gold import gold_moments

    for m in gold_moments(record):
        ax.axvspan(m.window[0], m.window[1], color="#ffd166", alpha=0.3, lw=0, zorder=0)


def _draw_utterances(ax: Any, record: dict[str, Any], top: int, bottom: int) -> set[str]:
    """Assistant messages on the top row (by intent), person utterances on the bottom one."""
    intents = set()
    for e in record["events"]:
        if e["type"] == "assistant_message":
            intent = e.get("intent") or "text"
            intents.add(intent)
            color = INTENT_COLORS.get(intent, "#7f7f7f")
            ax.axvline(e["t"], color=color, alpha=0.35, lw=0.8, zorder=1)
            ax.plot(e["t"], top, marker="v", color=color, ms=7, zorder=5)
        elif e["type"] == "person_utterance":
            ax.plot(e["t"], bottom, marker="^", color="#e76f51", ms=6, zorder=5)
    return intents


def _legend(ax: Any, intents: set[str], kinds: list[str]) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.transforms import offset_copy

    def mark(m: str, c: str, label: str, **kw: Any) -> Line2D:
        return Line2D([], [], marker=m, color=c, ls="none", label=label, **kw)

    handles = [
        Patch(color="#2a9d8f", label="plan step"),
        Patch(color="#f4a261", label="recovery step"),
        Patch(color="#ffd166", alpha=0.5, label="gold window"),
        *(
            [mark("X", KIND_COLORS.get(k, "red"), f"{k} deviation", ms=7) for k in kinds]
            or [mark("X", "#555555", "deviation onset")]
        ),
        mark("o", "green", "recovered (assisted)"),
        mark("o", "olive", "recovered (self)"),
        Line2D([], [], color="#555555", ls=":", label="deadline"),
        mark("^", "#e76f51", "person speaks"),
    ]
    handles += [mark("v", INTENT_COLORS.get(i, "#7f7f7f"), i) for i in sorted(intents)]
    # A fixed distance below the axes (not a fraction of its height), under the x label.
    below = offset_copy(ax.transAxes, fig=ax.figure, y=-LEGEND_DROP_PT, units="points")
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=below,
        ncol=6,
        frameon=False,
        fontsize=7,
    )


def timeline_figure(record: dict[str, Any]) -> Any:
    """The timeline of one episode record as a matplotlib figure (see :func:`plot_timeline`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):
        n = len(record["plan"])
        fig, ax = plt.subplots(figsize=(11, 0.28 * n + 3.2))
        _draw_gold(ax, record)
        rows = _draw_steps(ax, record)
        bottom = len(rows)
        intents = _draw_utterances(ax, record, -1, bottom)
        kinds = _draw_deviations(ax, record, rows)
        names = ["assistant", *rows, "person"]
        ax.set_yticks(range(-1, bottom + 1), names, fontsize=7)
        ax.set_ylim(bottom + 0.7, -1.7)
        _legend(ax, intents, kinds)
        outcome = "success" if record.get("success") else "failure"
        who = record.get("label") or record.get("policy")
        ax.set_title(f"{record['task']} · seed {record.get('seed')} · {who} · {outcome}")
        ax.set_xlabel("simulated time (s)")
        fig.tight_layout()
    return fig


def plot_timeline(record: dict[str, Any], path: str | Path) -> Path:
    """Draw one episode record's timeline to ``path`` (PNG or SVG by suffix).

    Bars: plan steps as executed (teal) and recovery steps (orange). X: deviation
    onsets, coloured by kind (named in the legend), dashed to o: recoveries (green
    assisted, olive self); dotted: deadlines; yellow spans: gold intervention windows; top row: assistant messages
    (coloured by intent); bottom row: person utterances.
    """
    import matplotlib.pyplot as plt

    path = Path(path)
    fig = timeline_figure(record)
    with plt.rc_context(STYLE):
        fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path
