"""The example sweep files in analysis/sweeps/: every one loads, expands and names real
metrics; the PWR ablations pair every configuration with a silent one; one tiny unit
of an ablation runs end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from proassist.analysis.metrics.scores import episode_scores, list_metrics
from proassist.analysis.sweeps.backends import execute_unit
from proassist.analysis.sweeps.expand import configurations, expand_units
from proassist.analysis.sweeps.spec import load_sweep
from proassist.analysis.sweeps.units import DEFAULT_UNIT

SWEEPS = Path(__file__).resolve().parents[2] / "analysis" / "sweeps" / "examples"
FILES = sorted(SWEEPS.glob("*.yaml"))
ABLATIONS = (
    "duplex_vs_monolithic",
    "oracle_vs_predicted_plan",
    "planner_latency",
    "recognition_yardstick",
    "speaking_threshold",
)


def test_the_ablations_are_there() -> None:
    assert {f.stem for f in FILES} >= set(ABLATIONS)


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_every_example_loads_and_expands(path: Path) -> None:
    spec = load_sweep(path)
    assert spec.name == path.stem
    units = expand_units(spec)
    configs = configurations(spec)
    assert len(units) == len(configs) * max(len(spec.tasks), 1) * len(spec.seeds)
    assert len({u["unit_id"] for u in units}) == len(units)
    if spec.unit is None:  # the episode unit: its summary columns are registered metrics
        assert set(spec.metrics) <= set(list_metrics()), set(spec.metrics) - set(list_metrics())


@pytest.mark.parametrize("name", ABLATIONS)
def test_ablations_pair_with_silent_on_the_same_seeds(name: str) -> None:
    spec = load_sweep(SWEEPS / f"{name}.yaml")
    units = expand_units(spec)
    silent = {(u["env_kwargs"].get("task"), u["seed"]) for u in units if u["policy"] == "silent"}
    speaking = {(u["env_kwargs"].get("task"), u["seed"]) for u in units if u["policy"] != "silent"}
    assert silent and silent == speaking
    labels = {u["label"] for u in units if u["policy"] != "silent"}
    assert len(labels) >= 2  # an ablation compares settings
    pixel_free = [u for u in units if u["policy"] in ("silent", "oracle")]
    assert all(u["env_kwargs"].get("render") is False for u in pixel_free)


def test_one_tiny_unit_of_an_ablation_runs() -> None:
    """The first duplex unit of planner_latency.yaml, cut to 6 s of simulated time."""
    units = expand_units(load_sweep(SWEEPS / "planner_latency.yaml"))
    unit = dict(units[0])
    assert unit["policy"] == "duplex"
    unit["env_kwargs"] = {**unit["env_kwargs"], "max_duration": 6.0, "width": 64, "height": 64}
    row, episode, _ = execute_unit(unit, DEFAULT_UNIT)
    assert row["status"] == "ok", row.get("traceback")
    assert episode["policy"] == "duplex" and episode["task"] == "kitchen_tea"
    assert len(episode["decisions"]) == 12
    from proassist.analysis.metrics.content import run_info

    counts = {k: v for k, v in run_info([episode]).items() if k != "text_sim_backend"}
    assert row["scores"] == pytest.approx(episode_scores(episode) | counts, nan_ok=True)


def test_a_degraded_step_oracle_unit_of_the_yardstick_runs() -> None:
    """The yardstick's units reach ``step-oracle`` with their lag and noise, privileged
    inside ``first-of``; one cut to 10 s of simulated time runs."""
    units = expand_units(load_sweep(SWEEPS / "recognition_yardstick.yaml"))
    inner = {
        u["label"]: u["policy_kwargs"]["policies"][0] for u in units if u["policy"] != "silent"
    }
    assert inner["lag 2 s"] == {"policy": "step-oracle", "policy_kwargs": {"lag": 2.0}}
    assert inner["5 % wrong, 1.5 s runs"]["policy_kwargs"] == {"noise": 0.05, "noise_run": 1.5}
    assert inner["2 s late at deviations"]["policy_kwargs"] == {"lag": 2.0, "during": "deviations"}
    assert inner["plan-biased 1.5 s"]["policy_kwargs"] == {"expect": 1.5}
    # as in the sanity rows: the duplex's re-engagements name the watcher's next step
    assert {u["policy_kwargs"]["resume_from"] for u in units if u["policy"] != "silent"} == {0}
    unit = dict(next(u for u in units if u["label"] == "5 % wrong, 1.5 s runs"))
    unit["env_kwargs"] = {**unit["env_kwargs"], "max_duration": 10.0, "width": 64, "height": 64}
    row, episode, _ = execute_unit(unit, DEFAULT_UNIT)
    assert row["status"] == "ok", row.get("traceback")
    assert episode["policy"] == "first-of" and len(episode["decisions"]) == 20
