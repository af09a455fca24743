"""``evaluate`` renders pixels only for policies that look at them, and records it."""

from __future__ import annotations

from typing import Any

import pytest

from proassist.analysis.evaluation import evaluate, render_choice, run_episode
from proassist.policies import make_policy
from proassist.policies.base import PolicyBase, silent_action

ENV = "ProAssist-Kitchen-v0"
SHORT = {"max_duration": 3.0}
NON_PIXEL = ("silent", "random", "periodic", "plan-timer", "coin", "timer-instruct", "oracle")


@pytest.fixture
def scenes(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts the pybullet scenes the envs build and the frames they render."""
    from proassist.sim.render import scene

    counts = {"scenes": 0, "renders": 0}

    class CountingScene(scene.Scene):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            counts["scenes"] += 1
            super().__init__(*args, **kwargs)

        def render(self, *args: Any, **kwargs: Any) -> Any:
            counts["renders"] += 1
            return super().render(*args, **kwargs)

    monkeypatch.setattr(scene, "Scene", CountingScene)
    return counts


class LooksAtPixels(PolicyBase):
    """Declares nothing about pixels; records whether any frame had content."""

    def __init__(self) -> None:
        super().__init__()
        self.saw_content = False

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        self.saw_content |= bool(observation["rgb"].any())
        return silent_action()


@pytest.mark.parametrize("name", NON_PIXEL)
def test_non_pixel_policy_builds_no_scene(name: str, scenes: dict[str, int]) -> None:
    assert make_policy(name).needs_pixels is False
    result = evaluate(name, ENV, [0, 1], **SHORT)
    assert scenes == {"scenes": 0, "renders": 0}
    assert [r["render"] for r in result.records + result.silent_records] == [False] * 4


def test_undeclared_policy_still_gets_real_frames(scenes: dict[str, int]) -> None:
    policy = LooksAtPixels()
    (record,) = evaluate(policy, ENV, [0], paired_silent=False, **SHORT).records
    assert record["render"] is True and policy.saw_content
    assert scenes["scenes"] == 1 and scenes["renders"] >= len(record["decisions"])


def test_explicit_render_wins(scenes: dict[str, int]) -> None:
    (record,) = evaluate("silent", ENV, [0], paired_silent=False, render=True, **SHORT).records
    assert record["render"] is True and scenes["scenes"] == 1 and scenes["renders"] > 0
    policy = LooksAtPixels()
    (record,) = evaluate(policy, ENV, [0], paired_silent=False, render=False, **SHORT).records
    assert record["render"] is False and not policy.saw_content and scenes["scenes"] == 1


def test_run_episode_records_the_choice(scenes: dict[str, int]) -> None:
    record = run_episode("periodic", {"period": 1.0}, ENV, 0, SHORT)
    assert record["render"] is False and scenes["scenes"] == 0
    assert any(d["decision"] for d in record["decisions"])


@pytest.mark.parametrize(
    ("declared", "env_kwargs", "expected"),
    [
        (False, {}, False),
        (True, {}, True),
        (None, {}, True),
        (False, {"render": True}, True),
        (True, {"render": False}, False),
    ],
)
def test_render_choice(declared: bool | None, env_kwargs: dict, expected: bool) -> None:
    policy = LooksAtPixels()
    if declared is not None:
        policy.needs_pixels = declared  # type: ignore[attr-defined]
    assert render_choice(policy, env_kwargs) is expected
