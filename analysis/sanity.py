"""The sanity suite: reference assistants on the same seeds, and the orderings they owe.

A testbed is an instrument: a score that a blind, spamming or wrong-content policy can
win is a bug of the instrument. :data:`ROWS` are the reference assistants (the rows of
the table, as data: label, registered policy, its kwargs); :data:`ORDERINGS` are the
required orderings between their scores (issue 10, item 12), also as data.

Every row is evaluated with :func:`proassist.analysis.evaluation.evaluate` (paired
silent runs) on the same seeds of each env; a row's value of a metric is the mean over
the envs of its per-env value (each env has the same number of seeds), NaN values
left out, and its 95 % CI that of this mean (:mod:`proassist.analysis.sanity_ci`).
An ordering whose metric is missing (``None`` or NaN) for a row it involves is not met
("n/a"); rows not run (``--rows``) are left out of the orderings, and an ordering none
of whose rows ran is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from proassist.analysis.sanity_cells import ERROR_KEY, CellStore, cell_key, run_cells
from proassist.analysis.sanity_ci import (
    CI_SUFFIXES,
    KINDS_KEY,
    PAIRED_KEY,
    PER_SEED_KEY,
    SEED_KEYS,
    STATS_KEY,
    mean_ci_bound,
    per_seed_kinds,
    per_seed_net,
    per_seed_paired,
    per_seed_stats,
    seed_block_ci,
    seed_block_means,
    seed_block_metrics,
)
from proassist.analysis.sanity_ci import as_number as _number
from proassist.envs.registration import DOMAIN_ENV_IDS

__all__ = [
    "COLUMNS",
    "CONTENT_BLIND",
    "DEFAULT_ENVS",
    "ORDERINGS",
    "ROWS",
    "WRONG_CONTENT",
    "Check",
    "Ordering",
    "Row",
    "aggregate",
    "check_ordering",
    "check_orderings",
    "evaluate_row",
    "resolve_kwargs",
    "run_sanity",
    "stepwatch_learned",
]


#: The three domain envs (the default of ``proassist sanity``).
DEFAULT_ENVS: tuple[str, ...] = DOMAIN_ENV_IDS

#: Stands for the shipped checkpoint of the learned interaction model in row kwargs.
DEFAULT_CHECKPOINT = "<default>"


@dataclass(frozen=True)
class Row:
    """One reference assistant of the table.

    Attributes:
        label: Name in the table and in :data:`ORDERINGS`.
        policy: Registered policy name.
        kwargs: Its constructor arguments.
        pixels: Whether the env renders frames for it (only pixel policies need them).
    """

    label: str
    policy: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    pixels: bool = False


_LEARNED = {"interaction": "learned", "checkpoint": DEFAULT_CHECKPOINT}


def stepwatch_learned(stepwatch_kwargs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``first-of`` kwargs of ``stepwatch+learned``: stepwatch first (with these
    arguments), else the learned duplex, which heeds refusals (``heed``); the duplex's
    re-engagements name stepwatch's next step (``resume_from``). Pass the result through
    :func:`resolve_kwargs` to run it."""
    watch: dict[str, Any] = {"policy": "stepwatch"}
    if stepwatch_kwargs:
        watch["policy_kwargs"] = dict(stepwatch_kwargs)
    return {
        "policies": [
            watch,
            {"policy": "heed", "policy_kwargs": {"policy": "duplex", "policy_kwargs": _LEARNED}},
        ],
        "resume_from": 0,
    }


_STEPWATCH_LEARNED = stepwatch_learned()
#: The same with perfect step recognition: ``step-oracle`` (privileged: the true plan
#: step) in place of ``stepwatch``, i.e. how far a better recogniser can take it.
_STEP_ORACLE_LEARNED = {
    **_STEPWATCH_LEARNED,
    "policies": [{"policy": "step-oracle"}, *_STEPWATCH_LEARNED["policies"][1:]],
}

#: The reference rows, in table order.
ROWS: tuple[Row, ...] = (
    Row("silent", "silent"),
    Row("coin", "coin", {"p": 0.5}),
    Row("periodic-5s", "periodic", {"period": 5.0}),
    Row("periodic-10s", "periodic", {"period": 10.0}),
    Row("periodic-20s", "periodic", {"period": 20.0}),
    Row("spam-correct", "spam-correct", {"period": 2.0}),
    Row("spam-reengage", "spam-reengage", {"period": 4.0}),
    Row("timer-instruct", "timer-instruct"),
    Row("oracle-wrong-step", "oracle-wrong-step"),
    Row("oracle-wrong-intent", "oracle-wrong-intent"),
    Row("oracle-irrelevant-text", "oracle-irrelevant-text"),
    Row("oracle-late-3s", "oracle-late", {"delay": 3.0}),
    Row("oracle-late-10s", "oracle-late", {"delay": 10.0}),
    Row("oracle-late-30s", "oracle-late", {"delay": 30.0}),
    Row("oracle", "oracle"),
    Row("duplex-rules", "duplex", pixels=True),
    Row("duplex-rules-blind", "blind", {"policy": "duplex"}),
    Row("duplex-learned", "duplex", _LEARNED, pixels=True),
    Row("duplex-learned-blind", "blind", {"policy": "duplex", "policy_kwargs": _LEARNED}),
    Row("duplex-learned-predicted", "duplex", {**_LEARNED, "plan_mode": "predicted"}, pixels=True),
    Row(
        "duplex-learned-right-step",
        "right-step",
        {"policy": "duplex", "policy_kwargs": _LEARNED},
        pixels=True,
    ),
    Row("step-oracle", "step-oracle", pixels=True),
    Row("step-oracle+learned", "first-of", _STEP_ORACLE_LEARNED, pixels=True),
    Row("stepwatch", "stepwatch", pixels=True),
    Row("stepwatch-blind", "blind", {"policy": "stepwatch"}),
    Row("stepwatch+learned", "first-of", _STEPWATCH_LEARNED, pixels=True),
    Row(
        "stepwatch+learned-blind",
        "blind",
        {"policy": "first-of", "policy_kwargs": _STEPWATCH_LEARNED},
    ),
)

#: Rows whose messages ignore what happens (they never look).
CONTENT_BLIND: tuple[str, ...] = (
    "coin",
    "periodic-5s",
    "periodic-10s",
    "periodic-20s",
    "spam-correct",
    "spam-reengage",
    "timer-instruct",
)

#: Rows with the oracle's timing and the wrong content.
WRONG_CONTENT: tuple[str, ...] = (
    "oracle-wrong-step",
    "oracle-wrong-intent",
    "oracle-irrelevant-text",
)

#: Table columns: (score key, header).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("net_assistance", "net assist"),
    ("assistance_effect_task_success", "Δ success"),
    ("interruptions_per_min", "int/min"),
    ("oop_recall", "OOP rec"),
    ("oop_precision", "OOP prec"),
    ("pwr_g_mean", "PWR G-Mean"),
    ("g_mean", "G-Mean"),
    ("trust_at_message", "trust"),
)


@dataclass(frozen=True)
class Ordering:
    """A required ordering between row scores.

    With ``bound=None`` it is a chain: ``metric(labels[0]) op metric(labels[1]) op ...``;
    otherwise every row must satisfy ``metric(label) op bound``.

    Attributes:
        name: Short id.
        text: What is required, in words.
        metric: Score key.
        labels: Rows involved.
        op: ``">"``, ``">="``, ``"<"`` or ``"<="``.
        bound: The threshold, or None for a chain.
    """

    name: str
    text: str
    metric: str
    labels: tuple[str, ...]
    op: str
    bound: float | None = None


_BLIND_AND_WRONG = CONTENT_BLIND + WRONG_CONTENT

#: The required orderings (issue 10, item 12).
ORDERINGS: tuple[Ordering, ...] = (
    Ordering(
        "lateness",
        "net assistance: oracle > late 3 s > late 10 s > late 30 s",
        "net_assistance",
        ("oracle", "oracle-late-3s", "oracle-late-10s", "oracle-late-30s"),
        ">",
    ),
    Ordering(
        "oracle-success",
        "oracle: task success +0.5 over silent (paired)",
        "assistance_effect_task_success",
        ("oracle",),
        ">=",
        0.5,
    ),
    Ordering(
        "blind-net",
        "content-blind and wrong-content rows: net assistance <= 0",
        "net_assistance",
        _BLIND_AND_WRONG,
        "<=",
        0.0,
    ),
    Ordering(
        "blind-oop",
        "content-blind and wrong-content rows: content-aware OOP recall <= 0.2",
        "oop_recall",
        _BLIND_AND_WRONG,
        "<=",
        0.2,
    ),
    Ordering(
        "blind-pwr",
        "content-blind rows: PWR-comparable G-Mean <= 0.55",
        "pwr_g_mean",
        CONTENT_BLIND,
        "<=",
        0.55,
    ),
    Ordering(
        "oracle-pwr", "oracle: PWR-comparable G-Mean >= 0.9", "pwr_g_mean", ("oracle",), ">=", 0.9
    ),
)

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


@dataclass
class Check:
    """The outcome of one :class:`Ordering`.

    Attributes:
        ordering: What was checked.
        status: ``"held"``, ``"failed"``, ``"n/a"`` (a value missing) or ``"skipped"``
            (none of its rows ran).
        values: ``{label: value or None}`` of the rows that ran.
        failing: Labels (chain: ``"a > b"`` pairs) that break it.
    """

    ordering: Ordering
    status: str
    values: dict[str, float | None]
    failing: list[str]

    @property
    def held(self) -> bool:
        """Whether the ordering holds (skipped orderings count as held)."""
        return self.status in ("held", "skipped")


def check_ordering(ordering: Ordering, scores: Mapping[str, Mapping[str, Any]]) -> Check:
    """Check ``ordering`` on ``{label: scores}`` (see the module doc for missing values)."""
    labels = [lb for lb in ordering.labels if lb in scores]
    values = {lb: _number(scores[lb].get(ordering.metric)) for lb in labels}
    if not labels:
        return Check(ordering, "skipped", values, [])
    missing = [lb for lb, v in values.items() if v is None]
    if missing:
        return Check(ordering, "n/a", values, missing)
    op = _OPS[ordering.op]
    if ordering.bound is None:
        pairs = zip(labels, labels[1:], strict=False)
        failing = [f"{a} {ordering.op} {b}" for a, b in pairs if not op(values[a], values[b])]
    else:
        failing = [lb for lb in labels if not op(values[lb], ordering.bound)]
    return Check(ordering, "failed" if failing else "held", values, failing)


def check_orderings(
    scores: Mapping[str, Mapping[str, Any]], orderings: Sequence[Ordering] = ORDERINGS
) -> list[Check]:
    """:func:`check_ordering` for each of ``orderings``."""
    return [check_ordering(o, scores) for o in orderings]


def resolve_kwargs(kwargs: Any, checkpoint: str | None = None) -> Any:
    """Row kwargs with :data:`DEFAULT_CHECKPOINT` replaced by ``checkpoint`` (a learned
    interaction model's ``model.pt``; None: the shipped one)."""
    if isinstance(kwargs, Mapping):
        return {k: resolve_kwargs(v, checkpoint) for k, v in kwargs.items()}
    if isinstance(kwargs, list | tuple):
        return [resolve_kwargs(v, checkpoint) for v in kwargs]
    if kwargs == DEFAULT_CHECKPOINT and checkpoint is not None:
        return str(checkpoint)
    if kwargs == DEFAULT_CHECKPOINT:
        from proassist.policies.learned.assets import default_checkpoint

        path = default_checkpoint()
        if path is None:
            raise FileNotFoundError("no shipped checkpoint (policies/checkpoints/model.pt)")
        return str(path)
    return kwargs


def evaluate_row(
    row: Row,
    env_id: str,
    seeds: Sequence[int],
    env_kwargs: Mapping[str, Any] | None = None,
    plugins: Sequence[str] = (),
) -> dict[str, Any]:
    """The scores of ``row`` on ``env_id`` (paired with silent); the worker's unit."""
    from proassist.analysis.evaluation import evaluate
    from proassist.analysis.plugins import load_plugins

    load_plugins(plugins)
    kwargs = {"render": row.pixels, **dict(env_kwargs or {})}
    result = evaluate(
        row.policy, env_id, list(seeds), policy_kwargs=resolve_kwargs(row.kwargs), **kwargs
    )
    scores = {k: _number(v) if isinstance(v, float) else v for k, v in result.scores.items()}
    records, silent = result.records, result.silent_records
    return {
        **scores,
        PER_SEED_KEY: per_seed_net(records, silent),
        STATS_KEY: per_seed_stats(records, result.stats),
        PAIRED_KEY: per_seed_paired(records, silent),
        KINDS_KEY: per_seed_kinds(records),
    }


def aggregate(per_env: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
    """Mean over envs of every numeric score (NaN and None left out; None if none left).

    A 95 % CI bound (``<metric>_ci_low``, ``_ci_high``) is not averaged: it is the bound
    of the mean over envs, a bootstrap over seeds where the envs hold per-seed values
    (:func:`seed_block_ci`, :func:`seed_block_metrics`, :func:`seed_block_means`), else
    from the envs' bounds (:func:`mean_ci_bound`).
    """
    keys = sorted({k for scores in per_env.values() for k in scores} - set(SEED_KEYS))
    out: dict[str, float | None] = {}
    metrics = [k[: -len(CI_SUFFIXES[0])] for k in keys if k.endswith(CI_SUFFIXES[0])]
    bounds = {m: (lo, hi) for m, (_, lo, hi) in seed_block_metrics(per_env, metrics).items()}
    for metric, (low, high) in (bounds | seed_block_means(per_env)).items():
        out[metric + CI_SUFFIXES[0]], out[metric + CI_SUFFIXES[1]] = low, high
    by_seeds = seed_block_ci(per_env)
    if by_seeds is not None:
        out["net_assistance_ci_low"], out["net_assistance_ci_high"] = by_seeds
    for key in (k for k in keys if k not in out):
        if key.endswith(CI_SUFFIXES):
            out[key] = mean_ci_bound(per_env, key)
            continue
        values = [_number(s.get(key)) for s in per_env.values()]
        kept = [v for v in values if v is not None]
        out[key] = sum(kept) / len(kept) if kept else None
    return dict(sorted(out.items()))


@dataclass
class _Cell:
    """A picklable ``(row, env) -> scores`` for the process pool."""

    seeds: tuple[int, ...]
    env_kwargs: dict[str, Any]
    plugins: tuple[str, ...]

    def __call__(self, row: Row, env_id: str) -> dict[str, Any]:
        """The cell's scores, or ``{ERROR_KEY: "Type: message"}`` when it crashed."""
        try:
            return evaluate_row(row, env_id, self.seeds, self.env_kwargs, self.plugins)
        except Exception as exc:  # noqa: BLE001 - a crashed cell is recorded, not fatal
            return {ERROR_KEY: f"{type(exc).__name__}: {exc}"}

    def key(self, row: Row, env_id: str) -> str:
        """The cell's :func:`~proassist.analysis.sanity_cells.cell_key`."""
        return cell_key(row, env_id, self.seeds, self.env_kwargs, self.plugins)


def run_sanity(
    envs: Sequence[str] = DEFAULT_ENVS,
    seeds: Iterable[int] = range(10),
    *,
    rows: Sequence[Row] = ROWS,
    env_kwargs: Mapping[str, Any] | None = None,
    workers: int = 1,
    plugins: Sequence[str] = (),
    progress: bool = False,
    store: CellStore | None = None,
) -> dict[str, Any]:
    """Evaluate every row on every env and check :data:`ORDERINGS`; with ``store``, take
    the cells recorded there (matching key) and record the others as they finish.

    Returns:
        ``{"envs", "seeds", "env_kwargs", "rows": [{label, policy, kwargs, scores, per_env,
        errors}], "checks", "all_hold"}`` (JSON-ready; ``scores``: the mean over envs).
    """
    seeds = tuple(int(s) for s in seeds)
    cells = [(row, env_id) for row in rows for env_id in envs]
    run = _Cell(seeds, dict(env_kwargs or {}), tuple(plugins))
    results = iter(run_cells(cells, run, workers, progress, store))
    out_rows = [_row_result(row, {env_id: next(results) for env_id in envs}) for row in rows]
    settings = {"envs": list(envs), "seeds": list(seeds), "env_kwargs": dict(env_kwargs or {})}
    return {**settings, "rows": out_rows, **_checked(out_rows)}


def _checked(out_rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``{"checks", "all_hold"}`` of the rows' results (:data:`ORDERINGS`; crashed cells
    fail ``all_hold``)."""
    checks = check_orderings({r["label"]: r["scores"] for r in out_rows})
    held = all(c.held for c in checks) and not any(r["errors"] for r in out_rows)
    return {"checks": [_check_dict(c) for c in checks], "all_hold": held}


def _row_result(row: Row, per_env: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One row of :func:`run_sanity`'s result from its cells' scores by env."""
    errors = {e: s[ERROR_KEY] for e, s in per_env.items() if ERROR_KEY in s}
    ok = {e: s for e, s in per_env.items() if ERROR_KEY not in s}
    scores = aggregate(ok) if not errors else {}
    return {**asdict(row), "scores": scores, "per_env": per_env, "errors": errors}


def _check_dict(check: Check) -> dict[str, Any]:
    return {
        **asdict(check.ordering),
        "status": check.status,
        "held": check.held,
        "values": check.values,
        "failing": check.failing,
    }
