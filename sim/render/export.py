"""Export a scene to glTF binary (trimesh) and JSON, in a form habitat-sim loads.

``export_scene`` writes, under ``out_dir``:

- ``scene.glb``: the whole scene as it looks now (room, fixtures, objects at their poses,
  state decorations of ``predicates``), one mesh per entity named by its id. Loadable
  as a habitat-sim stage or in any glTF viewer.
- ``stage.glb`` + ``scene.stage_config.json``: the empty room (floor and walls).
- ``entities/<id>.glb`` + ``entities/<id>.object_config.json``: every fixture, object,
  decoration (``<object>__<decoration>``), fixture glow (``<fixture>__glow``) and hand
  (``hand``) in its own frame, for habitat-sim's object template manager.
- ``scene.json``: fixtures, objects, poses, semantic ids and the asset of each.

Frames: glTF is y up. Every GLB is written in glTF axes, ``(x, y, z)_world ->
(x, z, -y)``; positions in ``scene.json`` are in the world frame (z up), with the
conversion matrix under ``to_gltf``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proassist.scenarios.model import Fixture, Layout, ObjectSpec
from proassist.sim.body import BodyState
from proassist.sim.render.objects import decoration_parts, hand_parts, object_parts
from proassist.sim.render.shapes import (
    IDENTITY,
    PALETTE,
    Part,
    Quat,
    Vec3,
    fixture_parts,
    floor_parts,
    wall_parts,
)
from proassist.sim.render.state import PARK, StateView

#: World (z up) to glTF (y up) rotation.
TO_GLTF = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0], [0, -1.0, 0, 0], [0, 0, 0, 1.0]])
BASE_IDS: dict[str, int] = {"floor": 0, "walls": 1, "hand_left": 2, "hand_right": 3}


def _part_mesh(part: Part) -> Any:
    import trimesh

    s = part.size
    if part.shape == "box":
        mesh = trimesh.creation.box(extents=[2 * s[0], 2 * s[1], 2 * s[2]])
    elif part.shape == "sphere":
        mesh = trimesh.creation.icosphere(subdivisions=2, radius=s[0])
    elif part.shape == "cylinder":
        mesh = trimesh.creation.cylinder(radius=s[0], height=2 * s[1], sections=24)
    else:
        mesh = trimesh.creation.capsule(height=max(1e-4, 2 * (s[1] - s[0])), radius=s[0])
    x, y, z, w = part.quat
    tf = trimesh.transformations.quaternion_matrix([w, x, y, z])
    tf[:3, 3] = part.pos
    mesh.apply_transform(tf)
    rgba = np.clip(np.round(np.asarray(part.rgba) * 255), 0, 255).astype(np.uint8)
    mesh.visual.face_colors = np.tile(rgba, (len(mesh.faces), 1))
    return mesh


def parts_mesh(
    parts: Sequence[Part],
    offset: Vec3 = (0.0, 0.0, 0.0),
    gltf: bool = True,
    quat: Quat = IDENTITY,
) -> Any:
    """One coloured ``trimesh.Trimesh`` of ``parts`` turned by ``quat``, then moved by
    ``offset`` (in glTF axes)."""
    import trimesh

    mesh = trimesh.util.concatenate([_part_mesh(p) for p in parts])
    if quat != IDENTITY:
        x, y, z, w = quat
        mesh.apply_transform(trimesh.transformations.quaternion_matrix([w, x, y, z]))
    mesh.apply_translation(offset)
    if gltf:
        mesh.apply_transform(TO_GLTF)
    return mesh


def _write_glb(meshes: Mapping[str, Any], path: Path) -> Path:
    import trimesh

    scene = trimesh.Scene()
    for name, mesh in meshes.items():
        scene.add_geometry(mesh, node_name=name, geom_name=name)
    path.write_bytes(scene.export(file_type="glb"))
    return path


def _write_entity(out: Path, name: str, parts: Sequence[Part]) -> str:
    _write_glb({name: parts_mesh(parts)}, out / "entities" / f"{name}.glb")
    cfg = {
        "render_asset": f"{name}.glb",
        "requires_lighting": True,
        "up": [0, 1, 0],
        "front": [0, 0, -1],
        "mass": 1.0,
    }
    (out / "entities" / f"{name}.object_config.json").write_text(json.dumps(cfg, indent=2))
    return f"entities/{name}.object_config.json"


def _scene_meshes(
    layout: Layout, objects: Sequence[ObjectSpec], view: StateView, body: BodyState
) -> dict[str, Any]:
    meshes = {"floor": parts_mesh(floor_parts(layout)), "walls": parts_mesh(wall_parts(layout))}
    for fx in layout.fixtures:
        parts = fixture_parts(fx, layout)
        if fx.id in view.lit:
            parts = [
                Part(p.shape, p.size, p.pos, PALETTE["glow"], p.quat, p.tag)
                if p.tag == "glow"
                else p
                for p in parts
            ]
        meshes[fx.id] = parts_mesh(parts)
    for obj in objects:
        pos, quat = view.object_transform(obj.id, body)
        if pos == PARK:
            continue
        shown = view.shown[obj.id]
        parts = [] if "pieces" in shown else object_parts(obj)
        decos = decoration_parts(obj)
        parts += [p for name in sorted(shown) for p in decos[name]]
        meshes[obj.id] = parts_mesh(parts, pos, quat=quat)
    return meshes


def _lifted_glow(p: Part) -> Part:
    """A glowing copy of ``p``, a hair larger and higher so it covers the original."""
    size = (p.size[0] * 1.02, p.size[1] * 1.02, p.size[2] * 1.02)
    return Part(p.shape, size, (p.pos[0], p.pos[1], p.pos[2] + 0.001), PALETTE["glow"], p.quat)


def _entity_records(
    out: Path,
    layout: Layout,
    objects: Sequence[ObjectSpec],
    view: StateView,
    body: BodyState,
) -> dict[str, Any]:
    ids = dict(BASE_IDS)
    fixtures, objs = [], []
    for fx in layout.fixtures:
        ids[fx.id] = len(ids)
        fixtures.append(_fixture_record(out, fx, layout, ids[fx.id]))
    for obj in objects:
        ids[obj.id] = len(ids)
        objs.append(_object_record(out, obj, view, body, ids[obj.id]))
    return {"fixtures": fixtures, "objects": objs, "semantic_ids": ids}


def _fixture_record(out: Path, fx: Fixture, layout: Layout, semantic_id: int) -> dict[str, Any]:
    """A fixture's export record (its mesh, and its glow mesh if it has one)."""
    parts = fixture_parts(fx, layout)
    glow = [Part(p.shape, p.size, p.pos, PALETTE["glow"], p.quat) for p in parts if p.tag == "glow"]
    return {
        "id": fx.id,
        "kind": fx.kind,
        "position": list(fx.position),
        "size": list(fx.size),
        "color": list(fx.color),
        "stand": list(fx.stand),
        "semantic_id": semantic_id,
        "asset": _write_entity(out, fx.id, parts),
        "glow_asset": _write_entity(out, f"{fx.id}__glow", glow) if glow else None,
    }


def _object_record(
    out: Path, obj: ObjectSpec, view: StateView, body: BodyState, semantic_id: int
) -> dict[str, Any]:
    """An object's export record: mesh, decorations, pose and rotation now."""
    pose, rotation = view.object_transform(obj.id, body)
    decos = {
        name: _write_entity(out, f"{obj.id}__{name}", parts)
        for name, parts in decoration_parts(obj).items()
    }
    return {
        "id": obj.id,
        "name": obj.name,
        "shape": obj.shape,
        "size": list(obj.size),
        "color": list(obj.color),
        "category": obj.category,
        "start": obj.start,
        "pose": list(pose),
        "rotation": list(rotation),
        "semantic_id": semantic_id,
        "asset": _write_entity(out, obj.id, object_parts(obj)),
        "decorations": decos,
        "shown": sorted(view.shown[obj.id]),
    }


def _posed(poses: Mapping[str, Vec3] | None, rotations: Mapping[str, Quat] | None) -> BodyState:
    """A body that only carries the object poses (the exporter draws no person)."""
    origin = (0.0, 0.0, 0.0)
    return BodyState(
        head=origin,
        look_at=(1.0, 0.0, 0.0),
        hands=(origin, origin),
        object_poses=dict(poses or {}),
        object_rotations=dict(rotations or {}),
    )


def export_scene(
    layout: Layout,
    objects: Iterable[ObjectSpec],
    out_dir: str | Path,
    predicates: Iterable[str] | None = None,
    poses: Mapping[str, Vec3] | None = None,
    rotations: Mapping[str, Quat] | None = None,
) -> dict[str, Path]:
    """Write the scene as GLB files and a JSON description (see the module docstring).

    Args:
        layout: The room and its fixtures.
        objects: Task objects.
        out_dir: Directory to write into (created if missing).
        predicates: True predicates whose state is drawn in ``scene.glb`` (none by default).
        poses: Object centres (world frame); objects not given rest on their start fixture.
        rotations: Object orientations, ``(x, y, z, w)`` quaternions (world frame);
            objects not given rest as on their start fixture (upright or lying, see
            :mod:`proassist.sim.person.orientation`).

    Returns:
        Paths by role: ``glb``, ``json``, ``stage``, ``stage_config``, ``hand``.
    """
    objects = tuple(objects)
    out = Path(out_dir)
    (out / "entities").mkdir(parents=True, exist_ok=True)
    view = StateView(layout, objects, [f.id for f in layout.fixtures] + [o.id for o in objects])
    view.update(frozenset(predicates or ()))
    body = _posed(poses, rotations)
    paths = {"glb": _write_glb(_scene_meshes(layout, objects, view, body), out / "scene.glb")}
    room = {"floor": parts_mesh(floor_parts(layout)), "walls": parts_mesh(wall_parts(layout))}
    paths["stage"] = _write_glb(room, out / "stage.glb")
    stage_cfg = {
        "render_asset": "stage.glb",
        "up": [0, 1, 0],
        "front": [0, 0, -1],
        "requires_lighting": True,
    }
    paths["stage_config"] = out / "scene.stage_config.json"
    paths["stage_config"].write_text(json.dumps(stage_cfg, indent=2))
    hand = _write_entity(out, "hand", hand_parts())
    paths["hand"] = out / hand
    desc = {
        "layout": layout.id,
        "up": "z",
        "units": "m",
        "to_gltf": TO_GLTF.tolist(),
        "scene_asset": "scene.glb",
        "stage_config": "scene.stage_config.json",
        "hand_asset": hand,
        "predicates": sorted(view.predicates or ()),
        **_entity_records(out, layout, objects, view, body),
    }
    paths["json"] = out / "scene.json"
    paths["json"].write_text(json.dumps(desc, indent=2))
    return paths
