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
    p_gen = sub.add_parser(
        "generate",
        help="write random, valid procedures over a layout (more varied tasks)",
        description=(
            "Write one generated task file per seed (proassist.scenarios.generate): random "
            "objects, steps, an `after` DAG, devices, look-alikes and optional branches over "
            "the layout's fixtures. Each file validates and runs like a library task: "
            "ProAssist-v0 with task=FILE, or train-steps --tasks FILE..."
        ),
    )
    p_gen.add_argument("--layout", required=True, help="layout name or layout file")
    p_gen.add_argument(
        "--domain", required=True, help="domain of the tasks (file names DOMAIN_gen_SEED.yaml)"
    )
    p_gen.add_argument("--seeds", type=int, default=10, help="how many tasks (default 10)")
    p_gen.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p_gen.add_argument("--out", required=True, help="folder to write the task files to")
    p_gen.set_defaults(func=run_generate)


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


def run_generate(args: argparse.Namespace) -> int:
    """Write ``--seeds`` generated tasks to ``--out``; print each path."""
    from proassist.analysis.cli.errors import UserError
    from proassist.scenarios import ScenarioError, load_layout
    from proassist.scenarios.generate import generate_tasks
    from proassist.scenarios.library import looks_like_path
    from proassist.scenarios.model import DOMAIN_RE

    if args.seeds < 1 or not DOMAIN_RE.match(args.domain):
        raise UserError("--seeds must be >= 1 and --domain an identifier (a-z, 0-9, _)")
    given = args.layout if looks_like_path(args.layout) else None
    seeds = range(args.seed, args.seed + args.seeds)
    with user_errors(ScenarioError, ValueError, OSError):  # OSError: an unwritable --out
        layout = load_layout(args.layout)
        paths = generate_tasks(layout, seeds, args.out, domain=args.domain, layout_file=given)
    for path in paths:
        print(path)
    return 0
