"""Tests of the GLB + JSON scene export (sim/render/export.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh

from proassist.scenarios import load_scenario
from proassist.sim.render.export import TO_GLTF, export_scene
from proassist.sim.render.scene import Scene


@pytest.fixture(scope="module")
def kitchen():
    return load_scenario("kitchen_tea")


@pytest.fixture(scope="module")
def exported(kitchen, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    preds = {"switched_on(burner)", "heated(kettle)", "cut(tea_bag)"}
    return export_scene(
        kitchen.layout,
        kitchen.procedure.objects,
        out,
        predicates=preds,
        poses={"mug": (0.0, 0.9, 0.95)},
    )


def test_glb_loads_back_with_one_geometry_per_entity(kitchen, exported):
    scene = trimesh.load(exported["glb"])
    layout, objects = kitchen.layout, kitchen.procedure.objects
    expected = {"floor", "walls"} | {f.id for f in layout.fixtures} | {o.id for o in objects}
    assert set(scene.geometry) == expected
    assert len(scene.geometry) == 2 + len(layout.fixtures) + len(objects)
    stage = trimesh.load(exported["stage"])
    assert set(stage.geometry) == {"floor", "walls"}


def test_glb_is_y_up_and_objects_sit_at_their_poses(exported):
    scene = trimesh.load(exported["glb"])
    mug = scene.dump(concatenate=False)
    meshes = {m.metadata.get("name", ""): m for m in mug}
    centre = meshes["mug"].bounds.mean(axis=0)
    world = np.linalg.inv(TO_GLTF[:3, :3]) @ centre
    assert world[0] == pytest.approx(0.0, abs=0.03) and world[1] == pytest.approx(0.9, abs=0.03)
    floor = meshes["floor"].bounds
    assert floor[1][1] == pytest.approx(0.0, abs=1e-6)  # floor top at y = 0 in glTF axes


def test_json_lists_every_fixture_and_object_with_scene_ids(kitchen, exported):
    desc = json.loads(exported["json"].read_text())
    assert [o["id"] for o in desc["objects"]] == [o.id for o in kitchen.procedure.objects]
    assert [f["id"] for f in desc["fixtures"]] == [f.id for f in kitchen.layout.fixtures]
    with Scene(16, 16, modes=("rgb",)) as scene:
        scene.load(kitchen.layout, kitchen.procedure.objects)
        assert desc["semantic_ids"] == scene.segmentation_ids
    mug = next(o for o in desc["objects"] if o["id"] == "mug")
    assert mug["pose"] == [0.0, 0.9, 0.95]
    kettle = next(o for o in desc["objects"] if o["id"] == "kettle")
    assert kettle["shown"] == ["steam"]
    root = exported["json"].parent
    for rec in desc["objects"] + desc["fixtures"]:
        cfg = json.loads((root / rec["asset"]).read_text())
        assert (root / rec["asset"]).parent.joinpath(cfg["render_asset"]).is_file()
    stage = json.loads(exported["stage_config"].read_text())
    assert (root / stage["render_asset"]).is_file()


def test_state_changes_the_exported_meshes(kitchen, exported, tmp_path):
    plain = export_scene(kitchen.layout, kitchen.procedure.objects, tmp_path)
    a, b = trimesh.load(plain["glb"]), trimesh.load(exported["glb"])
    assert len(b.geometry["kettle"].faces) > len(a.geometry["kettle"].faces)  # steam puffs
    assert len(b.geometry["tea_bag"].faces) > len(a.geometry["tea_bag"].faces)  # pieces
    colors_a = a.geometry["burner"].visual.face_colors
    colors_b = b.geometry["burner"].visual.face_colors
    assert not np.array_equal(colors_a, colors_b)  # glowing
