"""The static HTML report of a run folder: figures, score tables and an episode video.

``report.html`` is a single page that links its figures and video by relative paths
to files inside the output folder, so the folder is self-contained (move or copy it and
it still works). Tables: per label, every chosen metric as ``value [95 % CI]`` pooled
over the label's episodes; the paired assistance effect; failed sweep units; and,
folded, every registered metric. The provenance section records what reproduces the
report: per label the exact env and policy configs and seeds of its episodes, the run's
own ``provenance`` (``scores.json`` or ``summary.json``) and the package version and git
commit that drew the report (also as JSON in ``<script id="provenance">``).

The episode video is ``episode.mp4`` of the run folder when it exists (``proassist
demo`` writes one; it is copied into the output folder) or the video replayed from the
timeline episode's record by :func:`proassist.analysis.replay.render_video`
(``proassist plot --video``); this module only reads records and files and copies
that video.
"""

from __future__ import annotations

import html
import json
import math
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from proassist.analysis.plots.data import RunData
from proassist.analysis.plots.figures import FigureSet

VIDEO_NAME = "episode.mp4"

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f4f4f4; } .ci { color: #777; font-size: 0.9em; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; max-width: 60em; }
.note { color: #777; font-size: 0.9em; } video { max-width: 100%; }
.prov td { text-align: left; vertical-align: top; } .prov code { font-size: 0.9em; }
"""


def _rel(path: Path, out_dir: Path) -> str:
    return Path(os.path.relpath(path, out_dir)).as_posix()


def _fmt(x: Any) -> str:
    if x is None:
        return "n/a"
    x = float(x)
    if math.isnan(x):
        return "n/a"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


def cell(scores: Mapping[str, Any], metric: str) -> str:
    """``value [lo, hi]`` of a metric from a scores dict (HTML; ``n/a`` when missing)."""
    value = _fmt(scores.get(metric))
    lo, hi = scores.get(f"{metric}_ci_low"), scores.get(f"{metric}_ci_high")
    if lo is None or hi is None or math.isnan(float(lo)) or math.isnan(float(hi)):
        return value
    return f'{value} <span class="ci">[{_fmt(lo)}, {_fmt(hi)}]</span>'


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def score_table(data: RunData, figs: FigureSet, metrics: Sequence[str]) -> str:
    """Per label (rows): episodes, then ``value [CI]`` of each metric (columns)."""
    rows = [
        [html.escape(lab), str(len(data.groups[lab]))]
        + [cell(figs.scores[lab], m) for m in metrics]
        for lab in data.labels
    ]
    return _table(["label", "episodes", *metrics], rows)


def effect_table(figs: FigureSet) -> str:
    """Per label: pairs and the mean [CI] of each assistance-effect metric."""
    from proassist.analysis.plots.compare import EFFECT_METRICS

    rows = []
    for lab, per in figs.effects.items():
        n = max((int(s["n_pairs"] or 0) for s in per.values()), default=0)
        cells = [
            cell({"v": s["mean"], "v_ci_low": s["lo"], "v_ci_high": s["hi"]}, "v")
            for s in (per.get(m, {"mean": None, "lo": None, "hi": None}) for m in EFFECT_METRICS)
        ]
        rows.append([html.escape(lab), str(n), *cells])
    return _table(["label", "pairs", *[f"Δ {m}" for m in EFFECT_METRICS]], rows)


def _status(data: RunData) -> str:
    if not data.rows:
        n = len(data.records)
        return f"<p>{n} episode(s), {len(data.labels)} label(s).</p>"
    ok = sum(r.get("status") == "ok" for r in data.rows)
    failed = [r for r in data.rows if r.get("status") != "ok"]
    text = f"<p>{len(data.rows)} units: {ok} ok, {len(failed)} failed.</p>"
    if failed:
        rows = [
            [html.escape(str(r.get(k))) for k in ("unit_id", "label", "task", "seed", "error")]
            for r in failed
        ]
        text += _table(["unit", "label", "task", "seed", "error"], rows)
    return text


def _figures(figs: FigureSet, out_dir: Path) -> str:
    parts = []
    for fig in figs.figures.values():
        parts.append(f"<h2>{html.escape(fig.title)}</h2>")
        if fig.skipped or not fig.paths:
            parts.append(f'<p class="note">Not drawn: {html.escape(fig.skipped or "no data")}.</p>')
            continue
        png, *others = fig.paths
        links = " · ".join(
            f'<a href="{_rel(p, out_dir)}">{p.suffix[1:].upper()}</a>' for p in others
        )
        parts.append(
            f'<figure><img src="{_rel(png, out_dir)}" alt="{html.escape(fig.title)}">'
            f"<figcaption>{html.escape(fig.caption)} {links}</figcaption></figure>"
        )
    return "\n".join(parts)


def _all_metrics(data: RunData, figs: FigureSet) -> str:
    from proassist.analysis.metrics.scores import list_metrics

    rows = [
        [html.escape(m)] + [cell(figs.scores[lab], m) for lab in data.labels]
        for m in list_metrics()
    ]
    return (
        "<details><summary>Every registered metric</summary>"
        f"{_table(['metric', *data.labels], rows)}</details>"
    )


def _seeds(records: Sequence[Mapping[str, Any]]) -> list[int]:
    return sorted({int(r["seed"]) for r in records if r.get("seed") is not None})


def _run_provenance(data: RunData) -> Any:
    """The run's own ``provenance``: ``scores.json`` (eval, demo) or ``summary.json``."""
    if isinstance(data.scores, Mapping) and data.scores.get("provenance"):
        return data.scores["provenance"]
    summary = data.path / "summary.json"
    try:
        return json.loads(summary.read_text()).get("provenance") if summary.exists() else None
    except (ValueError, AttributeError):
        return None


def _label_configs(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    keys = ("env_id", "env_kwargs", "policy", "policy_kwargs")
    configs = [{k: r.get(k) for k in keys} for r in records]
    unique = {json.dumps(c, sort_keys=True, default=str): c for c in configs}
    return list(unique.values())


def report_provenance(data: RunData, figs: FigureSet) -> dict[str, Any]:
    """What reproduces the report (module docstring), JSON-serialisable."""
    from proassist.analysis.provenance import provenance

    config = {"command": "plot", "run_folder": str(data.path), "metrics": list(figs.metrics)}
    shown = ("unit_id", "label", "task", "seed", "policy")
    return {
        "report": provenance(config, _seeds(data.records)),
        "run": _run_provenance(data),
        "labels": {
            lab: {"configs": _label_configs(recs), "seeds": _seeds(recs)}
            for lab, recs in data.groups.items()
        },
        "timeline_episode": {k: figs.timeline_record.get(k) for k in shown},
    }


def _code(prov: Mapping[str, Any] | None) -> str:
    if not isinstance(prov, Mapping):
        return "not recorded"
    commit = prov.get("git_commit") or "no git commit"
    dirty = " (uncommitted changes)" if prov.get("git_dirty") else ""
    return f"proassist {prov.get('version')}, {commit}{dirty}, Python {prov.get('python')}"


def provenance_section(prov: Mapping[str, Any]) -> str:
    """The provenance of :func:`report_provenance` as HTML (table, details, JSON)."""
    rows = [
        ["run by", html.escape(_code(prov.get("run")))],
        ["report by", html.escape(_code(prov.get("report")))],
    ]
    for lab, entry in prov["labels"].items():
        configs = "<br>".join(
            f"<code>{html.escape(json.dumps(c, sort_keys=True, default=str))}</code>"
            for c in entry["configs"]
        )
        seeds = ", ".join(map(str, entry["seeds"]))
        rows.append([html.escape(f"{lab} (seeds {seeds})"), configs])
    text = json.dumps(prov, indent=2, sort_keys=True, default=str)
    return (
        "<h2>Provenance</h2>"
        + f'<div class="prov">{_table(["", "exact configuration"], rows)}</div>'
        + f"<details><summary>All as JSON</summary><pre>{html.escape(text)}</pre></details>"
        + '<script type="application/json" id="provenance">'
        + text.replace("</", "<\\/")
        + "</script>"
    )


def bundle_video(video: Path | None, out_dir: Path) -> Path | None:
    """``video`` as ``out_dir/episode.mp4`` (copied there when it lies elsewhere)."""
    if video is None:
        return None
    target = Path(out_dir) / VIDEO_NAME
    if Path(video).resolve() != target.resolve():
        shutil.copyfile(video, target)
    return target


def _video(video: Path | None, out_dir: Path, note: str) -> str:
    if video is None:
        return (
            '<p class="note">No episode video: the folder has no episode.mp4; '
            "run <code>proassist plot DIR --video</code> to render one.</p>"
        )
    src = _rel(video, out_dir)
    return f'<video controls src="{src}"></video><p class="note">{html.escape(note)}</p>'


def write_report(
    data: RunData,
    figs: FigureSet,
    out_dir: str | Path,
    video: Path | None = None,
    video_note: str = "",
) -> Path:
    """Write ``out_dir/report.html`` (module docstring); returns its path."""
    out = Path(out_dir)
    video = bundle_video(video, out)
    title = f"ProAssist report: {data.name} ({data.kind})"
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>",
        f'<p class="note">Folder: {html.escape(str(data.path))}</p>',
        _status(data),
        "<h2>Scores</h2>",
        '<p class="note">Pooled over each label\'s episodes; [95% bootstrap CI].</p>',
        score_table(data, figs, figs.metrics),
    ]
    if figs.effects:
        parts += ["<h2>Assistance effect (policy − silent, paired)</h2>", effect_table(figs)]
    parts += [_all_metrics(data, figs), _figures(figs, out), "<h2>Episode video</h2>"]
    parts += [_video(video, out, video_note), provenance_section(report_provenance(data, figs))]
    parts.append("</body></html>")
    path = out / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def find_video(data: RunData) -> Path | None:
    """``episode.mp4`` of the run folder, if there is one."""
    path = data.path / VIDEO_NAME
    return path if path.is_file() else None
