"""The person's arms as the head camera sees them: hands, forearms and upper arms.

Each arm is a two-bone chain: a shoulder fixed to the torso (below and beside the
camera), an upper arm of :data:`UPPER_ARM` metres and a forearm of :data:`FOREARM`
metres from the elbow to the middle of the palm. :func:`arms` solves the elbow for a
given hand position (two-bone inverse kinematics, the elbow bent down and outward);
a hand out of reach pulls its shoulder along (the person leans in), so the forearm
always has its true length. Seen from the eyes, the forearms rise from the bottom
corners of the frame toward the hands.

Hand parts are in the hand's frame: x along the forearm toward the fingers, y to the
side, z up off the back of the hand. Upper-arm parts are in the upper arm's frame, x
from the elbow toward the shoulder.
"""

from __future__ import annotations

import math

from proassist.sim.render.shapes import PALETTE, Part, Quat, Vec3, quat_axis_angle

#: Elbow to the centre of the palm (metres).
FOREARM: float = 0.3
#: Shoulder to elbow (metres).
UPPER_ARM: float = 0.3
#: Shoulder offset from the eyes: (forward, to the side, up), metres.
SHOULDER: Vec3 = (-0.08, 0.18, -0.25)
#: Preferred bend direction of the elbow in the torso frame (forward, outward, up).
ELBOW_POLE: Vec3 = (-0.25, 0.6, -1.0)

_ALONG_X: Quat = quat_axis_angle((0.0, 1.0, 0.0), math.pi / 2)


def hand_parts() -> list[Part]:
    """A hand and forearm (:data:`FOREARM` long, the sleeve pushed up to mid-forearm)."""
    skin, sleeve = PALETTE["skin"], PALETTE["sleeve"]
    parts = [Part("box", (0.045, 0.04, 0.014), (0.0, 0.0, 0.0), skin)]
    for y in (-0.03, -0.01, 0.01, 0.03):
        parts.append(Part("capsule", (0.0095, 0.035, 0), (0.07, y, -0.004), skin, _ALONG_X))
    thumb_q = _qmul(quat_axis_angle((0.0, 0.0, 1.0), math.radians(35)), _ALONG_X)
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


def _qmul(a: Quat, b: Quat) -> Quat:
    """Hamilton product ``a * b`` of (x, y, z, w) quaternions."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


def _sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _axpy(k: float, x: Vec3, y: Vec3) -> Vec3:
    return (y[0] + k * x[0], y[1] + k * x[1], y[2] + k * x[2])


def _dot(a: Vec3, b: Vec3) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _unit(v: Vec3) -> Vec3:
    n = math.sqrt(_dot(v, v))
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


def torso_forward(head: Vec3, look_at: Vec3, hands: tuple[Vec3, Vec3]) -> tuple[float, float]:
    """Horizontal unit vector the torso faces: toward the hands, else toward the gaze."""
    mx = (hands[0][0] + hands[1][0]) / 2 - head[0]
    my = (hands[0][1] + hands[1][1]) / 2 - head[1]
    if math.hypot(mx, my) < 0.12:
        mx, my = look_at[0] - head[0], look_at[1] - head[1]
    n = math.hypot(mx, my)
    return (mx / n, my / n) if n > 1e-9 else (1.0, 0.0)


def _solve(shoulder: Vec3, hand: Vec3, pole: Vec3) -> tuple[Vec3, Vec3]:
    """Two-bone IK: (shoulder, elbow), the shoulder pulled toward an unreachable hand."""
    reach = UPPER_ARM + FOREARM - 1e-3
    d = _sub(hand, shoulder)
    dist = math.sqrt(_dot(d, d))
    u = _unit(d)
    if dist > reach:
        shoulder, dist = _axpy(-reach, u, hand), reach
    dist = max(dist, abs(UPPER_ARM - FOREARM) + 1e-3)
    a = (UPPER_ARM**2 - FOREARM**2 + dist * dist) / (2 * dist)
    h = math.sqrt(max(0.0, UPPER_ARM**2 - a * a))
    n = _sub(pole, (u[0] * _dot(pole, u), u[1] * _dot(pole, u), u[2] * _dot(pole, u)))
    if _dot(n, n) < 1e-12:
        n = (0.0, 0.0, -1.0)
    return shoulder, _axpy(h, _unit(n), _axpy(a, u, shoulder))


def arms(
    head: Vec3, look_at: Vec3, hands: tuple[Vec3, Vec3]
) -> tuple[tuple[Vec3, Vec3], tuple[Vec3, Vec3]]:
    """(shoulder, elbow) of the left and the right arm for hands at ``hands``."""
    fx, fy = torso_forward(head, look_at, hands)
    out = []
    for side, hand in zip((1.0, -1.0), hands, strict=True):
        lx, ly = -fy * side, fx * side  # outward: left of forward for the left arm
        f, s, z = SHOULDER
        shoulder = (head[0] + f * fx + s * lx, head[1] + f * fy + s * ly, head[2] + z)
        pf, ps, pz = ELBOW_POLE
        pole = (pf * fx + ps * lx, pf * fy + ps * ly, pz)
        out.append(_solve(shoulder, hand, pole))
    return out[0], out[1]


def hand_pose(elbow: Vec3, hand: Vec3) -> tuple[Vec3, Quat]:
    """Pose of a hand at ``hand`` with its forearm pointing back toward ``elbow``."""
    return hand, quat_from_x_axis(_sub(hand, elbow))


def upper_arm_pose(shoulder: Vec3, elbow: Vec3) -> tuple[Vec3, Quat]:
    """Pose of an upper arm at ``elbow`` pointing toward ``shoulder``."""
    return elbow, quat_from_x_axis(_sub(shoulder, elbow))
