"""Property tests of the deviation kinds over library tasks × kinds × onsets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sim_testkit import TASKS, correct_at_onset, of_type, run, scenario, scripted

from proassist.scenarios.model import DEVIATION_KINDS
from proassist.sim.deviations.base import (
    applicable_steps,
    get_deviation,
    register_deviation,
    registered_kinds,
)
from proassist.sim.engine import Simulation
from proassist.sim.messages import Message

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _cases(kind: str) -> list[tuple[str, str]]:
    return [(t, s) for t in TASKS for s in applicable_steps(kind, scenario(t).procedure)]


def test_every_kind_is_registered_and_lookup_suggests() -> None:
    assert set(DEVIATION_KINDS) <= set(registered_kinds())
    for kind in DEVIATION_KINDS:
        assert get_deviation(kind).consequence in ("fail", "redo", "none")
    with pytest.raises(KeyError, match="did you mean 'substitution'"):
        get_deviation("substitusion")
    with pytest.raises(ValueError, match="already registered"):
        register_deviation("omission")(type("Again", (), {}))


@pytest.mark.parametrize("kind", DEVIATION_KINDS)
def test_every_kind_applies_somewhere_in_the_library(kind: str) -> None:
    assert _cases(kind), f"no library task has a step where {kind} applies"


def _one_deviation(events: list[dict]) -> dict:
    devs = of_type(events, "deviation")
    assert len(devs) == 1, devs
    return devs[0]


@pytest.mark.parametrize("kind", DEVIATION_KINDS)
@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_correction_at_onset_resolves_before_deadline(kind: str, data, seed: int) -> None:
    """Naming the affected step at onset, compliance 1 → resolved in time, task succeeds."""
    name, step = data.draw(st.sampled_from(_cases(kind)))
    sim = scripted(name, kind, step, seed, compliance=1.0, self_correction=0.0)
    events = run(sim, correct_at_onset())
    dev = _one_deviation(events)
    assert dev["step"] == step and dev["scripted"] and dev["deadline"] > dev["onset"]
    assert [r["id"] for r in dev["recovery_steps"]][0] == f"fix_{kind}_{step}"
    resolved = of_type(events, "deviation_resolved")
    assert len(resolved) == 1 and resolved[0]["id"] == dev["id"] and resolved[0]["assisted"]
    recovery_starts = [e for e in of_type(events, "step_start") if e["recovery"]]
    assert recovery_starts and recovery_starts[0]["t"] <= dev["deadline"]
    assert not of_type(events, "deadline_missed")
    assert sim.success is True, (sim.failure_reason, name, step)


@pytest.mark.parametrize("kind", DEVIATION_KINDS)
@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_no_correction_leaves_it_unresolved_or_fails(kind: str, data, seed: int) -> None:
    """Silent assistant, no self-correction → the kind's consequence happens."""
    name, step = data.draw(st.sampled_from(_cases(kind)))
    sim = scripted(name, kind, step, seed, self_correction=0.0)
    events = run(sim)
    dev = _one_deviation(events)
    assert not of_type(events, "deviation_resolved")
    consequence = get_deviation(kind).consequence
    missed = of_type(events, "deadline_missed")
    if consequence == "fail":
        assert sim.success is False
        assert sim.failure_reason in ("hazard", "deviation_unrecovered")
        assert sim.failure_reason == "hazard" or kind != "safety"
    elif consequence == "redo":
        assert sim.success is False and sim.failure_reason == "deviation_unrecovered"
    else:
        assert [m["id"] for m in missed] == [dev["id"]]
        assert missed[0]["t"] == pytest.approx(dev["deadline"])
        assert sim.success is True  # only time was lost


@pytest.mark.parametrize("kind", ["omission", "placement", "distraction", "setting"])
def test_self_correction_resolves_unassisted(kind: str) -> None:
    name, step = _cases(kind)[0]
    sim = scripted(name, kind, step, 1, self_correction=1.0)
    events = run(sim)
    resolved = of_type(events, "deviation_resolved")
    assert len(resolved) == 1 and resolved[0]["by"] == "self" and not resolved[0]["assisted"]
    assert sim.success is True


def test_correction_after_the_deadline_recovers_nothing() -> None:
    """After an omission's deadline, a correction is too late: no recovery, task fails."""
    sim = scripted("kitchen_tea", "omission", "fill_kettle", 0, compliance=1.0, self_correction=0.0)
    sent = []

    def late(s, new):
        if any(e["type"] == "deadline_missed" for e in new) and not sent:
            sent.append(1)
            return Message("correct_deviation", "fill_kettle")
        return None

    events = run(sim, late)
    assert sent and not of_type(events, "deviation_resolved")
    assert not [e for e in of_type(events, "step_start") if e["recovery"]]
    said = [e["text"] for e in of_type(events, "person_utterance")]
    assert "It's too late to fix that now." in said
    assert sim.success is False and sim.failure_reason == "deviation_unrecovered"


def test_optional_skip_is_not_a_deviation() -> None:
    sc = scenario("kitchen_tea")
    optional = {s.id for s in sc.procedure.steps if s.optional}
    skipped_any = False
    for seed in range(12):
        sim = Simulation(sc, rng=np.random.default_rng(seed), deviation_rates={}, script=[])
        events = run(sim)
        started = {e["step"] for e in of_type(events, "step_start")}
        skipped_any |= bool(optional - started)
        assert not of_type(events, "deviation") and sim.success
    assert skipped_any


def test_max_random_caps_random_deviations() -> None:
    sc = scenario("assembly_stool")
    for seed in range(5):
        rates = dict.fromkeys(DEVIATION_KINDS, 1.0)
        sim = Simulation(sc, rng=np.random.default_rng(seed), deviation_rates=rates, script=[])
        events = run(sim)
        assert 1 <= len(of_type(events, "deviation")) <= sc.deviations.max_random


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_an_order_deviation_is_addressed_by_naming_its_predecessor(data, seed: int) -> None:
    """ "Do <predecessor> first" is a right correction of an order deviation: the event
    lists the predecessor in ``related_steps``, the person takes it as helpful and
    recovers, and the OOP metric's addressable steps include it."""
    from proassist.sim.deviations.base import addressable_steps

    name, step = data.draw(st.sampled_from(_cases("order")))
    sim = scripted(name, "order", step, seed, compliance=1.0, self_correction=0.0)

    def name_predecessor(s: Simulation, new: list[dict]) -> Message | None:
        for e in new:
            if e["type"] == "deviation":
                return Message("correct_deviation", e["params"]["before"])
        return None

    events = run(sim, name_predecessor)
    dev = _one_deviation(events)
    assert dev["related_steps"] == [dev["params"]["before"]] != [dev["step"]]
    assert dev["params"]["before"] in addressable_steps(dev)
    from proassist.sim.gold import GoldConfig, _deviation_moment

    moment = _deviation_moment({"events": events}, dev, GoldConfig())
    assert moment.is_step(dev["params"]["before"])  # content metrics agree (PQS, STS)
    assert [e["verdict"] for e in of_type(events, "reaction")][:1] == ["helpful"]
    resolved = of_type(events, "deviation_resolved")
    assert resolved and resolved[0]["assisted"] and sim.success is True
