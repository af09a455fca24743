"""``proassist sweep FILE``: run or resume a sweep (see :mod:`proassist.analysis.sweeps.runner`)."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from proassist.analysis.cli import add_plugin_option
from proassist.analysis.cli.errors import UserError, user_errors


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` subcommand."""
    p = subparsers.add_parser(
        "sweep",
        help="run or resume a sweep file (policies x settings x seeds)",
        description=(
            "Run every unit (one episode) of a sweep file. Results are appended to "
            "OUT/results.jsonl and OUT/episodes.jsonl as units finish; run the same "
            "command again to resume after a crash (only missing units run). "
            "Invalid files are rejected with FILE:LINE: field: message before anything runs."
        ),
    )
    p.add_argument("file", type=Path, help="sweep YAML file")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="parallel worker processes (default 1; 0 = in this process)",
    )
    p.add_argument("--backend", choices=("local", "ray"), default="local", help="engine")
    p.add_argument("--ray-address", default=None, help="Ray cluster address (ray backend)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default runs/NAME)")
    p.add_argument("--retry-failed", action="store_true", help="rerun units that failed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--check", action="store_true", help="only validate the file and list units")
    add_plugin_option(p)
    p.set_defaults(func=run)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM behaves like Ctrl-C: workers stop, finished rows stay, a rerun resumes."""
    raise KeyboardInterrupt


def _load(args: argparse.Namespace) -> Any:
    """The checked sweep file (problems printed as ``FILE:LINE: field: message``), or None.

    Raises:
        UserError: A missing or unreadable file, or ``--workers`` below 0.
    """
    from proassist.analysis.cli.preflight import input_path
    from proassist.analysis.sweeps.spec import SweepSpecError, load_sweep

    if args.workers < 0:
        raise UserError(f"--workers must be >= 0, got {args.workers}")
    input_path(args.file, "sweep file")
    try:
        return load_sweep(args.file)
    except SweepSpecError as exc:
        print(str(exc), file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    """Execute ``proassist sweep``; exit code 0 when every unit is ok, 1 if some
    failed, 2 for an invalid file or arguments."""
    from proassist.analysis.cli.preflight import output_dir
    from proassist.analysis.sweeps.expand import expand_units
    from proassist.analysis.sweeps.runner import report_text, run_sweep
    from proassist.analysis.sweeps.store import SweepLockedError

    spec = _load(args)
    if spec is None:
        return 2
    if args.check:
        print(f"{args.file}: valid; {len(expand_units(spec))} units")
        return 0
    out = output_dir(args.out or Path("runs") / spec.name)
    signal.signal(signal.SIGTERM, _terminate)
    with user_errors(ImportError, SweepLockedError):
        result = run_sweep(
            spec,
            out,
            workers=args.workers,
            backend=args.backend,
            retry_failed=args.retry_failed,
            ray_address=args.ray_address,
            progress=not args.no_progress,
            plugins=args.plugin,
        )
    if args.no_progress:
        print(report_text(result.summary))
    print(f"results in {out}")
    return 1 if result.failed else 0
