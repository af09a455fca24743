"""The OpenGL renderer (``renderer="gl"``) against the pybullet reference, and ``auto``."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import proassist.envs  # noqa: F401  (registers the env ids)
from proassist.sim.render import scene as scene_mod
from proassist.sim.render.scene import Scene

pytest.importorskip("moderngl")


def _egl_ok() -> bool:
    from proassist.sim.render.gl_backend import create_context

    try:
        create_context().release()
    except (ImportError, RuntimeError):
        return False
    return True


needs_egl = pytest.mark.skipif(not _egl_ok(), reason="no EGL OpenGL context on this machine")
MODES = ("rgb", "depth", "segmentation")


def _states(task: str, n: int, seed: int = 3) -> tuple:
    """``n`` (body, predicates) of a real episode, and its layout, objects and steps."""
    env = gym.make("ProAssist-v0", task=task, render=False, deviation_rates={"omission": 0.3})
    env.reset(seed=seed)
    sim = env.unwrapped._sim
    states = []
    silent = {"decision": 0, "intent": 0, "step": 0, "text": ""}
    for _ in range(n):
        states.append((sim.body(), frozenset(sim.world.predicates)))
        for _ in range(3):
            _, _, term, trunc, _ = env.step(silent)
            if term or trunc:
                break
        if term or trunc:
            break
    sc = env.unwrapped.scenario
    env.close()
    return states, sc.layout, sc.procedure.objects, sc.procedure.steps


def _agreement(ref: dict, got: dict, min_pixels: int = 40) -> tuple[dict[int, float], float]:
    """Per id IoU (ids with ``min_pixels`` interior pixels) and the median depth error.

    Interior: the pybullet mask eroded by one pixel. A 2-3 pixel thin sliver (a spoon, a
    stool leg, the floor between two cabinets) is all edge at 128 px, and TinyRenderer's
    edge rule differs from OpenGL's by up to one pixel; such ids are checked by
    :func:`_within_a_pixel` instead.
    """
    from scipy.ndimage import binary_erosion

    seg_a, seg_b = ref["segmentation"], got["segmentation"]
    ious = {}
    for i in np.unique(seg_a):
        a, b = seg_a == i, seg_b == i
        if binary_erosion(a).sum() >= min_pixels:
            ious[int(i)] = float((a & b).sum() / (a | b).sum())
    return ious, float(np.median(np.abs(ref["depth"] - got["depth"])))


def _assert_same_frames(a: dict, b: dict, modes: tuple) -> None:
    """Every frame of ``modes`` is identical in ``a`` and ``b``."""
    for m in modes:
        assert np.array_equal(a[m], b[m]), m


def _within_a_pixel(seg_a: np.ndarray, seg_b: np.ndarray) -> list[int]:
    """Ids whose masks differ by more than one pixel of their edges."""
    from scipy.ndimage import binary_dilation

    bad = []
    for i in np.unique(np.concatenate([seg_a.ravel(), seg_b.ravel()])):
        a, b = seg_a == i, seg_b == i
        if i != 0 and (a & ~binary_dilation(b, iterations=2)).sum() > 2:  # 0: see above
            bad.append(int(i))
    return bad


@needs_egl
@pytest.mark.parametrize(
    "task", ["kitchen_tea", "kitchen_scrambled_eggs", "assembly_stool", "assembly_desk_lamp"]
)
def test_gl_agrees_with_pybullet(task: str) -> None:
    states, layout, objects, steps = _states(task, 12)
    with Scene(128, 128, MODES, renderer="pybullet") as ref, Scene(128, 128, MODES, "gl") as gl:
        assert ref.load(layout, objects, steps) and gl.load(layout, objects, steps)
        assert gl.segmentation_ids == ref.segmentation_ids
        for body, preds in states:
            a, b = ref.render(body, preds), gl.render(body, preds)
            assert b["rgb"].shape == (128, 128, 3) and b["rgb"].dtype == np.uint8
            assert b["depth"].dtype == np.float32 and b["segmentation"].dtype == np.int32
            ious, depth_err = _agreement(a, b)
            # the floor top is coplanar with fixture bottoms: z-fighting picks either
            bad = {i: round(v, 3) for i, v in ious.items() if v < 0.9 and i != 0}
            assert not bad, f"segmentation IoU < 0.9 for ids {bad}"
            assert not _within_a_pixel(a["segmentation"], b["segmentation"])
            assert (a["segmentation"] == b["segmentation"]).mean() >= 0.98
            assert depth_err <= 0.02


@needs_egl
@pytest.mark.parametrize("pack", ["0", "1"])
@pytest.mark.parametrize("modes", [("segmentation",), ("depth",), ("depth", "segmentation")])
def test_frames_without_rgb_equal_those_of_a_full_render(
    modes: tuple[str, ...], pack: str, monkeypatch
) -> None:
    """Without rgb a flat shader draws (its lit one left samplers unbound: empty frames);
    read one by one or packed (``PROASSIST_GL_PACK``)."""
    monkeypatch.setenv("PROASSIST_GL_PACK", pack)
    states, layout, objects, steps = _states("kitchen_tea", 6)
    with Scene(96, 96, modes, renderer="gl") as part, Scene(96, 96, MODES, "gl") as full:
        part.load(layout, objects, steps)
        full.load(layout, objects, steps)
        for body, preds in states:
            a, b = part.render(body, preds), full.render(body, preds)
            _assert_same_frames(a, b, modes)
            if "segmentation" in modes:
                assert np.unique(a["segmentation"]).size > 3


@needs_egl
def test_gl_state_changes_and_reset_reuse() -> None:
    states, layout, objects, steps = _states("kitchen_tea", 1)
    body, _ = states[0]
    with Scene(64, 64, MODES, renderer="gl") as gl:
        gl.load(layout, objects, steps)
        vbo = gl.backend._vbo
        assert not gl.load(layout, objects, steps)  # same scene: geometry kept
        assert gl.backend._vbo is vbo
        lit = {f"switched_on({f.id})" for f in layout.fixtures}
        off, on = gl.render(body, frozenset()), gl.render(body, frozenset(lit))
        assert np.array_equal(off["segmentation"], on["segmentation"])
        assert np.array_equal(gl.render(body, frozenset())["rgb"], off["rgb"])


@needs_egl
def test_culling_and_shadow_reuse_do_not_change_frames(monkeypatch) -> None:
    """Frustum culling, the kept moving-body shadow map and the box it is read in (the
    moving casters' light-space cover) leave every pixel as it was."""
    from proassist.sim.render import gl_draw

    states, layout, objects, steps = _states("kitchen_tea", 8)
    order = states + states[::-1] + [states[0], states[0]]  # repeats reuse the shadow map
    with Scene(96, 96, MODES, renderer="gl") as gl:
        gl.load(layout, objects, steps)
        fast = [gl.render(body, preds) for body, preds in order]
        monkeypatch.setattr(gl_draw.DrawList, "in_view", lambda self, t, vp: self.shown(t))
        everywhere = (-1.0, -1.0, 2.0, 2.0)  # read the moving casters' map at every pixel
        monkeypatch.setattr(gl_draw.DrawList, "light_box", lambda *a: everywhere)
        slow = []
        for body, preds in order:
            gl.backend._shadow_key = None  # redraw the moving bodies' shadow map every frame
            slow.append(gl.render(body, preds))
    for a, b in zip(fast, slow, strict=True):
        _assert_same_frames(a, b, MODES)


@needs_egl
def test_gl_draws_only_visible_bodies() -> None:
    """Hidden decorations and bodies behind the camera are not handed to OpenGL."""
    states, layout, objects, steps = _states("kitchen_tea", 1)
    body, preds = states[0]
    with Scene(64, 64, MODES, renderer="gl") as gl:
        gl.load(layout, objects, steps)
        gl.render(body, preds)
        be = gl.backend
        from proassist.sim.render.gl_backend import camera_up, look_at

        view_proj = be.projection @ look_at(
            body.head, body.look_at, camera_up(body.head, body.look_at)
        )
        shown = be._draws.shown(be._table)
        drawn = shown & be._draws.in_view(be._table, view_proj)
        assert 0 < drawn.sum() < shown.sum() < len(shown)


_DETERMINISM = """
import hashlib, gymnasium as gym, proassist.envs
env = gym.make("ProAssist-Kitchen-v0", renderer="gl", width=64, height=64,
               obs_modes=("rgb", "depth", "segmentation"), task="kitchen_tea")
obs, _ = env.reset(seed=7)
h = hashlib.sha256()
for _ in range(6):
    for k in ("rgb", "depth", "segmentation"):
        h.update(obs[k].tobytes())
    obs, *_ = env.step({"decision": 0, "intent": 0, "step": 0, "text": ""})
print(h.hexdigest())
"""


@needs_egl
def test_gl_frames_identical_across_processes() -> None:
    runs = [
        subprocess.run(
            [sys.executable, "-c", _DETERMINISM], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert len(runs[0]) == 64 and runs[0] == runs[1]


def test_auto_falls_back_to_pybullet(monkeypatch, caplog) -> None:
    from proassist.sim.render import gl_backend

    def no_egl() -> None:
        raise RuntimeError("no EGL OpenGL context (eglInitialize failed)")

    monkeypatch.setattr(gl_backend, "create_context", no_egl)
    monkeypatch.setattr(scene_mod, "_GL_UNAVAILABLE", [])
    monkeypatch.setattr(scene_mod, "_LOGGED", set())
    with caplog.at_level(logging.INFO, logger="proassist.sim.render"):
        with Scene(32, 32, renderer="auto") as s1, Scene(32, 32, renderer="auto") as s2:
            assert s1.backend_name == s2.backend_name == "pybullet"
    lines = [r.getMessage() for r in caplog.records if r.name == "proassist.sim.render"]
    assert len(lines) == 1
    assert "pybullet" in lines[0] and "eglInitialize failed" in lines[0]


@needs_egl
def test_auto_picks_gl_when_egl_works(monkeypatch, caplog) -> None:
    monkeypatch.setattr(scene_mod, "_GL_UNAVAILABLE", [])
    monkeypatch.setattr(scene_mod, "_LOGGED", set())
    with caplog.at_level(logging.INFO, logger="proassist.sim.render"):
        with Scene(32, 32, renderer="auto") as s:
            assert s.backend_name == "gl"
    assert any("renderer auto: gl" in r.getMessage() for r in caplog.records)


@needs_egl
def test_env_with_gl_passes_check_env() -> None:
    env = gym.make(
        "ProAssist-Kitchen-v0",
        renderer="gl",
        obs_modes=("rgb", "depth", "segmentation"),
        max_duration=20.0,
        width=64,
        height=48,
    )
    env.unwrapped.strict_steps = False  # check_env steps with action_space.sample()
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=1)
    assert obs["rgb"].shape == (48, 64, 3) and obs["segmentation"].shape == (48, 64)
    env.close()


def _episode(renderer: str) -> list:
    env = gym.make("ProAssist-Kitchen-v0", renderer=renderer, task="kitchen_tea", width=32)
    env.reset(seed=11)
    out = []
    for _ in range(8):
        obs, reward, term, trunc, _ = env.step({"decision": 0, "intent": 0, "step": 0, "text": ""})
        out.append((obs["utterance"], float(obs["time"][0]), reward, term, trunc))
    record = env.unwrapped.episode_record()
    assert record["env_kwargs"].pop("renderer") == renderer  # recorded; the rest is equal
    out.append(hashlib.sha256(repr(record).encode()).hexdigest())
    env.close()
    return out


@needs_egl
def test_episodes_do_not_depend_on_the_renderer() -> None:
    assert _episode("gl") == _episode("pybullet")


def test_bad_renderer_name_says_did_you_mean() -> None:
    with pytest.raises(ValueError, match="did you mean 'gl'"):
        gym.make("ProAssist-Kitchen-v0", renderer="gll")
    with pytest.raises(ValueError, match="did you mean 'pybullet'"):
        Scene(32, 32, renderer="pybulet")


@needs_egl
def test_background_pixels_read_minus_one_not_the_clear_colour_bits() -> None:
    """Pixels no body covers read -1 in segmentation, as in pybullet (a float clear of
    the integer id buffer once left the bits of 0.8 there: 1061997772)."""
    from dataclasses import replace

    states, layout, objects, steps = _states("kitchen_tea", 1)
    body, preds = states[0]
    body = replace(body, head=(50.0, 50.0, 1.6), look_at=(60.0, 60.0, 1.6))  # out of the room
    with Scene(32, 32, MODES, renderer="pybullet") as ref, Scene(32, 32, MODES, "gl") as gl:
        ref.load(layout, objects, steps)
        gl.load(layout, objects, steps)
        ids = set(ref.segmentation_ids.values())
        a, b = ref.render(body, preds)["segmentation"], gl.render(body, preds)["segmentation"]
    assert (a == -1).mean() > 0.5 and set(np.unique(b)) <= ids | {-1}
    assert ((a == -1) == (b == -1)).mean() >= 0.95


@needs_egl
@pytest.mark.parametrize("pack", ["0", "1"])
def test_frames_are_new_arrays_though_the_read_back_buffers_are_reused(
    pack: str, monkeypatch
) -> None:
    """A frame kept by the caller is not overwritten by the next one (read one by one
    or packed)."""
    monkeypatch.setenv("PROASSIST_GL_PACK", pack)
    states, layout, objects, steps = _states("kitchen_tea", 2)
    with Scene(48, 48, MODES, renderer="gl") as gl:
        gl.load(layout, objects, steps)
        first = gl.render(*states[0])
        kept = {m: first[m].copy() for m in MODES}
        second = gl.render(*states[1])
        for m in MODES:
            assert not np.shares_memory(first[m], second[m]), m
            assert np.array_equal(first[m], kept[m]), m
        assert not np.array_equal(first["rgb"], second["rgb"])  # the states differ
        assert first["depth"].dtype == np.float32


@needs_egl
@pytest.mark.parametrize(("size", "pack"), [((40, 40), "1"), ((64, 48), "1"), ((40, 40), "0")])
def test_the_one_read_back_equals_reading_each_target(
    size: tuple[int, int], pack: str, monkeypatch
) -> None:
    """The one read-back (``PROASSIST_GL_PACK=1``, :mod:`proassist.sim.render.gl_pack`;
    the default on a GPU) gives the colour and the ids bit for bit, and the depth within
    a 24-bit depth buffer's step, of reading each of the three targets on its own; as
    does reading them one by one (``0``, the default on llvmpipe)."""
    monkeypatch.setenv("PROASSIST_GL_PACK", pack)
    states, layout, objects, steps = _states("kitchen_tea", 1)
    w, h = size
    with Scene(w, h, MODES, renderer="gl") as gl:
        gl.load(layout, objects, steps)
        got = gl.render(*states[0])
        packed = gl.backend.targets
        assert packed.pack == (pack == "1")
        with gl.backend.ctx:
            rgba = np.frombuffer(packed.colour.read(alignment=1), np.uint8).reshape(h, w, 4)
            ids = np.frombuffer(packed.ids.read(alignment=1), np.int32).reshape(h, w) - 1
            zb = np.frombuffer(packed.depth.read(alignment=1), np.float32).reshape(h, w)
        near, far = gl.backend.near, gl.backend.far
    assert np.array_equal(got["rgb"], rgba[:, :, :3])
    assert np.array_equal(got["segmentation"], ids) and len(np.unique(ids)) > 3
    depth = far * near / (far - (far - near) * zb.astype(np.float64))
    step = (far - near) * depth**2 / (far * near) / 2**24  # metres per depth-buffer step
    assert np.all(np.abs(got["depth"] - depth) <= 2 * step + 1e-6)


def test_pack_switch_reads_its_variable(monkeypatch) -> None:
    """``packs``: the argument, else ``PROASSIST_GL_PACK``, else not on a CPU rasteriser;
    a bad value is named."""
    from proassist.sim.render.gl_pack import packs

    monkeypatch.delenv("PROASSIST_GL_PACK", raising=False)
    assert packs(None, "NVIDIA H200/PCIe/SSE2") and not packs(None, "llvmpipe (LLVM 15)")
    for software in ("zink (llvmpipe (LLVM 15))", "Software Rasterizer", "Google SwiftShader"):
        assert not packs(None, software)
    assert not packs(None, "NVIDIA H200", ("rgb",))  # one kind: one read-back anyway
    assert packs(True, "llvmpipe (LLVM 15)") and not packs(False, "NVIDIA H200")
    monkeypatch.setenv("PROASSIST_GL_PACK", "1")
    assert packs(None, "llvmpipe (LLVM 15)")
    monkeypatch.setenv("PROASSIST_GL_PACK", "yes")
    with pytest.raises(ValueError, match="PROASSIST_GL_PACK='yes'"):
        packs(None, "NVIDIA H200")
    if _egl_ok():  # the renderer fails with it, its context released
        with pytest.raises(ValueError, match="PROASSIST_GL_PACK"):
            Scene(32, 32, MODES, renderer="gl")


@needs_egl
def test_only_a_gpu_context_counts_as_one(monkeypatch) -> None:
    """llvmpipe (this machine) is not a GPU driver: forked vector workers stay safe."""
    from proassist.sim.render import gl_context

    monkeypatch.setattr(gl_context, "_GPU_RENDERERS", set())
    ctx = gl_context.create_context()
    try:
        is_cpu = "llvmpipe" in str(ctx.info["GL_RENDERER"]).lower()
        assert gl_context.gpu_context_made() is (not is_cpu)
    finally:
        ctx.release()
