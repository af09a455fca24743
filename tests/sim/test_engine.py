"""Tests of the Simulation contract (sim/engine.py), the event log and determinism."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sim_testkit import TASKS, of_type, run, scenario

from proassist.scenarios.model import ScriptedDeviation
from proassist.sim.engine import Simulation
from proassist.sim.events import EVENT_TYPES
from proassist.sim.messages import Message

#: Fields of each event type besides t and type (sim/events.py docstring).
FIELDS = {
    "task_start": {"task", "domain", "goal", "plan", "seed"},
    "latent_deviations": {"deviations"},
    "step_start": {"step", "index", "recovery", "deviation"},
    "step_finishing": {"step", "index", "ends"},
    "variation": {"kind", "step", "canonical"},
    "step_end": {"step", "index", "recovery", "deviation", "duration", "interrupted"},
    "deviation": {
        "id",
        "kind",
        "step",
        "index",
        "onset",
        "recovery_steps",
        "related_steps",
        "deadline",
        "params",
        "scripted",
    },
    "deviation_resolved": {"id", "kind", "assisted", "by", "latency"},
    "deadline_missed": {"id", "kind", "consequence"},
    "person_utterance": {"text", "act"},
    "assistant_message": {"intent", "step", "text", "index"},
    "deviation_prevented": {"kind", "step", "index", "params", "guided", "message_t", "p"},
    "reaction": {
        "message_t",
        "response",
        "delay",
        "trust",
        "target",
        "intent",
        "verdict",
        "trust_before",
        "listen",
        "dispute",
        "stop",
    },
    "hesitation_start": {"step"},
    "hesitation_end": {"step"},
    "task_end": {"success", "reason", "duration"},
}


def _silent(name: str, seed: int, **kw) -> Simulation:
    return Simulation(
        scenario(name), rng=np.random.default_rng(seed), deviation_rates={}, script=[], **kw
    )


@pytest.mark.parametrize("name", TASKS)
def test_no_deviations_silent_assistant_every_task_completes(name: str) -> None:
    for seed in range(3):
        sim = _silent(name, seed)
        events = run(sim)
        assert sim.success is True and sim.failure_reason is None
        assert sim.world.goal_reached()
        assert not of_type(events, "deviation")
        ends = of_type(events, "task_end")
        assert len(ends) == 1 and ends[0]["reason"] == "completed" and ends[0]["success"]
        assert events[-1]["type"] == "task_end"
        required = {s.id for s in sim.procedure.steps if not s.optional}
        assert required <= set(sim.completed_steps())


def test_each_step_advances_exactly_dt_and_times_are_ordered() -> None:
    sim = _silent("kitchen_tea", 1, dt=0.25)
    sim.reset()
    k = 0
    while not sim.done:
        sim.step()
        k += 1
        assert sim.time == pytest.approx(0.25 * k, abs=1e-9)
    times = [e["t"] for e in sim.events]
    assert times == sorted(times)
    assert sim.events.to_list()[-1]["t"] <= sim.time


def test_event_fields_match_the_documented_schema() -> None:
    sc = scenario("kitchen_tea")
    sim = Simulation(
        sc, rng=np.random.default_rng(3), deviation_rates={k: 0.3 for k in sc.deviations.rates}
    )
    policy_calls = []

    def policy(s: Simulation, new: list[dict]) -> Message | None:
        policy_calls.append(1)
        return Message("correct_deviation", "fill_kettle") if len(policy_calls) % 40 == 0 else None

    events = run(sim, policy)
    seen = set()
    for e in events:
        assert e["type"] in EVENT_TYPES
        assert set(e) - {"t", "type"} == FIELDS[e["type"]], e
        seen.add(e["type"])
    assert {"task_start", "step_start", "step_end", "deviation", "reaction", "task_end"} <= seen
    json.dumps(events)


def test_same_seed_same_log_different_seed_different_log() -> None:
    sc = scenario("kitchen_tea")

    def log(seed: int) -> str:
        sim = Simulation(sc, rng=np.random.default_rng(seed))
        return json.dumps(
            run(sim, lambda s, new: Message("warn", "serve_tea") if s.time == 30 else None)
        )

    assert log(7) == log(7)
    assert log(7) != log(8)
    a = json.loads(log(7))
    b = json.loads(log(8))
    strip = [[{k: v for k, v in e.items() if k != "seed"} for e in x] for x in (a, b)]
    assert strip[0] != strip[1]  # not only the logged seed differs


def test_time_limit_truncates() -> None:
    sim = _silent("kitchen_tea", 0, max_duration=10.0)
    events = run(sim)
    assert sim.success is False and sim.failure_reason == "time_limit"
    assert sim.time == pytest.approx(10.0)
    assert len(of_type(events, "task_end")) == 1


def test_step_after_end_and_before_reset_raise() -> None:
    sim = _silent("kitchen_tea", 0, max_duration=1.0)
    with pytest.raises(RuntimeError, match="reset"):
        sim.step()
    run(sim)
    with pytest.raises(RuntimeError, match="ended"):
        sim.step()


def test_privileged_queries_follow_the_episode() -> None:
    sim = Simulation(
        scenario("kitchen_tea"),
        rng=np.random.default_rng(0),
        deviation_rates={},
        script=[ScriptedDeviation("omission", "fill_kettle")],
    )
    sim.reset()
    assert sim.current_step() == "get_mug"
    seen_active = False
    while not sim.done:
        sim.step()
        active = sim.active_deviations()
        if active:
            seen_active = True
            assert active[0]["kind"] == "omission" and active[0]["step"] == "fill_kettle"
    assert seen_active
    assert "fill_kettle" not in sim.completed_steps() and "get_mug" in sim.completed_steps()


def test_bad_script_and_kinds_are_reported() -> None:
    sc = scenario("kitchen_tea")
    with pytest.raises(KeyError, match="did you mean 'omission'"):
        Simulation(sc, script=[ScriptedDeviation("omision", "fill_kettle")])
    with pytest.raises(ValueError, match="unknown step"):
        Simulation(sc, script=[ScriptedDeviation("omission", "boil_milk")])
    with pytest.raises(ValueError, match="does not apply"):
        Simulation(sc, script=[ScriptedDeviation("setting", "get_mug")])
    with pytest.raises(KeyError, match="did you mean"):
        Simulation(sc, deviation_kinds=["ommission"])
    with pytest.raises(ValueError, match="dt"):
        Simulation(sc, dt=0)


def test_person_utterance_is_reset_every_step() -> None:
    sim = _silent("kitchen_tea", 0)
    sim.reset()
    sim.step(Message("confirm_done"))
    said = []
    for _ in range(6):
        sim.step()
        said.append(sim.person_utterance)
    assert "Okay." in said and said.count("Okay.") == 1
