"""Tests of the body the renderer sees (sim/person/kinematics.py via Simulation.body())."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from sim_testkit import TASKS, correct_at_onset, run, scenario

from proassist.scenarios.model import ScriptedDeviation
from proassist.sim.body import PRIMITIVES, BodyState
from proassist.sim.engine import Simulation
from proassist.sim.person.kinematics import EYE_HEIGHT, half_height, locations


def _bodies(
    name: str, seed: int, dt: float = 0.5, script=None
) -> list[tuple[Simulation, BodyState]]:
    sc = scenario(name)
    sim = Simulation(
        sc, rng=np.random.default_rng(seed), dt=dt, deviation_rates={}, script=script or []
    )
    sim.reset()
    out = [(sim, sim.body())]
    policy = correct_at_onset()
    new: list = []
    while not sim.done:
        new = sim.step(policy(sim, new))
        if not sim.done:
            out.append((sim, _snapshot(sim)))
    return out


def _snapshot(sim: Simulation) -> tuple:
    body = sim.body()
    stand_loc = None
    act = sim.person.activity
    if act is not None and act.kind == "step" and body.primitive == "operate":
        loc = sim.index.steps[act.step].location
        stand_loc = sim.kinematics.stand(loc) if loc else None
    return body, locations(sim.world.predicates), stand_loc


@pytest.mark.parametrize("name", TASKS)
def test_body_is_plausible_over_an_episode(name: str) -> None:
    sc = scenario(name)
    objects = {o.id: o for o in sc.procedure.objects}
    for _, (body, locs, stand_loc) in _bodies(name, 0)[1:]:
        assert abs(body.head[2] - EYE_HEIGHT) < 0.03
        assert body.primitive in PRIMITIVES
        assert set(body.object_poses) == set(objects)
        held = body.held[1]
        if held is not None:
            hand = body.hands[1]
            pose = body.object_poses[held]
            assert pose[:2] == pytest.approx(hand[:2]) and pose[2] == pytest.approx(
                hand[2] - half_height(objects[held])
            )
        if stand_loc is not None:
            assert body.head[:2] == pytest.approx(stand_loc, abs=0.03)
        _no_overlap(body, locs, objects, held)


def _no_overlap(body: BodyState, locs: dict, objects: dict, held: str | None) -> None:
    on_fixture: dict[str, list[str]] = {}
    for oid, (name, place) in locs.items():
        if name == "at" and oid in objects and oid != held:
            on_fixture.setdefault(place, []).append(oid)
    for group in on_fixture.values():
        for a, b in itertools.combinations(group, 2):
            pa, pb = body.object_poses[a], body.object_poses[b]
            assert math.dist(pa[:2], pb[:2]) > 0.1, (a, b, pa, pb)


def test_gaze_turns_smoothly() -> None:
    bodies = _bodies("kitchen_tea", 1, dt=0.1)
    worst = 0.0
    for (_, (a, _, _)), (_, (b, _, _)) in itertools.pairwise(bodies[1:]):
        da = _direction(a)
        db = _direction(b)
        worst = max(
            worst,
            math.degrees(
                math.acos(max(-1.0, min(1.0, sum(x * y for x, y in zip(da, db, strict=True)))))
            ),
        )
    assert worst < 45.0  # no instant jumps of the view between 0.1 s frames


def _direction(body: BodyState) -> tuple[float, float, float]:
    v = [body.look_at[i] - body.head[i] for i in range(3)]
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return (v[0] / n, v[1] / n, v[2] / n)


def test_carried_object_moves_and_misplaced_object_lands_on_wrong_fixture() -> None:
    script = [ScriptedDeviation("placement", "place_kettle", params={"wrong": "table"})]
    sc = scenario("kitchen_tea")
    sim = Simulation(sc, rng=np.random.default_rng(0), deviation_rates={}, script=script)
    sim.reset()
    held_kettle = False
    while not sim.done and "fault_placement(place_kettle)" not in sim.world.predicates:
        sim.step()
        held_kettle |= sim.body().held[1] == "kettle"
    assert held_kettle
    while not sim.done and sim.current_step() == "place_kettle":
        sim.step()
    table = sc.layout.fixture("table")
    kettle = sim.body().object_poses["kettle"]
    assert kettle[:2] == pytest.approx(table.position[:2], abs=table.size[0])


def test_calling_body_does_not_change_the_episode() -> None:
    def log(with_body: bool) -> str:
        sim = Simulation(scenario("assembly_stool"), rng=np.random.default_rng(4))
        sim.reset()
        while not sim.done:
            sim.step()
            if with_body:
                sim.body()
        return json.dumps(sim.events.to_list())

    assert log(True) == log(False)
    run(Simulation(scenario("kitchen_tea"), rng=np.random.default_rng(0)))
