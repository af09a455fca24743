"""``proassist compare``: two rows of one or more sanity runs, paired over seeds."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from proassist.analysis.cli import add_plugin_option


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``compare`` subcommand."""
    p = sub.add_parser(
        "compare",
        help="two sanity rows paired over seeds: A - B with 95 %% CIs, pooling sanity runs",
        description="Read one or more sanity.json (proassist sanity --out DIR; a DIR stands "
        "for its sanity.json) and compare two of their rows paired over the seeds: net "
        "assistance per seed; registered metrics and per-kind recalls from each seed's "
        "episode statistics or detections by kind (one bootstrap over seeds for both rows). "
        "Each run on its own, then all of them pooled (their seeds must differ).",
    )
    p.add_argument("results", nargs="+", metavar="SANITY_JSON", help="sanity.json or its folder")
    p.add_argument("--rows", required=True, metavar="A,B", help="the two row labels, A minus B")
    p.add_argument(
        "--metric",
        action="append",
        default=None,
        metavar="NAME",
        help="net_assistance, a registered metric or a per-kind recall such as "
        "oop_recall_omission (repeatable; default: net assistance, task success, "
        "interruptions a minute, OOP recall and precision, PWR G-Mean, trust)",
    )
    add_plugin_option(p)  # a plugin's metrics and deviation kinds
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``proassist compare``."""
    from proassist.analysis.cli.errors import UserError
    from proassist.analysis.cli.goals import check_row, read_result, result_sets, seed_line
    from proassist.analysis.compare import DEFAULT_METRICS, compare_rows, difference_lines

    labels = [x.strip() for x in args.rows.split(",")]
    if len(labels) != 2 or not all(labels) or labels[0] == labels[1]:
        raise UserError(f"--rows: expected two different labels A,B, got {args.rows!r}")
    metrics = args.metric or DEFAULT_METRICS
    _check_metrics(metrics)
    results = [read_result(p) for p in args.results]
    for label in labels:
        check_row(args.results, results, label, crashed=True)
    for name, chosen in result_sets(args.results, results):
        try:
            diffs = compare_rows(chosen, *labels, metrics)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        print(f"{name}: {seed_line(chosen)}")
        print("\n".join(f"  {line}" for line in difference_lines(diffs, *labels)))
    return 0


def _check_metrics(metrics: Sequence[str]) -> None:
    """Raise :class:`UserError` naming the ``--metric`` that is neither net assistance, a
    registered metric nor a per-kind recall of a registered kind ("did you mean")."""
    from proassist.analysis.cli.errors import UserError
    from proassist.analysis.sanity_ci import difference_metric
    from proassist.scenarios.registry import RegistryError

    for metric in (m for m in metrics if m != "net_assistance"):
        try:
            difference_metric(metric)
        except RegistryError as exc:
            raise UserError(f"--metric {metric}: {exc}") from exc
