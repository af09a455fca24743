"""``proassist scenarios``: list the task library and validate scenario files."""

from __future__ import annotations

import argparse
import sys

from proassist.analysis.cli.errors import user_errors


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``scenarios list`` and ``scenarios validate`` to the ``proassist`` parser."""
    parser = subparsers.add_parser(
        "scenarios",
        help="list the task library or validate scenario files",
        description="List the task library or validate task, layout and profile YAML files.",
    )
    parser.set_defaults(func=lambda args: _no_action(parser))
    sub = parser.add_subparsers(dest="scenarios_command", metavar="ACTION")
    p_list = sub.add_parser(
        "list",
        help="print the names of the library's scenarios",
        description="Print the names of the library's scenarios, one a line, with step counts.",
    )
    p_list.add_argument(
        "--domain", help="only this domain (any domain of the library or the search paths)"
    )
    p_list.add_argument("--names-only", action="store_true", help="print names only")
    p_list.set_defaults(func=run_list)
    p_val = sub.add_parser(
        "validate",
        help="validate task, layout or profile files",
        description=(
            "Validate YAML files strictly. Prints 'ok FILE' for each valid file and one "
            "'FILE:LINE: field: message' line per problem; exits 2 on any problem."
        ),
    )
    p_val.add_argument("files", nargs="+", metavar="FILE", help="YAML files to validate")
    p_val.set_defaults(func=run_validate)


def _no_action(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print the library's scenario names (with step counts unless ``--names-only``)."""
    from proassist.scenarios import ScenarioError, list_scenarios, load_scenario

    status = 0
    with user_errors(ValueError):
        names = list_scenarios(args.domain)
    for name in names:
        if args.names_only:
            print(name)
            continue
        try:
            scenario = load_scenario(name)
        except ScenarioError as err:
            print(f"{name}\tINVALID ({len(err.problems)} problems)")
            status = 2
            continue
        n = len(scenario.procedure.steps)
        print(f"{name}\t{n} steps\t{scenario.procedure.title}")
    return status


def run_validate(args: argparse.Namespace) -> int:
    """Validate every file; 0 when all are valid, 2 otherwise."""
    from proassist.scenarios.validation.validate import validate_file

    status = 0
    for path in args.files:
        problems = validate_file(path)
        if problems:
            status = 2
            for problem in problems:
                print(problem)
        else:
            print(f"ok {path}")
    sys.stdout.flush()
    return status
