"""The arms never fill the head camera's frame (sim/person/reach.py, kinematics hands)."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from sim_testkit import TASKS, scenario

from proassist.scenarios.model import Fixture, Layout, Scenario
from proassist.sim.body import BodyState
from proassist.sim.engine import Simulation
from proassist.sim.person.kinematics import REST_HAND, camera_aim
from proassist.sim.person.reach import MAX_ARM_COVER, arm_cover, clear_view
from proassist.sim.render.scene import Scene

#: Largest share of a frame the arms (hand ids) may cover.
LIMIT = 0.35
SIZE = 48
HEAD = (0.0, 0.0, 1.6)  # facing +y
REST = (
    (HEAD[0] - REST_HAND[1], HEAD[1] + REST_HAND[0], HEAD[2] + REST_HAND[2]),
    (HEAD[0] + REST_HAND[1], HEAD[1] + REST_HAND[0], HEAD[2] + REST_HAND[2]),
)
#: Nothing but the arms: one small box far away.
EMPTY = Layout("empty", (Fixture("f", "table", (9.0, 9.0, 0.5), (0.1, 0.1, 0.25), stand=(9, 8)),))


def _cover(frame: dict[str, np.ndarray], ids: dict[str, int]) -> float:
    seg = frame["segmentation"]
    return float(np.isin(seg, (ids["hand_left"], ids["hand_right"])).mean())


@pytest.fixture(scope="module")
def arms_scene():
    with Scene(SIZE, SIZE, ("segmentation",)) as scene:
        scene.load(EMPTY, ())
        yield scene


def _near_face_poses() -> list[tuple[tuple, tuple]]:
    """(aim, hands): one hand or both close to the eyes, up, down, across the body."""
    out = []
    for d, az, el, both in itertools.product(
        (0.15, 0.3, 0.5), range(-80, 81, 40), range(-60, 61, 30), (False, True)
    ):
        a, e = math.radians(az), math.radians(el)
        p = (
            d * math.cos(e) * math.sin(a),
            d * math.cos(e) * math.cos(a),
            HEAD[2] + d * math.sin(e),
        )
        hands = ((p[0] - 0.15, p[1], p[2] - 0.05), p) if both else (REST[0], p)
        look = (p[0], p[1] + 0.3, min(p[2], HEAD[2] - 0.15))
        out.append((camera_aim(HEAD, look), hands))
    return out


def test_clear_view_keeps_the_arms_out_of_the_frame(arms_scene) -> None:
    """Hands pushed at the face (a shelf at eye level, a reach across the body) would fill
    most of the frame with sleeve; drawn back by :func:`clear_view` they do not."""
    ids = arms_scene.segmentation_ids
    raw, kept = [], []
    for aim, hands in _near_face_poses():
        raw.append(_cover(arms_scene.render(BodyState(HEAD, aim, hands)), ids))
        safe = clear_view(HEAD, aim, hands, REST)
        kept.append(_cover(arms_scene.render(BodyState(HEAD, aim, safe)), ids))
        assert arm_cover(HEAD, aim, safe) <= MAX_ARM_COVER
    assert max(raw) > 0.45  # the poses do put sleeves across the frame
    assert max(kept) <= LIMIT


def test_clear_view_leaves_ordinary_reaches_alone() -> None:
    worktop = (0.3, 0.6, 0.95)
    aim = camera_aim(HEAD, worktop)
    for hands in (REST, (REST[0], worktop), ((-0.1, 0.6, 1.0), (0.1, 0.6, 1.0))):
        assert clear_view(HEAD, aim, hands, REST) == hands


def test_the_estimate_does_not_undercount(arms_scene) -> None:
    """Where :func:`arm_cover` says the arms are clear, the rendered frame agrees."""
    ids = arms_scene.segmentation_ids
    for aim, hands in _near_face_poses()[::3]:
        est = arm_cover(HEAD, aim, hands)
        got = _cover(arms_scene.render(BodyState(HEAD, aim, hands)), ids)
        assert got <= max(est, MAX_ARM_COVER) + 0.05


def _worst_cover(sc: Scenario, seed: int, every: int = 2) -> float:
    sim = Simulation(sc, rng=np.random.default_rng(seed))
    sim.reset()
    worst, k = 0.0, 0
    with Scene(SIZE, SIZE, ("segmentation",)) as scene:
        scene.load(sc.layout, sc.procedure.objects)
        while not sim.done:
            if k % every == 0:
                frame = scene.render(sim.body(), frozenset(sim.world.predicates))
                worst = max(worst, _cover(frame, scene.segmentation_ids))
            sim.step()
            k += 1
    return worst


@pytest.mark.parametrize("name", TASKS)
def test_library_frames_are_never_filled_with_sleeves(name: str) -> None:
    for seed in (0, 1):
        assert _worst_cover(scenario(name), seed) <= LIMIT, (name, seed)


def _close_stands(sc: Scenario, gap: float) -> Scenario:
    """``sc`` with every stand point moved to ``gap`` metres from its fixture's centre."""
    fixtures = []
    for fx in sc.layout.fixtures:
        dx, dy = fx.stand[0] - fx.position[0], fx.stand[1] - fx.position[1]
        n = math.hypot(dx, dy) or 1.0
        stand = (fx.position[0] + gap * dx / n, fx.position[1] + gap * dy / n)
        fixtures.append(dataclasses.replace(fx, stand=stand))
    layout = dataclasses.replace(sc.layout, fixtures=tuple(fixtures))
    return dataclasses.replace(sc, layout=layout)


@pytest.mark.parametrize("name", ["kitchen_tea", "assembly_wall_shelf"])
def test_standing_right_at_the_fixtures_keeps_the_frame_clear(name: str) -> None:
    """A held-out layout's geometry: the work right under the chin and at eye level."""
    assert _worst_cover(_close_stands(scenario(name), 0.12), 0, every=3) <= LIMIT


def test_objects_on_the_left_are_handled_with_the_left_hand() -> None:
    sim = Simulation(scenario("kitchen_scrambled_eggs"), rng=np.random.default_rng(0))
    sim.reset()
    hands_used = set()
    while not sim.done:
        body = sim.body()
        for side, oid in enumerate(body.held):
            if oid is None:
                continue
            hands_used.add(side)
            fx = sim.kinematics.fixtures[sim.kinematics.base_support()[oid]]
            base = sim.kinematics.base_poses()[oid]
            if fx.stand[1] < fx.position[1]:  # faced looking +y: left is -x
                assert side == (0 if base[0] < fx.stand[0] - 0.15 else 1), (oid, side)
        sim.step()
    assert hands_used == {0, 1}


def _reference_cover(head, look_at, hands) -> float:
    """:func:`arm_cover` as the plain (rays, capsules, xyz) vector formula it computes."""
    from proassist.sim.person.reach import VIEW_FOV, VIEW_RAYS, _capsules

    f = np.subtract(look_at, head, dtype=np.float64)
    f /= np.linalg.norm(f) or 1.0
    up = (1.0, 0.0, 0.0) if f[0] ** 2 + f[1] ** 2 < 1e-10 else (0.0, 0.0, 1.0)
    s = np.cross(f, up)
    s /= np.linalg.norm(s) or 1.0
    u = np.cross(s, f)
    k = math.tan(math.radians(VIEW_FOV) / 2)
    g = (np.arange(VIEW_RAYS) + 0.5) / VIEW_RAYS * 2 - 1
    gx, gy = np.meshgrid(g * k, g * k)
    d = f + gx.reshape(-1, 1) * s + gy.reshape(-1, 1) * u
    d = (d / np.linalg.norm(d, axis=1, keepdims=True))[:, None, :]
    caps = _capsules(head, look_at, hands)
    a, e, r = caps[None, :, 0:3], caps[None, :, 3:6] - caps[None, :, 0:3], caps[None, :, 6]
    w = np.asarray(head, dtype=np.float64) - a
    de, ee, dw, ew = (d * e).sum(-1), (e * e).sum(-1), (d * w).sum(-1), (e * w).sum(-1)
    sc = np.clip((ew - dw * de) / np.maximum(ee - de * de, 1e-12), 0.0, 1.0)
    t = np.maximum(sc * de - dw, 0.0)
    sc = np.clip((ew + t * de) / np.maximum(ee, 1e-12), 0.0, 1.0)
    gap = w + t[..., None] * d - sc[..., None] * e
    return float(((gap * gap).sum(-1) <= r * r).any(axis=1).mean())


def test_arm_cover_equals_the_vector_formula_bit_for_bit():
    """The per-coordinate :func:`arm_cover` (2x faster) gives exactly the plain formula's
    value, so the person's reach clamp, and every episode, is unchanged."""
    rng = np.random.default_rng(7)
    for i in range(400):
        head = (*rng.uniform(-1.0, 1.0, 2), rng.uniform(1.4, 1.8))
        look = tuple(np.add(head, rng.normal(0.0, 0.6, 3) - (0.0, 0.0, 0.4)))
        near = look if i % 3 == 0 else tuple(np.subtract(head, (0.0, 0.0, 0.5)))
        hands = tuple(tuple(np.add(near, rng.normal(0.0, 0.1, 3))) for _ in range(2))
        assert arm_cover(head, look, hands) == _reference_cover(head, look, hands)
