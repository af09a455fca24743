"""Tests of the head-camera view and the arms (sim/person/kinematics.py, sim/render/arms.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_testkit import scenario

from proassist.sim.engine import Simulation
from proassist.sim.person.kinematics import HEAD_PITCH_MAX, camera_aim
from proassist.sim.render.arms import FOREARM, UPPER_ARM, arms

VFOV = 75.0  # the Scene default


def _pitch(head, point) -> float:
    dx, dy, dz = (point[i] - head[i] for i in range(3))
    return math.degrees(math.atan2(-dz, math.hypot(dx, dy)))


def _angle(head, a, b) -> float:
    va = np.subtract(a, head)
    vb = np.subtract(b, head)
    c = float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


@settings(max_examples=60, deadline=None)
@given(
    r=st.floats(0.05, 3.0),
    yaw=st.floats(-math.pi, math.pi),
    z=st.floats(0.0, 2.5),
)
def test_camera_pitch_is_capped_and_the_gazed_point_stays_in_view(r, yaw, z):
    head = (0.3, -0.2, 1.6)
    gaze = (head[0] + r * math.cos(yaw), head[1] + r * math.sin(yaw), z)
    aim = camera_aim(head, gaze)
    assert _pitch(head, aim) <= HEAD_PITCH_MAX + 1e-6
    assert _pitch(head, aim) <= max(_pitch(head, gaze), 0.0) + 1e-6  # never below the gaze
    if _pitch(head, gaze) < 85.0:  # anything but the person's own feet
        assert _angle(head, aim, gaze) < VFOV / 2  # the gazed point is in the frame
    assert aim[:2] == pytest.approx(gaze[:2])  # the head turns fully toward it


@pytest.mark.parametrize("name", ["kitchen_tea", "maintenance_bike_tyre"])
def test_episode_camera_looks_at_the_work_not_the_feet(name):
    sim = Simulation(scenario(name), rng=np.random.default_rng(3), deviation_rates={})
    sim.reset()
    pitches = []
    while not sim.done:
        sim.step()
        b = sim.body()
        pitches.append(_pitch(b.head, b.look_at))
        if b.primitive in ("operate", "idle"):
            right = np.subtract(b.hands[1], b.head)
            left = np.subtract(b.hands[0], b.head)
            fwd = np.subtract(b.look_at, b.head)[:2]
            # the left hand is left of the right one: the arms do not cross
            assert fwd[0] * (left[1] - right[1]) - fwd[1] * (left[0] - right[0]) > -0.05
    assert max(pitches) <= HEAD_PITCH_MAX + 1e-6
    assert 20.0 < float(np.median(pitches)) < HEAD_PITCH_MAX


@settings(max_examples=60, deadline=None)
@given(
    hand=st.tuples(st.floats(0.0, 0.4), st.floats(0.05, 0.9), st.floats(0.3, 1.7)),
    side=st.sampled_from([0, 1]),
)
def test_arm_ik_keeps_bone_lengths_and_bends_the_elbow_down_and_out(hand, side):
    head = (0.0, 0.0, 1.6)
    rest = [(-0.16, 0.3, 1.0), (0.16, 0.3, 1.0)]
    rest[side] = (hand[0] if side else -hand[0], hand[1], hand[2])  # on its own side
    hand = rest[side]
    joints = arms(head, (0.0, 1.0, 1.0), (rest[0], rest[1]))
    shoulder, elbow = joints[side]
    assert math.dist(elbow, hand) == pytest.approx(FOREARM, abs=1e-6)
    assert math.dist(shoulder, elbow) == pytest.approx(UPPER_ARM, abs=1e-6)
    assert elbow[2] <= max(shoulder[2], hand[2]) + 1e-6  # the elbow hangs, never points up
    (ls, _), (rs, _) = joints
    assert ls[0] < rs[0]  # left shoulder on the left (forward is +y, left is -x)
