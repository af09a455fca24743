"""Backend-free geometry of the scene: fixtures, task objects, state decorations, hands.

Everything is described as a list of :class:`Part` (a coloured primitive with a pose),
so the pybullet renderer (:mod:`proassist.sim.render.pybullet_backend`) and the exporter
(:mod:`proassist.sim.render.export`) draw exactly the same scene.

Conventions: world frame, z up, metres. A fixture's ``position`` is the centre of its
top surface and ``size`` its half-extents; it spans ``position.z - 2*size.z`` to
``position.z``. Fixture parts are in world coordinates. Object parts are in the
object's local frame (origin = object centre), so moving an object is one pose update.

Shape sizes (``Part.size``): ``box`` half-extents; ``cylinder`` and ``capsule``
``(radius, half_height, 0)`` along the local z axis (a capsule's half height includes
its caps); ``sphere`` ``(radius, 0, 0)``.

Fixture kinds are registered with :func:`fixture_kind`; :func:`fixture_builder` looks one
up (unknown kinds fall back to a plain box unless ``strict``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from proassist.scenarios.model import Fixture, Layout
from proassist.scenarios.registry import Registry
from proassist.sim.person.orientation import front_axis

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]
RGBA = tuple[float, float, float, float]

IDENTITY: Quat = (0.0, 0.0, 0.0, 1.0)
SHAPES: tuple[str, ...] = ("box", "cylinder", "sphere", "capsule")

#: Colours of the things the renderer invents (not given by the layout or objects).
PALETTE: dict[str, RGBA] = {
    "glow": (1.0, 0.33, 0.05, 1.0),
    "burner": (0.16, 0.16, 0.17, 1.0),
    "hob": (0.07, 0.07, 0.08, 1.0),
    "steel": (0.72, 0.74, 0.77, 1.0),
    "basin": (0.5, 0.53, 0.57, 1.0),
    "dark": (0.1, 0.1, 0.1, 1.0),
    "interior": (0.1, 0.09, 0.08, 1.0),
    "water": (0.25, 0.55, 0.95, 1.0),
    "tea": (0.55, 0.3, 0.12, 1.0),
    "steam": (0.96, 0.97, 1.0, 1.0),
    "skin": (0.93, 0.72, 0.6, 1.0),
    "sleeve": (0.2, 0.32, 0.55, 1.0),
    "indicator": (0.22, 0.22, 0.22, 1.0),
}


@dataclass(frozen=True)
class Part:
    """One coloured primitive.

    Attributes:
        shape: One of :data:`SHAPES`.
        size: Shape size (see the module docstring).
        pos: Centre (world frame for fixtures and the room, local frame otherwise).
        rgba: Colour in [0, 1].
        quat: Orientation (x, y, z, w).
        tag: Role of the part: ``""`` or ``"glow"`` (lit when switched on).
    """

    shape: str
    size: Vec3
    pos: Vec3
    rgba: RGBA
    quat: Quat = IDENTITY
    tag: str = ""


def shade(rgba: RGBA, k: float) -> RGBA:
    """Scale the RGB of ``rgba`` by ``k`` (clipped to [0, 1])."""
    return (min(1.0, rgba[0] * k), min(1.0, rgba[1] * k), min(1.0, rgba[2] * k), rgba[3])


def mix(a: RGBA, b: RGBA, t: float) -> RGBA:
    """Linear blend ``(1 - t) * a + t * b``."""
    return tuple((1 - t) * x + t * y for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def quat_axis_angle(axis: Vec3, angle: float) -> Quat:
    """Quaternion (x, y, z, w) of a rotation by ``angle`` radians about ``axis``."""
    n = math.sqrt(sum(a * a for a in axis)) or 1.0
    s = math.sin(angle / 2) / n
    return (axis[0] * s, axis[1] * s, axis[2] * s, math.cos(angle / 2))


# --------------------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class _Frame:
    """A fixture's frame: top-centre origin, ``f`` = unit axis toward the person."""

    fx: Fixture
    f: tuple[float, float]

    @property
    def depth(self) -> float:
        return self.fx.size[0] if abs(self.f[0]) > 0.5 else self.fx.size[1]

    @property
    def width(self) -> float:
        return self.fx.size[1] if abs(self.f[0]) > 0.5 else self.fx.size[0]

    @property
    def top(self) -> float:
        return self.fx.position[2]

    @property
    def bottom(self) -> float:
        return self.fx.position[2] - 2 * self.fx.size[2]

    def box(
        self,
        u: float,
        v: float,
        z: float,
        hu: float,
        hv: float,
        hz: float,
        rgba: RGBA,
        tag: str = "",
    ) -> Part:
        """A box centred at (``u`` toward the person, ``v`` lateral, ``z`` world height)."""
        pos = self.point(u, v, z)
        size = (hu, hv, hz) if abs(self.f[0]) > 0.5 else (hv, hu, hz)
        return Part("box", size, pos, rgba, IDENTITY, tag)

    def point(self, u: float, v: float, z: float) -> Vec3:
        """World point of frame coordinates (u, v) at height ``z``."""
        fx, fy = self.f
        px, py, _ = self.fx.position
        return (px + u * fx - v * fy, py + u * fy + v * fx, z)


FixtureBuilder = Callable[[_Frame, Layout], list[Part]]
#: Fixture builders, by fixture kind (``@fixture_kind`` adds to it).
FIXTURE_BUILDERS: Registry[FixtureBuilder] = Registry("fixture kind")


def fixture_kind(*kinds: str) -> Callable[[FixtureBuilder], FixtureBuilder]:
    """Register a fixture builder for one or more ``kind`` names."""

    def deco(fn: FixtureBuilder) -> FixtureBuilder:
        for k in kinds:
            FIXTURE_BUILDERS.add(k, fn)
        return fn

    return deco


def fixture_builder(kind: str, strict: bool = False) -> FixtureBuilder:
    """Return the builder registered for ``kind``.

    Args:
        kind: Fixture kind (``counter``, ``stove``...).
        strict: Raise on an unknown kind instead of falling back to a plain box.

    Raises:
        proassist.scenarios.registry.RegistryError: A ``KeyError`` with close
            matches, if ``strict`` and ``kind`` is not registered.
    """
    if kind in FIXTURE_BUILDERS or strict:
        return FIXTURE_BUILDERS.get(kind)
    return FIXTURE_BUILDERS.get("box")


def fixture_kinds() -> list[str]:
    """Sorted names of the registered fixture kinds."""
    return sorted(FIXTURE_BUILDERS.names())


def fixture_parts(fx: Fixture, layout: Layout) -> list[Part]:
    """World-frame parts drawing fixture ``fx`` (its kind picks the builder)."""
    return fixture_builder(fx.kind)(_Frame(fx, front_axis(fx)), layout)


def _indicator(fr: _Frame) -> Part:
    """A small light on the front top corner, lit by ``switched_on``."""
    r = 0.015
    pos = fr.point(fr.depth + 0.004, fr.width * 0.8, fr.top - 0.05)
    return Part("sphere", (r, 0, 0), pos, PALETTE["indicator"], IDENTITY, "glow")


@fixture_kind("box", "platform", "wall", "panel", "pedestal")
def _plain_box(fr: _Frame, layout: Layout) -> list[Part]:
    hz, c = fr.fx.size[2], fr.fx.color
    return [
        fr.box(0, 0, fr.top - hz, fr.depth, fr.width, hz, c),
        fr.box(0, 0, fr.top - 0.004, fr.depth + 0.004, fr.width + 0.004, 0.006, shade(c, 0.8)),
    ]


@fixture_kind("device", "machine", "appliance", "panel_device")
def _device(fr: _Frame, layout: Layout) -> list[Part]:
    return [*_plain_box(fr, layout), _indicator(fr)]


@fixture_kind("bin", "trash", "bucket")
def _bin(fr: _Frame, layout: Layout) -> list[Part]:
    r, hz, c = min(fr.depth, fr.width), fr.fx.size[2], fr.fx.color
    px, py, _ = fr.fx.position
    return [
        Part("cylinder", (r, hz, 0), (px, py, fr.top - hz), c),
        Part("cylinder", (r * 0.88, 0.002, 0), (px, py, fr.top + 0.001), PALETTE["interior"]),
    ]


def _cabinet(fr: _Frame, top_gap: float, color: RGBA, doors: bool = True) -> list[Part]:
    """Base cabinet under a worktop: body, plinth, door panels and handles."""
    d, w = fr.depth, fr.width
    z0, z1 = fr.bottom + 0.08, fr.top - top_gap
    parts = [
        fr.box(-0.03, 0, (z0 + z1) / 2, d - 0.03, w, (z1 - z0) / 2, color),
        fr.box(-0.06, 0, fr.bottom + 0.04, d - 0.06, w - 0.01, 0.04, PALETTE["dark"]),
    ]
    if not doors:
        return parts
    n = max(1, round(2 * w / 0.55))
    dw = w / n
    for i in range(n):
        v = -w + dw * (2 * i + 1)
        parts.append(
            fr.box(
                d - 0.03,
                v,
                (z0 + z1) / 2,
                0.006,
                dw - 0.012,
                (z1 - z0) / 2 - 0.01,
                shade(color, 1.06),
            )
        )
        hv = v + (dw - 0.06) * (1 if i % 2 == 0 else -1)
        parts.append(fr.box(d - 0.018, hv, z1 - 0.09, 0.008, 0.01, 0.05, PALETTE["steel"]))
    return parts


def _worktop(fr: _Frame, thickness: float = 0.02) -> Part:
    return fr.box(0, 0, fr.top - thickness, fr.depth + 0.01, fr.width, thickness, fr.fx.color)


def _cabinet_color(color: RGBA) -> RGBA:
    return mix(color, (0.93, 0.92, 0.88, 1.0), 0.55)


def _against_wall(fr: _Frame, layout: Layout) -> bool:
    """Whether the fixture's back edge touches the room's wall."""
    bx, by, _ = fr.point(-fr.depth, 0, 0)
    x0, x1, y0, y1 = room_bounds(layout)
    return min(abs(bx - x0), abs(bx - x1), abs(by - y0), abs(by - y1)) < 0.08


def _backsplash(fr: _Frame, layout: Layout, height: float = 0.5) -> list[Part]:
    """Wall tiles from the worktop up, with grout lines, if the fixture is against a wall."""
    if not _against_wall(fr, layout):
        return []
    tile = mix(layout.wall_color, (0.78, 0.86, 0.9, 1.0), 0.6)
    grout = shade(tile, 0.8)
    u, w, z0 = -fr.depth + 0.004, fr.width, fr.top
    parts = [fr.box(u, 0, z0 + height / 2, 0.004, w, height / 2, tile)]
    for k in range(1, round(height / 0.1)):
        parts.append(fr.box(u + 0.004, 0, z0 + 0.1 * k, 0.002, w, 0.003, grout))
    n = round(2 * w / 0.15)
    for k in range(1, n):
        parts.append(
            fr.box(u + 0.004, -w + 2 * w * k / n, z0 + height / 2, 0.002, 0.003, height / 2, grout)
        )
    return parts


def _wall_cabinet(fr: _Frame, layout: Layout, color: RGBA) -> list[Part]:
    """An upper wall cabinet 0.6 m above the worktop, with doors and handles."""
    if not _against_wall(fr, layout):
        return []
    d, w = min(0.17, fr.depth), fr.width
    u, z0, hz = -fr.depth + d, fr.top + 0.6, 0.33
    parts = [fr.box(u, 0, z0 + hz, d, w, hz, color)]
    for s in (-1, 1):
        parts.append(
            fr.box(u + d, s * w / 2, z0 + hz, 0.005, w / 2 - 0.012, hz - 0.012, shade(color, 1.05))
        )
        parts.append(fr.box(u + d + 0.01, s * 0.06, z0 + 0.08, 0.008, 0.01, 0.05, PALETTE["steel"]))
    return parts


@fixture_kind("counter", "cabinet", "cupboard", "island")
def _counter(fr: _Frame, layout: Layout) -> list[Part]:
    cab = _cabinet_color(fr.fx.color)
    return [_worktop(fr), *_cabinet(fr, 0.04, cab)]


def _burner_discs(fr: _Frame, layout: Layout) -> list[Part]:
    """Burner discs on a stove, unless separate ``burner`` fixtures sit on it."""
    px, py, _ = fr.fx.position
    hx, hy, _ = fr.fx.size
    for other in layout.fixtures:
        ox, oy, _ = other.position
        if other.kind == "burner" and abs(ox - px) <= hx and abs(oy - py) <= hy:
            return []
    r = min(0.1, 0.36 * min(fr.depth, fr.width))
    parts = []
    for u in (-0.5, 0.45):
        for v in (-0.5, 0.5):
            pos = fr.point(u * fr.depth, v * fr.width, fr.top + 0.004)
            parts.append(Part("cylinder", (r, 0.004, 0), pos, PALETTE["burner"], IDENTITY, "glow"))
    return parts


@fixture_kind("stove", "cooktop", "hob", "oven")
def _stove(fr: _Frame, layout: Layout) -> list[Part]:
    d, w, c = fr.depth, fr.width, fr.fx.color
    parts = [fr.box(0, 0, fr.top - 0.01, d, w, 0.01, PALETTE["hob"])]
    parts += _cabinet(fr, 0.02, c, doors=False)
    zdoor = (fr.bottom + 0.1 + fr.top - 0.14) / 2
    hdoor = (fr.top - 0.14 - fr.bottom - 0.1) / 2
    parts.append(fr.box(d - 0.025, 0, zdoor, 0.006, w - 0.02, hdoor, shade(c, 0.85)))
    parts.append(fr.box(d - 0.02, 0, zdoor, 0.006, w * 0.7, hdoor * 0.55, PALETTE["dark"]))
    parts.append(fr.box(d - 0.005, 0, fr.top - 0.17, 0.01, w * 0.8, 0.008, PALETTE["steel"]))
    for v in (-0.6, -0.2, 0.2, 0.6):
        parts.append(fr.box(d - 0.01, v * w, fr.top - 0.07, 0.015, 0.018, 0.018, PALETTE["dark"]))
    return parts + _burner_discs(fr, layout)


@fixture_kind("burner")
def _burner(fr: _Frame, layout: Layout) -> list[Part]:
    r = min(fr.fx.size[0], fr.fx.size[1])
    px, py, pz = fr.fx.position
    ring = Part(
        "cylinder", (r + 0.03, 0.003, 0), (px, py, pz + 0.002), PALETTE["dark"], IDENTITY, "glow"
    )
    disc = Part(
        "cylinder", (r, 0.004, 0), (px, py, pz + 0.004), PALETTE["burner"], IDENTITY, "glow"
    )
    return [ring, disc]


@fixture_kind("sink")
def _sink(fr: _Frame, layout: Layout) -> list[Part]:
    d, w, c = fr.depth, fr.width, fr.fx.color
    bu, bv = 0.62 * d, min(0.7 * w, 0.3)
    t = fr.top - 0.02
    parts = [
        fr.box(0.8 * d + 0.005, 0, t, 0.2 * d + 0.005, w, 0.02, c),  # front strip
        fr.box(-0.8 * d, 0, t, 0.2 * d, w, 0.02, c),  # back strip
        fr.box(0, (w + bv) / 2 + 0.0, t, bu, (w - bv) / 2, 0.02, c),
        fr.box(0, -(w + bv) / 2, t, bu, (w - bv) / 2, 0.02, c),
        fr.box(0, 0, fr.top - 0.06, bu, bv, 0.035, PALETTE["basin"]),
        Part("cylinder", (0.025, 0.002, 0), fr.point(0, 0, fr.top - 0.024), PALETTE["dark"]),
    ]
    parts += _cabinet(fr, 0.1, _cabinet_color(c))
    tap = fr.point(-0.88 * d, 0, fr.top + 0.14)
    parts.append(Part("cylinder", (0.014, 0.14, 0), tap, PALETTE["steel"]))
    spout = fr.point(-0.88 * d + 0.08, 0, fr.top + 0.27)
    q = quat_axis_angle((-fr.f[1], fr.f[0], 0.0), math.pi / 2)
    parts.append(Part("cylinder", (0.012, 0.08, 0), spout, PALETTE["steel"], q))
    for v in (-0.08, 0.08):
        knob = fr.point(-0.88 * d, v, fr.top + 0.03)
        parts.append(Part("cylinder", (0.016, 0.03, 0), knob, PALETTE["steel"]))
    return parts


@fixture_kind("fridge", "refrigerator", "freezer")
def _fridge(fr: _Frame, layout: Layout) -> list[Part]:
    d, w, c, hz = fr.depth, fr.width, fr.fx.color, fr.fx.size[2]
    split = fr.bottom + 2 * hz * 0.62
    return [
        fr.box(0, 0, fr.top - hz, d, w, hz, c),
        fr.box(d, 0, split, 0.004, w, 0.006, PALETTE["dark"]),
        fr.box(d, 0, fr.bottom + 0.04, 0.004, w - 0.02, 0.04, PALETTE["dark"]),
        fr.box(d + 0.02, -0.8 * w, split - 0.25, 0.012, 0.012, 0.2, PALETTE["steel"]),
        fr.box(d + 0.02, -0.8 * w, split + 0.18, 0.012, 0.012, 0.12, PALETTE["steel"]),
        _indicator(fr),
    ]


_SHELF_ITEMS: tuple[RGBA, ...] = (
    (0.8, 0.25, 0.2, 1.0),
    (0.95, 0.8, 0.3, 1.0),
    (0.3, 0.6, 0.35, 1.0),
    (0.85, 0.85, 0.8, 1.0),
)


@fixture_kind("shelf", "shelves", "rack", "bookshelf")
def _shelf(fr: _Frame, layout: Layout) -> list[Part]:
    d, w, c, hz = fr.depth, fr.width, fr.fx.color, fr.fx.size[2]
    if hz < 0.06:  # a wall shelf or rack: one board on two brackets
        board = fr.box(0, 0, fr.top - hz, d, w, hz, c)
        return [board] + [
            fr.box(-0.2 * d, s * 0.8 * w, fr.bottom - 0.06, 0.8 * d, 0.012, 0.06, shade(c, 0.6))
            for s in (-1, 1)
        ]
    parts = [fr.box(-d + 0.01, 0, fr.top - hz, 0.01, w, hz, shade(c, 0.8))]
    parts += [fr.box(0, s * (w - 0.01), fr.top - hz, d, 0.01, hz, c) for s in (-1, 1)]
    n = max(2, round(2 * hz / 0.35)) + 1
    for i in range(n):
        z = fr.bottom + 0.01 + (2 * hz - 0.02) * i / (n - 1)
        parts.append(fr.box(0, 0, z, d, w, 0.01, c))
        if i == n - 1:
            continue
        for j, col in enumerate(_SHELF_ITEMS[: max(1, int(2 * w / 0.25))]):
            v = -w + 0.08 + j * 0.2
            if v > w - 0.06:
                break
            hgt = 0.05 + 0.025 * ((i + j) % 3)
            r = min(0.04, 0.8 * d)
            parts.append(Part("cylinder", (r, hgt, 0), fr.point(0, v, z + 0.01 + hgt), col))
    return parts


def _legs(fr: _Frame, top_half: float, leg: float, color: RGBA) -> list[Part]:
    h = (fr.top - 2 * top_half - fr.bottom) / 2
    z = fr.bottom + h
    du, dv = fr.depth - leg - 0.02, fr.width - leg - 0.02
    return [fr.box(su * du, sv * dv, z, leg, leg, h, color) for su in (-1, 1) for sv in (-1, 1)]


@fixture_kind("table", "desk")
def _table(fr: _Frame, layout: Layout) -> list[Part]:
    top = fr.box(0, 0, fr.top - 0.02, fr.depth, fr.width, 0.02, fr.fx.color)
    return [top, *_legs(fr, 0.02, 0.025, shade(fr.fx.color, 0.75))]


@fixture_kind("workbench", "bench", "maintenance_bench", "workstation", "stand")
def _workbench(fr: _Frame, layout: Layout) -> list[Part]:
    c = fr.fx.color
    parts = [fr.box(0, 0, fr.top - 0.03, fr.depth, fr.width, 0.03, c)]
    parts += _legs(fr, 0.03, 0.04, shade(c, 0.6))
    z = fr.bottom + 0.18
    parts.append(fr.box(0, 0, z, fr.depth - 0.06, fr.width - 0.06, 0.015, shade(c, 0.8)))
    parts.append(fr.box(-fr.depth + 0.01, 0, fr.top + 0.3, 0.01, fr.width, 0.3, shade(c, 0.9)))
    return parts


# ------------------------------------------------------------------------------ room


def room_bounds(layout: Layout, margin: float = 0.6) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax) enclosing fixtures (snug) and stand points (+``margin``)."""
    xs, ys = [], []
    for fx in layout.fixtures:
        xs += [fx.position[0] - fx.size[0], fx.position[0] + fx.size[0]]
        ys += [fx.position[1] - fx.size[1], fx.position[1] + fx.size[1]]
        xs += [fx.stand[0] - margin, fx.stand[0] + margin]
        ys += [fx.stand[1] - margin, fx.stand[1] + margin]
    if not xs:
        return (-2.0, 2.0, -2.0, 2.0)
    return (min(xs) - 0.02, max(xs) + 0.02, min(ys) - 0.02, max(ys) + 0.02)


def floor_parts(layout: Layout, tile: float = 0.6) -> list[Part]:
    """A tiled floor (top at z = 0) in two shades of ``layout.floor_color``."""
    x0, x1, y0, y1 = room_bounds(layout)
    nx, ny = max(1, math.ceil((x1 - x0) / tile)), max(1, math.ceil((y1 - y0) / tile))
    sx, sy = (x1 - x0) / nx, (y1 - y0) / ny
    parts = []
    for i in range(nx):
        for j in range(ny):
            col = layout.floor_color if (i + j) % 2 == 0 else shade(layout.floor_color, 0.88)
            pos = (x0 + sx * (i + 0.5), y0 + sy * (j + 0.5), -0.01)
            parts.append(Part("box", (sx / 2, sy / 2, 0.01), pos, col))
    return parts


#: Fixture kinds with wall tiles behind them, and those with a wall cabinet above.
TILED_KINDS: frozenset[str] = frozenset(
    {"counter", "cabinet", "cupboard", "sink", "stove", "cooktop", "hob", "oven"}
)
CABINET_KINDS: frozenset[str] = frozenset({"sink"})


def _wall_fittings(layout: Layout) -> list[Part]:
    """Tiles behind worktops and cabinets above sinks (part of the walls, not fixtures)."""
    parts: list[Part] = []
    for fx in layout.fixtures:
        fr = _Frame(fx, front_axis(fx))
        if fx.kind in TILED_KINDS:
            parts += _backsplash(fr, layout)
        if fx.kind in CABINET_KINDS:
            parts += _wall_cabinet(fr, layout, _cabinet_color(fx.color))
    return parts


def wall_parts(layout: Layout, height: float = 2.6) -> list[Part]:
    """Four walls, a ceiling and the wall fittings (tiles, wall cabinets) of ``layout``."""
    x0, x1, y0, y1 = room_bounds(layout)
    t, h, c = 0.05, height / 2, layout.wall_color
    cx, cy, hx, hy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    ceiling = shade(c, 1.04)
    return _wall_fittings(layout) + [
        Part("box", (hx + 2 * t, hy + 2 * t, t), (cx, cy, height + t), ceiling),
        Part("box", (hx + 2 * t, t, h), (cx, y0 - t, h), c),
        Part("box", (hx + 2 * t, t, h), (cx, y1 + t, h), c),
        Part("box", (t, hy, h), (x0 - t, cy, h), shade(c, 0.95)),
        Part("box", (t, hy, h), (x1 + t, cy, h), shade(c, 0.95)),
    ]
