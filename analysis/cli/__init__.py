"""The ``proassist`` command line.

Each subcommand lives in its own module ``proassist.analysis.cli.<name>`` exposing
``add_parser(subparsers) -> None``; the parser it adds sets ``func`` (a callable taking
the parsed ``argparse.Namespace`` and returning an exit code).

Exit codes: 0 success, 1 a run that finished with failures, 2 a user error, 130
interrupted. A user error (:class:`~proassist.analysis.cli.errors.UserError`, raised by
a subcommand's checks before anything runs, or a self-explaining registry, scenario or
file error) is one ``error: ...`` line per problem on stderr, never a traceback; any
other exception is a bug and keeps its traceback (:mod:`proassist.analysis.cli.errors`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Subcommand modules, in the order ``--help`` lists them.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "scenarios",
    "demo",
    "eval",
    "sanity",
    "goals",
    "compare",
    "data",
    "sweep",
    "plot",
    "challenge",
    "steps",
    "tune",
    "gate",
    "sequence",
)


def add_plugin_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--plugin MODULE_OR_FILE`` (repeatable) to a subcommand that runs episodes."""
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE_OR_FILE",
        help="import a plugin (module name or .py file) registering deviation kinds, "
        "policies or metrics; repeatable",
    )


def _load_plugins(args: argparse.Namespace) -> bool:
    """Load the ``--plugin`` modules; print one error line and return False on failure."""
    from proassist.analysis.plugins import PluginError, load_plugins

    try:
        load_plugins(getattr(args, "plugin", None))
    except PluginError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    return True


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="proassist",
        description="ProAssist: a testbed for proactive procedural assistants.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(f"proassist.analysis.cli.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    if not _load_plugins(args):
        return 2
    from proassist.analysis.cli.errors import SELF_EXPLAINING, UserError, report

    try:
        return int(args.func(args) or 0)
    except (UserError, *SELF_EXPLAINING) as exc:
        return report(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
