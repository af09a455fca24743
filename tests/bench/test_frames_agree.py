"""Comparing two frame dumps (``python -m bench.frames_agree compare``)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from bench import frames_agree


def _dump(path: Path, seg: np.ndarray, depth: float = 1.0) -> str:
    frames = seg[None]
    rgb = np.zeros((*frames.shape, 3), np.uint8)
    np.savez(path, rgb=rgb, depth=np.full(frames.shape, depth, np.float32), segmentation=frames)
    return str(path)


def test_identical_dumps_agree_fully_and_a_shifted_id_does_not(tmp_path: Path) -> None:
    seg = np.zeros((16, 16), np.int32)
    seg[4:10, 4:10] = 5
    a = _dump(tmp_path / "a.npz", seg)
    same = frames_agree.compare(a, a)
    assert same["segmentation pixels agreeing"] == 1.0
    assert same["IoU min"] == 1.0 and same["depth median abs error (m)"] == 0.0
    shifted = _dump(tmp_path / "b.npz", np.roll(seg, 3, axis=1), depth=1.5)
    moved = frames_agree.compare(a, shifted)
    assert moved["IoU min"] == pytest.approx(18 / 54)  # 6x3 overlap, 6x9 union
    assert moved["depth median abs error (m)"] == pytest.approx(0.5)


def test_empty_frames_give_nan_not_an_error(tmp_path: Path) -> None:
    empty = _dump(tmp_path / "e.npz", np.full((8, 8), -1, np.int32))
    out = frames_agree.compare(empty, empty)
    assert out["ids (>= 20 px)"] == 1.0  # the background (-1) is an id too
    assert math.isnan(out["depth median abs error (m)"])


def test_different_shapes_are_refused(tmp_path: Path) -> None:
    a = _dump(tmp_path / "a.npz", np.zeros((8, 8), np.int32))
    b = _dump(tmp_path / "b.npz", np.zeros((4, 4), np.int32))
    with pytest.raises(ValueError, match="differ in shape"):
        frames_agree.compare(a, b)
