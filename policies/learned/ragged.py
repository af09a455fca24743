"""Training points of varying width stored flat, padded only a minibatch at a time."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["RaggedPoints"]


class RaggedPoints:
    """Points of ``(candidates, width)`` features in one preallocated float32 array.

    The step recogniser has one feature row per candidate (a plan's steps, then
    *none*), so a point's row count depends on its task. Padding every point to the
    widest task as one tensor holds mostly zeros, and with the per-point arrays beside
    it twice the data (13.3 GB at the committed recipe). Here the rows of every point
    follow each other in one array; :meth:`batch` pads only the points of a minibatch,
    to the same width and with the same zeros as the one big tensor had, so training on
    it gives the same numbers.

    Args:
        rows: Capacity in feature rows (all points' candidates together).
        points: Capacity in points.
        width: Features per row.
    """

    def __init__(self, rows: int, points: int, width: int) -> None:
        self.flat = np.zeros((rows, width), np.float32)
        self.start = np.zeros(points, np.int64)
        self.count = np.zeros(points, np.int64)
        self.n = self.used = 0

    def __len__(self) -> int:
        return self.n

    def extend(self, xs: Iterable[np.ndarray]) -> None:
        """Append points (each a ``(candidates, width)`` array).

        Raises:
            ValueError: More points or rows than the capacity.
        """
        for x in xs:
            k = len(x)
            if self.n >= len(self.start) or self.used + k > len(self.flat):
                raise ValueError(
                    f"RaggedPoints: full ({len(self.start)} points, {len(self.flat)} rows)"
                )
            self.flat[self.used : self.used + k] = x
            self.start[self.n], self.count[self.n] = self.used, k
            self.used, self.n = self.used + k, self.n + 1

    def widest(self) -> int:
        """The most candidates of any point held (0 when empty)."""
        return int(self.count[: self.n].max()) if self.n else 0

    def batch(self, idx: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Features ``(len(idx), width, row width)`` of points ``idx``, zero-padded,
        and the mask of their real candidates ``(len(idx), width)``."""
        idx = np.asarray(idx, dtype=np.int64)
        counts = self.count[idx]
        which = np.repeat(np.arange(len(idx)), counts)
        within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        feats = np.zeros((len(idx), width, self.flat.shape[1]), np.float32)
        mask = np.zeros((len(idx), width), bool)
        feats[which, within] = self.flat[np.repeat(self.start[idx], counts) + within]
        mask[which, within] = True
        return feats, mask
