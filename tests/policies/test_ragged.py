"""Training points stored flat: a minibatch is the padded tensor's rows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proassist.policies.learned.ragged import RaggedPoints


def _padded(xs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The one big zero-padded tensor and mask the recogniser's training used to build."""
    m = max(len(x) for x in xs)
    feats = np.zeros((len(xs), m, xs[0].shape[1]), np.float32)
    mask = np.zeros((len(xs), m), bool)
    for i, x in enumerate(xs):
        feats[i, : len(x)], mask[i, : len(x)] = x, True
    return feats, mask


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=30),
    st.integers(0, 2**31 - 1),
)
def test_a_batch_is_the_padded_tensors_rows(counts: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    xs = [rng.normal(size=(k, 3)).astype(np.float32) for k in counts]
    points = RaggedPoints(sum(counts) + 2, len(counts) + 1, 3)
    points.extend(xs[: len(xs) // 2])
    points.extend(xs[len(xs) // 2 :])  # in two goes, as DAgger rounds add theirs
    feats, mask = _padded(xs)
    assert len(points) == len(xs) and points.widest() == feats.shape[1]
    idx = rng.permutation(len(xs))[: max(1, len(xs) // 2)]
    got_feats, got_mask = points.batch(idx, points.widest())
    np.testing.assert_array_equal(got_feats, feats[idx])
    np.testing.assert_array_equal(got_mask, mask[idx])


def test_capacity_is_enforced_and_empty_is_zero_wide() -> None:
    points = RaggedPoints(rows=4, points=3, width=2)
    assert points.widest() == 0
    points.extend([np.ones((2, 2)), np.ones((2, 2))])
    with pytest.raises(ValueError, match="full"):
        points.extend([np.ones((1, 2))])
    with pytest.raises(ValueError, match="full"):
        RaggedPoints(rows=10, points=1, width=2).extend([np.ones((1, 2))] * 2)
