"""The operate motions (sim/person/motions.py) and the hands they move (kinematics.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sim_testkit import TASKS, scenario

from proassist.sim.engine import Simulation
from proassist.sim.person.activity import Phase
from proassist.sim.person.motions import EFFECT_MOTIONS, MOTIONS, hand_offsets, step_motion
from proassist.sim.world import LOCATION_PREDICATES


@pytest.mark.parametrize(
    ("effects", "motion"),
    [
        (["switched_on(burner)"], "twist"),
        (["at(kettle,sink)", "filled(kettle)"], "pour"),  # a location says nothing
        (["not heated(pan)", "cut(tomato)"], "chop"),  # a removal says nothing
        (["heated(kettle)"], "still"),
        (["at(cup,table)", "not at(cup,shelf)"], "work"),
        (["my_own_effect(x)"], "work"),  # a task file's own effect names
        (["not a predicate"], "work"),
        ([], "work"),
    ],
)
def test_a_steps_motion_comes_from_its_first_known_effect(effects, motion) -> None:
    assert step_motion(effects) == motion


def test_the_vocabulary_is_used_by_the_library_and_names_no_location() -> None:
    assert set(EFFECT_MOTIONS.values()) == set(MOTIONS) - {"work"}
    assert not set(EFFECT_MOTIONS) & set(LOCATION_PREDICATES)
    used = {step_motion(s.effects) for name in TASKS for s in scenario(name).procedure.steps}
    assert used == set(MOTIONS)
    with pytest.raises(ValueError, match="twist"):
        hand_offsets("work", 0.0)


def _operating(step: str, motion: str | None) -> tuple[list, list]:
    """Bodies while ``step`` is operated in kitchen_tea seed 0 (its motion replaced by
    ``motion`` unless None) and the episode's events."""
    sim = Simulation(scenario("kitchen_tea"), rng=np.random.default_rng(0), dt=0.5)
    sim.reset()
    if motion is not None:
        sim.kinematics.motions[step] = motion
    bodies = []
    while not sim.done:
        body, act = sim.body(), sim.person.activity
        if act is not None and act.step == step and body.primitive == "operate":
            bodies.append(body)
        sim.step(None)
    return bodies, sim.events.to_list()


def _reach(body) -> float:
    """How far forward of the eyes the farther hand is (metres, horizontally)."""
    return max(math.dist(h[:2], body.head[:2]) for h in body.hands)


def test_turning_a_knob_looks_unlike_circling_and_changes_nothing_else() -> None:
    twist, events = _operating("turn_on_burner", None)
    work, same = _operating("turn_on_burner", "work")
    assert len(twist) == len(work) >= 3 and events == same  # only the picture changes
    for a, b in zip(twist, work, strict=True):
        assert a.head == b.head and a.look_at == b.look_at
        assert _reach(a) < _reach(b) - 0.05  # the hand low and close, at the knob
    still, _ = _operating("turn_on_burner", "still")
    gaps = [math.dist(b.hands[0], b.hands[1]) for b in still]
    assert np.ptp([b.hands for b in still], axis=0).max() < 0.03  # the hands hold still
    assert min(gaps) > 0.15  # on either side of the target


@pytest.mark.parametrize("motion", ["chop", "still", "twist", "pour"])
def test_a_left_handed_motion_mirrors_the_right_handed_one(motion: str) -> None:
    sim = Simulation(scenario("kitchen_tea"), rng=np.random.default_rng(0), dt=0.5)
    sim.reset()
    kin = sim.kinematics
    kin.motions[None] = motion  # what the hands do with no step running (here only)
    phase = Phase("operate", 0.0, 2.0, "counter", "counter", "mug", "mug")
    sim.person.activity, look, rest = None, (1.0, 2.0, 1.0), (9.0, 9.0, 9.0)
    right = kin._operate(phase, 0.3, look, (1.0, 0.0), 1.0, rest)
    left = kin._operate(phase, 0.3, look, (1.0, 0.0), -1.0, rest)
    for r, lf in zip(right, left, strict=True):  # facing +x, a mirror across y = 2
        if r == rest:  # the other hand rests (where the caller says) either way
            assert lf == rest
            continue
        assert r[0] == pytest.approx(lf[0]) and r[2] == pytest.approx(lf[2])
        assert r[1] - look[1] == pytest.approx(look[1] - lf[1])
