"""The segmentation percepts of the learned interaction model (``PerceptTracker``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from proassist.policies.duplex.plan_format import Plan, PlanStep
from proassist.policies.learned.features import (
    FEATURE_NAMES,
    PERCEPT_DIM,
    PERCEPT_NAMES,
    PerceptTracker,
    input_names,
)

INFO: dict[str, Any] = {
    "plan": [
        {"id": "a", "location": "shelf", "objects": ["plate"], "safety_critical": False},
        {"id": "b", "location": "stove", "objects": ["pan"], "safety_critical": True},
        {"id": "c", "location": "sink", "objects": [], "safety_critical": False},
    ],
    "fixtures": ["shelf", "stove", "sink", "counter"],
    "segmentation_ids": {
        "floor": 0,
        "walls": 1,
        "hand_left": 2,
        "hand_right": 3,
        "shelf": 4,
        "stove": 5,
        "sink": 6,
        "plate": 7,
        "pan": 8,
        "hammer": 9,
    },
}
STEPS = (PlanStep("A", "a"), PlanStep("B", "b"), PlanStep("C", "c"))
PLAN = Plan("normal", "goal", steps=STEPS, current=0)


def _obs(t: float, fixture: int, objects: tuple[int, ...] = (), hands: bool = True) -> dict:
    """A 64x64 frame whose central window shows ``fixture``, ``objects`` and the hands."""
    seg = np.ones((64, 64), dtype=np.int32)  # walls
    seg[16:48, 16:48] = fixture
    if hands:
        seg[40:48, 16:48] = 2
    for k, obj in enumerate(objects):
        seg[20:26, 18 + 8 * k : 24 + 8 * k] = obj
    return {"time": np.array([t]), "segmentation": seg, "rgb": np.zeros((64, 64, 3), np.uint8)}


def _named(values: np.ndarray) -> dict[str, float]:
    return dict(zip(PERCEPT_NAMES, values.tolist(), strict=True))


def test_names_and_no_segmentation_gives_zeros() -> None:
    assert input_names(True) == FEATURE_NAMES + PERCEPT_NAMES
    assert input_names(False) == FEATURE_NAMES
    tracker = PerceptTracker(INFO)
    out = tracker.update({"time": np.array([0.0]), "rgb": np.zeros((8, 8, 3))}, PLAN)
    assert out.shape == (PERCEPT_DIM,) and not out.any()


def test_gaze_relative_to_the_plan() -> None:
    tracker = PerceptTracker(INFO)
    cur = _named(tracker.update(_obs(0.0, 4, (7,)), PLAN))
    assert cur["seen"] == cur["focus_current"] == cur["hands"] == 1.0
    assert cur["current_objects"] == 1.0 and cur["focus_next"] == cur["foreign"] == 0.0
    nxt = _named(tracker.update(_obs(0.5, 5, (8,)), PLAN))
    assert nxt["focus_next"] == 1.0 and nxt["focus_current"] == 0.0
    assert nxt["next_objects"] == 1.0 and nxt["focus_moved"] == 1.0
    later = _named(tracker.update(_obs(3.0, 6), PLAN))
    assert later["focus_later"] == 1.0 and later["off_current"] == pytest.approx(0.3)
    # the plan moved on: the stove is now the current step's (safety-critical) place
    moved = Plan("normal", "goal", steps=PLAN.steps, current=1)
    now = _named(tracker.update(_obs(3.5, 5), moved))
    assert now["focus_current"] == now["current_safety"] == 1.0 and now["off_current"] == 0.0


def test_foreign_object_idle_hands_and_determinism() -> None:
    frames = [_obs(0.0, 4, (9,)), _obs(0.5, 4, (9,), hands=False), _obs(2.5, 4, hands=False)]
    runs = []
    for _ in range(2):
        tracker = PerceptTracker(INFO)
        runs.append(np.stack([tracker.update(f, PLAN) for f in frames]))
    assert np.array_equal(runs[0], runs[1])
    first, _, last = (_named(r) for r in runs[0])
    assert first["foreign"] == 1.0  # an object no step uses, hands working
    assert last["idle_for"] == pytest.approx(0.25) and last["hands"] == 0.0
    assert ((runs[0] >= 0) & (runs[0] <= 1)).all()


def _holding(t: float, obj: int) -> dict:
    """Hands at the bottom of the view with ``obj`` touching them; the plate (7) far off."""
    obs = _obs(t, 4, hands=True)
    seg = obs["segmentation"]
    seg[36:40, 30:36] = obj  # right above the hands' rows 40..47
    seg[2:6, 2:6] = 7
    return obs


def test_held_objects_are_those_touching_the_hands() -> None:
    from proassist.policies.learned.features import held_objects

    names = {v: k for k, v in INFO["segmentation_ids"].items()}
    seg = _holding(0.0, 8)["segmentation"]
    assert held_objects(seg, names) == {"pan", "shelf"}  # the fixture the hands rest on too
    seg[36:40, 30:36] = 4
    assert held_objects(seg, names) == {"shelf"}  # the plate in the corner is not held
    seg[40:48, 16:48] = 4
    assert held_objects(seg, names) == set()  # no hands in view


#: INFO with a sponge (10) that only the last step, c, uses.
SPONGE_INFO = INFO | {
    "plan": [*INFO["plan"][:2], {**INFO["plan"][2], "objects": ["sponge"]}],
    "segmentation_ids": INFO["segmentation_ids"] | {"sponge": 10},
}


@pytest.mark.parametrize(
    ("obj", "current", "expected"),
    [
        (7, 0, ["held_current"]),  # the plate: step a's, the current one
        (8, 0, ["held_next"]),  # the pan: step b's, the next one
        (10, 0, ["held_later"]),  # the sponge: only c, after the next step, uses it
        (9, 0, ["held_foreign"]),  # a hammer: no step uses it
        (7, 1, []),  # plan at b: the plate is a done step's object
    ],
)
def test_held_percepts_relative_to_the_plan(obj: int, current: int, expected: list) -> None:
    plan = Plan("normal", "goal", steps=STEPS, current=current)
    got = _named(PerceptTracker(SPONGE_INFO).update(_holding(0.0, obj), plan))
    assert [k for k, v in got.items() if k.startswith("held_") and v] == expected, got


def test_checkpoint_input_widths() -> None:
    """A percept checkpoint from before later percepts were added reads their prefix;
    a width this code cannot make is refused."""
    pytest.importorskip("torch")
    from proassist.policies.learned.interaction import _check_inputs

    full = len(input_names(True))
    assert _check_inputs(full, True) == full and _check_inputs(full - 4, True) == full - 4
    assert _check_inputs(len(FEATURE_NAMES), False) == len(FEATURE_NAMES)
    for n, percepts in ((full + 1, True), (len(FEATURE_NAMES) - 1, True), (full, False)):
        with pytest.raises(ValueError, match="inputs"):
            _check_inputs(n, percepts)


def test_step_window_reads_the_steps_around_the_current_one() -> None:
    """Window slots follow the completed-then-remaining steps; dwell counts the seconds
    the hands worked on a step; a step passed without work keeps dwell 0."""
    tracker = PerceptTracker(INFO)
    for k in range(5):  # 2 s working on a's plate at the shelf
        tracker.update(_obs(0.5 * k, 4, (7,)), PLAN)
    at_a = _named(tracker.update(_obs(2.5, 4, (7,)), PLAN))
    assert at_a["win+0_present"] == at_a["win+0_focus"] == 1.0
    assert at_a["win+0_dwell"] == pytest.approx(0.25)  # 2.5 s of 10
    assert at_a["win-1_present"] == 0.0 and at_a["win+2_present"] == 1.0
    assert at_a["win+1_safety"] == 1.0 and at_a["win+1_dwell"] == 0.0
    # the plan took a and b for done; the person is at the sink: b was never worked on
    done = Plan("normal", "goal", completed=STEPS[:2], steps=STEPS[2:], current=0)
    later = _named(tracker.update(_obs(3.0, 6), done))
    assert later["win-2_done"] == later["win-1_done"] == 1.0 and later["win+0_done"] == 0.0
    assert later["win-2_dwell"] == pytest.approx(0.25) and later["win-1_dwell"] == 0.0
    assert later["win+0_focus"] == 1.0 and later["win+1_present"] == 0.0
    assert later["win-1_recency"] == 0.0  # just marked done
    again = _named(tracker.update(_obs(5.0, 6), done))
    assert again["win-1_recency"] == pytest.approx(0.2)
