"""The habitat-sim backend of :class:`proassist.sim.render.scene.Scene` (optional).

``habitat-sim`` is not on PyPI; install it with conda (see :data:`INSTALL_HINT`). Without
it, constructing the renderer raises ``ImportError`` with that hint.

How it works: :meth:`HabitatRenderer.build` exports the scene with
:func:`proassist.sim.render.export.export_scene` into a temporary directory, loads the empty
room as the stage and adds every fixture, object, decoration and hand as a kinematic
rigid object whose ``semantic_id`` is its segmentation id + 1 (0 is habitat's "nothing").
A frame moves the objects (hidden ones are parked below the floor, like the pybullet
backend, with the same :class:`~proassist.sim.render.state.StateView`), places the agent
at the head looking at ``look_at`` and reads the colour, depth and semantic sensors.
Glowing fixtures show a glow overlay object. Coordinates are converted to habitat's
y-up frame, ``(x, y, z) -> (x, z, -y)``.

This path follows the habitat-sim 0.3 Python API but is not exercised by the test suite
(habitat-sim is not installable from PyPI); the pybullet backend is the tested default.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proassist.scenarios.model import Layout, ObjectSpec, Step
from proassist.sim.body import BodyState
from proassist.sim.render.arms import arms, hand_pose
from proassist.sim.render.objects import DECORATIONS
from proassist.sim.render.state import PARK, StateView

INSTALL_HINT = (
    "renderer='habitat' requires habitat-sim, which is not installable from PyPI; install it "
    "with conda: `conda install habitat-sim -c conda-forge -c aihabitat` (headless machines: "
    "`conda install habitat-sim headless -c conda-forge -c aihabitat`), or use "
    "renderer='pybullet'"
)


def import_habitat() -> Any:
    """Import ``habitat_sim`` or raise ``ImportError`` saying how to install it."""
    try:
        import habitat_sim
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return habitat_sim


def to_habitat(v: Sequence[float]) -> list[float]:
    """World (z up) point to habitat's y-up frame."""
    return [float(v[0]), float(v[2]), -float(v[1])]


def hfov(vfov: float, width: int, height: int) -> float:
    """Horizontal field of view (degrees) for a vertical ``vfov`` and an image size."""
    return math.degrees(2 * math.atan(math.tan(math.radians(vfov) / 2) * width / height))


class HabitatRenderer:
    """Renders the scene with habitat-sim (same arguments as the pybullet backend)."""

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
        self._hs = import_habitat()
        self.width, self.height, self.modes = width, height, tuple(modes)
        self.fov, self.near, self.far = fov, near, far
        self._tmp = tempfile.TemporaryDirectory(prefix="proassist_habitat_")
        self._sim: Any = None
        self._objs: dict[Any, Any] = {}
        self.segmentation_ids: dict[str, int] = {}

    def _sensor_specs(self) -> list[Any]:
        hs = self._hs
        kinds = {
            "rgb": hs.SensorType.COLOR,
            "depth": hs.SensorType.DEPTH,
            "segmentation": hs.SensorType.SEMANTIC,
        }
        specs = []
        for mode in self.modes:
            spec = hs.CameraSensorSpec()
            spec.uuid, spec.sensor_type = mode, kinds[mode]
            spec.resolution = [self.height, self.width]
            spec.position = [0.0, 0.0, 0.0]
            spec.hfov = hfov(self.fov, self.width, self.height)
            spec.near, spec.far = self.near, self.far
            specs.append(spec)
        return specs

    def _make_sim(self, out: Path) -> Any:
        hs = self._hs
        sim_cfg = hs.SimulatorConfiguration()
        sim_cfg.scene_id = str(out / "stage.glb")
        sim_cfg.enable_physics = False
        sim_cfg.gpu_device_id = 0
        agent_cfg = hs.agent.AgentConfiguration(sensor_specifications=self._sensor_specs())
        return hs.Simulator(hs.Configuration(sim_cfg, [agent_cfg]))

    def _add(self, config: str, out: Path, semantic_id: int) -> Any:
        otm = self._sim.get_object_template_manager()
        template_ids = otm.load_configs(str(out / config))
        handle = otm.get_template_handle_by_id(template_ids[0])
        obj = self._sim.get_rigid_object_manager().add_object_by_template_handle(handle)
        obj.motion_type = self._hs.physics.MotionType.KINEMATIC
        obj.semantic_id = semantic_id + 1 if semantic_id >= 0 else 0
        obj.translation = to_habitat(PARK)
        return obj

    def build(
        self, layout: Layout, objects: Sequence[ObjectSpec], steps: Sequence[Step] = ()
    ) -> dict[str, int]:
        """Export the scene and load it into a fresh simulator; return segmentation ids.

        ``steps`` is accepted for the renderer interface, but this backend does not draw
        the fault indicators of :mod:`proassist.sim.render.indicators` yet.
        """
        from proassist.sim.render.export import export_scene

        self._close_sim()
        out = Path(self._tmp.name) / "scene"
        export_scene(layout, objects, out)
        desc = json.loads((out / "scene.json").read_text())
        self._sim = self._make_sim(out)
        self._objs = {}
        for fx in desc["fixtures"]:
            self._objs[fx["id"]] = obj = self._add(fx["asset"], out, fx["semantic_id"])
            obj.translation = to_habitat((0.0, 0.0, 0.0))
            if fx["glow_asset"]:
                self._objs[(fx["id"], "glow")] = self._add(fx["glow_asset"], out, fx["semantic_id"])
        for o in desc["objects"]:
            self._objs[o["id"]] = self._add(o["asset"], out, o["semantic_id"])
            for name, cfg in o["decorations"].items():
                sid = -1 if name == "steam" else o["semantic_id"]
                self._objs[(o["id"], name)] = self._add(cfg, out, sid)
        for i, side in enumerate(("hand_left", "hand_right")):
            self._objs[("hand", i)] = self._add(desc["hand_asset"], out, desc["semantic_ids"][side])
        glowing = [f["id"] for f in desc["fixtures"]] + [o["id"] for o in desc["objects"]]
        self._state = StateView(layout, objects, glowing)
        self._objects = [o.id for o in objects]
        self.segmentation_ids = dict(desc["semantic_ids"])
        return self.segmentation_ids

    def _place(self, body: BodyState) -> None:
        import magnum as mn

        st = self._state
        for key, obj in self._objs.items():
            if isinstance(key, tuple) and key[1] == "glow" and key[0] not in st.shown:
                obj.translation = to_habitat((0.0, 0.0, 0.0) if key[0] in st.lit else PARK)
        for oid in self._objects:
            pos, (x, y, z, w) = st.object_transform(oid, body)
            rot = mn.Quaternion(mn.Vector3(x, z, -y), w)
            shown = st.shown[oid]
            self._objs[oid].translation = to_habitat(PARK if "pieces" in shown else pos)
            self._objs[oid].rotation = rot
            for name in DECORATIONS:
                self._objs[(oid, name)].translation = to_habitat(pos if name in shown else PARK)
                self._objs[(oid, name)].rotation = rot
        hands = tuple((float(h[0]), float(h[1]), float(h[2])) for h in body.hands)
        joints = arms(body.head, body.look_at, hands)  # type: ignore[arg-type]
        for i, ((_, el), hand) in enumerate(zip(joints, hands, strict=True)):
            pos, (x, y, z, w) = hand_pose(el, hand)
            obj = self._objs[("hand", i)]
            obj.translation = to_habitat(pos)
            obj.rotation = mn.Quaternion(mn.Vector3(x, z, -y), w)

    def _set_camera(self, body: BodyState) -> None:
        import magnum as mn

        eye, target = mn.Vector3(*to_habitat(body.head)), mn.Vector3(*to_habitat(body.look_at))
        up = mn.Vector3(0.0, 1.0, 0.0)
        if abs((target - eye).normalized().dot(up)) > 0.9999:
            up = mn.Vector3(1.0, 0.0, 0.0)
        rot = mn.Quaternion.from_matrix(mn.Matrix4.look_at(eye, target, up).rotation())
        state = self._hs.AgentState()
        state.position = np.array(to_habitat(body.head), dtype=np.float32)
        state.rotation = self._hs.utils.common.quat_from_magnum(rot)
        self._sim.get_agent(0).set_state(state, reset_sensors=True)

    def render(self, body: BodyState, predicates: Iterable[str]) -> dict[str, np.ndarray]:
        """Place objects, hands and camera, then read the sensors."""
        self._state.update(predicates)
        self._place(body)
        self._set_camera(body)
        obs = self._sim.get_sensor_observations()
        out: dict[str, np.ndarray] = {}
        if "rgb" in self.modes:
            out["rgb"] = np.ascontiguousarray(np.asarray(obs["rgb"])[:, :, :3], dtype=np.uint8)
        if "depth" in self.modes:
            depth = np.asarray(obs["depth"], dtype=np.float32)
            out["depth"] = np.where(depth > 0, depth, self.far).astype(np.float32)
        if "segmentation" in self.modes:
            out["segmentation"] = np.asarray(obs["segmentation"]).astype(np.int32) - 1
        return out

    def _close_sim(self) -> None:
        if self._sim is not None:
            self._sim.close()
            self._sim = None

    def close(self) -> None:
        """Close the simulator and remove the exported files (idempotent)."""
        self._close_sim()
        self._tmp.cleanup()
