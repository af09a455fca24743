"""The simulated person's body as the renderer sees it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

Vec3 = tuple[float, float, float]
#: A rotation as a unit quaternion ``(x, y, z, w)`` (pybullet's order).
Quat = tuple[float, float, float, float]
#: No rotation.
IDENTITY: Quat = (0.0, 0.0, 0.0, 1.0)

#: Primitive actions the person's body performs.
PRIMITIVES: tuple[str, ...] = (
    "look",
    "reach",
    "grasp",
    "carry",
    "place",
    "operate",
    "wait",
    "idle",
)


@dataclass(frozen=True)
class BodyState:
    """Head, gaze and hands of the person at one instant (world frame, metres).

    Attributes:
        head: Eye position.
        look_at: The point the head looks at.
        hands: Left and right hand positions.
        held: Object id held in the left and right hand (``None`` when empty).
        object_poses: Centre of every task object now (carried ones follow the hand).
        primitive: The primitive being executed (one of :data:`PRIMITIVES`).
        object_rotations: Orientation of every task object now (an object missing from
            it is drawn unrotated; see :mod:`proassist.sim.person.orientation`).
        working: The step being worked: from the start of its ``operate`` (else
            ``wait``) phase to the end of the activity, also while it is paused;
            ``None`` otherwise. An amount step's content shows from then on, right
            or wrong alike.
    """

    head: Vec3
    look_at: Vec3
    hands: tuple[Vec3, Vec3]
    held: tuple[str | None, str | None] = (None, None)
    object_poses: dict[str, Vec3] = field(default_factory=dict, hash=False, compare=True)
    primitive: str = "idle"
    object_rotations: dict[str, Quat] = field(default_factory=dict, hash=False, compare=True)
    working: str | None = None


def quat_mul(a: Quat, b: Quat) -> Quat:
    """Hamilton product ``a * b`` (rotate by ``b``, then by ``a``)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


def quat_about(axis: Vec3, angle: float) -> Quat:
    """Rotation by ``angle`` radians about the unit vector ``axis``."""
    s = math.sin(angle / 2)
    return (axis[0] * s, axis[1] * s, axis[2] * s, math.cos(angle / 2))


def quat_rotate(q: Quat, v: Vec3) -> Vec3:
    """``v`` rotated by the unit quaternion ``q``."""
    x, y, z, w = q
    # t = 2 q_vec x v; v' = v + w t + q_vec x t
    tx, ty, tz = 2 * (y * v[2] - z * v[1]), 2 * (z * v[0] - x * v[2]), 2 * (x * v[1] - y * v[0])
    return (
        v[0] + w * tx + y * tz - z * ty,
        v[1] + w * ty + z * tx - x * tz,
        v[2] + w * tz + x * ty - y * tx,
    )
