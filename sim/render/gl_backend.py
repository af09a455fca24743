"""The OpenGL backend of :class:`proassist.sim.render.scene.Scene` (``renderer="gl"``).

Built on moderngl with a headless EGL context: Mesa's llvmpipe on a CPU-only machine,
the GPU's driver where there is one (which GPU: :mod:`.gl_context`). It draws the same
scene description as the pybullet backend (the same parts of :mod:`.shapes`,
:mod:`.objects`, :mod:`.arms` and :mod:`.indicators`, the same
:class:`~proassist.sim.render.state.StateView`, camera, segmentation ids and depth in
metres), so the two agree on segmentation and depth
(tested) and differ in looks: per-pixel lighting with a soft shadow and procedural
textures here (see :mod:`.gl_shaders`).

How it is fast (on llvmpipe every vertex handed to a draw is shaded, and on two CPU
cores that, not the pixels, dominates a 128 px frame): :meth:`GLRenderer.build` turns
every body (the unit pybullet moves) into indexed triangles once per layout and object
set (:mod:`.gl_mesh`: shared vertices, so a smooth mesh shades a third of its corners)
in one static vertex buffer, and draws the fixtures into a static shadow map. A frame
writes the pose table (a small float texture: per body its pose, whether it shows and
whether it glows), redraws the moving bodies' shadow map only when one of them moved,
draws the colour pass over only the bodies that show and touch the view frustum, nearest
first, with back faces culled (:mod:`.gl_draw`), and reads back colour, segmentation (an
integer target) and depth as the modes ask: on a GPU in one read-back (:mod:`.gl_pack`).
Frames of at most 160 px take one shadow-map tap instead of four
(:func:`~.gl_shaders.fragment_shader`).

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
from proassist.sim.render.gl_context import create_context
from proassist.sim.render.gl_draw import DrawList, bounding_sphere, texel_rect
from proassist.sim.render.gl_mesh import ATTRIBUTES, VERTEX_FORMAT, body_vertices, indexed
from proassist.sim.render.gl_pack import FrameTargets, packs
from proassist.sim.render.gl_shaders import (
    FLAT_FRAGMENT,
    NOISE_SIZE,
    SHADOW_FRAGMENT,
    VERTEX,
    fragment_shader,
    noise_plane,
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

#: Direction toward the light (pybullet backend's ``lightDirection``).
LIGHT_DIR: Vec3 = (0.3, -0.5, 1.0)
#: Side of the square shadow map, in texels.
SHADOW_SIZE = 512
#: Frames larger than this (pixels, either side) get the four-tap filtered shadow edge;
#: smaller ones one unfiltered tap.
SOFT_SHADOW_ABOVE = 160
#: Colour of empty pixels (nothing drawn: outside the room).
BACKGROUND = (0.8, 0.8, 0.82, 1.0)
BASE_IDS: dict[str, int] = {"floor": 0, "walls": 1, "hand_left": 2, "hand_right": 3}
HANDS = ("hand_left", "hand_right")
_FLAME_RGB = (COLORS["flame"][:3],)


def _unit(v: Sequence[float]) -> Vec3:
    n = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) or 1.0
    return (v[0] / n, v[1] / n, v[2] / n)


def _cross(a: Sequence[float], b: Sequence[float]) -> Vec3:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def look_at(eye: Sequence[float], target: Sequence[float], up: Sequence[float]) -> np.ndarray:
    """4x4 view matrix (``gluLookAt``, the one pybullet's ``computeViewMatrix`` builds)."""
    e = (float(eye[0]), float(eye[1]), float(eye[2]))
    f = _unit((float(target[0]) - e[0], float(target[1]) - e[1], float(target[2]) - e[2]))
    s = _unit(_cross(f, up))
    u = _cross(s, f)
    m = np.array([[*s, 0.0], [*u, 0.0], [-f[0], -f[1], -f[2], 0.0], [0.0, 0.0, 0.0, 1.0]])
    m[:3, 3] = -m[:3, :3] @ np.asarray(e)
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


def _buffer_order(bodies: Sequence[_Body]) -> list[int]:
    """Body indices in vertex-buffer order (see :mod:`.gl_draw`).

    Hands and arms first (nearest the camera), the other moving bodies, the fixtures,
    the floor (index 0) and the walls (index 1) last.
    """
    hands = [i for i, b in enumerate(bodies) if isinstance(b.key, tuple) and b.key[0] in HANDS]
    moving = [i for i, b in enumerate(bodies) if not b.static and i not in hands]
    fixtures = [i for i, b in enumerate(bodies) if b.static and i > 1]
    return hands + moving + fixtures + [0, 1]


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
        pack: Read rgb, depth and segmentation back in one go (:mod:`.gl_pack`); None
            (default): ``PROASSIST_GL_PACK`` (0 or 1) if set, else on a GPU, for two
            or more frame kinds, not on a CPU rasteriser such as llvmpipe
            (:func:`~.gl_pack.packs`).

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
        pack: bool | None = None,
    ) -> None:
        self.ctx = create_context()
        #: Read at once: moderngl's ``ctx.info`` read after drawing can come back empty.
        self._info = str(self.ctx.info.get("GL_RENDERER", "unknown"))
        self.width, self.height, self.near, self.far = width, height, near, far
        self.modes, self.shadows, self.pack = tuple(modes), bool(shadows), pack
        self.projection = perspective(fov, width, height, near, far)
        self.soft = max(width, height) > SOFT_SHADOW_ABOVE
        shader = fragment_shader(self.soft) if "rgb" in self.modes else FLAT_FRAGMENT
        self.program = self.ctx.program(vertex_shader=VERTEX, fragment_shader=shader)
        self.shadow_program = self.ctx.program(
            vertex_shader=VERTEX, fragment_shader=SHADOW_FRAGMENT
        )
        try:
            self._make_targets()
        except Exception:  # e.g. a bad PROASSIST_GL_PACK: do not leak the context
            self.ctx.release()
            raise
        self.segmentation_ids: dict[str, int] = {}
        self._vbo: Any = None
        self._poses: Any = None
        self._state = StateView(Layout("empty", ()), (), ())

    @property
    def info(self) -> str:
        """The OpenGL renderer string (``llvmpipe (LLVM ...)`` on a CPU)."""
        return self._info

    def _make_targets(self) -> None:
        ctx, size = self.ctx, (self.width, self.height)
        #: The colour pass's targets; read back in one go on a GPU (:mod:`.gl_pack`).
        pack = packs(self.pack, self.info, self.modes)
        self.targets = FrameTargets(ctx, size, "segmentation" in self.modes, pack)
        self.fbo, self.ids_fbo = self.targets.fbo, self.targets.ids_fbo
        self.shadow_tex, self.shadow_fbo = self._shadow_target()
        self.static_shadow_tex, self.static_shadow_fbo = self._shadow_target()
        linear = self._moderngl().LINEAR
        n = NOISE_SIZE
        self.noise_tex = ctx.texture((n, n), 1, noise_plane(n))
        self.noise_tex.filter = (linear, linear)

    def _shadow_target(self) -> tuple[Any, Any]:
        """A shadow map (a depth texture read with comparison) and its framebuffer.

        Filtered (a bilinear percentage-closer tap) in frames above
        :data:`SOFT_SHADOW_ABOVE` px; nearest below, where a shadow-map texel is about a
        pixel and a filtered tap costs a third of the colour pass's pixel time on llvmpipe.
        """
        tex = self.ctx.depth_texture((SHADOW_SIZE, SHADOW_SIZE))
        tex.compare_func = "<="
        mgl = self._moderngl()
        tex.filter = (mgl.LINEAR, mgl.LINEAR) if self.soft else (mgl.NEAREST, mgl.NEAREST)
        tex.repeat_x = tex.repeat_y = False
        return tex, self.ctx.framebuffer(depth_attachment=tex)

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
        self._upload(bodies)
        self._table = np.zeros((len(bodies), 4, 4), dtype=np.float32)
        self._table[:, 0:3, 0:3] = np.eye(3, dtype=np.float32)
        for i, b in enumerate(bodies):
            self._table[i, 3, 0] = 1.0 if b.static else 0.0
        self._poses = self.ctx.texture((4, len(bodies)), 4, dtype="f4")
        self._poses.filter = (self._moderngl().NEAREST, self._moderngl().NEAREST)
        self._light_vp = self._light_matrix(layout)
        self._static_uniforms()
        self._draw_static_shadow()
        glowing = [f.id for f in layout.fixtures] + [o.id for o in objects]
        self._state = StateView(layout, objects, glowing, steps)
        self._objects = [o.id for o in objects]
        self._groups = indicator_groups(fault_targets(steps, layout, objects), layout, objects)
        self.segmentation_ids = ids
        return dict(ids)

    def _upload(self, bodies: Sequence[_Body]) -> None:
        """Vertex and index buffers, their vertex arrays and the draw list of ``bodies``."""
        order = _buffer_order(bodies)
        vertices, indices, counts, spheres = self._geometry(bodies, order)
        self._vbo = self.ctx.buffer(vertices.tobytes())
        self._ibo = self.ctx.buffer(indices.tobytes())
        casts = [i > 1 for i in order]  # floor (0) and walls (1) cast nothing
        self._draws = DrawList(order, counts, spheres, casts)
        self._moving = np.array([i for i in order if not bodies[i].static], dtype=np.int64)
        self._shadow_key: bytes | None = None
        content = [(self._vbo, VERTEX_FORMAT, *ATTRIBUTES)]
        ibo = {"index_buffer": self._ibo, "index_element_size": 4, "skip_errors": True}
        self.vao = self.ctx.vertex_array(self.program, content, **ibo)
        shadow_content = [(self._vbo, "3f 24x 4f", "in_pos", "in_info")]  # no normal, colour
        self.shadow_vao = self.ctx.vertex_array(self.shadow_program, shadow_content, **ibo)

    @staticmethod
    def _geometry(
        bodies: Sequence[_Body], order: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray, list[int], list]:
        """Shared vertices, indices, per-body index counts and bounding spheres."""
        verts, idx, counts, spheres, base = [], [], [], [], 0
        for i in order:
            b = bodies[i]
            v, ix = indexed(body_vertices(b.parts, i, b.seg, b.material, _FLAME_RGB))
            verts.append(v)
            idx.append(ix + base)
            counts.append(len(ix))
            spheres.append(bounding_sphere(v[:, 0:3].astype(np.float64)))
            base += len(v)
        vertices = np.ascontiguousarray(np.concatenate(verts), dtype=np.float32)
        return vertices, np.concatenate(idx).astype(np.uint32), counts, spheres

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
        on = self._state.groups_on(body)
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
        mgl, draws = self._moderngl(), self._draws
        self.ctx.enable(mgl.DEPTH_TEST | mgl.CULL_FACE)
        self._poses.use(location=0)
        shown = draws.shown(self._table)
        if self.shadows and "rgb" in self.modes:
            self._draw_shadow(shown & draws.casts)
        view = look_at(body.head, body.look_at, camera_up(body.head, body.look_at))
        view_proj = self.projection @ view
        self._set_uniforms(view_proj, body.head)
        self.ctx.front_face = "cw"  # the projection flips y, so front faces turn clockwise
        self.fbo.clear(*BACKGROUND, depth=1.0)
        if self.ids_fbo is not None:
            self.ids_fbo.clear(0.0, 0.0, 0.0, 0.0)  # id 0 = background (-1 when read)
        self.fbo.use()
        draws.draw(self.vao, draws.runs(shown & draws.in_view(self._table, view_proj)))

    def _draw_static_shadow(self) -> None:
        """Draw the fixtures into the static shadow map (once per build)."""
        self._shadow_key = None
        if not (self.shadows and "rgb" in self.modes):
            return
        self._poses.write(self._table.tobytes())
        self._poses.use(location=0)
        static = np.zeros(len(self._draws.rows), dtype=bool)
        static[len(self._moving) :] = True
        self._shadow_pass(self.static_shadow_fbo, static & self._draws.casts)

    def _draw_shadow(self, casters: np.ndarray) -> None:
        """Redraw the moving bodies' shadow map, unless none moved or changed since."""
        key = self._table[self._moving].tobytes()
        if key == self._shadow_key:
            return
        self._shadow_key = key
        moving = np.zeros(len(casters), dtype=bool)
        moving[: len(self._moving)] = True
        casters = casters & moving
        margin = 4.0 / SHADOW_SIZE + 0.02 * 0.5 * float(np.linalg.norm(self._light_vp[0, :3]))
        box = self._draws.light_box(self._table, self._light_vp, casters, margin)
        _write_uniforms(self.program, {"moving_box": box})
        self._shadow_pass(self.shadow_fbo, casters, texel_rect(box, SHADOW_SIZE))

    def _shadow_pass(
        self, fbo: Any, casters: np.ndarray, rect: tuple[int, int, int, int] | None = None
    ) -> None:
        """Clear ``fbo`` and draw ``casters`` into it, within ``rect`` (texels) if given.

        The moving bodies' map is read only inside their box (``moving_box``), so only
        that part of it is cleared and drawn: what lies outside is stale and never read.
        """
        mgl = self._moderngl()
        self.ctx.enable(mgl.DEPTH_TEST | mgl.CULL_FACE)
        self.ctx.front_face = "ccw"
        fbo.scissor = rect
        fbo.use()
        fbo.clear(depth=1.0, viewport=rect)
        if rect is None or (rect[2] > 0 and rect[3] > 0):
            self._draws.draw(self.shadow_vao, self._draws.runs(casters))
        fbo.scissor = None
        fbo.use()  # leaves the scissor test off for the colour pass

    def _set_uniforms(self, view_proj: np.ndarray, eye: Sequence[float]) -> None:
        """The per-frame uniforms (the others are set once by :meth:`_static_uniforms`)."""
        values: dict[str, Any] = {"view_proj": _gl_mat(view_proj)}
        if "rgb" in self.modes:
            self.shadow_tex.use(location=1)
            self.noise_tex.use(location=2)
            self.static_shadow_tex.use(location=3)
            values["eye"] = (float(eye[0]), float(eye[1]), float(eye[2]))
        _write_uniforms(self.program, values)

    def _static_uniforms(self) -> None:
        """The uniforms that stay for a scene: texture units, the sun, the glow colour."""
        _write_uniforms(self.shadow_program, {"view_proj": _gl_mat(self._light_vp), "poses": 0})
        _write_uniforms(
            self.program,
            {
                "poses": 0,
                "shadow_map": 1,
                "noise_tex": 2,
                "static_shadow_map": 3,
                "light_vp": _gl_mat(self._light_vp),
                "use_shadow": int(self.shadows),
                "shadow_texel": 1.0 / SHADOW_SIZE,
                "light_dir": _unit(LIGHT_DIR),
                "glow_color": tuple(PALETTE["glow"][:3]),
            },
        )

    def _frames(self) -> dict[str, np.ndarray]:
        """Read the frames back (:class:`~.gl_pack.FrameTargets`); each array is new.

        Depth is linearised in place in its output array: the formula's temporaries cost
        page faults once frames pass ~128 KB (at 512 px the conversion took 1.85 ms,
        0.10 ms this way, bit-identical).
        """
        out: dict[str, np.ndarray] = {}
        got = self.targets.read(self.modes)
        if "rgb" in self.modes:
            out["rgb"] = got["rgba"][:, :, :3].copy()
        if "depth" in self.modes:
            depth = np.multiply(got["z"], self.far - self.near)
            np.subtract(self.far, depth, out=depth)  # f * n / (f - (f - n) * zb)
            out["depth"] = np.divide(self.far * self.near, depth, out=depth)
        if "segmentation" in self.modes:
            out["segmentation"] = got["ids"] - 1
        return out

    def _release_scene(self) -> None:
        for name in ("vao", "shadow_vao"):
            obj = self.__dict__.pop(name, None)
            if obj is not None:
                obj.release()
        for obj in (self._vbo, self.__dict__.get("_ibo"), self._poses):
            if obj is not None:
                obj.release()
        self._vbo = self._ibo = self._poses = None

    def close(self) -> None:
        """Release every GL object and the context (idempotent)."""
        ctx = self.__dict__.pop("ctx", None)
        if ctx is None:
            return
        with ctx:
            self._release_scene()
            self.targets.release()
        ctx.release()
