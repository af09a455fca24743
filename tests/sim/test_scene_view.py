"""Tests of what the head camera shows: arms from below, wall tiles, ceiling (sim/render_*)."""

from __future__ import annotations

import pytest

from proassist.scenarios import load_scenario
from proassist.sim.body import BodyState
from proassist.sim.person.kinematics import REST_HAND, camera_aim
from proassist.sim.render.scene import Scene
from proassist.sim.render.shapes import room_bounds, wall_parts


@pytest.fixture(scope="module")
def kitchen_view():
    sc = load_scenario("kitchen_tea")
    scene = Scene(96, 96)
    scene.load(sc.layout, sc.procedure.objects)
    yield scene, sc
    scene.close()


def _at_counter(sc, hands=None) -> BodyState:
    counter = sc.layout.fixture("counter")
    head = (counter.stand[0], counter.stand[1], 1.6)
    f, s, z = REST_HAND
    rest = ((head[0] - s, head[1] + f, head[2] + z), (head[0] + s, head[1] + f, head[2] + z))
    aim = camera_aim(head, counter.position)
    return BodyState(head=head, look_at=aim, hands=hands or rest, held=(None, None))


def test_resting_forearms_rise_from_the_bottom_corners(kitchen_view):
    scene, sc = kitchen_view
    seg = scene.render(_at_counter(sc))["segmentation"]
    ids = scene.segmentation_ids
    h, w = seg.shape
    left, right = seg == ids["hand_left"], seg == ids["hand_right"]
    assert left[-1, : w // 2].any() and right[-1, w // 2 :].any()  # arms leave at the bottom
    assert not left[:, w // 2 + w // 8 :].any() and not right[:, : w // 2 - w // 8].any()
    assert not (left | right)[: h // 3].any()  # not across the top of the view


def test_counter_view_shows_worktop_and_tiled_wall(kitchen_view):
    scene, sc = kitchen_view
    seg = scene.render(_at_counter(sc))["segmentation"]
    ids = scene.segmentation_ids
    h = seg.shape[0]
    assert (seg[h // 3 :] == ids["counter"]).mean() > 0.25  # the worktop, low in the frame
    assert (seg[: h // 4] == ids["walls"]).mean() > 0.5  # the wall above it


def test_walls_include_tiles_behind_worktops_and_a_ceiling():
    layout = load_scenario("kitchen_tea").layout
    x0, x1, y0, y1 = room_bounds(layout)
    parts = wall_parts(layout)
    counter = layout.fixture("counter")
    back = counter.position[1] + counter.size[1]
    tiles = [p for p in parts if abs(p.pos[1] - back) < 0.02 and p.pos[2] > counter.position[2]]
    assert len(tiles) > 5  # tiles and grout lines
    assert any(p.pos[2] > 2.5 and p.size[0] >= (x1 - x0) / 2 for p in parts)  # ceiling
    assert y1 - back < 0.08  # the counter stands against the back wall
