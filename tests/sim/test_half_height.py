"""One ``half_height`` for the kinematics and the renderer (capsules included)."""

from __future__ import annotations

import dataclasses

import pytest

from proassist.scenarios import load_scenario
from proassist.scenarios.model import ObjectSpec
from proassist.sim.person import kinematics, orientation
from proassist.sim.render import indicators, objects, state


def _obj(shape: str, size: tuple[float, float, float]) -> ObjectSpec:
    return ObjectSpec(id="thing", name="thing", shape=shape, size=size)


def test_one_definition() -> None:
    assert kinematics.half_height is orientation.half_height
    assert objects.half_height is orientation.half_height
    assert state.half_height is orientation.half_height
    assert indicators.half_height is orientation.half_height
    assert objects.half_width is orientation.half_width


@pytest.mark.parametrize(
    ("shape", "size", "expected"),
    [
        ("box", (0.1, 0.2, 0.3), 0.3),
        ("cylinder", (0.04, 0.06, 0.04), 0.06),
        ("sphere", (0.05, 0.05, 0.05), 0.05),
        ("capsule", (0.025, 0.1, 0.025), 0.125),  # radius + half the cylinder length
    ],
)
def test_half_height_by_shape(shape: str, size: tuple, expected: float) -> None:
    assert kinematics.half_height(_obj(shape, size)) == pytest.approx(expected)


def test_drawn_capsule_spans_its_half_height() -> None:
    """The capsule part, built by pybullet as ``length = 2 * (h - r)`` plus two caps,
    spans exactly ``2 * half_height`` (checked on pybullet's own AABB)."""
    p = pytest.importorskip("pybullet")
    obj = _obj("capsule", (0.025, 0.1, 0.025))
    part = objects.object_parts(obj)[0]
    r, h = part.size[0], part.size[1]
    assert h == pytest.approx(kinematics.half_height(obj))
    client = p.connect(p.DIRECT)
    try:
        shape = p.createCollisionShape(
            p.GEOM_CAPSULE, radius=r, height=2 * (h - r), physicsClientId=client
        )
        body = p.createMultiBody(0, shape, basePosition=(0, 0, 0), physicsClientId=client)
        lo, hi = p.getAABB(body, physicsClientId=client)
    finally:
        p.disconnect(client)
    assert hi[2] - lo[2] == pytest.approx(2 * h, abs=1e-3)


def test_capsule_rests_on_its_start_fixture() -> None:
    """The cucumber (a long capsule) lies on its start fixture: its radius above it."""
    sc = load_scenario("kitchen_salad")
    cucumber = next(o for o in sc.procedure.objects if o.shape == "capsule")
    top = next(f.position[2] for f in sc.layout.fixtures if f.id == cucumber.start)
    z = state.start_pose(cucumber, sc.layout)[2]
    assert orientation.lies(cucumber)
    assert z - orientation.rest_half_height(cucumber) == pytest.approx(top)
    assert orientation.rest_half_height(cucumber) == pytest.approx(cucumber.size[0])
    standing = dataclasses.replace(cucumber, lying=False)
    z = state.start_pose(standing, sc.layout)[2]
    assert z - kinematics.half_height(standing) == pytest.approx(top)
