"""The pybullet backend of :class:`proassist.sim.render.scene.Scene`.

One private ``DIRECT`` physics client per renderer (never the global default one), so
several scenes coexist in one process. Bodies are created once in :meth:`build`; a
frame only moves them (``resetBasePositionAndOrientation``) and recolours glow parts
(``changeVisualShape``) when the predicates change. Hidden decorations are parked far
below the floor, outside the view frustum.

Segmentation: pybullet's mask holds body unique ids; a lookup table maps every body to
its entity's id in :attr:`PybulletRenderer.segmentation_ids`. Decorations (liquid,
pieces, lid, glow light) belong to their object; steam puffs are drawn but read ``-1``
(they are vapour, not the object). Forearms and upper arms belong to their hand.
Capsules are drawn as a cylinder and two spheres (:func:`capsule_pieces`: pybullet's own
capsule is too coarse to agree with the ``gl`` backend near the camera).
Fault indicators (:mod:`proassist.sim.render.indicators`) are bodies too, built once and
shown, hidden, moved or turned per frame; their ids (``<entity>_fill``, ``_knob``,
``_flame``) come after the objects', and an amount target's liquid reads ``<object>_fill``.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from proassist.scenarios.model import Fixture, Layout, ObjectSpec, Step
from proassist.sim.body import BodyState, quat_rotate
from proassist.sim.render.arms import (
    arms,
    hand_parts,
    hand_pose,
    upper_arm_parts,
    upper_arm_pose,
)
from proassist.sim.render.gl_context import note_gpu_context
from proassist.sim.render.indicators import (
    Group,
    fault_targets,
    indicator_groups,
    owner_names,
)
from proassist.sim.render.objects import DECORATIONS, decoration_parts, object_parts
from proassist.sim.render.shapes import (
    IDENTITY,
    PALETTE,
    Part,
    Vec3,
    fixture_parts,
    floor_parts,
    wall_parts,
)
from proassist.sim.render.state import PARK, StateView

#: Fixed lighting of every frame (pybullet ``getCameraImage`` keyword arguments).
LIGHT: dict[str, Any] = {
    "lightDirection": (0.3, -0.5, 1.0),
    "lightColor": (1.0, 1.0, 1.0),
    "lightDistance": 4.0,
    "lightAmbientCoeff": 0.62,
    "lightDiffuseCoeff": 0.42,
    "lightSpecularCoeff": 0.03,
    "shadow": 0,
}
#: Entities that exist in every scene, with their segmentation ids.
BASE_IDS: dict[str, int] = {"floor": 0, "walls": 1, "hand_left": 2, "hand_right": 3}


def capsule_pieces(part: Part) -> list[Part]:
    """``part``, or a capsule as a cylinder and two spheres.

    pybullet draws ``GEOM_CAPSULE`` as the convex hull of a few dozen support points
    (pointed caps, flat sides): near the camera (a hand, a forearm, a lying capsule
    object) it disagrees with the smooth capsule of the ``gl`` backend by pixels, where
    its cylinders and spheres agree.
    """
    if part.shape != "capsule":
        return [part]
    r, half = part.size[0], max(0.0, part.size[1] - part.size[0])
    axis = quat_rotate(part.quat, (0.0, 0.0, half))
    ends = [tuple(c + k * a for c, a in zip(part.pos, axis, strict=True)) for k in (1.0, -1.0)]
    body = Part("cylinder", (r, half, 0.0), part.pos, part.rgba, part.quat, part.tag)
    caps = [Part("sphere", (r, 0.0, 0.0), end, part.rgba, part.quat, part.tag) for end in ends]
    return [body, *caps] if half > 0 else caps[:1]


def _egl_plugin_path() -> str | None:
    spec = importlib.util.find_spec("eglRenderer")
    return spec.origin if spec is not None else None


class PybulletRenderer:
    """Draws a layout, objects, their state and the hands with pybullet.

    Args:
        width: Image width in pixels.
        height: Image height in pixels.
        modes: Subset of ``("rgb", "depth", "segmentation")`` to return.
        fov: Vertical field of view in degrees.
        near: Near clipping plane (metres).
        far: Far clipping plane (metres); background depth reads ``far``.
        egl: Try the EGL hardware renderer plugin (falls back to TinyRenderer).
    """

    name = "pybullet"

    def __init__(
        self,
        width: int,
        height: int,
        modes: Sequence[str],
        fov: float,
        near: float,
        far: float,
        egl: bool = False,
    ) -> None:
        import pybullet as p

        self._p = p
        self.client = p.connect(p.DIRECT)
        self.width, self.height, self.near, self.far = width, height, near, far
        self.modes = tuple(modes)
        self.renderer_flag = p.ER_TINY_RENDERER
        self.egl = bool(egl) and self._load_egl()
        self.projection = p.computeProjectionMatrixFOV(fov, width / height, near, far)
        flags = 0 if "segmentation" in self.modes else p.ER_NO_SEGMENTATION_MASK
        self.camera_kwargs: dict[str, Any] = dict(
            width=width,
            height=height,
            projectionMatrix=self.projection,
            renderer=self.renderer_flag,
            flags=flags,
            physicsClientId=self.client,
            **LIGHT,
        )
        self.segmentation_ids: dict[str, int] = {}
        self._clear_state()

    def _load_egl(self) -> bool:
        path = _egl_plugin_path()
        p = self._p
        plugin = -1
        if path is not None:
            plugin = p.loadPlugin(path, "_eglRendererPlugin", physicsClientId=self.client)
        if plugin < 0:
            warnings.warn(
                "pybullet EGL renderer plugin could not be loaded (no eglRenderer module or no "
                "EGL device); falling back to the CPU TinyRenderer",
                RuntimeWarning,
                stacklevel=3,
            )
            return False
        self.renderer_flag = p.ER_BULLET_HARDWARE_OPENGL
        # its driver is not reported and may be a GPU's: vector envs spawn, not fork
        note_gpu_context("pybullet eglRenderer plugin (driver not reported)")
        return True

    def _clear_state(self) -> None:
        self._obj_body: dict[str, int] = {}
        self._deco_body: dict[tuple[str, str], int] = {}
        self._glow_links: dict[str, list[tuple[int, int, tuple]]] = {}
        self._hands: list[tuple[int, int]] = []
        self._groups: list[tuple[Group, int]] = []
        self._lut = np.full(1, -1, dtype=np.int32)
        self._pose_cache: dict[Any, Any] = {}
        self._visible: dict[Any, bool] = {}
        self._colors: dict[int, list[tuple]] = {}
        self._state = StateView(Layout("empty", ()), (), ())

    # ------------------------------------------------------------------ building

    def _create(self, parts: Sequence[Part], pos: Vec3 = PARK, hidden: bool = False) -> int:
        """One multibody: an empty base at ``pos`` and one fixed link per part (a capsule:
        three, see :func:`capsule_pieces`)."""
        p, c = self._p, self.client
        parts = [piece for part in parts for piece in capsule_pieces(part)]
        vis = [self._visual(part, hidden) for part in parts]
        n = len(parts)
        uid = p.createMultiBody(
            0,
            -1,
            -1,
            basePosition=pos,
            linkMasses=[0] * n,
            linkCollisionShapeIndices=[-1] * n,
            linkVisualShapeIndices=vis,
            linkPositions=[pt.pos for pt in parts],
            linkOrientations=[pt.quat for pt in parts],
            linkInertialFramePositions=[(0, 0, 0)] * n,
            linkInertialFrameOrientations=[IDENTITY] * n,
            linkParentIndices=[0] * n,
            linkJointTypes=[p.JOINT_FIXED] * n,
            linkJointAxis=[(0, 0, 1)] * n,
            physicsClientId=c,
        )
        self._colors[uid] = [pt.rgba for pt in parts]
        return uid

    def _visual(self, part: Part, hidden: bool) -> int:
        p, s = self._p, part.size
        rgba = (*part.rgba[:3], 0.0) if hidden else part.rgba
        kw: dict[str, Any] = {"rgbaColor": rgba, "physicsClientId": self.client}
        if part.shape == "box":
            return p.createVisualShape(p.GEOM_BOX, halfExtents=s, **kw)
        if part.shape == "sphere":
            return p.createVisualShape(p.GEOM_SPHERE, radius=s[0], **kw)
        if part.shape == "cylinder":
            return p.createVisualShape(p.GEOM_CYLINDER, radius=s[0], length=2 * s[1], **kw)
        raise ValueError(f"no pybullet visual for a {part.shape!r} part")

    def build(
        self, layout: Layout, objects: Sequence[ObjectSpec], steps: Sequence[Step] = ()
    ) -> dict[str, int]:
        """Rebuild every body for ``layout``, ``objects`` and the fault indicators of ``steps``.

        Returns:
            The segmentation ids, by entity name.
        """
        self._p.resetSimulation(physicsClientId=self.client)
        self._clear_state()
        ids = dict(BASE_IDS)
        owner: dict[int, int] = {}
        owner[self._create(floor_parts(layout), (0, 0, 0))] = ids["floor"]
        owner[self._create(wall_parts(layout), (0, 0, 0))] = ids["walls"]
        for fx in layout.fixtures:
            ids[fx.id] = len(ids)
            owner[self._build_fixture(fx, layout)] = ids[fx.id]
        for obj in objects:
            owner.update(self._build_object(obj, layout, ids))
        owner.update(self._build_indicators(layout, objects, steps, ids))
        for name in ("hand_left", "hand_right"):
            uid, upper = self._create(hand_parts()), self._create(upper_arm_parts())
            self._hands.append((uid, upper))
            owner[uid] = owner[upper] = ids[name]
        self._lut = np.full(max(owner) + 2, -1, dtype=np.int32)
        for uid, sid in owner.items():
            self._lut[uid + 1] = sid
        self._state = StateView(layout, objects, self._glow_links, steps)
        self.segmentation_ids = ids
        return ids

    def _build_fixture(self, fx: Fixture, layout: Layout) -> int:
        """The body of fixture ``fx``; its glowing links are noted."""
        parts = [piece for part in fixture_parts(fx, layout) for piece in capsule_pieces(part)]
        uid = self._create(parts, (0, 0, 0))
        self._glow_links[fx.id] = [
            (uid, i, pt.rgba) for i, pt in enumerate(parts) if pt.tag == "glow"
        ]
        return uid

    def _build_object(self, obj: ObjectSpec, layout: Layout, ids: dict[str, int]) -> dict[int, int]:
        if obj.id in ids:
            raise ValueError(f"object id {obj.id!r} clashes with a fixture or reserved id")
        ids[obj.id] = sid = len(ids)
        uid = self._create(object_parts(obj))
        self._obj_body[obj.id] = uid
        owner = {uid: sid}
        for name, parts in decoration_parts(obj).items():
            duid = self._create(parts, hidden=True)
            self._deco_body[(obj.id, name)] = duid
            self._visible[(obj.id, name)] = False
            owner[duid] = -1 if name == "steam" else sid
        self._glow_links[obj.id] = []
        return owner

    def _build_indicators(
        self,
        layout: Layout,
        objects: Sequence[ObjectSpec],
        steps: Sequence[Step],
        ids: dict[str, int],
    ) -> dict[int, int]:
        """Bodies of the fault indicators (hidden); an amount target's liquid gets its id."""
        groups = indicator_groups(fault_targets(steps, layout, objects), layout, objects)
        for name in owner_names(groups):
            if name in ids:
                raise ValueError(f"indicator id {name!r} clashes with a fixture or object id")
            ids[name] = len(ids)
        owner: dict[int, int] = {}
        for g in groups:
            uid = self._create(g.parts, hidden=True)
            self._visible[g.key] = False
            self._groups.append((g, uid))
            owner[uid] = ids[g.owner] if g.owner else -1
        for oid in {g.entity for g in groups if g.owner == f"{g.entity}_fill"}:
            for name in ("liquid", "tea"):
                owner[self._deco_body[(oid, name)]] = ids[f"{oid}_fill"]
        return owner

    # ----------------------------------------------------------------- rendering

    def view_matrix(self, body: BodyState) -> tuple[float, ...]:
        """The camera's view matrix: eye at ``body.head`` looking at ``body.look_at``, z up."""
        h, t = body.head, body.look_at
        dx, dy = t[0] - h[0], t[1] - h[1]
        up = (0.0, 0.0, 1.0)
        if dx * dx + dy * dy < 1e-10:
            up = (1.0, 0.0, 0.0)
        return self._p.computeViewMatrix(h, t, up, physicsClientId=self.client)

    def render(self, body: BodyState, predicates: Iterable[str]) -> dict[str, np.ndarray]:
        """Pose everything for ``body`` and ``predicates`` and take one picture."""
        if self._state.update(predicates):
            self._set_glow(self._state.lit)
        self._place_objects(body)
        self._place_indicators(body)
        self._place_hands(body)
        img = self._p.getCameraImage(viewMatrix=self.view_matrix(body), **self.camera_kwargs)
        return self._frames(img)

    def _frames(self, img: tuple) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        h, w = self.height, self.width
        if "rgb" in self.modes:
            out["rgb"] = np.ascontiguousarray(np.reshape(img[2], (h, w, 4))[:, :, :3])
        if "depth" in self.modes:
            zb = np.reshape(img[3], (h, w)).astype(np.float32, copy=False)
            n, f = self.near, self.far
            out["depth"] = (f * n / (f - (f - n) * zb)).astype(np.float32, copy=False)
        if "segmentation" in self.modes:
            seg = np.reshape(img[4], (h, w))
            out["segmentation"] = self._lut[seg + 1]
        return out

    def _move(self, key: Any, uid: int, pos: Vec3, quat: tuple = IDENTITY) -> None:
        if self._pose_cache.get(key) != (pos, quat):
            self._pose_cache[key] = (pos, quat)
            self._p.resetBasePositionAndOrientation(uid, pos, quat, physicsClientId=self.client)

    def _set_glow(self, lit: frozenset[str]) -> None:
        for eid, links in self._glow_links.items():
            on = eid in lit
            if self._pose_cache.get(("glow", eid)) == on:
                continue
            self._pose_cache[("glow", eid)] = on
            for uid, link, rgba in links:
                color = PALETTE["glow"] if on else rgba
                self._p.changeVisualShape(uid, link, rgbaColor=color, physicsClientId=self.client)

    def _place_objects(self, body: BodyState) -> None:
        for oid, uid in self._obj_body.items():
            pose = self._state.object_transform(oid, body)
            shown = self._state.shown[oid]
            whole = "pieces" not in shown
            self._show(oid, uid, whole)
            if whole:
                self._move(oid, uid, *pose)
            for name in DECORATIONS:
                key, duid = (oid, name), self._deco_body[(oid, name)]
                self._show(key, duid, name in shown)
                if name in shown:
                    self._move(key, duid, *pose)

    def _place_indicators(self, body: BodyState) -> None:
        on = self._state.groups_on(body)
        for g, uid in self._groups:
            visible = g.key in on or (g.look == "knob")
            self._show(g.key, uid, visible)
            if visible:
                self._move(g.key, uid, *self._state.group_pose(g, body))

    def _show(self, key: Any, uid: int, visible: bool) -> None:
        """Show or hide body ``uid`` (alpha 0 hides it: TinyRenderer then skips it for free)."""
        if self._visible.get(key, True) == visible:
            return
        self._visible[key] = visible
        for link, rgba in enumerate(self._colors[uid]):
            color = rgba if visible else (*rgba[:3], 0.0)
            self._p.changeVisualShape(uid, link, rgbaColor=color, physicsClientId=self.client)

    def _place_hands(self, body: BodyState) -> None:
        hands = tuple((float(h[0]), float(h[1]), float(h[2])) for h in body.hands)
        joints = arms(body.head, body.look_at, hands)  # type: ignore[arg-type]
        for (uid, upper), (shoulder, elbow), hand in zip(self._hands, joints, hands, strict=True):
            self._move(("hand", uid), uid, *hand_pose(elbow, hand))
            self._move(("hand", upper), upper, *upper_arm_pose(shoulder, elbow))

    def close(self) -> None:
        """Disconnect the private pybullet client (idempotent)."""
        if self.client >= 0:
            try:
                self._p.disconnect(physicsClientId=self.client)
            except Exception:  # already gone (interpreter shutdown)
                pass
            self.client = -1
