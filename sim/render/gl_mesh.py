"""Triangle meshes of the scene description for the OpenGL backend (:mod:`.gl_backend`).

Every :class:`~proassist.sim.render.shapes.Part` becomes triangles (trimesh primitives,
the same ones :mod:`.export` writes, a little coarser for fingers and small round
things) with per-vertex normals: flat on boxes
and cylinder caps, smooth on spheres, cylinder sides and capsules, so per-pixel lighting
shows round things round. A *body* (the unit the pybullet backend moves) is the
concatenation of its parts in its own frame, its equal corners shared (:func:`indexed`);
all bodies of a scene go into one static vertex buffer, each vertex tagged with its body's index (the shader looks the body's
pose up), its segmentation id, whether it glows and its procedural material.

Vertex layout (:data:`VERTEX_FORMAT`, 13 float32): position (3), normal (3), colour (3),
``info`` = (body index, segmentation id + 1, glow flag, material).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from proassist.sim.render.shapes import PALETTE, Part

#: moderngl buffer format and attribute names of one vertex.
VERTEX_FORMAT = "3f 3f 3f 4f"
ATTRIBUTES: tuple[str, ...] = ("in_pos", "in_normal", "in_color", "in_info")
#: Floats per vertex.
STRIDE = 13

#: Glow flags: 0 plain, 1 glows while its entity is ``switched_on``, 2 always emissive.
GLOW_OFF, GLOW_SWITCHED, GLOW_ALWAYS = 0.0, 1.0, 2.0

#: Procedural materials (the fragment shader's ``material`` codes).
MATERIALS: dict[str, float] = {
    "plain": 0.0,  # objects: a faint mottle
    "tile": 1.0,  # floor: speckled stone
    "plaster": 2.0,  # walls and ceiling: fine grain
    "wood": 3.0,  # fixture bodies: grain along x
    "metal": 4.0,  # steel, basin, hob: brushed, glossy
    "fabric": 5.0,  # sleeves: a weave
    "skin": 6.0,  # hands: smooth, soft
}
_METAL = {PALETTE[k][:3] for k in ("steel", "basin", "hob", "burner")}


@functools.lru_cache(maxsize=256)
def _unit_mesh(shape: str, size: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Triangles (n, 3, 3) and per-vertex normals (n, 3, 3) of a shape in its own frame."""
    import trimesh

    s = size
    small = s[0] < 0.04  # round things this small cover a few pixels: fewer triangles
    if shape == "box":
        mesh = trimesh.creation.box(extents=[2 * s[0], 2 * s[1], 2 * s[2]])
    elif shape == "sphere":
        mesh = trimesh.creation.icosphere(subdivisions=1 if s[0] < 0.06 else 2, radius=s[0])
    elif shape == "cylinder":
        sections = 12 if small else 32
        mesh = trimesh.creation.cylinder(radius=s[0], height=2 * s[1], sections=sections)
    else:
        height = max(1e-4, 2 * (s[1] - s[0]))
        count = [8, 6] if s[0] < 0.02 else [10, 8]  # fingers; palms and arms (even rings)
        mesh = trimesh.creation.capsule(height=height, radius=s[0], count=count)
    tri = np.asarray(mesh.triangles, dtype=np.float64)
    return tri, _normals(shape, size, tri, np.asarray(mesh.face_normals, dtype=np.float64))


def _normals(
    shape: str, size: tuple[float, float, float], tri: np.ndarray, face_n: np.ndarray
) -> np.ndarray:
    """Flat normals for boxes and caps, analytic smooth ones for round surfaces."""
    flat = np.repeat(face_n[:, None, :], 3, axis=1)
    if shape == "box":
        return flat
    if shape == "sphere":
        n = tri.copy()
    elif shape == "cylinder":
        n = tri.copy()
        n[..., 2] = 0.0
    else:
        half = max(0.0, size[1] - size[0])
        n = tri.copy()
        n[..., 2] = tri[..., 2] - np.clip(tri[..., 2], -half, half)
    norm = np.linalg.norm(n, axis=-1, keepdims=True)
    smooth = n / np.maximum(norm, 1e-12)
    if shape == "cylinder":
        cap = np.abs(face_n[:, 2]) > 0.5
        smooth[cap] = flat[cap]
    return smooth


def quat_matrix(q: Sequence[float]) -> np.ndarray:
    """3x3 rotation matrix of an (x, y, z, w) quaternion."""
    x, y, z, w = (float(v) for v in q)
    n = x * x + y * y + z * z + w * w
    s = 2.0 / n if n > 0 else 0.0
    return np.array(
        [
            [1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w)],
            [s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w)],
            [s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y)],
        ]
    )


def part_triangles(part: Part) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (3n, 3) and normals (3n, 3) of ``part``, posed in its body's frame."""
    tri, nrm = _unit_mesh(part.shape, tuple(float(v) for v in part.size))
    rot = quat_matrix(part.quat)
    pos = tri.reshape(-1, 3) @ rot.T + np.asarray(part.pos, dtype=np.float64)
    return pos, nrm.reshape(-1, 3) @ rot.T


def glow_flag(part: Part, emissive: Sequence[tuple[float, ...]] = ()) -> float:
    """:data:`GLOW_SWITCHED` for ``glow``-tagged parts, :data:`GLOW_ALWAYS` for lights."""
    if part.tag == "glow":
        return GLOW_SWITCHED
    rgb = tuple(part.rgba[:3])
    if rgb == PALETTE["glow"][:3] or rgb in emissive:
        return GLOW_ALWAYS
    return GLOW_OFF


def material_of(part: Part, default: str) -> float:
    """Material code of ``part``: metal for the steel colours, else ``default``."""
    if tuple(part.rgba[:3]) in _METAL:
        return MATERIALS["metal"]
    if default == "skin" and tuple(part.rgba[:3]) == PALETTE["sleeve"][:3]:
        return MATERIALS["fabric"]
    return MATERIALS[default]


def body_vertices(
    parts: Sequence[Part],
    body: int,
    seg: int,
    material: str = "plain",
    emissive: Sequence[tuple[float, ...]] = (),
) -> np.ndarray:
    """Vertex rows (n, :data:`STRIDE`) float32 of one body (see the module docstring).

    Args:
        parts: The body's parts, in its frame.
        body: The body's index in the pose table.
        seg: Its segmentation id (-1: reads as empty).
        material: Default material name (:data:`MATERIALS`); steel colours read metal.
        emissive: Extra RGB colours drawn unlit (flames).
    """
    rows = []
    for part in parts:
        pos, nrm = part_triangles(part)
        info = (float(body), float(seg + 1), glow_flag(part, emissive), material_of(part, material))
        block = np.empty((len(pos), STRIDE), dtype=np.float32)
        block[:, 0:3], block[:, 3:6] = pos, nrm
        block[:, 6:9] = part.rgba[:3]
        block[:, 9:13] = info
        rows.append(block)
    if not rows:
        return np.empty((0, STRIDE), dtype=np.float32)
    return np.concatenate(rows)


def indexed(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shared vertices (m, :data:`STRIDE`) of triangle-corner ``rows`` and indices (n,).

    Corners equal in every attribute become one vertex (kept in order of first use, so
    neighbouring triangles reuse recently shaded vertices): llvmpipe shades each index
    once per batch, about a third of the corners of a smooth mesh.
    """
    if not len(rows):
        return rows, np.zeros(0, dtype=np.uint32)
    _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rows[first[order]], rank[inverse.ravel()].astype(np.uint32)
