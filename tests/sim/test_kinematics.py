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
from proassist.sim.person.kinematics import EYE_HEIGHT, locations
from proassist.sim.person.orientation import half_height, half_width, rest_half_height


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
    for sim, (body, locs, stand_loc) in _bodies(name, 0)[1:]:
        assert abs(body.head[2] - EYE_HEIGHT) < 0.03
        assert body.primitive in PRIMITIVES
        assert set(body.object_poses) == set(objects)
        assert None in body.held  # one hand carries at a time
        side = 0 if body.held[0] is not None else 1
        held = body.held[side]
        if held is not None:
            hand = body.hands[side]
            pose = body.object_poses[held]
            assert pose[:2] == pytest.approx(hand[:2]) and pose[2] == pytest.approx(
                hand[2] - rest_half_height(objects[held])
            )
        if stand_loc is not None:
            assert body.head[:2] == pytest.approx(stand_loc, abs=0.03)
        _no_overlap(body, locs, objects, held, sim.kinematics.crowded)


def _no_overlap(
    body: BodyState, locs: dict, objects: dict, held: str | None, crowded: frozenset[str]
) -> None:
    """Objects resting on one fixture do not overlap (their footprints as they rest),
    unless they do not fit on it side by side (then their centres still differ)."""
    on_fixture: dict[str, list[str]] = {}
    for oid, (name, place) in locs.items():
        if name == "at" and oid in objects and oid != held:
            on_fixture.setdefault(place, []).append(oid)
    for place, group in on_fixture.items():
        for a, b in itertools.combinations(group, 2):
            pa, pb = body.object_poses[a], body.object_poses[b]
            if place in crowded:
                assert math.dist(pa[:2], pb[:2]) > 0.02, (a, b, pa, pb)
                continue
            (ax, ay), (bx, by) = _footprint(body, objects[a]), _footprint(body, objects[b])
            apart = abs(pa[0] - pb[0]) >= ax + bx - 1e-6 or abs(pa[1] - pb[1]) >= ay + by - 1e-6
            assert apart, (a, b, pa, pb)


def _footprint(body: BodyState, obj) -> tuple[float, float]:
    """World half-extents (x, y) of the box around ``obj`` as drawn (its rotation)."""
    x, y, z, w = body.object_rotations[obj.id]
    rows = (
        (1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)),
        (2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)),
    )
    ext = (*half_width(obj), half_height(obj))
    return tuple(sum(abs(r[j]) * ext[j] for j in range(3)) for r in rows)


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


def test_misplacing_person_walks_to_the_wrong_fixture_and_looks_at_it() -> None:
    """A placement error is seen: the person carries the object to the wrong fixture,
    stands at its stand point and looks at it while putting the object down."""
    script = [ScriptedDeviation("placement", "place_kettle", params={"wrong": "table"})]
    sc = scenario("kitchen_tea")
    sim = Simulation(sc, rng=np.random.default_rng(0), deviation_rates={}, script=script)
    sim.reset()
    table = sc.layout.fixture("table")
    while not sim.done and "fault_placement(place_kettle)" not in sim.world.predicates:
        sim.step()
    act = sim.person.activity
    place = next(ph for ph in act.phases if ph.prim == "place" and ph.held == "kettle")
    assert (place.stand, place.target, place.dest) == ("table", "table", "table")
    right = sc.procedure.steps[[s.id for s in sc.procedure.steps].index("place_kettle")].location
    assert right != "table"
    seen = 0
    while not sim.done and sim.time < place.t1 - 1e-6:
        body = sim.body()
        if sim.time >= place.t0:  # putting it down: at the table, looking at it
            assert body.head[:2] == pytest.approx(table.stand, abs=0.1)
            assert body.look_at[:2] == pytest.approx(table.position[:2], abs=table.size[0] + 0.1)
            seen += 1
        sim.step()
    assert seen


def test_working_names_a_step_from_its_operate_phase_and_through_a_pause() -> None:
    """``BodyState.working`` (what an amount target's content is drawn from) is set from
    the start of the step's operate phase, and stays while the step is paused."""
    sc = scenario("kitchen_tea")
    sim = Simulation(sc, rng=np.random.default_rng(0), dt=0.5, deviation_rates={})
    sim.reset()
    seen: list[tuple[str | None, str]] = []
    while not sim.done and sim.body().working != "fill_kettle":
        body = sim.body()
        seen.append((body.working, body.primitive))
        sim.step(None)
    assert sim.body().working == "fill_kettle"
    assert all(w is None for w, _ in seen[:3])  # not from the episode's start...
    assert any(p != "operate" and w is None for w, p in seen)  # ...nor before operating
    sim.person.interrupt(sim.time)  # e.g. a recovery of something else pauses the step
    assert sim.person.activity is None and sim.body().working == "fill_kettle"
