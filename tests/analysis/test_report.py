"""``report.html``: figures by relative path, score tables, the episode video."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

from test_plots_helpers import FIGURES, LABELS, eval_dir, eval_plot, run_cli, sweep_dir, sweep_plot

from proassist.analysis.metrics.scores import list_metrics
from proassist.analysis.plots.data import load_run_dir
from proassist.analysis.plots.figures import DEFAULT_METRICS
from proassist.analysis.plots.report import cell
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
    assert "replayed from the timeline episode" in text and "(identical event log)" in text


def test_existing_video_and_chosen_metrics(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(eval_dir(), run)
    (run / "episode.mp4").write_bytes(b"\x00" * 64)
    code, _, err = run_cli(["plot", str(run), "--metrics", "sts,pqs", "--tolerances", "1,2"])
    assert code == 0, err
    path = run / "plots" / "report.html"
    assert ("video", "../episode.mp4") in _refs(path)
    table = path.read_text(encoding="utf-8").split("</table>", 1)[0]
    assert "<th>sts</th>" in table and "<th>pqs</th>" in table and "<th>g_mean</th>" not in table


def test_cell_and_replay_kwargs() -> None:
    assert cell({"x": 0.5, "x_ci_low": 0.25, "x_ci_high": 0.75}, "x").startswith("0.5 ")
    assert "[0.25, 0.75]" in cell({"x": 0.5, "x_ci_low": 0.25, "x_ci_high": 0.75}, "x")
    assert cell({"x": float("nan")}, "x") == "n/a" and cell({}, "x") == "n/a"
    rec = load_run_dir(sweep_dir()).records[0]
    kw = replay_kwargs(rec)
    assert kw["task"] == "kitchen_tea" and kw["max_duration"] == 60
    assert "tasks" not in kw and "domain" not in kw
