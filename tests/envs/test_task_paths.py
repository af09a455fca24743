"""Tasks from anywhere on disk: ProAssist-v0, task paths, reset options, search paths."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest

import proassist.envs  # noqa: F401
from proassist.scenarios import (
    ScenarioError,
    add_search_path,
    list_domains,
    list_scenarios,
    load_scenario,
    remove_search_path,
)
from proassist.scenarios.library import LAYOUTS_DIR, TASKS_DIR


def _lab(root: Path, layout_in: str = "layouts") -> Path:
    """A task of a new domain ``lab`` with its own layout ``bench`` under ``root``."""
    (root / "tasks").mkdir(parents=True)
    (root / layout_in).mkdir(parents=True, exist_ok=True)
    layout = (LAYOUTS_DIR / "kitchen.yaml").read_text().replace("id: kitchen", "id: bench")
    (root / layout_in / "bench.yaml").write_text(layout)
    text = (TASKS_DIR / "kitchen_tea.yaml").read_text()
    text = text.replace("id: kitchen_tea", "id: lab_tea").replace("domain: kitchen", "domain: lab")
    text = text.replace("layout: kitchen", "layout: bench")
    path = root / "tasks" / "lab_tea.yaml"
    path.write_text(text)
    return path


def test_a_new_domain_with_its_own_layout_runs_by_path(tmp_path: Path) -> None:
    path = _lab(tmp_path)
    env = gym.make("ProAssist-v0", task=str(path), render=False)
    obs, info = env.reset(seed=0)
    assert info["task"] == "lab_tea"
    assert env.unwrapped.scenario.layout.id == "bench"
    for _ in range(20):
        env.step({"decision": 0})
    assert env.unwrapped.episode_record()["env_id"] == "ProAssist-v0"


def test_layout_resolves_beside_the_task_not_the_cwd(tmp_path: Path, monkeypatch) -> None:
    path = _lab(tmp_path / "mine", layout_in="tasks")  # layout next to the task file
    decoy = tmp_path / "cwd"
    decoy.mkdir()
    (decoy / "bench.yaml").write_text("this: is not a layout\n")
    monkeypatch.chdir(decoy)
    assert load_scenario(path).layout.id == "bench"


def test_domain_env_rejects_a_task_of_another_domain(tmp_path: Path) -> None:
    path = _lab(tmp_path)
    with pytest.raises(ValueError, match="use ProAssist-v0"):
        gym.make("ProAssist-Kitchen-v0", task=str(path), render=False)


def test_reset_option_task_takes_a_path(tmp_path: Path) -> None:
    path = _lab(tmp_path)
    env = gym.make("ProAssist-v0", render=False)
    _, info = env.reset(seed=3, options={"task": str(path)})
    assert info["task"] == "lab_tea"
    _, info = env.reset(seed=3, options={"task": "kitchen_tea"})
    assert info["task"] == "kitchen_tea"


def test_missing_task_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        gym.make("ProAssist-v0", task=str(tmp_path / "nope.yaml"))
    with pytest.raises(ScenarioError):
        load_scenario(tmp_path / "nope.yaml")


def test_search_paths_add_tasks_domains_and_layouts(tmp_path: Path, monkeypatch) -> None:
    _lab(tmp_path)
    assert "lab_tea" not in list_scenarios()
    add_search_path(tmp_path)
    try:
        assert "lab_tea" in list_scenarios() and list_scenarios("lab") == ["lab_tea"]
        assert "lab" in list_domains()
        env = gym.make("ProAssist-v0", task="lab_tea", render=False)
        assert env.reset(seed=0)[1]["task"] == "lab_tea"
    finally:
        remove_search_path(tmp_path)
    monkeypatch.setenv("PROASSIST_PATH", str(tmp_path))
    assert "lab_tea" in list_scenarios()
    with pytest.raises(ValueError, match="did you mean 'lab'"):
        list_scenarios("labb")


def test_the_generic_id_samples_every_task() -> None:
    env = gym.make("ProAssist-v0", render=False)
    seen = {env.reset(seed=s)[1]["task"] for s in range(40)}
    assert {t.split("_")[0] for t in seen} == {"kitchen", "assembly", "maintenance"}
