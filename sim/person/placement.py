"""Where objects rest on a fixture's top: a fixed spot per object and fixture.

The objects that may rest on a fixture (known from the task: start fixtures and ``at``
predicates) get their spots once per episode, from their footprints as they rest
(upright or lying, :mod:`proassist.sim.person.orientation`):

1. **Grid** (:func:`_grid`): columns :data:`SLOT_PITCH` apart along x, rows along y
   from the front, filled in order; a column or row holding something wider than a
   slot is widened so that nothing overlaps. Used when it fits on the top (small
   objects keep the spots a plain grid gives them).
2. **Packing** (:func:`_pack`) otherwise: rows from the front edge back, as seen from
   the stand point, each filled left to right (an object goes in the first row with
   room) and centred, with gaps of :data:`PACK_GAP`, narrower where the top is full,
   and even overlaps where the rows do not fit in its depth (the fixture is then
   *crowded*).

An object not expected on a fixture (a misplacement) gets a grid spot after the
expected ones (:func:`grid_spot`).
"""

from __future__ import annotations

from proassist.scenarios.model import Fixture, ObjectSpec
from proassist.sim.person.orientation import fixture_yaw, footprint, front_axis

#: Spacing of the grid of spots on a fixture top (metres).
SLOT_PITCH: float = 0.16
#: Gap between objects laid side by side on a fixture top (metres).
PACK_GAP: float = 0.04

Spots = dict[str, tuple[float, float]]


def place_objects(fx: Fixture, objs: list[ObjectSpec]) -> tuple[Spots, bool]:
    """Spots (x, y) of ``objs`` on ``fx``'s top, and whether they fit side by side."""
    grid = _grid(fx, objs)
    return (grid, True) if grid is not None else _pack(fx, objs)


def grid_spot(fx: Fixture, k: int) -> tuple[float, float]:
    """The ``k``-th spot of ``fx``'s grid (wrapping when the top is full)."""
    (x, y, _), (hx, hy, _) = fx.position, fx.size
    cols = max(1, int(2 * hx / SLOT_PITCH))
    rows = max(1, int(2 * hy / SLOT_PITCH))
    col, row = k % cols, (k // cols) % rows
    ncols = min(cols, k + 1)
    return (
        x + (col - (ncols - 1) / 2) * SLOT_PITCH,
        y + (row - (rows - 1) / 2) * SLOT_PITCH,
    )


def _grid(fx: Fixture, objs: list[ObjectSpec]) -> Spots | None:
    """Grid spots (columns and rows widened for big objects), ``None`` if off the top."""
    (x, y, _), (hx, hy, _) = fx.position, fx.size
    cols = max(1, int(2 * hx / SLOT_PITCH))
    rows = max(1, int(2 * hy / SLOT_PITCH))
    if not objs or len(objs) > cols * rows:
        return None if objs else {}
    ext = [footprint(o, fixture_yaw(fx)) for o in objs]
    cells = [(k % cols, k // cols) for k in range(len(objs))]
    widths = [
        max(e[0] for e, c in zip(ext, cells, strict=True) if c[0] == i)
        for i in range(min(cols, len(objs)))
    ]
    depths = [
        max(e[1] for e, c in zip(ext, cells, strict=True) if c[1] == j)
        for j in range(cells[-1][1] + 1)
    ]
    us = _centres(widths)
    us = [u - (us[0] + us[-1]) / 2 for u in us]
    vs = [v - (rows - 1) / 2 * SLOT_PITCH for v in _centres(depths)]
    if not (_on_top(us, widths, hx) and _on_top(vs, depths, hy)):
        return None
    return {o.id: (x + us[c], y + vs[r]) for o, (c, r) in zip(objs, cells, strict=True)}


def _centres(halves: list[float]) -> list[float]:
    """Centres of things of half-sizes ``halves`` in a line, :data:`SLOT_PITCH` apart or
    further (:data:`PACK_GAP` between them)."""
    out = [0.0]
    for a, b in zip(halves, halves[1:], strict=False):
        out.append(out[-1] + max(SLOT_PITCH, a + b + PACK_GAP))
    return out


def _on_top(centres: list[float], halves: list[float], room: float) -> bool:
    """Whether each thing stays within ``room`` of the centre (or is bigger than the top)."""
    return all(abs(c) + h <= room + 1e-9 or h > room for c, h in zip(centres, halves, strict=True))


def _pack(fx: Fixture, objs: list[ObjectSpec]) -> tuple[Spots, bool]:
    """Packed spots (see the module docstring) and whether they fit without overlaps."""
    back = front_axis(fx)
    away, right = (-back[0], -back[1]), (-back[1], back[0])
    width, depth = (fx.size[0], fx.size[1]) if abs(right[0]) > 0.5 else fx.size[1::-1]
    rows = _rows([(o.id, *footprint(o, 0.0)) for o in objs], 2 * width)
    halves = [max(e[2] for e in row) for row in rows]
    gap = _gap(2 * depth, [2 * h for h in halves])
    out: Spots = {}
    v = -depth + max(0.0, min(PACK_GAP, 2 * depth - sum(halves) * 2) / 2)
    for row, half in zip(rows, halves, strict=True):
        du = _gap(2 * width, [2 * e[1] for e in row])
        u = -(sum(2 * e[1] for e in row) + du * (len(row) - 1)) / 2
        for oid, wu, _ in row:
            cu, cv = u + wu, v + half
            x = fx.position[0] + cu * right[0] + cv * away[0]
            out[oid] = (x, fx.position[1] + cu * right[1] + cv * away[1])
            u += 2 * wu + du
        v += 2 * half + gap
    return out, gap >= 0.0 and all(sum(2 * e[1] for e in r) <= 2 * width for r in rows)


def _gap(room: float, sizes: list[float]) -> float:
    """Gap between ``sizes`` laid in a line: :data:`PACK_GAP`, less (negative: an
    overlap) so that they span at most ``room``."""
    if len(sizes) < 2:
        return PACK_GAP
    return min(PACK_GAP, (room - PACK_GAP - sum(sizes)) / (len(sizes) - 1))


def _rows(
    items: list[tuple[str, float, float]], width: float
) -> list[list[tuple[str, float, float]]]:
    """``(id, half width, half depth)`` items in rows at most ``width`` wide (first fit,
    with gaps of a quarter of :data:`PACK_GAP`)."""
    rows: list[list[tuple[str, float, float]]] = []
    used: list[float] = []
    for item in items:
        for i, row in enumerate(rows):
            if used[i] + PACK_GAP / 4 + 2 * item[1] <= width:
                row.append(item)
                used[i] += PACK_GAP / 4 + 2 * item[1]
                break
        else:
            rows.append([item])
            used.append(2 * item[1])
    return rows
