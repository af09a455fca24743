"""The person's arms as the head camera sees them: hands, forearms and upper arms.

The arm chain (shoulder, elbow, hand; two-bone inverse kinematics) is the person's
(:mod:`proassist.sim.person.reach`, re-exported here: :func:`arms`, :data:`FOREARM`,
:data:`UPPER_ARM`...): the kinematics keeps it out of the camera's near view, and this
module gives it its looks. Seen from the eyes, the forearms rise from the bottom
corners of the frame toward the hands.

Hand parts are in the hand's frame: x along the forearm toward the fingers, y to the
side, z up off the back of the hand. Upper-arm parts are in the upper arm's frame, x
from the elbow toward the shoulder.
"""

from __future__ import annotations

import math

from proassist.sim.body import quat_mul
from proassist.sim.person.reach import (
    ELBOW_POLE,
    FOREARM,
    SHOULDER,
    UPPER_ARM,
    arms,
    torso_forward,
)
from proassist.sim.render.shapes import PALETTE, Part, Quat, Vec3, quat_axis_angle

__all__ = [
    "ELBOW_POLE",
    "FOREARM",
    "SHOULDER",
    "UPPER_ARM",
    "arms",
    "hand_parts",
    "hand_pose",
    "quat_from_x_axis",
    "torso_forward",
    "upper_arm_parts",
    "upper_arm_pose",
]

_ALONG_X: Quat = quat_axis_angle((0.0, 1.0, 0.0), math.pi / 2)


def hand_parts() -> list[Part]:
    """A hand and forearm (:data:`FOREARM` long, the sleeve pushed up to mid-forearm)."""
    skin, sleeve = PALETTE["skin"], PALETTE["sleeve"]
    parts = [Part("box", (0.045, 0.04, 0.014), (0.0, 0.0, 0.0), skin)]
    for y in (-0.03, -0.01, 0.01, 0.03):
        parts.append(Part("capsule", (0.0095, 0.035, 0), (0.07, y, -0.004), skin, _ALONG_X))
    thumb_q = quat_mul(quat_axis_angle((0.0, 0.0, 1.0), math.radians(35)), _ALONG_X)
    parts.append(Part("capsule", (0.011, 0.03, 0), (0.025, 0.05, -0.008), skin, thumb_q))
    parts.append(Part("capsule", (0.027, 0.09, 0), (-0.11, 0.0, 0.0), skin, _ALONG_X))
    half = (FOREARM + 0.04 - 0.17) / 2
    parts.append(Part("capsule", (0.036, half, 0), (-0.17 - half, 0.0, 0.0), sleeve, _ALONG_X))
    return parts


def upper_arm_parts() -> list[Part]:
    """A sleeved upper arm from the elbow (origin) along x to the shoulder."""
    half = UPPER_ARM / 2 + 0.045
    return [
        Part("capsule", (0.045, half, 0), (UPPER_ARM / 2, 0.0, 0.0), PALETTE["sleeve"], _ALONG_X)
    ]


def _sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _unit(v: Vec3) -> Vec3:
    n = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    return (v[0] / n, v[1] / n, v[2] / n) if n > 1e-9 else (1.0, 0.0, 0.0)


def quat_from_x_axis(d: Vec3) -> Quat:
    """Orientation whose x axis is ``d`` and whose y axis is horizontal."""
    x = _unit(d)
    y = (-x[1], x[0], 0.0)
    if abs(y[0]) + abs(y[1]) < 1e-6:
        y = (0.0, 1.0, 0.0)
    y = _unit(y)
    z = (x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0])
    m00, m11, m22 = x[0], y[1], z[2]
    tr = m00 + m11 + m22
    if tr > 0:
        s = math.sqrt(tr + 1.0) * 2
        return ((y[2] - z[1]) / s, (z[0] - x[2]) / s, (x[1] - y[0]) / s, 0.25 * s)
    if m00 > m11 and m00 > m22:
        s = math.sqrt(1.0 + m00 - m11 - m22) * 2
        return (0.25 * s, (y[0] + x[1]) / s, (z[0] + x[2]) / s, (y[2] - z[1]) / s)
    if m11 > m22:
        s = math.sqrt(1.0 + m11 - m00 - m22) * 2
        return ((y[0] + x[1]) / s, 0.25 * s, (z[1] + y[2]) / s, (z[0] - x[2]) / s)
    s = math.sqrt(1.0 + m22 - m00 - m11) * 2
    return ((z[0] + x[2]) / s, (z[1] + y[2]) / s, 0.25 * s, (x[1] - y[0]) / s)


def hand_pose(elbow: Vec3, hand: Vec3) -> tuple[Vec3, Quat]:
    """Pose of a hand at ``hand`` with its forearm pointing back toward ``elbow``."""
    return hand, quat_from_x_axis(_sub(hand, elbow))


def upper_arm_pose(shoulder: Vec3, elbow: Vec3) -> tuple[Vec3, Quat]:
    """Pose of an upper arm at ``elbow`` pointing toward ``shoulder``."""
    return elbow, quat_from_x_axis(_sub(shoulder, elbow))
