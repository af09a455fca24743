"""``proassist plot DIR``: figures (PNG + SVG) and ``report.html`` of a sweep or eval folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from proassist.analysis.cli import add_plugin_option


def _csv(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _floats(text: str) -> list[float]:
    try:
        values = [float(x) for x in _csv(text)]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected numbers like 0.5,1,2,4, got {text!r}") from exc
    if not values or any(not v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive tolerances in seconds, got {text!r}")
    return values


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``plot`` subcommand."""
    p = subparsers.add_parser(
        "plot",
        help="figures and an HTML report of a sweep or eval folder",
        description=(
            "Draw the figures of a run folder (proassist sweep or proassist eval output): "
            "episode timeline, detection-latency CDFs, P/R/F1 against tolerance, recovery "
            "by deviation kind, per-label score bars and the paired assistance effect, each "
            "as PNG and SVG; then write report.html bundling them with the score tables."
        ),
    )
    p.add_argument("dir", type=Path, help="sweep or eval output folder")
    p.add_argument("--out", type=Path, default=None, help="output folder (default DIR/plots)")
    p.add_argument(
        "--metrics",
        type=_csv,
        default=None,
        help="comma-separated metrics of the score bars and table (default: the sweep's "
        "metrics, else g_mean,match_f1,oop_recall,recovery_rate,task_success,...)",
    )
    p.add_argument("--episode", default=None, help="timeline episode: unit_id or index")
    p.add_argument(
        "--tolerances", type=_floats, default=None, help="tolerances (s) of the P/R/F1 curves"
    )
    p.add_argument(
        "--video",
        action="store_true",
        help="replay the timeline episode from its record (same env settings, seed and "
        "recorded decisions) into episode.mp4; exit 2 if the replay differs from the record",
    )
    add_plugin_option(p)
    p.set_defaults(func=run)


def _episode_video(args: argparse.Namespace, data: Any, out: Path) -> tuple[Path | None, str]:
    """The report's video and its note: the folder's ``episode.mp4``, or with ``--video``
    the timeline episode replayed from its record (``ReplayError`` when it differs)."""
    from proassist.analysis.plots import report
    from proassist.analysis.plots.data import representative

    if not args.video:
        return report.find_video(data), "The run folder's episode.mp4."
    from proassist.analysis.replay import render_video

    record = representative(data, args.episode)
    path = render_video(record, out / report.VIDEO_NAME)
    who = record.get("label") or record.get("policy")
    return path, (
        f"Replayed from the timeline episode's record ({record.get('task')}, seed "
        f"{record.get('seed')}, {who}) with its recorded decisions: identical event log "
        f"({len(record.get('events') or [])} events)."
    )


def run(args: argparse.Namespace) -> int:
    """Execute ``proassist plot``; exit 0 on success, 2 on a folder without episodes,
    an unknown metric or episode, or (``--video``) an episode the replay cannot reproduce."""
    from proassist.analysis.plots import report
    from proassist.analysis.plots.data import NoEpisodesError, load_run_dir
    from proassist.analysis.plots.figures import build_figures
    from proassist.analysis.plots.timing import DEFAULT_TOLERANCES
    from proassist.analysis.replay import ReplayError

    out = args.out or args.dir / "plots"
    try:
        data = load_run_dir(args.dir)
        video, note = _episode_video(args, data, out)
        figs = build_figures(
            data, out, args.metrics, args.episode, args.tolerances or DEFAULT_TOLERANCES
        )
    except (NoEpisodesError, KeyError, ReplayError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        prefix = "--video: " if isinstance(exc, ReplayError) else ""
        print(f"error: {prefix}{' '.join(str(msg).split())}", file=sys.stderr)
        return 2
    path = report.write_report(data, figs, out, video, note)
    for fig in figs.figures.values():
        status = ", ".join(p.name for p in fig.paths) if fig.paths else f"skipped: {fig.skipped}"
        print(f"{fig.name:<18} {status}")
    if video is not None:
        print(f"{'video':<18} {out / report.VIDEO_NAME}")
    print(f"wrote {path}")
    return 0
