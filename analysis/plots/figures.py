"""Every figure of a run folder (``proassist plot DIR``), PNG + SVG, one style.

>>> from proassist.analysis.plots.figures import build_figures
>>> from proassist.analysis.plots.data import load_run_dir
>>> figs = build_figures(load_run_dir("runs/baselines"), "runs/baselines/plots")
>>> figs.figures["ablation"].paths

Figures (each skipped, with a note, when the data cannot support it):

- ``timeline``: one episode (:func:`proassist.analysis.plots.timeline.plot_timeline`);
- ``latency_cdf``, ``tolerance_prf``, ``recovery_by_kind``
  (:mod:`proassist.analysis.plots.timing`);
- ``ablation``, ``assistance_effect`` (:mod:`proassist.analysis.plots.compare`).

The per-label scores drawn in ``ablation`` come from
:func:`proassist.analysis.metrics.scores.score_episodes` (pooled over the label's episodes, with
bootstrap 95 % CIs) and are returned for the report's tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from proassist.analysis.plots.data import RunData, is_silent, representative
from proassist.analysis.plots.style import label_colors
from proassist.analysis.plots.timing import DEFAULT_TOLERANCES

#: Metrics of the ablation bars and the report table when none are chosen.
DEFAULT_METRICS: tuple[str, ...] = (
    "g_mean",
    "match_f1",
    "oop_recall",
    "recovery_rate",
    "task_success",
    "false_alarms_per_min",
)


@dataclass
class Figure:
    """One written figure: its files (PNG first), a caption, or why it was skipped."""

    name: str
    title: str
    caption: str
    paths: list[Path] = field(default_factory=list)
    skipped: str | None = None


@dataclass
class FigureSet:
    """What :func:`build_figures` returns.

    Attributes:
        figures: Name -> :class:`Figure`, in report order.
        scores: Label -> :func:`~proassist.analysis.metrics.scores.score_episodes` dict.
        metrics: The metrics shown.
        effects: Label -> metric -> assistance effect (see
            :func:`~proassist.analysis.plots.compare.assistance_pairs`).
        timeline_record: The episode drawn in the timeline.
    """

    figures: dict[str, Figure]
    scores: dict[str, dict[str, float]]
    metrics: list[str]
    effects: dict[str, dict[str, dict[str, Any]]]
    timeline_record: dict[str, Any]


def check_metrics(metrics: Sequence[str]) -> list[str]:
    """The metric names, each checked against the registry.

    Raises:
        KeyError: An unknown metric, with "did you mean".
    """
    from proassist.analysis.metrics.scores import get_metric

    for m in metrics:
        get_metric(m)
    return list(metrics)


def default_metrics(data: RunData) -> list[str]:
    """The sweep's chosen ``metrics:`` when all are registered, else :data:`DEFAULT_METRICS`."""
    import json

    from proassist.analysis.metrics.scores import list_metrics

    summary = data.path / "summary.json"
    if data.kind == "sweep" and summary.exists():
        try:
            s = json.loads(summary.read_text())
        except ValueError:
            s = {}
        chosen = [str(m) for m in s.get("metrics") or []] if s.get("metrics_chosen") else []
        if chosen and set(chosen) <= set(list_metrics()):
            return chosen
    return list(DEFAULT_METRICS)


def label_scores(data: RunData, n_boot: int = 2000) -> dict[str, dict[str, float]]:
    """Per label, the pooled scores with bootstrap CIs (seeded per label)."""
    from proassist.analysis.metrics.scores import score_episodes

    return {
        lab: score_episodes(recs, rng=np.random.default_rng(i), n_boot=n_boot)
        for i, (lab, recs) in enumerate(data.groups.items())
    }


def _timeline(record: dict[str, Any], out_dir: Path) -> list[Path]:
    from proassist.analysis.plots.style import save_figure
    from proassist.analysis.plots.timeline import timeline_figure

    return save_figure(timeline_figure(record), out_dir, "timeline")


_ROLE = re.compile(r":(func|meth|class|mod|attr|data|obj|exc):`(~?)([^`<]*?)\s*(?:<([^`>]+)>)?`")


def _role(match: re.Match[str]) -> str:
    role, tilde, text, target = match.groups()
    if target:  # :func:`shown text <target>`
        return text
    if role == "mod" and not tilde:
        return text
    name = text.rsplit(".", 1)[-1]
    return f"{name}()" if role in ("func", "meth") else name


def plain_text(text: str) -> str:
    """A docstring passage as plain one-line prose for a caption: Sphinx roles become
    the bare name (``:func:`a.b.f``` -> ``f()``), literals and bold lose their markup."""
    text = _ROLE.sub(_role, text)
    text = re.sub(r"``(.+?)``", r"\1", text)
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    return " ".join(text.split())


def _add(
    figs: dict[str, Figure], name: str, title: str, caption: str, make: Callable[[], Any]
) -> None:
    paths = make()
    skipped = None if paths else "no deviations in these episodes"
    figs[name] = Figure(name, title, plain_text(caption), list(paths or []), skipped)


def build_figures(
    data: RunData,
    out_dir: str | Path,
    metrics: Sequence[str] | None = None,
    episode: str | None = None,
    tolerances: Sequence[float] = DEFAULT_TOLERANCES,
    rng: np.random.Generator | None = None,
) -> FigureSet:
    """Write every figure of ``data`` into ``out_dir`` (PNG + SVG).

    Args:
        data: A loaded run folder (:func:`proassist.analysis.plots.data.load_run_dir`).
        out_dir: Output folder (created).
        metrics: Metrics of the ablation bars; :func:`default_metrics` when None.
        episode: The timeline's episode (unit_id or index); representative when None.
        tolerances: Tolerances (s) of the P/R/F1 curves.
        rng: Generator for bootstraps and jitter; ``default_rng(0)`` when None.

    Raises:
        KeyError: An unknown metric name.
        NoEpisodesError: ``episode`` names no episode.
    """
    from proassist.analysis.plots import compare as pc
    from proassist.analysis.plots import timing as pt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = rng if rng is not None else np.random.default_rng(0)
    metrics = check_metrics(metrics if metrics else default_metrics(data))
    record = representative(data, episode)
    scores = label_scores(data)
    effects = pc.assistance_pairs(data, rng)
    silent = [lab for lab, recs in data.groups.items() if is_silent(recs)]
    colors, groups = label_colors(data.labels, silent), data.groups
    specs: list[tuple[str, str, str, Callable[[], Any]]] = [
        ("timeline", "Episode timeline", _timeline_caption(record), lambda: _timeline(record, out)),
        ("ablation", "Scores per label", _doc(pc, "Ablation bars"),
         lambda: pc.plot_ablation(scores, metrics, out, colors)),
        ("latency_cdf", "Detection latency", _doc(pt, "Latency CDF"),
         lambda: pt.plot_latency_cdfs(groups, out, colors)),
        ("tolerance_prf", "P/R/F1 against tolerance", _doc(pt, "Tolerance curves"),
         lambda: pt.plot_tolerance_curves(groups, out, colors, tolerances, rng)),
        ("recovery_by_kind", "Recovery by deviation kind", _doc(pt, "Recovery by kind"),
         lambda: pt.plot_recovery_by_kind(groups, out, colors, rng)),
        ("assistance_effect", "Assistance effect", _doc(pc, "Assistance effect"),
         lambda: pc.plot_assistance_effect(effects, out, colors, rng)),
    ]  # fmt: skip
    figs: dict[str, Figure] = {}
    for name, title, caption, make in specs:
        _add(figs, name, title, caption, make)
    if not effects:
        figs["assistance_effect"].skipped = "no silent episodes with the same tasks and seeds"
    return FigureSet(figs, scores, metrics, effects, record)


def _doc(module: Any, head: str) -> str:
    """The bullet ``- **head**: ...`` of a module docstring, as one line."""
    text = (module.__doc__ or "").split(f"- **{head}**", 1)[-1]
    return " ".join(text.split("- **", 1)[0].lstrip(" :").split())


def _timeline_caption(record: dict[str, Any]) -> str:
    from proassist.analysis.plots.timeline import plot_timeline

    doc = (plot_timeline.__doc__ or "").split("\n\n", 1)[-1]
    which = f"{record.get('task')}, seed {record.get('seed')}, {record.get('label') or record.get('policy')}"
    return f"{which}. {' '.join(doc.split())}"
