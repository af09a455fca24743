"""Property tests of the deviation kinds over *generated* procedures × kinds × onsets.

The library's ten tasks are hand-written; these draw procedures from
:mod:`proassist.scenarios.generate` (any layout, any seed), so the simulation's
contracts are checked on procedures nobody wrote by hand.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sim_testkit import correct_at_onset, of_type, profile, run

from proassist.scenarios import load_layout, load_scenario
from proassist.scenarios.generate import generate_task, write_task
from proassist.scenarios.model import DEVIATION_KINDS, Scenario, ScriptedDeviation
from proassist.sim.deviations.base import applicable_steps, get_deviation
from proassist.sim.engine import Simulation

LAYOUTS = {"kitchen": "kitchen", "workbench": "assembly", "maintenance_bench": "maintenance"}
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_FOLDER = tempfile.mkdtemp(prefix="proassist-gen-")
atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)


@functools.cache
def generated(layout: str, seed: int) -> Scenario:
    """A generated task, written and loaded (validated) like any task file."""
    doc = generate_task(load_layout(layout), seed, domain=LAYOUTS[layout])
    return load_scenario(write_task(doc, _FOLDER))


def _draw(data: st.DataObject, kind: str) -> tuple[Scenario, str, int]:
    layout = data.draw(st.sampled_from(sorted(LAYOUTS)))
    seed = data.draw(st.integers(0, 400))
    sc = generated(layout, seed)
    steps = applicable_steps(kind, sc.procedure)
    if not steps:  # the kind applies nowhere in this task: take the next seed that has one
        sc = next(
            s
            for s in (generated(layout, seed + k) for k in range(1, 20))
            if applicable_steps(kind, s.procedure)
        )
        steps = applicable_steps(kind, sc.procedure)
    return sc, data.draw(st.sampled_from(steps)), data.draw(st.integers(0, 2**16))


def _sim(sc: Scenario, kind: str, step: str, seed: int, **person: float) -> Simulation:
    return Simulation(
        sc,
        rng=np.random.default_rng(seed),
        deviation_rates={},
        script=[ScriptedDeviation(kind, step)],
        profile=profile(sc, self_correction=0.0, **person),
    )


@pytest.mark.parametrize("kind", DEVIATION_KINDS)
@SETTINGS
@given(data=st.data())
def test_correction_at_onset_recovers_a_generated_procedure(kind: str, data) -> None:
    sc, step, seed = _draw(data, kind)
    sim = _sim(sc, kind, step, seed, compliance=1.0)
    events = run(sim, correct_at_onset())
    devs = of_type(events, "deviation")
    assert len(devs) == 1 and devs[0]["step"] == step
    resolved = of_type(events, "deviation_resolved")
    assert [r["id"] for r in resolved] == [devs[0]["id"]] and resolved[0]["assisted"]
    assert not of_type(events, "deadline_missed")
    assert sim.success is True, (sim.failure_reason, sc.name, step)


@pytest.mark.parametrize("kind", DEVIATION_KINDS)
@SETTINGS
@given(data=st.data())
def test_silence_lets_the_consequence_happen_in_a_generated_procedure(kind: str, data) -> None:
    sc, step, seed = _draw(data, kind)
    sim = _sim(sc, kind, step, seed)
    events = run(sim)
    assert len(of_type(events, "deviation")) == 1 and not of_type(events, "deviation_resolved")
    consequence = get_deviation(kind).consequence
    assert sim.success is (consequence == "none"), (sim.failure_reason, sc.name, step)


def test_without_deviations_every_generated_procedure_reaches_its_goal() -> None:
    for layout in LAYOUTS:
        for seed in range(10):
            sc = generated(layout, seed)
            sim = Simulation(sc, rng=np.random.default_rng(seed), deviation_rates={}, script=[])
            run(sim)
            assert sim.success is True, (sc.name, sim.failure_reason)
