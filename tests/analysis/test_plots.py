"""Figures of ``proassist plot``: files, data functions, errors."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_plots_helpers import (
    FIGURES,
    LABELS,
    eval_dir,
    eval_plot,
    run_cli,
    sweep_dir,
    sweep_plot,
)

from proassist.analysis.metrics.scores import oop_detections, recoveries, score_episodes
from proassist.analysis.metrics.stats import assistance_effect
from proassist.analysis.plots import compare as pc
from proassist.analysis.plots import timing as pt
from proassist.analysis.plots.data import (
    NoEpisodesError,
    is_silent,
    load_run_dir,
    representative,
)
from proassist.analysis.plots.style import SILENT_COLOR, label_colors, short_label
from proassist.sim.gold import GoldConfig


def _check_png(path: Path) -> None:
    from PIL import Image

    assert path.stat().st_size > 10_000, path
    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        w, h = img.size
        assert img.format == "PNG" and w >= 400 and h >= 250, (path, img.size)
        assert len(img.convert("L").getcolors(maxcolors=256) or []) > 20  # not a blank canvas


def _check_svg(path: Path) -> None:
    assert path.stat().st_size > 10_000, path
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")


@pytest.mark.parametrize("which", ["sweep", "eval"])
def test_cli_writes_every_figure_as_png_and_svg(which: str) -> None:
    code, out, err = sweep_plot() if which == "sweep" else eval_plot()
    assert code == 0, err
    folder = sweep_dir() / "plots" if which == "sweep" else eval_dir().parent / "eval_plots"
    for name in FIGURES:
        assert name in out
        _check_png(folder / f"{name}.png")
        _check_svg(folder / f"{name}.svg")
    assert f"wrote {folder / 'report.html'}" in out


def test_load_sweep_dir_groups_by_label_in_row_order() -> None:
    data = load_run_dir(sweep_dir())
    assert data.kind == "sweep" and data.name == "plot_test"
    assert data.labels == list(LABELS)
    assert all(len(recs) == 3 for recs in data.groups.values())
    assert is_silent(data.groups["silent"]) and not is_silent(data.groups["periodic-5"])
    ev = load_run_dir(eval_dir())
    assert ev.kind == "eval" and len(ev.records) == 2 and len(ev.labels) == 1
    assert "assistance_effect_task_success" in ev.scores


def test_folders_without_episodes_exit_2(tmp_path: Path) -> None:
    code, _, err = run_cli(["plot", str(tmp_path)])
    assert code == 2 and "no episodes.jsonl" in err and "Traceback" not in err
    (tmp_path / "episodes.jsonl").write_text("")
    code, _, err = run_cli(["plot", str(tmp_path)])
    assert code == 2 and "no episode records" in err
    (tmp_path / "episodes.jsonl").write_text(json.dumps({"seed": 0}) + "\n")
    code, _, err = run_cli(["plot", str(tmp_path)])
    assert code == 2 and "lacks plan, events, decisions" in err
    code, _, err = run_cli(["plot", str(tmp_path / "missing")])
    assert code == 2 and "not a folder" in err
    assert not (tmp_path / "plots" / "report.html").exists()


def test_unknown_metric_and_episode_exit_2(tmp_path: Path) -> None:
    code, _, err = run_cli(
        ["plot", str(sweep_dir()), "--out", str(tmp_path), "--metrics", "g_maen"]
    )
    assert code == 2 and "did you mean 'g_mean'" in err
    code, _, err = run_cli(["plot", str(sweep_dir()), "--out", str(tmp_path), "--episode", "zz"])
    assert code == 2 and "expected a unit_id or an index" in err


def test_latency_curves_count_every_deviation() -> None:
    data = load_run_dir(sweep_dir())
    curves = pt.latency_curves(data.groups)
    assert curves, "the fixture's deviation rates must produce deviations"
    for kind, per in curves.items():
        for label, (lat, n) in per.items():
            dets = [d for r in data.groups[label] for d in oop_detections(r) if d["kind"] == kind]
            assert n == len(dets) and len(lat) == sum(d["latency"] is not None for d in dets)
            assert lat == sorted(lat)
    assert all(lat == [] for per in curves.values() for lat, _ in [per["silent"]])


def test_tolerance_curve_at_default_matches_score_episodes() -> None:
    data = load_run_dir(sweep_dir())
    curves = pt.tolerance_curves(data.groups, taus=(1.0, 2.0, 6.0), n_boot=200)
    for label, recs in data.groups.items():
        scores = score_episodes(recs, n_boot=0)
        cur = curves[label]
        for key in ("precision", "recall", "f1"):
            assert cur[key][1] == pytest.approx(scores[f"match_{key}"])
            assert all(0.0 <= v <= 1.0 for v in cur[key])
        assert cur["f1_lo"][1] <= cur["f1"][1] + 1e-9 <= cur["f1_hi"][1] + 2e-9
    assert curves["silent"]["f1"] == [0.0, 0.0, 0.0]
    assert curves["periodic-5"]["f1"][1] > 0


@settings(max_examples=30, deadline=None)
@given(st.floats(min_value=0.05, max_value=30.0))
def test_scaled_config_scales_every_window(tau: float) -> None:
    base = GoldConfig()
    cfg = pt.scaled_config(tau)
    k = tau / base.deviation_late
    assert cfg.deviation_late == pytest.approx(tau) == cfg.oop_tolerance
    assert cfg.next_early == pytest.approx(base.next_early * k)
    assert cfg.chunk_s == base.chunk_s and cfg.match_text_threshold == base.match_text_threshold


def test_scaled_config_default_and_invalid() -> None:
    assert pt.scaled_config(GoldConfig().deviation_late) == GoldConfig()
    with pytest.raises(ValueError, match="tolerance must be > 0"):
        pt.scaled_config(0.0)


def test_recovery_by_kind_pools_deviations() -> None:
    data = load_run_dir(sweep_dir())
    table = pt.recovery_by_kind(data.groups, n_boot=300)
    assert table
    for kind, per in table.items():
        for label, s in per.items():
            recs = [d for r in data.groups[label] for d in recoveries(r) if d["kind"] == kind]
            assert s["n"] == len(recs) > 0
            assert s["rate"] == pytest.approx(sum(d["recovered"] for d in recs) / len(recs))
            assert s["assisted"] <= s["rate"] + 1e-12
            assert s["lo"] <= s["rate"] + 1e-9 and s["rate"] <= s["hi"] + 1e-9


def test_assistance_pairs_match_stats_and_skip_silent() -> None:
    data = load_run_dir(sweep_dir())
    effects = pc.assistance_pairs(data)
    assert set(effects) == {"periodic-5", "random-0.2"}
    for label, per in effects.items():
        ref = assistance_effect(data.groups[label], data.groups["silent"])
        for metric, s in per.items():
            assert s["mean"] == pytest.approx(ref[f"assistance_effect_{metric}"], nan_ok=True)
            if s["diffs"]:
                assert np.mean(s["diffs"]) == pytest.approx(s["mean"])
        assert per["task_success"]["n_pairs"] == 3
    ev = load_run_dir(eval_dir())
    eff = pc.assistance_pairs(ev)[ev.labels[0]]["task_success"]
    assert eff["diffs"] == [] and eff["mean"] == ev.scores["assistance_effect_task_success"]


def test_representative_and_chosen_episode() -> None:
    data = load_run_dir(sweep_dir())
    rec = representative(data)
    assert not is_silent([rec])

    def n_dev(r: dict) -> int:
        return sum(e["type"] == "deviation" for e in r["events"])

    assert n_dev(rec) == max(n_dev(r) for r in data.records if not is_silent([r]))
    first = data.records[4]
    assert representative(data, first["unit_id"]) is first
    assert representative(data, "4") is first and representative(data, "-1") is data.records[-1]
    with pytest.raises(NoEpisodesError, match="index in"):
        representative(data, str(len(data.records)))


def test_label_colors_are_stable_and_silent_is_grey() -> None:
    colors = label_colors(["a", "silent", "b"], silent=["silent"])
    assert colors["silent"] == SILENT_COLOR
    assert len({colors["a"], colors["b"], SILENT_COLOR}) == 3
    assert label_colors(["a", "b"])["a"] == colors["a"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text("abcxyz=.-_0123456789", min_size=1, max_size=12), min_size=1, max_size=6))
def test_short_label_keeps_text_and_wraps(parts: list[str]) -> None:
    label = ",".join(parts)
    wrapped = short_label(label, 14)
    assert wrapped.replace("\n", "") == label
    for line in wrapped.split("\n"):
        assert len(line) <= 14 + 1 or "," not in line.rstrip(",")


def test_nan_metrics_do_not_break_the_bars(tmp_path: Path) -> None:
    data = load_run_dir(sweep_dir())
    scores = {lab: {"time_to_recovery": math.nan} for lab in data.labels}
    paths = pc.plot_ablation(scores, ["time_to_recovery"], tmp_path, label_colors(data.labels))
    assert [p.suffix for p in paths] == [".png", ".svg"] and all(p.exists() for p in paths)


def test_demo_folder_with_one_episode(tmp_path: Path) -> None:
    record = load_run_dir(eval_dir()).records[0]
    (tmp_path / "episode.json").write_text(json.dumps(record))
    data = load_run_dir(tmp_path)
    assert data.kind == "episode" and data.records == [record]
    assert pc.assistance_pairs(data) == {}


def test_frame_only_env_arguments_do_not_split_pairs() -> None:
    """A silent run without pixels pairs with a pixel run of the same setting; a setting
    that changes the episode (deviation rates) does not."""
    from proassist.analysis.plots.data import env_key
    from proassist.envs.arguments import ENV_ARGUMENTS
    from proassist.sim.render import FRAME_ARGUMENTS

    assert FRAME_ARGUMENTS <= set(ENV_ARGUMENTS)
    pixel = {"env_id": "E", "env_kwargs": {"obs_modes": ["rgb"], "deviation_rates": {"a": 0.1}}}
    blind = {"env_id": "E", "env_kwargs": {"render": False, "deviation_rates": {"a": 0.1}}}
    other = {"env_id": "E", "env_kwargs": {"render": False, "deviation_rates": {"a": 0.2}}}
    assert env_key(pixel) == env_key(blind) != env_key(other)
