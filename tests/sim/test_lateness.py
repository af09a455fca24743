"""Lateness costs: recovery grows with detection delay; no recovery past the deadline.

Issue 10, item 2 (see :mod:`proassist.sim.deviations.base`): every dependent step done
since the onset is redone, a correction after the deadline recovers nothing, and a
hazard's clock ends the task as failed.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sim_testkit import Policy, of_type, run, scripted

from proassist.scenarios.model import DEVIATION_KINDS
from proassist.scenarios.validation.semantics import check_params
from proassist.sim.deviations.base import get_deviation
from proassist.sim.deviations.hazard_kinds import HAZARD_TIME
from proassist.sim.engine import Simulation
from proassist.sim.messages import Message

#: One (task, step) per kind with a ``redo`` consequence where dependent work piles up
#: within 15 s of the onset and the deadline is later than onset + 16 s.
REDO_CASES: dict[str, tuple[str, str]] = {
    "omission": ("assembly_desk_lamp", "place_base"),
    "order": ("assembly_desk_lamp", "thread_cable"),
    "substitution": ("assembly_stool", "attach_leg_4"),
    "placement": ("assembly_desk_lamp", "get_screwdriver"),
    "measurement": ("assembly_wall_shelf", "insert_plugs"),
    "timing": ("maintenance_bike_tyre", "inspect_tyre"),
    "repetition": ("assembly_desk_lamp", "attach_arm"),
}
DELAYS = (0.0, 5.0, 15.0)


def correct_after(delay: float, intent: str = "correct_deviation") -> Policy:
    """A policy naming the deviated step once, ``delay`` seconds after the onset."""
    state: dict[str, Any] = {}

    def policy(sim: Simulation, new: list[dict[str, Any]]) -> Message | None:
        for e in new:
            if e["type"] == "deviation" and "due" not in state:
                state["due"], state["step"] = e["onset"] + delay, e["step"]
        if "due" in state and "sent" not in state and sim.time >= state["due"] - 1e-9:
            state["sent"] = sim.time
            return Message(intent, state["step"])
        return None

    return policy


def rework(sim: Simulation, events: list[dict[str, Any]]) -> float:
    """Expected seconds of recovery: fix and redo steps, redone and abandoned plan work.

    Recovery steps and redone plan steps count their mean duration (times the person's
    speed), so the person's random durations do not blur the comparison.
    """
    dev, speed = sim.deviations.devs[0], sim.profile.speed
    steps = {r.id: r for r in dev.recovery}
    total, done = 0.0, {}
    for e in of_type(events, "step_start"):
        if e["recovery"] and e["deviation"] == dev.id and e["step"] in steps:
            total += steps[e["step"]].duration.mean * speed
    for e in of_type(events, "step_end"):
        if e["recovery"]:
            continue
        if e["interrupted"]:
            total += e["duration"]
        else:
            done[e["step"]] = done.get(e["step"], 0) + 1
    redone = sum((n - 1) * sim.index.steps[s].duration.mean for s, n in done.items())
    return total + redone * speed


def _run_late(name: str, kind: str, step: str, delay: float, seed: int = 0) -> tuple:
    sim = scripted(name, kind, step, seed, compliance=1.0, self_correction=0.0)
    events = run(sim, correct_after(delay))
    return sim, events


def test_redo_cases_cover_every_redo_kind() -> None:
    redo = {k for k in DEVIATION_KINDS if get_deviation(k).consequence == "redo"}
    assert redo == set(REDO_CASES)


@pytest.mark.parametrize("kind", sorted(REDO_CASES))
def test_recovery_time_grows_with_detection_delay(kind: str) -> None:
    name, step = REDO_CASES[kind]
    costs = []
    for delay in DELAYS:
        sim, events = _run_late(name, kind, step, delay)
        dev = of_type(events, "deviation")[0]
        assert dev["deadline"] > dev["onset"] + 16.0
        resolved = of_type(events, "deviation_resolved")
        assert resolved and resolved[0]["assisted"], (kind, delay)
        assert sim.success is True, (kind, delay, sim.failure_reason)
        costs.append(rework(sim, events))
    assert costs[0] <= costs[1] <= costs[2] and costs[2] > costs[0], (kind, costs)


def test_redo_steps_are_the_dependent_steps_done_since_onset() -> None:
    sim, events = _run_late("assembly_wall_shelf", "substitution", "fix_right_bracket", 15.0)
    dev = sim.deviations.devs[0]
    redo = [r.completes for r in dev.recovery if r.id.startswith("redo_")]
    assert redo, "late substitution redoes nothing"
    deps = sim.index.dependents[dev.step]
    onset = of_type(events, "deviation")[0]["onset"]
    ends = {e["step"]: e["t"] for e in of_type(events, "step_end") if not e["recovery"]}
    assert all(s in deps and ends[s] >= onset for s in redo)
    early, _ = _run_late("assembly_wall_shelf", "substitution", "fix_right_bracket", 0.0)
    assert not [r for r in early.deviations.devs[0].recovery if r.id.startswith("redo_")]


@pytest.mark.parametrize("kind", sorted(REDO_CASES))
def test_correction_after_deadline_yields_no_recovery(kind: str) -> None:
    name, step = REDO_CASES[kind]
    sim = scripted(name, kind, step, 0, compliance=1.0, self_correction=0.0)
    state: dict[str, float] = {}

    def after_deadline(s: Simulation, new: list[dict[str, Any]]) -> Message | None:
        for e in new:
            if e["type"] == "deviation":
                state["deadline"] = e["deadline"]
        if "deadline" in state and s.time > state["deadline"] + 0.5 and "sent" not in state:
            state["sent"] = s.time
            return Message("correct_deviation", step)
        return None

    events = run(sim, after_deadline)
    assert "sent" in state and of_type(events, "deadline_missed")
    assert not [e for e in of_type(events, "deviation_resolved") if e["assisted"]]
    assert not [e for e in of_type(events, "step_start") if e["recovery"]]
    assert sim.success is False and sim.failure_reason == "deviation_unrecovered"


def test_late_message_after_a_fail_deadline_is_moot() -> None:
    """A ``fail`` kind's deadline ends the episode: nothing is heard after it."""
    sim = scripted("kitchen_tea", "safety", "turn_off_burner", 0, self_correction=0.0)
    events = run(sim, correct_after(HAZARD_TIME + 5.0, "warn"))
    assert not of_type(events, "deviation_resolved")
    assert sim.success is False and sim.failure_reason == "hazard"


@pytest.mark.parametrize(
    ("name", "step", "clock"),
    [("kitchen_tea", "turn_off_burner", HAZARD_TIME), ("kitchen_salad", "turn_off_burner", 20.0)],
)
def test_hazard_clock_fails_the_task(name: str, step: str, clock: float) -> None:
    sim = scripted(name, "safety", step, 0, self_correction=0.0)
    events = run(sim)
    dev = of_type(events, "deviation")[0]
    assert dev["params"]["hazard_time"] == clock
    assert dev["deadline"] == pytest.approx(dev["onset"] + clock, abs=1e-5)
    end = of_type(events, "task_end")[0]
    assert not end["success"] and end["reason"] == "hazard"
    assert end["t"] <= dev["deadline"] + 1e-5


def test_hazard_warned_in_time_is_recovered() -> None:
    sim = scripted("kitchen_salad", "safety", "turn_off_burner", 0, compliance=1.0)
    events = run(sim, correct_after(2.0, "warn"))
    assert [e["assisted"] for e in of_type(events, "deviation_resolved")] == [True]
    assert sim.success is True


@pytest.mark.parametrize(
    ("value", "ok"), [(20, True), (7.5, True), (0, False), (-3, False), ("soon", False)]
)
def test_hazard_time_is_validated(value: Any, ok: bool) -> None:
    problems: list[tuple] = []

    class Ctx:
        def report(self, path: tuple, message: str) -> None:
            problems.append((path, message))

    check_params({"hazard_time": value}, ("steps", 0, "params"), Ctx())
    assert (not problems) is ok, problems


#: Cases of the monotonicity property: (task, kind, step) with long enough deadlines.
MONO_CASES = [(t, k, s) for k, (t, s) in REDO_CASES.items()]
MONO_SEEDS = (0, 1)


def _mean_task_time(delay: float) -> float:
    times = []
    for name, kind, step in MONO_CASES:
        for seed in MONO_SEEDS:
            sim, _ = _run_late(name, kind, step, delay, seed)
            times.append(sim.time)
    return sum(times) / len(times)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(d1=st.sampled_from([0.0, 2.0, 4.0, 6.0]), gap=st.sampled_from([4.0, 6.0, 8.0]))
def test_task_time_non_decreasing_in_delay_on_average(d1: float, gap: float) -> None:
    """Mean task time over redo cases and seeds does not fall when the correction is later."""
    assert _mean_task_time(d1 + gap) >= _mean_task_time(d1) - 0.5
