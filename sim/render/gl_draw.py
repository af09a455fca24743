"""Draw lists of the OpenGL backend (:mod:`.gl_backend`): which vertex ranges to draw.

All bodies of a scene share one static vertex (and index) buffer, laid out so that one
frame's draws are few and cheap on a CPU rasteriser (Mesa's llvmpipe shades every vertex
it is given, also those of hidden or off-screen bodies):

1. the moving bodies, hands first, then objects, their decorations and the fault
   indicators: nearest first, so that the depth test rejects what they hide before it
   is shaded;
2. the fixtures (posed once);
3. the floor and the walls and ceiling (no shadow casters).

:class:`DrawList` keeps each body's index range and bounding sphere. A frame draws only
the bodies that show (the pose table's visibility column) and, in the camera's pass,
that touch the view frustum; runs of neighbouring drawn bodies are merged into one draw
call (about a dozen per pass).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def bounding_sphere(positions: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre (3,) and radius of a sphere holding every row of ``positions`` (n, 3)."""
    if not len(positions):
        return np.zeros(3), 0.0
    centre = (positions.min(axis=0) + positions.max(axis=0)) / 2
    return centre, float(np.linalg.norm(positions - centre, axis=1).max())


def texel_rect(box: Sequence[float], size: int) -> tuple[int, int, int, int]:
    """``(x, y, width, height)`` texels of a ``size``-square map covering ``box`` (u0, v0,
    u1, v1 in 0..1), clipped to the map; zero width or height when ``box`` is empty."""
    x0, y0 = (max(0, min(size, math.floor(v * size))) for v in box[:2])
    x1, y1 = (max(0, min(size, math.ceil(v * size))) for v in box[2:])
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def frustum_planes(view_proj: np.ndarray) -> np.ndarray:
    """The six planes (6, 4) of a view-projection's clip volume, normals inward, unit."""
    m = np.asarray(view_proj, dtype=np.float64)
    planes = np.stack(
        [m[3] + m[0], m[3] - m[0], m[3] + m[1], m[3] - m[1], m[3] + m[2], m[3] - m[2]]
    )
    return planes / np.linalg.norm(planes[:, :3], axis=1, keepdims=True)


class DrawList:
    """Index ranges and bounding spheres of the bodies, in buffer order.

    Args:
        order: Pose-table row of each body, in buffer order.
        counts: Indices of each body, in the same order.
        spheres: ``(centre, radius)`` of each body in its own frame, same order.
        casts: Whether each body casts a shadow, same order.
    """

    def __init__(
        self,
        order: Sequence[int],
        counts: Sequence[int],
        spheres: Sequence[tuple[np.ndarray, float]],
        casts: Sequence[bool],
    ) -> None:
        self.rows = np.asarray(order, dtype=np.int64)
        self.count = np.asarray(counts, dtype=np.int64)
        self.first = np.concatenate([[0], np.cumsum(self.count)[:-1]]).astype(np.int64)
        self.centre = np.array([c for c, _ in spheres], dtype=np.float64).reshape(-1, 3)
        self.radius = np.array([r for _, r in spheres], dtype=np.float64) * 1.01 + 1e-3
        self.casts = np.asarray(casts, dtype=bool) & (self.count > 0)

    def shown(self, table: np.ndarray) -> np.ndarray:
        """Per body (buffer order), whether the pose ``table`` shows it and it has triangles."""
        return (table[self.rows, 3, 0] > 0.5) & (self.count > 0)

    def in_view(self, table: np.ndarray, view_proj: np.ndarray) -> np.ndarray:
        """Per body (buffer order), whether its posed bounding sphere touches the frustum."""
        world = self.centres(table)
        planes = frustum_planes(view_proj)
        dist = world @ planes[:, :3].T + planes[:, 3]
        return (dist > -self.radius[:, None]).all(axis=1)

    def centres(self, table: np.ndarray) -> np.ndarray:
        """World centres (n, 3) of the bodies' bounding spheres, posed by ``table``."""
        poses = table[self.rows].astype(np.float64)
        return np.einsum("bij,bj->bi", poses[:, :3, :3], self.centre) + poses[:, :3, 3]

    def light_box(
        self, table: np.ndarray, light_vp: np.ndarray, mask: np.ndarray, margin: float
    ) -> tuple[float, float, float, float]:
        """Shadow-map ``(u0, v0, u1, v1)`` covering the bodies in ``mask``, or an empty box.

        ``light_vp`` is an orthographic (affine) view-projection, so a sphere projects to
        a disc of its radius times the matrix's scale; ``margin`` widens the box (in
        shadow-map units) for filter taps and offsets.
        """
        if not mask.any():
            return (1.0, 1.0, 0.0, 0.0)
        world = self.centres(table)[mask]
        uv = (world @ light_vp[:2, :3].T + light_vp[:2, 3]) * 0.5 + 0.5
        scale = 0.5 * float(np.linalg.norm(light_vp[0, :3]))
        r = (self.radius[mask] * scale + margin)[:, None]
        lo, hi = (uv - r).min(axis=0), (uv + r).max(axis=0)
        return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))

    def runs(self, mask: np.ndarray) -> np.ndarray:
        """``(first, count)`` rows of the merged runs of the bodies in ``mask``."""
        if not mask.any():
            return np.zeros((0, 2), dtype=np.int64)
        edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
        first = self.first[starts]
        return np.stack([first, self.first[ends] + self.count[ends] - first], axis=1)

    @staticmethod
    def draw(vao: Any, runs: np.ndarray) -> None:
        """Draw the ``(first, count)`` index ``runs`` of ``vao``, one call each.

        Not ``render_indirect``: moderngl 5.13 reads non-indexed indirect commands with
        a 20-byte stride where OpenGL's are 16 bytes, and a dozen calls cost no more
        here (measured).
        """
        for first, count in runs.tolist():
            vao.render(vertices=count, first=first)
