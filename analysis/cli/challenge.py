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
            "own messages (a prediction file)."
        ),
    )
    exp.add_argument("run_dir", metavar="DIR", help="eval run directory with episodes.jsonl")
    exp.add_argument("out", metavar="OUT.jsonl", help="output JSONL file")
    exp.add_argument("--source", choices=("gold", "policy"), default="gold")
    exp.add_argument("--chunk-s", type=float, default=8.0, help="chunk length (default 8 s)")
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
    """Export DIR/episodes.jsonl as challenge sessions; exit 2 on bad input."""
    from proassist.analysis.challenge import export_challenge, read_episodes, write_jsonl
    from proassist.sim.gold import GoldConfig

    if args.chunk_s <= 0:
        raise UserError(f"--chunk-s must be > 0, got {args.chunk_s}")
    _check_out(args.out)
    with user_errors(OSError, ValueError, KeyError):
        records = read_episodes(args.run_dir)
        sessions = export_challenge(records, args.source, GoldConfig(chunk_s=args.chunk_s))
    write_jsonl(sessions, args.out)
    print(f"wrote {len(sessions)} sessions ({args.source}) to {args.out}")
    return 0


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
