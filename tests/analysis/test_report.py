"""``report.html``: figures by relative path, score tables, the episode video, provenance."""

from __future__ import annotations

import json
import platform
import re
import shutil
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path
from typing import Any

from test_plots_helpers import FIGURES, LABELS, eval_dir, eval_plot, run_cli, sweep_dir, sweep_plot

from proassist.analysis.metrics.scores import list_metrics
from proassist.analysis.plots.data import load_run_dir
from proassist.analysis.plots.figures import DEFAULT_METRICS
from proassist.analysis.plots.report import cell
from proassist.analysis.plots.style import metric_label
from proassist.analysis.provenance import source_root
from proassist.analysis.replay import replay_kwargs


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("src", "href") and value:
                self.refs.append((tag, value))


def _refs(html_path: Path) -> list[tuple[str, str]]:
    parser = _Refs()
    parser.feed(html_path.read_text(encoding="utf-8"))
    return parser.refs


def test_sweep_report_bundles_figures_and_tables() -> None:
    code, _, err = sweep_plot()
    assert code == 0, err
    html_path = sweep_dir() / "plots" / "report.html"
    refs = _refs(html_path)
    imgs = {v for t, v in refs if t == "img"}
    assert imgs == {f"{name}.png" for name in FIGURES}
    assert {f"{name}.svg" for name in FIGURES} <= {v for t, v in refs if t == "a"}
    for _, ref in refs:
        assert not Path(ref).is_absolute() and (html_path.parent / ref).exists(), ref
    text = html_path.read_text(encoding="utf-8")
    scores_table = text.split("<h2>Scores</h2>", 1)[1].split("</table>", 1)[0]
    for label in LABELS:
        assert f"<td>{label}</td>" in scores_table
    for metric in DEFAULT_METRICS:
        assert f"<th>{metric}</th>" in scores_table
    assert "Assistance effect (policy − silent, paired)" in text
    assert "9 units: 9 ok, 0 failed" in text
    assert all(f"<td>{m}</td>" in text for m in list_metrics())
    assert "No episode video" in text


def test_eval_report_with_replayed_video() -> None:
    code, out, err = eval_plot()
    assert code == 0, err
    folder = eval_dir().parent / "eval_plots"
    video = folder / "episode.mp4"
    assert video.stat().st_size > 10_000 and "video" in out
    assert ("video", "episode.mp4") in _refs(folder / "report.html")
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert "Replayed from the timeline episode" in text and ": identical event log" in text


def test_existing_video_and_chosen_metrics(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(eval_dir(), run)
    (run / "episode.mp4").write_bytes(b"\x00" * 64)
    code, _, err = run_cli(["plot", str(run), "--metrics", "sts,pqs", "--tolerances", "1,2"])
    assert code == 0, err
    path = run / "plots" / "report.html"
    assert ("video", "episode.mp4") in _refs(path)
    assert (run / "plots" / "episode.mp4").read_bytes() == b"\x00" * 64
    table = path.read_text(encoding="utf-8").split("</table>", 1)[0]
    assert "<th>sts</th>" in table and "<th>pqs</th>" in table and "<th>g_mean</th>" not in table


def test_moved_report_folder_keeps_every_link(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(eval_dir(), run)
    (run / "episode.mp4").write_bytes(b"\x00" * 64)
    code, _, err = run_cli(["plot", str(run)])
    assert code == 0, err
    moved = shutil.move(str(run / "plots"), str(tmp_path / "elsewhere" / "report"))
    shutil.rmtree(run)
    html_path = Path(moved) / "report.html"
    refs = _refs(html_path)
    assert {t for t, _ in refs} >= {"img", "a", "video"}
    for _, ref in refs:
        assert not Path(ref).is_absolute() and ".." not in Path(ref).parts, ref
        assert (html_path.parent / ref).is_file(), ref


def test_captions_and_panels_are_readable() -> None:
    code, _, err = sweep_plot()
    assert code == 0, err
    text = (sweep_dir() / "plots" / "report.html").read_text(encoding="utf-8")
    captions = " ".join(c.split("</figcaption>")[0] for c in text.split("<figcaption>")[1:])
    assert captions.count("score_episodes()") >= 1  # the role's target, without markup
    for markup in (":func:", ":class:", ":mod:", ":data:", "``", "**"):
        assert markup not in text, markup
    for metric in list_metrics():
        label = metric_label(metric)
        assert "_" not in label and label[0].isupper(), (metric, label)
    assert metric_label("false_alarms_per_min") == "False alarms per minute"
    assert metric_label("chunk_if1") == "Interrupt F1, 8 s chunks"
    assert metric_label("my_plugin_score") == "My plugin score"


def test_ablation_panels_use_readable_names(tmp_path: Path, monkeypatch: Any) -> None:
    from proassist.analysis.plots import compare

    titles: list[str] = []

    def keep_titles(fig: Any, out_dir: Path, name: str) -> list[Path]:
        titles.extend(ax.get_title() for ax in fig.axes if ax.get_visible())
        return []

    monkeypatch.setattr(compare, "save_figure", keep_titles)
    data = load_run_dir(sweep_dir())
    scores = {lab: {"task_success": 0.5} for lab in data.labels}
    colors = {lab: "#000000" for lab in data.labels}
    compare.plot_ablation(scores, ["task_success", "false_alarms_per_min"], tmp_path, colors)
    assert titles == ["Task success rate", "False alarms per minute"]


def test_provenance_of_scores_summary_and_report() -> None:
    prov = json.loads((eval_dir() / "scores.json").read_text())["provenance"]
    assert prov["version"] == version("proassist") and prov["seeds"] == [0, 1]
    assert prov["config"]["policy"] == "periodic" and prov["config"]["paired_silent"] is True
    assert prov["config"]["env_id"] == "ProAssist-Kitchen-v0"
    assert prov["config"]["env_kwargs"]["max_duration"] == 40
    assert prov["python"] == platform.python_version()
    if (source_root() / ".git").exists():
        assert re.fullmatch(r"[0-9a-f]{40}", prov["git_commit"] or ""), prov["git_commit"]
        assert isinstance(prov["git_dirty"], bool)
    sweep = json.loads((sweep_dir() / "summary.json").read_text())["provenance"]
    assert sweep["config"] == (sweep_dir() / "sweep.yaml").read_text() and sweep["seeds"] == [
        0,
        1,
        2,
    ]
    assert sweep["git_commit"] == prov["git_commit"]
    code, _, err = sweep_plot()
    assert code == 0, err
    text = (sweep_dir() / "plots" / "report.html").read_text(encoding="utf-8")
    embedded = text.split('<script type="application/json" id="provenance">', 1)[1]
    report = json.loads(embedded.split("</script>", 1)[0])
    assert report["run"] == sweep and report["report"]["version"] == version("proassist")
    assert sorted(report["labels"]) == sorted(LABELS)
    for label, entry in report["labels"].items():
        assert entry["seeds"] == [0, 1, 2]
        (config,) = entry["configs"]
        assert config["env_id"] == "ProAssist-Kitchen-v0"
        assert config["env_kwargs"]["max_duration"] == 60, label


def test_cell_and_replay_kwargs() -> None:
    assert cell({"x": 0.5, "x_ci_low": 0.25, "x_ci_high": 0.75}, "x").startswith("0.5 ")
    assert "[0.25, 0.75]" in cell({"x": 0.5, "x_ci_low": 0.25, "x_ci_high": 0.75}, "x")
    assert cell({"x": float("nan")}, "x") == "n/a" and cell({}, "x") == "n/a"
    rec = load_run_dir(sweep_dir()).records[0]
    kw = replay_kwargs(rec)
    assert kw["task"] == "kitchen_tea" and kw["max_duration"] == 60
    assert kw["domain"] == "kitchen" and "tasks" not in kw


def _timeline_layout(record: dict[str, Any]) -> tuple[Any, Any]:
    from proassist.analysis.plots.timeline import timeline_figure

    fig = timeline_figure(record)
    fig.canvas.draw()
    return fig, fig.canvas.get_renderer()


def test_timeline_labels_do_not_overlap_the_bars() -> None:
    import matplotlib.pyplot as plt

    data = load_run_dir(eval_dir())
    record = max(data.records, key=lambda r: sum(e["type"] == "deviation" for e in r["events"]))
    kinds = {e["kind"] for e in record["events"] if e["type"] == "deviation"}
    assert kinds
    for n_plan in (len(record["plan"]), 2):  # a tall figure and a short one
        fig, renderer = _timeline_layout({**record, "plan": record["plan"][:n_plan]})
        ax = fig.axes[0]
        bars = [p.get_window_extent(renderer) for p in ax.patches]
        labels = [t for t in ax.texts if t.get_text().strip()]
        assert bars and all(
            not t.get_window_extent(renderer).overlaps(b) for t in labels for b in bars
        )
        legend = ax.get_legend()
        names = {t.get_text() for t in legend.get_texts()}
        assert {f"{k} deviation" for k in kinds} <= names
        box = legend.get_window_extent(renderer)
        below = [ax.xaxis.label, *[t for t in ax.get_xticklabels() if t.get_text()]]
        assert not any(box.overlaps(t.get_window_extent(renderer)) for t in below)
        assert not box.overlaps(ax.get_window_extent(renderer))
        plt.close(fig)
