"""Step recognisers on tasks they were not trained on: the generalisation table.

The split (``TRAIN``: six tasks, ``HELD_OUT``: the other four of the library) is the
one every generalisation table uses (the README's, and those in
``docs/learned-assistants.md``). Train a recogniser on the six with
the command :func:`train_argv` gives (``proassist train-steps ... --tasks ...``; about
22 minutes on 2 cores), then evaluate it on the four against the committed one (trained
on all ten) with the same seeds::

    proassist train-steps --out split --episodes 75 --seed 2000 --val-episodes 10 \\
        --rounds 5 --workers 2 --threads 2 --tasks kitchen_pour_over_coffee \\
        kitchen_salad kitchen_sandwich assembly_desk_lamp assembly_stool \\
        maintenance_bike_tyre
    python examples/heldout_tasks.py --checkpoint split --seeds 0 45

``train_argv(out, generated=80)`` adds 80 generated tasks per library layout to the
training (``--generated 80``); compare several recognisers at once with
``--checkpoint six=split six+generated=split_gen``.

It prints each recogniser's net assistance (paired with silence, 95 % CI over the
pairs) behind a sanity row (``stepwatch+learned`` unless ``--row``) and each one's
paired difference against the first (the committed recogniser).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

TRAIN = (
    "kitchen_pour_over_coffee",
    "kitchen_salad",
    "kitchen_sandwich",
    "assembly_desk_lamp",
    "assembly_stool",
    "maintenance_bike_tyre",
)
#: The key of the paired silent episodes in :func:`evaluate_tasks`' result (no
#: recogniser may take it as its label).
SILENT = "silent"

HELD_OUT = (
    "kitchen_scrambled_eggs",
    "kitchen_tea",
    "assembly_wall_shelf",
    "maintenance_printer_cartridge",
)


def train_argv(out: str, episodes: int = 75, seed: int = 2000, generated: int = 0) -> list[str]:
    """``proassist`` arguments that train a recogniser on :data:`TRAIN` only (and, with
    ``generated``, that many generated tasks per library layout besides)."""
    more = ("--generated", str(generated)) if generated else ()
    return [
        *("train-steps", "--out", out, "--episodes", str(episodes), "--seed", str(seed)),
        *("--val-episodes", "10", "--rounds", "5", "--workers", "2", "--threads", "2"),
        *more,
        *("--tasks", *TRAIN),
    ]


def parse_checkpoints(specs: Sequence[str]) -> dict[str, str | None]:
    """``{label: path}`` from ``LABEL=PATH`` or ``PATH`` (labelled by itself), after the
    committed recogniser (label ``all ten tasks (committed)``, path None)."""
    out: dict[str, str | None] = {"all ten tasks (committed)": None}
    for spec in specs:
        label, sep, path = spec.partition("=")
        label, path = (label, path) if sep else (spec, spec)
        if not path or not label or label in out or label == SILENT:
            raise ValueError(
                f"--checkpoint {spec!r}: need PATH or LABEL=PATH, labels unique and not {SILENT!r}"
            )
        out[label] = path
    return out


def row_with(row: str, checkpoint: str | None) -> tuple[str, dict[str, Any]]:
    """The sanity row ``row`` (``stepwatch`` or ``stepwatch+learned``) with its step
    recogniser read from ``checkpoint`` (None: the committed one)."""
    from proassist.analysis.sanity import resolve_kwargs, stepwatch_learned

    watch = {} if checkpoint is None else {"checkpoint": str(checkpoint)}
    if row == "stepwatch":
        return "stepwatch", watch
    if row == "stepwatch+learned":
        return "first-of", resolve_kwargs(stepwatch_learned(watch))
    raise ValueError(f"row must be 'stepwatch' or 'stepwatch+learned', got {row!r}")


def evaluate_tasks(
    checkpoints: Mapping[str, str | None],
    seeds: Sequence[int],
    row: str = "stepwatch+learned",
    **env_kwargs: Any,
) -> dict[str, dict[str, Any]]:
    """Net assistance of ``row`` with each recogniser on :data:`HELD_OUT` × ``seeds``,
    and its paired difference against the first; printed and returned (with the
    episodes under ``records``, the silent ones under the key ``silent``)."""
    from proassist.analysis.evaluation import evaluate
    from proassist.analysis.metrics.stats import assistance_effect, paired_difference

    if SILENT in checkpoints:
        raise ValueError(
            f"{SILENT!r} labels the paired silent episodes; name the recogniser otherwise"
        )
    out: dict[str, dict[str, Any]] = {}
    for label, checkpoint in checkpoints.items():
        policy, kwargs = row_with(row, checkpoint)
        runs = [
            evaluate(policy, "ProAssist-v0", seeds, policy_kwargs=kwargs, task=t, **env_kwargs)
            for t in HELD_OUT
        ]
        records = [r for ev in runs for r in ev.records]
        silent = out.setdefault(SILENT, {"records": [r for ev in runs for r in ev.silent_records]})
        out[label] = {"records": records, **assistance_effect(records, silent["records"])}
    first = next(iter(checkpoints))
    for label in checkpoints:
        entry, silent = out[label], out[SILENT]["records"]
        d = paired_difference(entry["records"], out[first]["records"], "net_assistance", silent)
        entry["vs_first"] = d
        print(
            f"{label:24s} net {entry['net_assistance']:+.3f} [{entry['net_assistance_ci_low']:+.3f},"
            f" {entry['net_assistance_ci_high']:+.3f}]  minus {first}: {d['difference']:+.3f}"
            f" [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]"
        )
    return out


def main() -> None:
    """Evaluate the committed recogniser and ``--checkpoint`` on the held-out tasks."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--checkpoint",
        required=True,
        nargs="+",
        metavar="[LABEL=]PATH",
        help="recognisers trained on TRAIN (e.g. split=split gen=split_gen)",
    )
    parser.add_argument("--seeds", type=int, nargs=2, default=(0, 45), metavar=("FROM", "TO"))
    parser.add_argument("--row", default="stepwatch+learned", help="stepwatch or stepwatch+learned")
    args = parser.parse_args()
    try:
        checkpoints = parse_checkpoints(args.checkpoint)
    except ValueError as e:
        parser.error(str(e))
    evaluate_tasks(checkpoints, range(*args.seeds), args.row)


if __name__ == "__main__":
    main()
