"""How objects rest (sim/person/orientation.py), in the body and in both renderers."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from sim_testkit import scenario

from proassist.scenarios.model import Fixture, Layout, ObjectSpec
from proassist.sim.body import BodyState, quat_rotate
from proassist.sim.engine import Simulation
from proassist.sim.person.orientation import (
    fixture_yaw,
    footprint,
    lies,
    rest_extents,
    rest_half_height,
    rest_rotation,
)
from proassist.sim.render.scene import Scene

Z = (0.0, 0.0, 1.0)


def _obj(shape: str, size: tuple[float, float, float], **kw) -> ObjectSpec:
    return ObjectSpec(id="thing", name="thing", shape=shape, size=size, **kw)


def _library_objects() -> dict[str, ObjectSpec]:
    names = ("assembly_stool", "assembly_desk_lamp", "kitchen_salad", "kitchen_tea")
    names += ("maintenance_bike_tyre",)
    return {o.id: o for n in names for o in scenario(n).procedure.objects}


def test_long_things_lie_and_the_rest_stands() -> None:
    objs = _library_objects()
    for oid in ("leg_1", "lamp_arm", "cucumber", "pump", "screwdriver"):
        assert lies(objs[oid]), oid
    for oid in ("olive_oil", "milk", "kettle", "mug", "seat", "wheel", "bulb_e27"):
        assert not lies(objs[oid]), oid


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (_obj("cylinder", (0.02, 0.3, 0.0)), True),  # elongated: lies without being told
        (_obj("cylinder", (0.02, 0.3, 0.0), lying=False), False),  # told to stand
        (_obj("cylinder", (0.05, 0.05, 0.0), lying=True), True),  # told to lie
        (_obj("box", (0.02, 0.03, 0.2)), True),
        (_obj("box", (0.05, 0.05, 0.2)), False),  # 4x: a carton stands
        (_obj("sphere", (0.01, 0.5, 0.5), lying=True), False),  # a sphere has no up
    ],
)
def test_lying_default_and_override(obj: ObjectSpec, expected: bool) -> None:
    assert lies(obj) is expected


@pytest.mark.parametrize("shape", ["cylinder", "capsule", "box"])
@pytest.mark.parametrize("yaw", [0.0, 30.0])
def test_a_lying_object_lies_along_the_front_edge_on_its_broad_side(shape: str, yaw: float) -> None:
    obj = _obj(shape, (0.04, 0.02, 0.25) if shape == "box" else (0.03, 0.2, 0.0), yaw=yaw)
    q = rest_rotation(obj, 0.0)
    axis = quat_rotate(q, Z)
    turn = math.radians(yaw)
    assert axis == pytest.approx((math.cos(turn), math.sin(turn), 0.0), abs=1e-9)
    thin = min(obj.size[0], obj.size[1]) if shape == "box" else obj.size[0]
    assert rest_half_height(obj) == pytest.approx(thin)
    if shape == "box":  # its thin side (y) ends up vertical
        assert abs(quat_rotate(q, (0.0, 1.0, 0.0))[2]) == pytest.approx(1.0)
    assert rest_extents(obj)[0] > rest_extents(obj)[1]  # long along the front edge


def test_fixture_frame_follows_the_side_the_person_stands_on() -> None:
    def fx(stand: tuple[float, float]) -> Fixture:
        return Fixture("f", "table", (1.0, 1.0, 0.9), (0.4, 0.3, 0.45), stand=stand)

    rod = _obj("cylinder", (0.02, 0.3, 0.0))
    for stand, right in (((1.0, 0.4), (1, 0)), ((1.0, 1.6), (-1, 0)), ((0.4, 1.0), (0, -1))):
        axis = quat_rotate(rest_rotation(rod, fixture_yaw(fx(stand))), Z)
        assert axis == pytest.approx((*right, 0.0), abs=1e-9)  # across the person's view
    wx, wy = footprint(rod, fixture_yaw(fx((0.4, 1.0))))
    assert (wx, wy) == pytest.approx((0.02, 0.3))


def _bodies(name: str, seed: int = 0) -> list[BodyState]:
    sim = Simulation(scenario(name), rng=np.random.default_rng(seed), deviation_rates={})
    sim.reset()
    bodies = [sim.body()]
    while not sim.done:
        sim.step()
        bodies.append(sim.body())
    return bodies


def test_legs_lie_side_by_side_on_the_shelf() -> None:
    sc = scenario("assembly_stool")
    shelf = sc.layout.fixture("parts_shelf")
    first = _bodies("assembly_stool")[0]
    legs = [first.object_poses[f"leg_{i}"] for i in range(1, 5)]
    for pos, i in zip(legs, range(1, 5), strict=True):
        assert pos[2] == pytest.approx(shelf.position[2] + 0.022)  # its radius above the top
        axis = quat_rotate(first.object_rotations[f"leg_{i}"], Z)
        assert axis == pytest.approx((1.0, 0.0, 0.0), abs=1e-9)  # across, as seen from the stand
    ys = sorted(p[1] for p in legs)
    assert min(b - a for a, b in zip(ys, ys[1:], strict=False)) > 0.02


@pytest.mark.parametrize(
    ("name", "oid"), [("maintenance_bike_tyre", "pump"), ("kitchen_scrambled_eggs", "whisk")]
)
def test_a_held_long_tool_is_carried_level_under_the_hand(name: str, oid: str) -> None:
    obj = next(o for o in scenario(name).procedure.objects if o.id == oid)
    carried = [b for b in _bodies(name) if oid in b.held]
    assert carried
    for b in carried:
        hand = b.hands[b.held.index(oid)]
        assert b.object_poses[oid] == pytest.approx((hand[0], hand[1], hand[2] - obj.size[0]))
        axis = quat_rotate(b.object_rotations[oid], Z)
        assert axis[2] == pytest.approx(0.0, abs=1e-9)
        fwd = (b.look_at[0] - b.head[0], b.look_at[1] - b.head[1])
        assert abs(axis[0] * fwd[0] + axis[1] * fwd[1]) < 0.5 * math.hypot(*fwd)  # across


def test_attached_legs_stand_on_the_seat() -> None:
    """Attached parts are joined rigidly to their base: the legs stand up from the seat."""
    sc = scenario("assembly_stool")
    body = _bodies("assembly_stool")[-1]
    with Scene(32, 32, ("segmentation",)) as scene:
        scene.load(sc.layout, sc.procedure.objects)
        view = scene.backend._state
        view.update(frozenset({f"attached(leg_{i},seat)" for i in range(1, 5)}))
        seat, seat_q = view.object_transform("seat", body)
        for i in range(1, 5):
            pos, q = view.object_transform(f"leg_{i}", body)
            assert q == seat_q and abs(quat_rotate(q, Z)[2]) == pytest.approx(1.0)
            assert pos[2] == pytest.approx(seat[2] + 0.02 + 0.22)


# a room with one table the person faces; long objects lying on it, seen from the stand
TABLE = Fixture("table", "table", (0.0, 0.6, 0.8), (0.5, 0.35, 0.4), stand=(0.0, 0.0))
LYING = (
    _obj("capsule", (0.025, 0.1, 0.0), lying=True),
    dataclasses.replace(_obj("cylinder", (0.03, 0.15, 0.0)), id="rod", yaw=20.0),
    dataclasses.replace(_obj("box", (0.03, 0.05, 0.14)), id="bar", yaw=-35.0),
)


def _table_body(k: float) -> BodyState:
    spots = {"thing": (-0.25, 0.5), "rod": (0.05, 0.75), "bar": (0.3, 0.45)}
    poses = {o.id: (*spots[o.id], 0.8 + rest_half_height(o) + 0.002 * k) for o in LYING}
    rots = {o.id: rest_rotation(o, 0.0) for o in LYING}
    return BodyState(
        head=(0.01 * k, 0.0, 1.6),
        look_at=(0.0, 0.6, 0.8),
        hands=((-0.16, 0.3, 1.0), (0.16, 0.3, 1.0)),
        object_poses=poses,
        object_rotations=rots,
    )


def test_renderers_agree_on_lying_objects() -> None:
    pytest.importorskip("moderngl")
    from proassist.sim.render.gl_backend import create_context

    try:
        create_context().release()
    except (ImportError, RuntimeError):
        pytest.skip("no EGL OpenGL context")
    modes = ("depth", "segmentation")
    with Scene(96, 96, modes) as ref, Scene(96, 96, modes, renderer="gl") as gl:
        ref.load(Layout("room", (TABLE,)), LYING)
        gl.load(Layout("room", (TABLE,)), LYING)
        for k in range(4):
            a, b = ref.render(_table_body(k)), gl.render(_table_body(k))
            for o in LYING:
                sid = ref.segmentation_ids[o.id]
                ma, mb = a["segmentation"] == sid, b["segmentation"] == sid
                assert ma.sum() > 30
                assert (ma & mb).sum() / (ma | mb).sum() >= 0.9, o.id
                if not o.yaw:  # lying across the view, not standing
                    ys, xs = np.nonzero(ma)
                    assert np.ptp(xs) > 2 * np.ptp(ys)
            assert float(np.median(np.abs(a["depth"] - b["depth"]))) <= 0.02


def test_export_turns_objects_as_the_renderers_do(tmp_path) -> None:
    import json

    import trimesh

    from proassist.sim.render.export import TO_GLTF, export_scene

    rod = dataclasses.replace(_obj("cylinder", (0.03, 0.2, 0.0)), start="table")
    paths = export_scene(Layout("room", (TABLE,)), (rod,), tmp_path)
    desc = json.loads(paths["json"].read_text())
    assert desc["objects"][0]["rotation"] == pytest.approx(list(rest_rotation(rod, 0.0)))
    meshes = {m.metadata.get("name", ""): m for m in trimesh.load(paths["glb"]).dump()}
    lo, hi = (np.linalg.inv(TO_GLTF[:3, :3]) @ b for b in meshes["thing"].bounds)
    size = np.abs(hi - lo)
    assert size[0] == pytest.approx(0.4, abs=0.01) and size[2] == pytest.approx(0.06, abs=0.01)
