"""Step recognisers on tasks they were not trained on: the generalisation table.

The split (``TRAIN``: six tasks, ``HELD_OUT``: the other four of the library) is the
one every generalisation table uses (the README's, and those in
``docs/learned-assistants.md``). Train a recogniser on the six with the command
:func:`train_argv` gives (``proassist train-steps ... --tasks ...``: the committed
recogniser's recipe, 80 generated tasks per library layout included, with as many
library episodes as it has: 75 per task, 450 in all; 44 minutes on 2 cores beside
evaluation runs), then evaluate it on the four against the committed one (trained on
all ten) with the same seeds::

    proassist train-steps --out split --episodes 75 --seed 2000 --val-episodes 10 \\
        --rounds 5 --workers 2 --threads 2 --generated 80 --tasks \\
        kitchen_pour_over_coffee kitchen_salad kitchen_sandwich assembly_desk_lamp \\
        assembly_stool maintenance_bike_tyre
    python examples/heldout_tasks.py --checkpoint split --seeds 0 45 \\
        --reference step-oracle+learned

``train_argv(out, generated=0)`` leaves the generated tasks out (the recipe before the
thirty-eighth round); one training moves a row by up to ±0.05, so compare recognisers
over two trainings (``train_argv(out, seed=3000)``; ``--checkpoint s2000=split_gen
s3000=split_gen3``).

It prints each recogniser's net assistance (paired with silence, 95 % CI over the
pairs) behind a sanity row (``stepwatch+learned`` unless ``--row``) and each one's
paired difference against the first (the committed recogniser); ``--reference
step-oracle+learned`` also runs that sanity row (it needs no recogniser: the true
step) on the same episodes and pairs each recogniser against it.
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


def train_argv(out: str, episodes: int = 75, seed: int = 2000, generated: int = 80) -> list[str]:
    """``proassist`` arguments that train a recogniser on :data:`TRAIN` only, with
    ``generated`` generated tasks per library layout besides (0: none)."""
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


def _held_out(
    policy: str, kwargs: dict[str, Any], seeds: Sequence[int], silent: bool, **env_kwargs: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The records of ``policy`` on :data:`HELD_OUT` × ``seeds`` and, with ``silent``,
    their paired silent episodes (else [])."""
    from proassist.analysis.evaluation import evaluate

    runs = [
        evaluate(
            policy, "ProAssist-v0", seeds, paired_silent=silent, policy_kwargs=kwargs, task=t,
            **env_kwargs,
        )
        for t in HELD_OUT
    ]  # fmt: skip
    return [r for ev in runs for r in ev.records], [r for ev in runs for r in ev.silent_records]


def reference_row(label: str) -> tuple[str, dict[str, Any]]:
    """The sanity row ``label`` (e.g. ``step-oracle+learned``) as ``(policy, kwargs)``."""
    from proassist.analysis.sanity import ROWS, resolve_kwargs
    from proassist.scenarios.registry import did_you_mean

    rows = {r.label: r for r in ROWS}
    if label == SILENT or label.startswith("stepwatch"):
        raise ValueError(
            f"--reference {label!r}: the reference is a row without a step recogniser "
            "(silence is already paired; a stepwatch row takes --checkpoint instead)"
        )
    if label not in rows:
        hint = did_you_mean(label, list(rows))
        raise ValueError(f"--reference {label!r} is not a sanity row{hint}; one of {sorted(rows)}")
    return rows[label].policy, resolve_kwargs(rows[label].kwargs)


def _check_labels(checkpoints: Mapping[str, str | None], reference: str | None) -> None:
    """No recogniser may be labelled ``silent`` or like the reference row."""
    for taken, what in ((SILENT, "the paired silent episodes"), (reference, "the reference")):
        if taken is not None and taken in checkpoints:
            raise ValueError(f"{taken!r} labels {what}; name the recogniser otherwise")


def evaluate_tasks(
    checkpoints: Mapping[str, str | None],
    seeds: Sequence[int],
    row: str = "stepwatch+learned",
    reference: str | None = None,
    **env_kwargs: Any,
) -> dict[str, dict[str, Any]]:
    """Net assistance of ``row`` with each recogniser on :data:`HELD_OUT` × ``seeds``,
    and its paired difference against the first (``vs_first``) and, with ``reference``
    (a sanity row that needs no recogniser, e.g. ``step-oracle+learned``: the true
    step), against that row on the same episodes (``vs_reference``); printed and
    returned (with the episodes under ``records``, the silent ones under ``silent``)."""
    from proassist.analysis.metrics.stats import assistance_effect

    _check_labels(checkpoints, reference)
    rows = {label: row_with(row, ck) for label, ck in checkpoints.items()}
    if reference is not None:  # checked before any episode runs
        rows[reference] = reference_row(reference)
    first = next(iter(rows))  # the silent episodes are run once, with the first row
    runs = {k: _held_out(*rows[k], seeds, k == first, **env_kwargs) for k in rows}
    silent = runs[first][1]
    out: dict[str, dict[str, Any]] = {SILENT: {"records": silent}}
    for label, (records, _) in runs.items():
        out[label] = {"records": records, **assistance_effect(records, silent)}
    _pair(out, list(checkpoints), reference)
    return out


def _pair(out: dict[str, dict[str, Any]], labels: list[str], reference: str | None) -> None:
    """Add ``vs_first`` (and ``vs_reference``) to each recogniser's entry and print."""
    from proassist.analysis.metrics.stats import paired_difference

    silent = out[SILENT]["records"]
    for label in labels + ([reference] if reference else []):
        entry = out[label]
        lo, hi = entry["net_assistance_ci_low"], entry["net_assistance_ci_high"]
        text = f"{label:24s} net {entry['net_assistance']:+.3f} [{lo:+.3f}, {hi:+.3f}]"
        for key, other in (("vs_first", labels[0]), ("vs_reference", reference)):
            if other is None or label == reference:
                continue
            d = paired_difference(entry["records"], out[other]["records"], "net_assistance", silent)
            entry[key] = d
            text += (
                f"  minus {other}: {d['difference']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]"
            )
        print(text)


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
    parser.add_argument(
        "--reference",
        default=None,
        help="a sanity row without a recogniser to pair each one against "
        "(e.g. step-oracle+learned: the true step)",
    )
    args = parser.parse_args()
    try:
        checkpoints = parse_checkpoints(args.checkpoint)
        if args.reference is not None:
            reference_row(args.reference)
        _check_labels(checkpoints, args.reference)
    except ValueError as e:
        parser.error(str(e))
    evaluate_tasks(checkpoints, range(*args.seeds), args.row, args.reference)


if __name__ == "__main__":
    main()
