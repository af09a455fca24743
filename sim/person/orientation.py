"""How task objects rest: upright or lying on their side, turned with their fixture.

An object's own frame has z along its height (:func:`half_height`; a cylinder's or
capsule's axis). It rests **upright** (that frame unrotated) or **lying**: its height
axis turned horizontal, along the front edge of its fixture (across the person's view,
where a long thing reads as long; pointing away it would look upright), on its
broadest side (a box lies on the larger of its x and y faces). Whether it lies is the task file's
``lying`` (``true``/``false``); without one an *elongated* object (its half height more
than :data:`ELONGATED` times its largest horizontal half-extent: a stool leg, a pencil,
a lamp arm, a floor pump) lies and everything else stands. A sphere never lies.

The resting frame is then turned about the vertical by the **yaw** of the fixture it
rests on (its *fixture frame*: x along the front edge to the right of the person at
the fixture's stand point, y away from the person; the fixture's front axis is the one
:mod:`proassist.sim.render.shapes` builds it with) plus the object's own ``yaw``. A
held object turns with the person (yaw from the direction they face), so a carried
leg is held level, across the body.
"""

from __future__ import annotations

import math

from proassist.scenarios.model import Fixture, ObjectSpec
from proassist.sim.body import IDENTITY, Quat, Vec3, quat_about, quat_mul

#: An object this many times taller than its largest horizontal half-extent lies down
#: unless its task file says ``lying: false`` (bottles, ~4x, stand; a cucumber, 5x, lies).
ELONGATED: float = 4.5

_HALF = math.pi / 2
#: Height axis to +x, x down (vertical half-extent: x).
_LIE_ON_X = quat_about((0.0, 1.0, 0.0), _HALF)
#: Height axis to +x, y down (vertical half-extent: y).
_LIE_ON_Y = quat_mul(quat_about((0.0, 0.0, 1.0), -_HALF), quat_about((1.0, 0.0, 0.0), -_HALF))


def half_height(obj: ObjectSpec) -> float:
    """Half the extent of an object along its own height axis (z), from shape and size.

    The one definition used by the person's kinematics and the renderer
    (:mod:`proassist.sim.render.objects` re-exports it). ``size`` is the box
    half-extents, ``(radius, half_height, _)`` for a cylinder, ``(radius, _, _)`` for a
    sphere and ``(radius, half_cylinder_length, _)`` for a capsule, whose half height
    is then ``radius + half_cylinder_length`` (a cap on each end; pybullet's
    ``GEOM_CAPSULE`` takes ``length`` = the cylinder length, caps excluded).
    """
    sx, sy, sz = obj.size
    if obj.shape == "cylinder":
        return sy
    if obj.shape == "sphere":
        return sx
    if obj.shape == "capsule":
        return sy + sx
    return sz


def half_width(obj: ObjectSpec) -> tuple[float, float]:
    """Half-extents (x, y) of the object across its height axis, in its own frame."""
    if obj.shape == "box":
        return (obj.size[0], obj.size[1])
    return (obj.size[0], obj.size[0])


def lies(obj: ObjectSpec) -> bool:
    """Whether ``obj`` rests lying (its ``lying``, else whether it is elongated)."""
    if obj.shape == "sphere":
        return False
    if obj.lying is not None:
        return bool(obj.lying)
    return half_height(obj) > ELONGATED * max(half_width(obj))


def _lie_quat(obj: ObjectSpec) -> Quat:
    hx, hy = half_width(obj)
    return _LIE_ON_Y if hy < hx else _LIE_ON_X


def rest_extents(obj: ObjectSpec) -> Vec3:
    """Half-extents of ``obj`` as it rests, in its fixture frame before any yaw.

    ``(along the front edge, away from the person, vertical)``.
    """
    hx, hy = half_width(obj)
    h = half_height(obj)
    if not lies(obj):
        return (hx, hy, h)
    return (h, max(hx, hy), min(hx, hy))


def rest_half_height(obj: ObjectSpec) -> float:
    """Half the vertical extent of ``obj`` as it rests (its radius when lying)."""
    return rest_extents(obj)[2]


def front_axis(fx: Fixture) -> tuple[float, float]:
    """Unit axis (±x or ±y) from the fixture toward where the person stands."""
    dx, dy = fx.stand[0] - fx.position[0], fx.stand[1] - fx.position[1]
    if abs(dx) < 1e-9 and abs(dy) < 1e-9:
        return (0.0, -1.0)
    if abs(dx) >= abs(dy):
        return (math.copysign(1.0, dx), 0.0)
    return (0.0, math.copysign(1.0, dy))


def heading_yaw(forward: tuple[float, float]) -> float:
    """Yaw (radians) of a frame whose y axis is the horizontal direction ``forward``."""
    return math.atan2(forward[1], forward[0]) - _HALF


def fixture_yaw(fx: Fixture) -> float:
    """Yaw (radians) of ``fx``'s fixture frame (y away from the person at its stand)."""
    f = front_axis(fx)
    return heading_yaw((-f[0], -f[1]))


def rest_rotation(obj: ObjectSpec, frame_yaw: float) -> Quat:
    """Orientation of ``obj`` resting in a frame of yaw ``frame_yaw`` (radians)."""
    yaw = frame_yaw + math.radians(obj.yaw)
    turn = quat_about((0.0, 0.0, 1.0), yaw) if yaw else IDENTITY
    return quat_mul(turn, _lie_quat(obj)) if lies(obj) else turn


def footprint(obj: ObjectSpec, frame_yaw: float) -> tuple[float, float]:
    """World half-extents (x, y) of the box around ``obj`` resting in a frame of yaw
    ``frame_yaw``."""
    ex, ey, _ = rest_extents(obj)
    yaw = frame_yaw + math.radians(obj.yaw)
    c, s = abs(math.cos(yaw)), abs(math.sin(yaw))
    return (c * ex + s * ey, s * ex + c * ey)
