"""Geometry of task objects and their state decorations (the arms: :mod:`.render_arms`).

All parts are in the local frame of their object (origin at its centre, z along its
height), so moving an object is a single pose update; how it rests (upright or lying,
turned with its fixture: :mod:`proassist.sim.person.orientation`) is that pose's
rotation, and its decorations are rigid parts of it.

State decorations (drawn when the predicate holds, see :mod:`proassist.scenarios.model`):

==============  =================================================================
``liquid``      ``filled(o)``: a water-coloured disc just under the rim
``tea``         ``steeped(o)`` or ``brewed(o)``: the liquid turns tea-brown
``steam``       ``heated(o)``: three white puffs above the object
``pieces``      ``cut(o)``: the object in three pieces (the whole one is hidden)
``lid``         ``open(o)``: a lid lifted and tilted above the object
``glow``        ``switched_on(o)``: an orange light on top of the object
==============  =================================================================
"""

from __future__ import annotations

import math

from proassist.scenarios.model import ObjectSpec
from proassist.sim.person.orientation import half_height, half_width
from proassist.sim.render.arms import hand_parts
from proassist.sim.render.shapes import (
    IDENTITY,
    PALETTE,
    SHAPES,
    Part,
    Vec3,
    mix,
    quat_axis_angle,
    shade,
)

#: Names of the decorations, in creation order.
DECORATIONS: tuple[str, ...] = ("liquid", "tea", "steam", "pieces", "lid", "glow")

#: Which predicate shows which decoration.
DECORATION_OF: dict[str, str] = {
    "filled": "liquid",
    "steeped": "tea",
    "brewed": "tea",
    "heated": "steam",
    "cut": "pieces",
    "open": "lid",
    "switched_on": "glow",
}


def check_shape(obj: ObjectSpec) -> None:
    """Raise ``ValueError`` if ``obj.shape`` is not one of :data:`SHAPES`."""
    if obj.shape not in SHAPES:
        raise ValueError(f"object {obj.id!r}: shape {obj.shape!r} is not one of {SHAPES}")


def _primitive(obj: ObjectSpec, pos: Vec3, rgba: tuple, scale_h: float = 1.0) -> Part:
    """The object's own shape at ``pos`` (height scaled by ``scale_h``)."""
    s = obj.size
    if obj.shape == "box":
        return Part("box", (s[0], s[1], s[2] * scale_h), pos, rgba)
    if obj.shape == "sphere":
        return Part("sphere", (s[0] * min(1.0, scale_h * 1.5), 0, 0), pos, rgba)
    if obj.shape == "capsule":  # Part's capsule half height includes its caps
        return Part("capsule", (s[0], max(half_height(obj) * scale_h, s[0]), 0), pos, rgba)
    return Part("cylinder", (s[0], s[1] * scale_h, 0), pos, rgba)


def _top_disc(obj: ObjectSpec, z: float, rgba: tuple, k: float) -> Part:
    """A thin disc (or slab) covering ``k`` of the object's top at height ``z``."""
    if obj.shape == "box":
        return Part("box", (obj.size[0] * k, obj.size[1] * k, 0.002), (0, 0, z), rgba)
    return Part("cylinder", (obj.size[0] * k, 0.002, 0), (0, 0, z), rgba)


def object_parts(obj: ObjectSpec) -> list[Part]:
    """Parts of the intact object: its shape, a dark opening if it is a container, extras."""
    check_shape(obj)
    h = half_height(obj)
    parts = [_primitive(obj, (0.0, 0.0, 0.0), obj.color)]
    if obj.category == "container" and obj.shape in ("box", "cylinder"):
        parts.append(_top_disc(obj, h + 0.001, PALETTE["interior"], 0.84))
    for key, extra in _EXTRAS.items():
        if key in obj.name.lower() or key in obj.id.lower():
            parts += extra(obj)
            break
    return parts


def _kettle_extras(obj: ObjectSpec) -> list[Part]:
    r, h = half_width(obj)[0], half_height(obj)
    dark = shade(obj.color, 0.45)
    spout_q = quat_axis_angle((0.0, 1.0, 0.0), math.radians(50))
    return [
        Part("cylinder", (0.014, 0.06, 0), (r + 0.035, 0, 0.2 * h), obj.color, spout_q),
        Part("box", (0.015, 0.015, 0.07), (-r - 0.02, 0, 0.25 * h), dark),
        Part("box", (r * 0.55, 0.015, 0.012), (-r * 0.45, 0, h + 0.05), dark),
        Part("box", (0.012, 0.015, 0.03), (-r + 0.01, 0, h + 0.025), dark),
        Part("sphere", (0.016, 0, 0), (0, 0, h + 0.01), dark),
    ]


def _mug_extras(obj: ObjectSpec) -> list[Part]:
    r, h = half_width(obj)[0], half_height(obj)
    c = obj.color
    return [
        Part("box", (0.022, 0.008, 0.008), (r + 0.016, 0, 0.55 * h), c),
        Part("box", (0.022, 0.008, 0.008), (r + 0.016, 0, -0.45 * h), c),
        Part("box", (0.008, 0.008, 0.5 * h + 0.008), (r + 0.032, 0, 0.05 * h), c),
    ]


def _pan_extras(obj: ObjectSpec) -> list[Part]:
    r, h = half_width(obj)[0], half_height(obj)
    return [Part("box", (0.09, 0.015, 0.01), (r + 0.08, 0, h * 0.6), PALETTE["dark"])]


def _wheel_extras(obj: ObjectSpec) -> list[Part]:
    """A flat disc read as a wheel from above: a rim ring, a hub and spokes on its top."""
    if obj.shape != "cylinder":
        return []
    r, h = half_width(obj)[0], half_height(obj)
    rim, dark = PALETTE["steel"], PALETTE["dark"]
    parts = [
        Part("cylinder", (0.8 * r, 0.002, 0), (0, 0, h + 0.001), shade(obj.color, 0.6)),
        Part("cylinder", (0.72 * r, 0.002, 0), (0, 0, h + 0.002), rim),
        Part("cylinder", (0.04, 0.012, 0), (0, 0, h + 0.008), dark),
    ]
    for k in range(6):
        q = quat_axis_angle((0.0, 0.0, 1.0), math.pi * k / 6)
        parts.append(Part("box", (0.7 * r, 0.004, 0.002), (0, 0, h + 0.004), dark, q))
    return parts


_EXTRAS = {
    "wheel": _wheel_extras,
    "tyre": _wheel_extras,
    "tire": _wheel_extras,
    "kettle": _kettle_extras,
    "teapot": _kettle_extras,
    "mug": _mug_extras,
    "cup": _mug_extras,
    "pan": _pan_extras,
    "pot": _pan_extras,
}


# ----------------------------------------------------------------------- decorations


def _liquid(obj: ObjectSpec) -> list[Part]:
    color = mix(PALETTE["water"], obj.color, 0.15)
    return [_top_disc(obj, half_height(obj) + 0.003, color, 0.84)]


def _tea(obj: ObjectSpec) -> list[Part]:
    return [_top_disc(obj, half_height(obj) + 0.003, PALETTE["tea"], 0.84)]


def _steam(obj: ObjectSpec) -> list[Part]:
    h, r = half_height(obj), half_width(obj)[0]
    puffs = ((0.0, 0.0, 0.06, 0.03), (0.3, 0.15, 0.13, 0.035), (-0.2, -0.1, 0.21, 0.04))
    return [
        Part("sphere", (rad, 0, 0), (r * dx, r * dy, h + dz), PALETTE["steam"])
        for dx, dy, dz, rad in puffs
    ]


def _pieces(obj: ObjectSpec) -> list[Part]:
    h, gap = half_height(obj), 0.02
    inner = mix(obj.color, (1.0, 0.95, 0.85, 1.0), 0.35)
    if obj.shape == "box":
        axis = 0 if obj.size[0] >= obj.size[1] else 1
        third = obj.size[axis] / 3
        out = []
        for i in (-1, 0, 1):
            size = list(obj.size)
            size[axis] = third - 0.003
            pos = [0.0, 0.0, 0.0]
            pos[axis] = i * (2 * third + gap)
            out.append(Part("box", tuple(size), tuple(pos), obj.color if i else inner))
        return out
    if obj.shape in ("cylinder", "capsule"):  # slices along the axis (in a row when lying)
        r = obj.size[0]
        return [
            Part(
                "cylinder",
                (r, h / 3 - 0.002, 0),
                (i * 0.012, 0, -h + (2 * i + 1) * h / 3 + i * gap),
                obj.color if i != 1 else inner,
            )
            for i in range(3)
        ]
    r = obj.size[0] * 0.6
    return [Part("sphere", (r, 0, 0), (i * (2 * r + gap), 0, r - h), obj.color) for i in (-1, 0, 1)]


def _lid(obj: ObjectSpec) -> list[Part]:
    h = half_height(obj)
    q = quat_axis_angle((0.0, 1.0, 0.0), math.radians(35))
    hx, hy = half_width(obj)
    if obj.shape == "box":
        return [Part("box", (hx, hy, 0.008), (-0.3 * hx, 0, h + 0.08), shade(obj.color, 0.7), q)]
    return [Part("cylinder", (hx, 0.008, 0), (-0.3 * hx, 0, h + 0.08), shade(obj.color, 0.7), q)]


def _glow(obj: ObjectSpec) -> list[Part]:
    h, r = half_height(obj), half_width(obj)[0]
    return [Part("sphere", (0.015, 0, 0), (0.6 * r, 0, h + 0.01), PALETTE["glow"])]


_DECORATION_BUILDERS = {
    "liquid": _liquid,
    "tea": _tea,
    "steam": _steam,
    "pieces": _pieces,
    "lid": _lid,
    "glow": _glow,
}


def decoration_parts(obj: ObjectSpec) -> dict[str, list[Part]]:
    """The state decorations of ``obj`` (see the module docstring), by name."""
    check_shape(obj)
    return {name: _DECORATION_BUILDERS[name](obj) for name in DECORATIONS}


def attached_offsets(base: ObjectSpec, parts: list[ObjectSpec]) -> list[Vec3]:
    """Offsets from ``base``'s centre where ``parts`` attached to it are drawn.

    The parts stand on the base's top face, spread over its corners (one part sits in
    the middle), the way a stool's legs stand up from an upside-down seat.
    """
    top = half_height(base)
    hx, hy = half_width(base)
    n = len(parts)
    out = []
    for i, p in enumerate(parts):
        if n == 1:
            x = y = 0.0
        else:
            a = math.pi / 4 + 2 * math.pi * i / n
            x = 0.7 * hx * max(-1.0, min(1.0, math.sqrt(2) * math.cos(a)))
            y = 0.7 * hy * max(-1.0, min(1.0, math.sqrt(2) * math.sin(a)))
        out.append((x, y, top + half_height(p)))
    return out


__all__ = [
    "DECORATIONS",
    "DECORATION_OF",
    "IDENTITY",
    "attached_offsets",
    "decoration_parts",
    "half_height",
    "half_width",
    "hand_parts",
    "object_parts",
]
