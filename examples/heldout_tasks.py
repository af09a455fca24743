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

The learned duplex behind ``stepwatch+learned`` is the committed one (trained on all
ten tasks) unless ``--detector`` names one trained on the six as well
(:func:`detector_argv` gives the commands: the committed two-round recipe with
``--tasks``); then both halves of every ``--checkpoint`` row are held out (the
committed recogniser's row keeps the committed detector), and the reference runs
with either detector::

    python examples/heldout_tasks.py --checkpoint s2000=split_gen s3000=split_gen3 \\
        --seeds 0 45 --reference step-oracle+learned --detector d6/model/model.pt
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
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


def detector_argv(out: str, source: str | None = None) -> list[list[str]]:
    """``proassist`` commands, in order, that train the learned duplex's deviation
    detector on :data:`TRAIN` only with the committed two-round DAgger recipe
    (``policies/checkpoints/README.md``; 13 minutes on 2 cores), into ``out/model``.

    The inference settings (logit bias, silence after speaking) are taken over from
    ``source`` (default: the committed detector), not tuned: the closed-loop calibration
    runs the domain envs, whose tasks include the held-out ones.
    """
    from proassist.policies.learned.assets import default_checkpoint

    source = source or default_checkpoint()
    if source is None:
        raise FileNotFoundError("no shipped detector (policies/checkpoints/model.pt) to take from")
    source = str(source)
    tasks = ("--workers", "2", "--tasks", *TRAIN)
    data = ("--labels", "deviations", "--label-horizon", "6")
    fit = ("--epochs", "12", "--seed", "0", "--threads", "2", "--inference-from", source)
    return [
        ["collect", "--out", f"{out}/r0h", "--episodes", "400", "--seed", "11", *data, *tasks],
        ["train", f"{out}/r0h", "--out", f"{out}/m4", *fit],
        [
            *("collect", "--out", f"{out}/r1h", "--episodes", "400", "--seed", "21", *data),
            *("--driver", f"{out}/m4/model.pt", *tasks),
        ],
        ["train", f"{out}/r0h", f"{out}/r1h", "--out", f"{out}/model", *fit],
    ]


def row_with(
    row: str, checkpoint: str | None, detector: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The sanity row ``row`` (``stepwatch`` or ``stepwatch+learned``) with its step
    recogniser read from ``checkpoint`` and, for ``stepwatch+learned``, its learned
    duplex's detector from ``detector`` (None: the committed ones)."""
    from proassist.analysis.sanity import resolve_kwargs, stepwatch_learned

    watch = {} if checkpoint is None else {"checkpoint": str(checkpoint)}
    if row == "stepwatch" and detector is None:
        return "stepwatch", watch
    if row == "stepwatch+learned":
        return "first-of", resolve_kwargs(stepwatch_learned(watch), detector)
    if row == "stepwatch":
        raise ValueError("--detector needs a row with the learned duplex (stepwatch+learned)")
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


def reference_row(label: str, detector: str | None = None) -> tuple[str, dict[str, Any]]:
    """The sanity row ``label`` (e.g. ``step-oracle+learned``) as ``(policy, kwargs)``,
    its learned duplex's detector read from ``detector`` (None: the committed one)."""
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
    return rows[label].policy, resolve_kwargs(rows[label].kwargs, detector)


def _check_labels(checkpoints: Mapping[str, str | None], reference: str | None) -> None:
    """No recogniser may be labelled ``silent``, like the reference row or like the
    reference with the held-out detector (:func:`held_reference`)."""
    held = held_reference(reference) if reference is not None else None
    for taken, what in (
        (SILENT, "the paired silent episodes"),
        (reference, "the reference"),
        (held, "the reference with the held-out detector"),
    ):
        if taken is not None and taken in checkpoints:
            raise ValueError(f"{taken!r} labels {what}; name the recogniser otherwise")


def held_reference(reference: str) -> str:
    """The label of ``reference`` run with the held-out detector (``--detector``)."""
    return f"{reference}, held-out detector"


def _detector_for(recogniser: str | None, detector: Any) -> Any:
    """What a recogniser's row takes of ``detector``: nothing for the committed
    recogniser (``recogniser`` None), which keeps the committed detector."""
    return detector if recogniser is not None else None


def _built(rows: Mapping[str, tuple[str, dict[str, Any]]]) -> None:
    """Build every row's policy once, so that a checkpoint that does not load fails
    before any episode runs."""
    from proassist.policies import make_policy

    for policy, kwargs in rows.values():
        make_policy(policy, **kwargs)


def _rows(
    checkpoints: Mapping[str, str | None], row: str, reference: str | None, detector: str | None
) -> dict[str, tuple[str, dict[str, Any]]]:
    """``{label: (policy, kwargs)}``: each recogniser's row (with ``detector``, except
    the committed recogniser's), then the reference, also with ``detector``."""
    if detector is not None and not Path(detector).is_file():
        raise FileNotFoundError(f"--detector {detector}: no such file (a model.pt)")
    rows = {
        label: row_with(row, ck, _detector_for(ck, detector)) for label, ck in checkpoints.items()
    }
    if reference is not None:  # checked before any episode runs
        rows[reference] = reference_row(reference)
        if detector is not None:
            rows[held_reference(reference)] = reference_row(reference, detector)
    return rows


def _pairings(
    checkpoints: Mapping[str, str | None], reference: str | None, detector: str | None
) -> dict[str, dict[str, str]]:
    """``{label: {key: other label}}``: every recogniser against the first
    (``vs_first``) and against the reference with the same detector
    (``vs_reference``); the reference with the held-out detector against the reference."""
    first = next(iter(checkpoints))
    held = held_reference(reference) if reference and detector else None
    out: dict[str, dict[str, str]] = {}
    for label, ck in checkpoints.items():
        out[label] = {"vs_first": first}
        if reference is not None:
            out[label]["vs_reference"] = _detector_for(ck, held) or reference
    if reference is not None:
        out[reference] = {}
    if held is not None:
        out[held] = {"vs_reference": reference}
    return out


def evaluate_tasks(
    checkpoints: Mapping[str, str | None],
    seeds: Sequence[int],
    row: str = "stepwatch+learned",
    reference: str | None = None,
    detector: str | None = None,
    **env_kwargs: Any,
) -> dict[str, dict[str, Any]]:
    """Net assistance of ``row`` with each recogniser on :data:`HELD_OUT` × ``seeds``,
    and its paired difference against the first (``vs_first``) and, with ``reference``
    (a sanity row that needs no recogniser, e.g. ``step-oracle+learned``: the true
    step), against that row on the same episodes (``vs_reference``); printed and
    returned (with the episodes under ``records``, the silent ones under ``silent``).
    With ``detector`` (a learned duplex trained on :data:`TRAIN`) every row but the
    committed recogniser's reads its detector from there (:func:`_rows`); for the
    pairs see :func:`_pairings`."""
    from proassist.analysis.metrics.stats import assistance_effect

    _check_labels(checkpoints, reference)
    rows = _rows(checkpoints, row, reference, detector)
    _built(rows)
    first = next(iter(rows))  # the silent episodes are run once, with the first row
    runs = {k: _held_out(*rows[k], seeds, k == first, **env_kwargs) for k in rows}
    silent = runs[first][1]
    out: dict[str, dict[str, Any]] = {SILENT: {"records": silent}}
    for label, (records, _) in runs.items():
        out[label] = {"records": records, **assistance_effect(records, silent)}
    _pair(out, _pairings(checkpoints, reference, detector))
    return out


def _pair(out: dict[str, dict[str, Any]], pairings: Mapping[str, Mapping[str, str]]) -> None:
    """Add each row's paired differences (``pairings``: :func:`_pairings`) and print."""
    from proassist.analysis.metrics.stats import paired_difference

    silent = out[SILENT]["records"]
    for label, against in pairings.items():
        entry = out[label]
        lo, hi = entry["net_assistance_ci_low"], entry["net_assistance_ci_high"]
        text = f"{label:24s} net {entry['net_assistance']:+.3f} [{lo:+.3f}, {hi:+.3f}]"
        for key, other in against.items():
            d = paired_difference(entry["records"], out[other]["records"], "net_assistance", silent)
            entry[key] = d
            text += (
                f"  minus {other}: {d['difference']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]"
            )
        print(text)


def main() -> None:
    """Evaluate the committed recogniser and ``--checkpoint`` on the held-out tasks."""
    parser = _parser()
    args = parser.parse_args()
    try:
        checkpoints = parse_checkpoints(args.checkpoint)
        _check_labels(checkpoints, args.reference)
        _built(_rows(checkpoints, args.row, args.reference, args.detector))
    except (ValueError, OSError) as e:
        parser.error(str(e))
    evaluate_tasks(checkpoints, range(*args.seeds), args.row, args.reference, args.detector)


def _parser() -> argparse.ArgumentParser:
    """The command line of :func:`main`."""
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
    parser.add_argument(
        "--detector",
        default=None,
        metavar="MODEL.pt",
        help="the learned duplex trained on TRAIN (detector_argv) behind every row but the "
        "committed recogniser's: both halves held out",
    )
    return parser


if __name__ == "__main__":
    main()
