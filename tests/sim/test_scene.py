"""Tests of the egocentric pybullet scene (sim/render/scene.py and its render modules)."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proassist.scenarios import load_scenario
from proassist.scenarios.model import Fixture, Layout, ObjectSpec
from proassist.sim.body import BodyState
from proassist.sim.render.scene import MODES, Scene

# A test room: one grey box whose front face is the plane x = 2.0 (1 m to 3 m tall),
# seen from a person standing at the origin.
WALL = Fixture("block", "box", (2.5, 0.0, 3.0), (0.5, 1.0, 1.0), (0.5, 0.5, 0.5, 1.0), (0.0, 0.0))
TABLE = Fixture(
    "table", "table", (1.2, 0.0, 0.8), (0.3, 0.6, 0.4), (0.6, 0.4, 0.3, 1.0), (0.0, 0.0)
)
ROOM = Layout("room", (WALL, TABLE))
MUG = ObjectSpec(
    "mug", "mug", "cylinder", (0.05, 0.06, 0.0), (0.1, 0.3, 0.9, 1.0), "container", "table"
)
BREAD = ObjectSpec(
    "bread", "bread", "box", (0.12, 0.05, 0.04), (0.8, 0.6, 0.3, 1.0), "ingredient", "table"
)
OBJECTS = (MUG, BREAD)
MUG_AT = (1.2, 0.0, 0.86)
BREAD_AT = (1.2, 0.3, 0.84)
DOWN = ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0))


def body(look_at=(2.0, 0.0, 1.5), hands=DOWN, poses=None, head=(0.0, 0.0, 1.5), held=(None, None)):
    """A BodyState with defaults for the test room."""
    poses = {"mug": MUG_AT, "bread": BREAD_AT} if poses is None else poses
    return BodyState(head=head, look_at=look_at, hands=hands, held=held, object_poses=poses)


@pytest.fixture(scope="module")
def room_scene():
    scene = Scene(64, 48)
    scene.load(ROOM, OBJECTS)
    yield scene
    scene.close()


@pytest.fixture(scope="module")
def kitchen():
    return load_scenario("kitchen_tea")


@pytest.fixture(scope="module")
def kitchen_scene(kitchen):
    scene = Scene(96, 96)
    scene.load(kitchen.layout, kitchen.procedure.objects)
    yield scene
    scene.close()


@pytest.mark.parametrize(
    "modes", [("rgb",), ("depth",), ("segmentation",), ("rgb", "depth"), MODES]
)
@pytest.mark.parametrize("size", [(32, 24), (64, 64)])
def test_frames_have_requested_shapes_and_dtypes(modes, size):
    w, h = size
    with Scene(w, h, modes=modes) as scene:
        scene.load(ROOM, OBJECTS)
        frames = scene.render(body())
    assert set(frames) == set(modes)
    dtypes = {
        "rgb": (np.uint8, (h, w, 3)),
        "depth": (np.float32, (h, w)),
        "segmentation": (np.int32, (h, w)),
    }
    for key, arr in frames.items():
        assert arr.dtype == dtypes[key][0] and arr.shape == dtypes[key][1]
        assert arr.flags.c_contiguous


def test_depth_is_in_metres(room_scene):
    frames = room_scene.render(body())
    h, w = frames["depth"].shape
    assert frames["depth"][h // 2, w // 2] == pytest.approx(2.0, abs=0.02)
    closer = room_scene.render(body(head=(0.5, 0.0, 1.5)))
    assert closer["depth"][h // 2, w // 2] == pytest.approx(1.5, abs=0.02)


def test_empty_pixels_read_far_and_minus_one(room_scene):
    # From above the walls, straight up: nothing to see (there is no ceiling).
    frames = room_scene.render(body(head=(0.0, 0.0, 4.0), look_at=(0.0, 0.0, 10.0)))
    assert np.all(frames["segmentation"] == -1)
    assert np.allclose(frames["depth"], room_scene.far, rtol=1e-3)


def test_segmentation_shows_the_object_looked_at(room_scene):
    ids = room_scene.segmentation_ids
    seg = room_scene.render(body(look_at=MUG_AT))["segmentation"]
    h, w = seg.shape
    assert seg[h // 2, w // 2] == ids["mug"]
    seg = room_scene.render(body(look_at=BREAD_AT))["segmentation"]
    assert seg[h // 2, w // 2] == ids["bread"]
    assert len(set(ids.values())) == len(ids)


def _centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    assert len(xs) > 0, "nothing of the object is visible"
    return np.array([xs.mean(), ys.mean()])


def test_carried_object_moves_with_the_hand(room_scene):
    ids = room_scene.segmentation_ids
    frames = []
    for y in (0.15, -0.15):  # the right hand carries the mug from left to right
        hand = (0.8, y, 1.1)
        mug = (hand[0] + 0.08, hand[1], hand[2] + 0.02)
        b = body(
            look_at=(1.0, 0.0, 1.0),
            hands=(DOWN[0], hand),
            held=(None, "mug"),
            poses={"mug": mug, "bread": BREAD_AT},
        )
        frames.append(room_scene.render(b)["segmentation"])
    a, b2 = (_centroid(f == ids["mug"]) for f in frames)
    ha, hb = (_centroid(f == ids["hand_right"]) for f in frames)
    assert b2[0] - a[0] > 5 and hb[0] - ha[0] > 5  # both moved right in the image


def test_hands_visible_when_reaching(room_scene):
    ids = room_scene.segmentation_ids
    reach = ((0.6, 0.2, 1.1), (0.6, -0.2, 1.1))
    seg = room_scene.render(body(look_at=(1.0, 0.0, 1.0), hands=reach))["segmentation"]
    assert (seg == ids["hand_left"]).sum() > 20 and (seg == ids["hand_right"]).sum() > 20
    left, right = _centroid(seg == ids["hand_left"]), _centroid(seg == ids["hand_right"])
    assert left[0] < right[0]
    idle = room_scene.render(body(look_at=(1.0, 0.0, 1.0)))["segmentation"]
    assert not np.isin(idle, [ids["hand_left"], ids["hand_right"]]).any()


def test_burner_glows_when_switched_on(kitchen_scene):
    ids = kitchen_scene.segmentation_ids
    b = BodyState(head=(0.8, 0.45, 1.6), look_at=(0.8, 0.9, 0.92), hands=DOWN)
    off = kitchen_scene.render(b, frozenset())
    on = kitchen_scene.render(b, frozenset({"switched_on(burner)"}))
    changed = np.any(off["rgb"] != on["rgb"], axis=2)
    burner = off["segmentation"] == ids["burner"]
    assert changed.sum() > 30
    assert np.all(burner[changed])  # only the burner's pixels change
    assert on["rgb"][changed][:, 0].mean() > off["rgb"][changed][:, 0].mean() + 50  # redder
    again = kitchen_scene.render(b, frozenset())
    assert np.array_equal(again["rgb"], off["rgb"])


@pytest.mark.parametrize(
    "predicate,obj",
    [("filled(mug)", "mug"), ("heated(mug)", "mug"), ("cut(bread)", "bread"), ("open(mug)", "mug")],
)
def test_object_state_is_visible(room_scene, predicate, obj):
    at = {"mug": MUG_AT, "bread": BREAD_AT}[obj]
    b = body(look_at=at, head=(at[0] - 0.35, at[1], at[2] + 0.45))
    plain = room_scene.render(b, frozenset())
    shown = room_scene.render(b, frozenset({predicate, "unknown_thing(mug)", "not a predicate"}))
    assert np.any(plain["rgb"] != shown["rgb"], axis=2).sum() > 10


def test_steam_reads_background_and_cut_keeps_object_id(room_scene):
    ids = room_scene.segmentation_ids
    b = body(look_at=(1.2, 0.15, 0.85), head=(0.6, 0.15, 1.5))
    plain = room_scene.render(b, frozenset())
    cut = room_scene.render(b, frozenset({"cut(bread)"}))
    assert (cut["segmentation"] == ids["bread"]).sum() > 10
    assert (cut["segmentation"] == ids["bread"]).sum() != (
        plain["segmentation"] == ids["bread"]
    ).sum()
    steam = room_scene.render(b, frozenset({"heated(mug)"}))
    new = np.any(steam["rgb"] != plain["rgb"], axis=2)
    assert set(np.unique(steam["segmentation"][new])) <= {-1, ids["mug"], ids["bread"]}


def test_attached_part_is_drawn_on_its_base(room_scene):
    ids = room_scene.segmentation_ids
    b = body(look_at=(1.2, 0.0, 0.86), head=(0.7, 0.0, 1.5))
    before = _centroid(room_scene.render(b, frozenset())["segmentation"] == ids["bread"])
    after = _centroid(
        room_scene.render(b, frozenset({"attached(bread,mug)"}))["segmentation"] == ids["bread"]
    )
    mug = _centroid(room_scene.render(b, frozenset())["segmentation"] == ids["mug"])
    assert np.linalg.norm(after - mug) < np.linalg.norm(before - mug)


def test_same_inputs_give_identical_frames(kitchen, kitchen_scene):
    b = BodyState(
        head=(0.3, 0.4, 1.6),
        look_at=(0.4, 0.95, 0.9),
        hands=((0.15, 0.62, 1.02), (0.55, 0.62, 1.05)),
        object_poses={"kettle": (0.8, 0.9, 1.02)},
    )
    preds = frozenset({"switched_on(burner)", "heated(kettle)", "filled(kettle)"})
    first = kitchen_scene.render(b, preds)
    kitchen_scene.render(body(), frozenset())  # something else in between
    second = kitchen_scene.render(b, preds)
    with Scene(96, 96) as other:
        other.load(kitchen.layout, kitchen.procedure.objects)
        third = other.render(b, preds)
    for key in MODES:
        assert np.array_equal(first[key], second[key]) and np.array_equal(first[key], third[key])


def test_two_scenes_do_not_interfere(kitchen):
    with Scene(48, 48) as a, Scene(48, 48) as b:
        a.load(ROOM, OBJECTS)
        b.load(kitchen.layout, kitchen.procedure.objects)
        view = body(look_at=MUG_AT)
        ref = a.render(view)
        b.render(BodyState((0.0, 0.3, 1.6), (0.0, 0.95, 0.9), DOWN), {"switched_on(burner)"})
        b.close()
        again = a.render(view)
        assert all(np.array_equal(ref[k], again[k]) for k in MODES)
        assert a.backend.client != b.backend.client or b.backend.client == -1


def test_load_twice_is_a_noop_and_new_layout_rebuilds(kitchen):
    with Scene(32, 32) as scene:
        assert scene.load(ROOM, OBJECTS) is True
        ids = dict(scene.segmentation_ids)
        assert scene.load(ROOM, list(OBJECTS)) is False  # nothing rebuilt (no timing test)
        assert scene.segmentation_ids == ids
        assert scene.load(kitchen.layout, kitchen.procedure.objects) is True
        assert "stove" in scene.segmentation_ids and "block" not in scene.segmentation_ids
        frames = scene.render(BodyState((0.0, 0.3, 1.6), (0.0, 0.95, 0.9), DOWN))
        assert np.isin(frames["segmentation"], list(scene.segmentation_ids.values()) + [-1]).all()


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="modes"):
        Scene(modes=("rgb", "normals"))
    with pytest.raises(ValueError, match="width"):
        Scene(width=0)
    with pytest.raises(ValueError, match="did you mean 'pybullet'"):
        Scene(renderer="pybulet")
    with Scene(16, 16) as scene, pytest.raises(RuntimeError, match="load"):
        scene.render(body())
    with Scene(16, 16) as scene, pytest.raises(ValueError, match="shape"):
        scene.load(ROOM, (ObjectSpec("x", "x", shape="cone"),))


@pytest.mark.skipif(importlib.util.find_spec("habitat_sim") is not None, reason="habitat installed")
def test_habitat_without_habitat_sim_says_what_to_install():
    with pytest.raises(ImportError, match="habitat-sim") as err:
        Scene(renderer="habitat")
    assert "conda install habitat-sim" in str(err.value)


def test_egl_renders_or_falls_back_with_a_warning(monkeypatch: pytest.MonkeyPatch):
    """Loaded, pybullet's EGL plugin counts as a possible GPU context (its driver is not
    reported), so vector envs made afterwards spawn their workers."""
    from proassist.sim.render import gl_context

    monkeypatch.setattr(gl_context, "_GPU_RENDERERS", set())  # nothing leaks to other tests
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scene = Scene(32, 32, egl=True)
    with scene:
        assert scene.backend.egl or any("TinyRenderer" in str(w.message) for w in caught)
        assert gl_context.gpu_context_made() is scene.backend.egl
        scene.load(ROOM, OBJECTS)
        frames = scene.render(body())
        assert frames["rgb"].shape == (32, 32, 3)
        assert frames["depth"][16, 16] == pytest.approx(2.0, abs=0.05)


@settings(max_examples=15, deadline=None)
@given(
    x=st.floats(0.3, 1.0),
    y=st.floats(-0.4, 0.4),
    z=st.floats(0.8, 1.4),
    gaze=st.tuples(st.floats(0.5, 3.0), st.floats(-1.0, 1.0), st.floats(0.0, 2.5)),
)
def test_any_pose_renders_valid_frames(room_scene, x, y, z, gaze):
    frames = room_scene.render(body(look_at=gaze, hands=((x, y + 0.2, z), (x, y - 0.2, z))))
    d = frames["depth"]
    assert np.all((d >= room_scene.near * 0.99) & (d <= room_scene.far * 1.001))
    assert np.isin(frames["segmentation"], list(room_scene.segmentation_ids.values()) + [-1]).all()
