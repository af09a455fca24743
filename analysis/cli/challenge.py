"""``proassist export-challenge`` and ``proassist score-challenge``: the EgoProactive
challenge JSONL (format and scoring rules in :mod:`proassist.analysis.challenge`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from proassist.analysis.cli.errors import UserError, user_errors


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``export-challenge`` and ``score-challenge`` to the ``proassist`` parser."""
    exp = subparsers.add_parser(
        "export-challenge",
        help="write an eval run's episodes as EgoProactive challenge JSONL",
        description=(
            "Read DIR/episodes.jsonl and write one challenge session per episode: 8 s "
            "chunks with answers '$silent$' or '$interrupt$<utterance>', the dialog history "
            "before each chunk, and our ground truth under the 'proassist' key. "
            "--source gold writes the gold answers; --source policy writes the policy's "
            "own messages (a prediction file). Each session's egocentric video is rendered "
            "as an MP4 at video_path (relative to OUT's folder): the episode is replayed "
            "from its seed, env arguments and recorded decisions, one frame per decision "
            "point (fps = 1/dt), exactly the rgb observations the assistant saw; each "
            "session says fps, resolution and frame_times."
        ),
    )
    exp.add_argument("run_dir", metavar="DIR", help="eval run directory with episodes.jsonl")
    exp.add_argument("out", metavar="OUT.jsonl", help="output JSONL file")
    exp.add_argument("--source", choices=("gold", "policy"), default="gold")
    exp.add_argument("--chunk-s", type=float, default=8.0, help="chunk length (default 8 s)")
    _add_video_options(exp)
    exp.set_defaults(func=run_export)
    sco = subparsers.add_parser(
        "score-challenge",
        help="score challenge predictions against gold (IF1, SF1, Macro-F1, G-Mean)",
        description=(
            "Score predicted challenge sessions against gold ones: TP/FP/TN/FN pooled over "
            "all chunks (interrupt positive; an answer is an interrupt iff its "
            "left-stripped text starts with '$interrupt$'; only the first min(len) chunks "
            "of a session count). Sessions pair by (video_path, query), else by order. "
            "Prints JSON with if1, sf1, macro_f1, g_mean and a per-task breakdown."
        ),
    )
    sco.add_argument("gold", metavar="GOLD.jsonl", help="gold sessions")
    sco.add_argument("pred", metavar="PRED.jsonl", help="predicted sessions")
    sco.add_argument("--out", metavar="FILE", help="also write the JSON here")
    sco.set_defaults(func=run_score)


def _add_video_options(exp: argparse.ArgumentParser) -> None:
    """``--no-video``, ``--resolution``/``--width``/``--height``, ``--quality``, ``--workers``."""
    from proassist.analysis.challenge_video import DEFAULT_QUALITY

    exp.add_argument(
        "--no-video",
        action="store_true",
        help="write the JSONL only (no MP4s: e.g. a prediction export whose videos the "
        "gold export already rendered)",
    )
    exp.add_argument(
        "--resolution",
        metavar="WxH",
        default=None,
        help="video frame size, e.g. 224x224 (default: the recorded observation size)",
    )
    exp.add_argument("--width", type=int, default=None, help="video width (even)")
    exp.add_argument("--height", type=int, default=None, help="video height (even)")
    exp.add_argument(
        "--quality",
        type=int,
        default=DEFAULT_QUALITY,
        help=f"H.264 quality 1-10 (default {DEFAULT_QUALITY}; 10: crf 0)",
    )
    exp.add_argument("--workers", type=int, default=1, help="render processes (default 1)")


def _resolution(args: argparse.Namespace) -> tuple[int, int] | None:
    """``(width, height)`` from ``--resolution`` or ``--width``/``--height`` (None: recorded).

    Raises:
        UserError: A malformed, odd or out-of-range size, or both forms at once.
    """
    from proassist.analysis.challenge_video import check_resolution

    if args.resolution is None and args.width is None and args.height is None:
        return None
    if args.resolution is not None:
        if args.width is not None or args.height is not None:
            raise UserError("give --resolution WxH or --width/--height, not both")
        w, x, h = args.resolution.lower().partition("x")
        if not (x and w.isdigit() and h.isdigit()):
            raise UserError(f"--resolution must look like 224x224, got {args.resolution!r}")
        size = (int(w), int(h))
    elif args.width is None or args.height is None:
        raise UserError("--width and --height go together")
    else:
        size = (args.width, args.height)
    with user_errors(ValueError):
        check_resolution(*size)
    return size


def _check_out(path: str | None) -> None:
    """An output file's folder must exist and the path must not be a folder.

    Raises:
        UserError: Naming the output path.
    """
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{path}: is a folder, expected an output file")
    if not p.parent.is_dir():
        raise UserError(f"{path}: no such folder {str(p.parent)!r}")


def run_export(args: argparse.Namespace) -> int:
    """Export DIR/episodes.jsonl as challenge sessions (and their videos); exit 2 on bad
    input or an episode that does not replay."""
    from proassist.analysis.challenge import export_challenge, read_episodes, write_jsonl
    from proassist.sim.gold import GoldConfig

    if args.chunk_s <= 0:
        raise UserError(f"--chunk-s must be > 0, got {args.chunk_s}")
    if not 1 <= args.quality <= 10 or args.workers < 1:
        raise UserError("--quality must be in 1..10 and --workers >= 1")
    size = _resolution(args)
    _check_out(args.out)
    with user_errors(OSError, ValueError, KeyError):
        records = read_episodes(args.run_dir)
        cfg = GoldConfig(chunk_s=args.chunk_s)
        sessions = export_challenge(records, args.source, cfg, size)
    if not args.no_video:
        _render(records, sessions, Path(args.out).parent, size, args)
    write_jsonl(sessions, args.out)
    print(f"wrote {len(sessions)} sessions ({args.source}) to {args.out}")
    return 0


def _render(
    records: list,
    sessions: list,
    root: Path,
    size: tuple[int, int] | None,
    args: argparse.Namespace,
) -> None:
    """Render every session's MP4 under ``root`` and print what was written.

    Raises:
        UserError: An episode that cannot be replayed (naming it), or an unwritable path.
    """
    import time

    from tqdm.auto import tqdm

    from proassist.analysis.challenge_video import ReplayError, render_session_videos

    paths = [root / s["video_path"] for s in sessions]
    start, total, done = time.perf_counter(), 0, 0
    videos = render_session_videos(records, paths, size, args.quality, args.workers)
    bar = tqdm(total=len(paths), desc="videos", unit="video", disable=len(paths) < 2)
    try:
        with user_errors(OSError):
            for info in videos:
                total += Path(info["path"]).stat().st_size
                done += 1
                bar.update(1)
    except ReplayError as exc:
        where = f"{sessions[done]['task']} seed {records[done].get('seed')}"
        raise UserError(f"video of {where}: {exc} (--no-video skips the videos)") from exc
    finally:
        bar.close()
    took = time.perf_counter() - start
    print(f"wrote {len(paths)} videos ({total / 1e6:.1f} MB) under {root} in {took:.1f} s")


def run_score(args: argparse.Namespace) -> int:
    """Score PRED against GOLD and print the JSON; exit 2 on bad input."""
    from proassist.analysis.challenge import read_jsonl, score_challenge

    _check_out(args.out)
    with user_errors(OSError, ValueError):
        result = score_challenge(read_jsonl(args.gold), read_jsonl(args.pred))
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 0
