"""Run every benchmark module and print one table.

Each module ``bench/bench_<name>.py`` exposes ``run(quick: bool = False) -> list[dict]``;
each row has ``name`` (what was measured), ``value`` (str with unit), ``reference``
(what it is compared against, measured in the same run, or ``""``), ``ratio`` (str or
``""``) and ``goal`` (str or ``""``).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback

import bench


def _modules(selected: list[str]) -> list[str]:
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    if selected:
        names = [n for n in names if any(s in n for s in selected)]
    return names


def _print_table(rows: list[dict]) -> None:
    cols = ["name", "value", "reference", "ratio", "goal"]
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    print("| " + " | ".join(c.ljust(widths[c]) for c in cols) + " |")
    print("|" + "|".join("-" * (widths[c] + 2) for c in cols) + "|")
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")).ljust(widths[c]) for c in cols) + " |")


def main() -> int:
    """Run the benchmarks named on the command line (all by default)."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("only", nargs="*", help="substrings of benchmark module names")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    rows: list[dict] = []
    failed = 0
    for name in _modules(args.only):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            rows.extend(importlib.import_module(f"bench.{name}").run(quick=args.quick))
        except Exception:  # a broken benchmark is reported, the others still run
            failed += 1
            traceback.print_exc()
            rows.append({"name": name, "value": "FAILED"})
    _print_table(rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
