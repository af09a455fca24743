"""The OpenGL backend of :class:`proassist.sim.render.scene.Scene` (``renderer="gl"``).

Built on moderngl with a headless EGL context: Mesa's llvmpipe on a CPU-only machine,
the GPU's driver where there is one. It draws the same scene description as the pybullet
backend (the same parts of :mod:`.shapes`, :mod:`.objects`, :mod:`.arms` and
:mod:`.indicators`, the same :class:`~proassist.sim.render.state.StateView`, camera,
segmentation ids and depth in metres), so the two agree on segmentation and depth
(tested) and differ in looks: per-pixel lighting with a soft shadow and procedural
textures here (see :mod:`.gl_shaders`).

How it is fast: :meth:`GLRenderer.build` turns every body (the unit pybullet moves) into
triangles once per layout and object set (:mod:`.gl_mesh`) and uploads them into one
static vertex buffer. A frame only writes the pose table (a small float texture: per
body its pose, whether it shows and whether it glows), draws one shadow pass and one
colour pass, and reads back colour, segmentation (an integer attachment) and depth
as the modes ask.

Requires ``moderngl`` (a core dependency) and the system's EGL and Mesa libraries
(Debian: ``apt-get install libegl1 libgl1-mesa-dri``; ``make setup`` installs them
when it can). Without them the renderer raises with that hint and ``renderer="auto"``
falls back to pybullet.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from proassist.scenarios.model import Layout, ObjectSpec, Step
from proassist.sim.body import BodyState
from proassist.sim.render.arms import (
    arms,
    hand_parts,
    hand_pose,
    upper_arm_parts,
    upper_arm_pose,
)
from proassist.sim.render.gl_mesh import ATTRIBUTES, VERTEX_FORMAT, body_vertices
from proassist.sim.render.gl_shaders import (
    FLAT_FRAGMENT,
    FRAGMENT,
    NOISE_SIZE,
    SHADOW_FRAGMENT,
    VERTEX,
    noise_volume,
)
from proassist.sim.render.indicators import COLORS, fault_targets, indicator_groups, owner_names
from proassist.sim.render.objects import DECORATIONS, decoration_parts, object_parts
from proassist.sim.render.shapes import (
    PALETTE,
    Part,
    Quat,
    Vec3,
    fixture_parts,
    floor_parts,
    room_bounds,
    wall_parts,
)
from proassist.sim.render.state import StateView

INSTALL_HINT = (
    "renderer='gl' needs moderngl (`pip install moderngl`) and the system's EGL and Mesa "
    "libraries (Debian/Ubuntu: `apt-get install -y libegl1 libgl1-mesa-dri`, or `make setup` "
    "as root); renderer='pybullet' works without them"
)
#: Direction toward the light (pybullet backend's ``lightDirection``).
LIGHT_DIR: Vec3 = (0.3, -0.5, 1.0)
#: Side of the square shadow map, in texels.
SHADOW_SIZE = 512
#: Colour of empty pixels (nothing drawn: outside the room).
BACKGROUND = (0.8, 0.8, 0.82, 1.0)
BASE_IDS: dict[str, int] = {"floor": 0, "walls": 1, "hand_left": 2, "hand_right": 3}
_FLAME_RGB = (COLORS["flame"][:3],)


def create_context() -> Any:
    """A standalone headless moderngl context on EGL.

    Raises:
        ImportError: moderngl is not installed (names what to install).
        RuntimeError: No EGL context could be created (names the system packages).
    """
    try:
        import moderngl
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    try:
        return moderngl.create_standalone_context(backend="egl")
    except Exception as exc:  # glcontext raises plain Exceptions
        raise RuntimeError(f"no EGL OpenGL context ({exc}); {INSTALL_HINT}") from exc


def look_at(eye: Sequence[float], target: Sequence[float], up: Sequence[float]) -> np.ndarray:
    """4x4 view matrix (``gluLookAt``, the one pybullet's ``computeViewMatrix`` builds)."""
    e, t = np.asarray(eye, dtype=np.float64), np.asarray(target, dtype=np.float64)
    f = t - e
    f /= np.linalg.norm(f) or 1.0
    s = np.cross(f, np.asarray(up, dtype=np.float64))
    s /= np.linalg.norm(s) or 1.0
    u = np.cross(s, f)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = s, u, -f
    m[:3, 3] = -m[:3, :3] @ e
    return m


def perspective(fov: float, width: int, height: int, near: float, far: float) -> np.ndarray:
    """4x4 projection (``gluPerspective``, vertical ``fov`` in degrees), y flipped.

    The flip makes row 0 of a read-back the top of the picture, as pybullet returns it.
    The picture is moved by half a pixel right and up: pybullet's TinyRenderer samples
    pixel corners where OpenGL samples pixel centres (measured: segmentation agreement
    97% without the shift, 99% with it).
    """
    fy = 1.0 / math.tan(math.radians(fov) / 2)
    m = np.zeros((4, 4))
    m[0, 0], m[1, 1] = fy * height / width, -fy
    m[0, 2], m[1, 2] = -1.0 / width, 1.0 / height
    m[2, 2], m[2, 3] = (far + near) / (near - far), 2 * far * near / (near - far)
    m[3, 2] = -1.0
    return m


def camera_up(head: Sequence[float], target: Sequence[float]) -> Vec3:
    """z up, or x up when looking straight up or down (as the pybullet backend)."""
    dx, dy = target[0] - head[0], target[1] - head[1]
    return (1.0, 0.0, 0.0) if dx * dx + dy * dy < 1e-10 else (0.0, 0.0, 1.0)


def _gl_mat(m: np.ndarray) -> bytes:
    return np.ascontiguousarray(m.T, dtype=np.float32).tobytes()


def _write_uniforms(program: Any, values: dict[str, Any]) -> None:
    """Set the uniforms of ``program`` it has (a compiler drops the unused ones)."""
    for name, value in values.items():
        member = program.get(name, None)
        if member is None:
            continue
        if isinstance(value, bytes):
            member.write(value)
        else:
            member.value = value


@dataclass
class _Body:
    """One posed unit: its parts, segmentation id and procedural material."""

    key: Any
    parts: Sequence[Part]
    seg: int
    material: str = "plain"
    static: bool = False


class GLRenderer:
    """Draws a layout, objects, their state and the hands with OpenGL (moderngl + EGL).

    Args:
        width: Image width in pixels.
        height: Image height in pixels.
        modes: Subset of ``("rgb", "depth", "segmentation")`` to return.
        fov: Vertical field of view in degrees.
        near: Near clipping plane (metres).
        far: Far clipping plane (metres); background depth reads ``far``.
        egl: Accepted for the renderer interface (this backend always uses EGL).
        shadows: Draw the soft shadow (one extra depth pass per frame).

    Raises:
        ImportError: moderngl is missing.
        RuntimeError: No EGL context (the system libraries are missing).
    """

    name = "gl"

    def __init__(
        self,
        width: int,
        height: int,
        modes: Sequence[str],
        fov: float,
        near: float,
        far: float,
        egl: bool = True,
        shadows: bool = True,
    ) -> None:
        self.ctx = create_context()
        self.width, self.height, self.near, self.far = width, height, near, far
        self.modes, self.shadows = tuple(modes), bool(shadows)
        self.projection = perspective(fov, width, height, near, far)
        shader = FRAGMENT if "rgb" in self.modes else FLAT_FRAGMENT
        self.program = self.ctx.program(vertex_shader=VERTEX, fragment_shader=shader)
        self.shadow_program = self.ctx.program(
            vertex_shader=VERTEX, fragment_shader=SHADOW_FRAGMENT
        )
        self._make_targets()
        self.segmentation_ids: dict[str, int] = {}
        self._vbo: Any = None
        self._poses: Any = None
        self._state = StateView(Layout("empty", ()), (), ())

    @property
    def info(self) -> str:
        """The OpenGL renderer string (``llvmpipe (LLVM ...)`` on a CPU)."""
        return str(self.ctx.info.get("GL_RENDERER", "unknown"))

    def _make_targets(self) -> None:
        ctx, size = self.ctx, (self.width, self.height)
        attachments = [ctx.renderbuffer(size, components=4)]
        if "segmentation" in self.modes:
            attachments.append(ctx.renderbuffer(size, components=1, dtype="i4"))
        self.fbo = ctx.framebuffer(attachments, ctx.depth_renderbuffer(size))
        self.shadow_tex = ctx.depth_texture((SHADOW_SIZE, SHADOW_SIZE))
        self.shadow_tex.compare_func = "<="
        linear = self._moderngl().LINEAR
        self.shadow_tex.filter = (linear, linear)
        self.shadow_tex.repeat_x = self.shadow_tex.repeat_y = False
        self.shadow_fbo = ctx.framebuffer(depth_attachment=self.shadow_tex)
        n = NOISE_SIZE
        self.noise_tex = ctx.texture3d((n, n, n), 1, noise_volume(n))
        self.noise_tex.filter = (linear, linear)

    # ------------------------------------------------------------------ building

    def build(
        self, layout: Layout, objects: Sequence[ObjectSpec], steps: Sequence[Step] = ()
    ) -> dict[str, int]:
        """Make the triangles of every body and upload them; return the segmentation ids."""
        with self.ctx:  # several renderers in one process: each draws in its own context
            return self._build(layout, objects, steps)

    def _build(
        self, layout: Layout, objects: Sequence[ObjectSpec], steps: Sequence[Step]
    ) -> dict[str, int]:
        bodies, ids = self._plan(layout, tuple(objects), tuple(steps))
        self._release_scene()
        self._index = {b.key: i for i, b in enumerate(bodies)}
        order = [1] + [i for i in range(len(bodies)) if i != 1]  # walls first: no shadow
        chunks = [
            body_vertices(bodies[i].parts, i, bodies[i].seg, bodies[i].material, _FLAME_RGB)
            for i in order
        ]
        self._n_walls = len(chunks[0])
        data = np.concatenate(chunks)
        self._n_vertices = len(data)
        self._vbo = self.ctx.buffer(np.ascontiguousarray(data, dtype=np.float32).tobytes())
        content = [(self._vbo, VERTEX_FORMAT, *ATTRIBUTES)]
        self.vao = self.ctx.vertex_array(self.program, content, skip_errors=True)
        shadow_content = [(self._vbo, "3f 24x 4f", "in_pos", "in_info")]  # no normal, colour
        self.shadow_vao = self.ctx.vertex_array(
            self.shadow_program, shadow_content, skip_errors=True
        )
        self._table = np.zeros((len(bodies), 4, 4), dtype=np.float32)
        self._table[:, 0:3, 0:3] = np.eye(3, dtype=np.float32)
        for i, b in enumerate(bodies):
            self._table[i, 3, 0] = 1.0 if b.static else 0.0
        self._poses = self.ctx.texture((4, len(bodies)), 4, dtype="f4")
        self._poses.filter = (self._moderngl().NEAREST, self._moderngl().NEAREST)
        self._light_vp = self._light_matrix(layout)
        glowing = [f.id for f in layout.fixtures] + [o.id for o in objects]
        self._state = StateView(layout, objects, glowing, steps)
        self._objects = [o.id for o in objects]
        self._groups = indicator_groups(fault_targets(steps, layout, objects), layout, objects)
        self.segmentation_ids = ids
        return dict(ids)

    @staticmethod
    def _moderngl() -> Any:
        import moderngl

        return moderngl

    def _plan(
        self, layout: Layout, objects: tuple[ObjectSpec, ...], steps: tuple[Step, ...]
    ) -> tuple[list[_Body], dict[str, int]]:
        """Every body in pybullet's order, with the same segmentation ids."""
        ids = dict(BASE_IDS)
        bodies = [
            _Body("floor", floor_parts(layout), 0, "tile", True),
            _Body("walls", wall_parts(layout), 1, "plaster", True),
        ]
        for fx in layout.fixtures:
            ids[fx.id] = len(ids)
            bodies.append(_Body(fx.id, fixture_parts(fx, layout), ids[fx.id], "wood", True))
        for obj in objects:
            if obj.id in ids:
                raise ValueError(f"object id {obj.id!r} clashes with a fixture or reserved id")
            ids[obj.id] = sid = len(ids)
            bodies.append(_Body(obj.id, object_parts(obj), sid))
            for name, parts in decoration_parts(obj).items():
                bodies.append(_Body((obj.id, name), parts, -1 if name == "steam" else sid))
        bodies += self._plan_indicators(layout, objects, steps, ids, bodies)
        for name in ("hand_left", "hand_right"):
            bodies.append(_Body((name, "hand"), hand_parts(), ids[name], "skin"))
            bodies.append(_Body((name, "upper"), upper_arm_parts(), ids[name], "skin"))
        return bodies, ids

    @staticmethod
    def _plan_indicators(
        layout: Layout,
        objects: tuple[ObjectSpec, ...],
        steps: tuple[Step, ...],
        ids: dict[str, int],
        bodies: list[_Body],
    ) -> list[_Body]:
        groups = indicator_groups(fault_targets(steps, layout, objects), layout, objects)
        for name in owner_names(groups):
            if name in ids:
                raise ValueError(f"indicator id {name!r} clashes with a fixture or object id")
            ids[name] = len(ids)
        out = [_Body(g.key, g.parts, ids[g.owner] if g.owner else -1) for g in groups]
        fills = {g.entity for g in groups if g.owner == f"{g.entity}_fill"}
        for b in bodies:
            if isinstance(b.key, tuple) and b.key[0] in fills and b.key[1] in ("liquid", "tea"):
                b.seg = ids[f"{b.key[0]}_fill"]
        return out

    def _light_matrix(self, layout: Layout) -> np.ndarray:
        """Orthographic view-projection of the sun over the whole room."""
        x0, x1, y0, y1 = room_bounds(layout)
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2, 1.0])
        r = math.sqrt(((x1 - x0) / 2) ** 2 + ((y1 - y0) / 2) ** 2 + 1.3**2)
        d = np.asarray(LIGHT_DIR) / np.linalg.norm(LIGHT_DIR)
        view = look_at(centre + d * (r + 1.0), centre, (0.0, 0.0, 1.0))
        depth = 2 * r + 2.0
        proj = np.diag([1 / r, 1 / r, -2 / depth, 1.0])
        proj[2, 3] = -1.0  # maps the near plane at 0 to -1, the far at ``depth`` to +1
        return proj @ view

    # ----------------------------------------------------------------- rendering

    def render(self, body: BodyState, predicates: Iterable[str]) -> dict[str, np.ndarray]:
        """Pose everything for ``body`` and ``predicates`` and take one picture."""
        if self._vbo is None:
            raise RuntimeError("GLRenderer.render called before build")
        self._state.update(predicates)
        self._place_objects(body)
        self._place_indicators(body)
        self._place_hands(body)
        self._set_lit(self._state.lit)
        with self.ctx:  # make this renderer's context current (several may exist)
            self._poses.write(self._table.tobytes())
            self._draw(body)
            return self._frames()

    def _set(self, key: Any, pos: Vec3 | None, quat: Quat = (0.0, 0.0, 0.0, 1.0)) -> None:
        """Pose body ``key`` at ``pos``/``quat``, or hide it (``pos is None``)."""
        row = self._table[self._index[key]]
        if pos is None:
            row[3, 0] = 0.0
            return
        from proassist.sim.render.gl_mesh import quat_matrix

        row[0:3, 0:3] = quat_matrix(quat)
        row[0:3, 3] = pos
        row[3, 0] = 1.0

    def _set_lit(self, lit: frozenset[str]) -> None:
        for key, i in self._index.items():
            if isinstance(key, str):
                self._table[i, 3, 1] = 1.0 if key in lit else 0.0

    def _place_objects(self, body: BodyState) -> None:
        for oid in self._objects:
            pos, quat = self._state.object_transform(oid, body)
            shown = self._state.shown[oid]
            self._set(oid, None if "pieces" in shown else pos, quat)
            for name in DECORATIONS:
                self._set((oid, name), pos if name in shown else None, quat)

    def _place_indicators(self, body: BodyState) -> None:
        on = self._state.indicators.on
        for g in self._groups:
            if g.key in on or g.look == "knob":
                self._set(g.key, *self._state.group_pose(g, body))
            else:
                self._set(g.key, None)

    def _place_hands(self, body: BodyState) -> None:
        hands = tuple((float(h[0]), float(h[1]), float(h[2])) for h in body.hands)
        joints = arms(body.head, body.look_at, hands)  # type: ignore[arg-type]
        sides = ("hand_left", "hand_right")
        for side, (shoulder, elbow), hand in zip(sides, joints, hands, strict=True):
            self._set((side, "hand"), *hand_pose(elbow, hand))
            self._set((side, "upper"), *upper_arm_pose(shoulder, elbow))

    def _draw(self, body: BodyState) -> None:
        mgl = self._moderngl()
        self.ctx.enable(mgl.DEPTH_TEST)
        self._poses.use(location=0)
        if self.shadows and "rgb" in self.modes:
            self.shadow_fbo.use()
            self.shadow_fbo.clear(depth=1.0)
            _write_uniforms(self.shadow_program, {"view_proj": _gl_mat(self._light_vp), "poses": 0})
            self.shadow_vao.render(vertices=self._n_vertices - self._n_walls, first=self._n_walls)
        view = look_at(body.head, body.look_at, camera_up(body.head, body.look_at))
        self._set_uniforms(self.projection @ view, body.head)
        self.fbo.use()
        self.fbo.clear(*BACKGROUND, depth=1.0)
        self.vao.render()

    def _set_uniforms(self, view_proj: np.ndarray, eye: Sequence[float]) -> None:
        values: dict[str, Any] = {"view_proj": _gl_mat(view_proj), "poses": 0}
        if "rgb" in self.modes:
            self.shadow_tex.use(location=1)
            self.noise_tex.use(location=2)
            d = np.asarray(LIGHT_DIR) / np.linalg.norm(LIGHT_DIR)
            values.update(
                shadow_map=1,
                noise_tex=2,
                light_vp=_gl_mat(self._light_vp),
                use_shadow=int(self.shadows),
                shadow_texel=1.0 / SHADOW_SIZE,
                light_dir=tuple(float(v) for v in d),
                eye=tuple(float(v) for v in eye),
                glow_color=tuple(PALETTE["glow"][:3]),
            )
        _write_uniforms(self.program, values)

    def _frames(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        h, w = self.height, self.width
        if "rgb" in self.modes:
            buf = bytearray(h * w * 4)  # RGBA: Mesa's fast path (RGB reads get packed slowly)
            self.fbo.read_into(buf, components=4, attachment=0, alignment=1)
            out["rgb"] = np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 4)[:, :, :3].copy()
        if "depth" in self.modes:
            buf = bytearray(h * w * 4)
            self.fbo.read_into(buf, components=1, attachment=-1, dtype="f4", alignment=1)
            zb = np.frombuffer(buf, dtype=np.float32).reshape(h, w)
            n, f = self.near, self.far
            out["depth"] = (f * n / (f - (f - n) * zb)).astype(np.float32, copy=False)
        if "segmentation" in self.modes:
            buf = bytearray(h * w * 4)
            self.fbo.read_into(buf, components=1, attachment=1, dtype="i4", alignment=1)
            seg = np.frombuffer(buf, dtype=np.int32).reshape(h, w)
            seg -= 1
            out["segmentation"] = seg
        return out

    def _release_scene(self) -> None:
        for name in ("vao", "shadow_vao"):
            obj = self.__dict__.pop(name, None)
            if obj is not None:
                obj.release()
        for obj in (self._vbo, self._poses):
            if obj is not None:
                obj.release()
        self._vbo = self._poses = None

    def close(self) -> None:
        """Release every GL object and the context (idempotent)."""
        ctx = self.__dict__.pop("ctx", None)
        if ctx is None:
            return
        with ctx:
            self._release_scene()
        ctx.release()
