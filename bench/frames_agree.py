"""Do two machines (or renderers) draw the same frames? Dump a fixed episode, compare dumps.

Usage::

    python -m bench.frames_agree dump cpu.npz            # gl (llvmpipe here)
    python -m bench.frames_agree dump gpu.npz gl         # on the GPU machine
    python -m bench.frames_agree compare cpu.npz gpu.npz

``dump`` steps ``ProAssist-Kitchen-v0`` (kitchen_tea, seed 3, silent, 128 px) 90 times
and keeps every third rgb, depth and segmentation frame; it prints the device and a
hash of the frames (equal hashes: bit-identical). ``compare`` prints the share of
pixels whose segmentation id agrees, the IoU of every id with at least 20 pixels in
the first dump, the depth error where both see a body, and the mean rgb difference.
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np

from bench.bench_gl import SILENT, _make_env
from proassist.sim.render.scene import MODES


def dump(path: str, renderer: str = "gl", steps: int = 90) -> str:
    """Write every third frame of a fixed silent episode to ``path``; return their hash."""
    env = _make_env(renderer)  # kitchen_tea, 128 px, rgb+depth+segmentation
    env.reset(seed=3)
    keep: dict[str, list[np.ndarray]] = {k: [] for k in MODES}
    for i in range(steps):
        obs, *_ = env.step(SILENT)
        if i % 3 == 0:
            for k in MODES:
                keep[k].append(np.asarray(obs[k]))
    backend = env.unwrapped._scene.backend
    print("device:", getattr(backend, "info", type(backend).__name__))
    env.close()
    arrays = {k: np.stack(v) for k, v in keep.items()}
    np.savez_compressed(path, **arrays)
    return hashlib.sha1(b"".join(arrays[k].tobytes() for k in MODES)).hexdigest()


def _ious(a: np.ndarray, b: np.ndarray, min_pixels: int = 20) -> np.ndarray:
    out = []
    for fa, fb in zip(a, b, strict=True):
        for i in np.unique(fa):
            mine, theirs = fa == i, fb == i
            if mine.sum() >= min_pixels:
                out.append((mine & theirs).sum() / (mine | theirs).sum())
    return np.asarray(out)


def compare(path_a: str, path_b: str) -> dict[str, float]:
    """Agreement of two dumps (see the module docstring); NaN where nothing to compare.

    Raises:
        ValueError: The dumps hold frames of different shapes.
    """
    a, b = np.load(path_a), np.load(path_b)
    sa, sb = a["segmentation"], b["segmentation"]
    if sa.shape != sb.shape:
        raise ValueError(f"frames differ in shape: {sa.shape} against {sb.shape}")
    ious = _ious(sa, sb)
    both = (sa >= 0) & (sb >= 0)
    depth_err = np.abs(a["depth"] - b["depth"])[both]
    rgb = np.abs(a["rgb"].astype(np.int16) - b["rgb"].astype(np.int16))
    nan = float("nan")
    return {
        "segmentation pixels agreeing": float((sa == sb).mean()),
        "ids (>= 20 px)": float(len(ious)),
        "IoU min": float(ious.min()) if len(ious) else nan,
        "IoU median": float(np.median(ious)) if len(ious) else nan,
        "depth median abs error (m)": float(np.median(depth_err)) if depth_err.size else nan,
        "depth p99 abs error (m)": float(np.percentile(depth_err, 99)) if depth_err.size else nan,
        "rgb mean abs difference (0-255)": float(rgb.mean()),
    }


def main(argv: list[str]) -> int:
    """``dump PATH [RENDERER]`` or ``compare A B``."""
    if len(argv) >= 2 and argv[0] == "dump":
        print("hash:", dump(argv[1], *argv[2:3]))
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        for name, value in compare(argv[1], argv[2]).items():
            print(f"{name}: {value:.6g}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
