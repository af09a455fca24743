"""The interaction-model dataset: ``.npz`` shards + a JSON index, and PWR's sampling recipe.

Layout of a dataset directory::

    index.json        {"version": 1, "clip_len": K, "frame_size": S, "feature_dim": F,
                       "feature_names": [...], "n_samples": N,
                       "shards": [{"file": "shard_00000.npz", "n": n}, ...], "meta": {...}}
    shard_00000.npz   clips uint8 (n, K, S, S, 3), feats float32 (n, F),
                      decision int8 (0 silent, 1 interrupt), intent int8 (INTENTS index,
                      -1 when silent), offset int8 (step offset + MAX_OFFSET, -1 when
                      silent or out of range), fix int8 (0/1, -1 when silent),
                      t float32 (sim seconds), episode int32, text <U256 (utterance)

:class:`InteractionDataset` is map-style (``len``, ``[i]``), so a torch ``DataLoader``
can wrap it; training here batches the in-memory arrays directly. The recipe
(:func:`recipe_indices`): all interrupt samples, silent samples at least
``min_gap_s`` from any interrupt of the same episode, drawn to interrupt:silent ≈
``ratio``; the interrupt loss weight (2×) is applied by the trainer. numpy only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proassist.policies.learned.features import input_names

__all__ = [
    "ARRAYS",
    "DatasetWriter",
    "InteractionDataset",
    "eligible_silent",
    "labels_of",
    "recipe_indices",
]

INDEX = "index.json"
#: Arrays of every shard and their dtypes.
ARRAYS: dict[str, str] = {
    "clips": "uint8",
    "feats": "float32",
    "decision": "int8",
    "intent": "int8",
    "offset": "int8",
    "fix": "int8",
    "t": "float32",
    "episode": "int32",
    "text": "<U256",
}


class DatasetWriter:
    """Writes samples into shards and the index.

    Args:
        out_dir: Dataset directory (created).
        clip_len: Frames per clip (K).
        frame_size: Frame side (S).
        shard_size: Samples per shard.
        meta: Free JSON-serialisable metadata stored in the index (e.g. the command).
        percepts: The feature vectors carry the percept features after the plan
            features (:func:`~proassist.policies.learned.features.input_names`).
    """

    def __init__(
        self,
        out_dir: str | Path,
        clip_len: int,
        frame_size: int,
        shard_size: int = 2048,
        meta: dict[str, Any] | None = None,
        percepts: bool = False,
    ) -> None:
        self.dir = Path(out_dir)
        self.feature_names = input_names(percepts)
        self.percepts = percepts
        self.dir.mkdir(parents=True, exist_ok=True)
        self.clip_len, self.frame_size, self.shard_size = clip_len, frame_size, shard_size
        self.meta = meta or {}
        self.shards: list[dict[str, Any]] = []
        self._buf: dict[str, list] = {k: [] for k in ARRAYS}

    def add(self, clip: np.ndarray, feats: np.ndarray, labels: dict[str, Any]) -> None:
        """Add one sample.

        Args:
            clip: ``(K, S, S, 3)`` uint8.
            feats: ``(F,)`` plan features (then percepts, when the writer has them).
            labels: ``decision``, ``t``, ``episode`` and, for interrupts, ``intent``,
                ``offset`` (already shifted to ``0..2*MAX_OFFSET`` or -1), ``fix``,
                ``text``.
        """
        shape = (self.clip_len, self.frame_size, self.frame_size, 3)
        if clip.shape != shape or clip.dtype != np.uint8:
            raise ValueError(f"clip must be uint8 {shape}, got {clip.dtype} {clip.shape}")
        dim = len(self.feature_names)
        if feats.shape != (dim,):
            raise ValueError(f"feats must have shape ({dim},), got {feats.shape}")
        for key in ("decision", "t", "episode"):
            if key not in labels:
                raise ValueError(f"labels need {key!r}")
        silent = int(labels["decision"]) == 0
        self._buf["clips"].append(clip)
        self._buf["feats"].append(feats)
        for key in ("decision", "t", "episode"):
            self._buf[key].append(labels[key])
        for key in ("intent", "offset", "fix"):
            self._buf[key].append(-1 if silent else labels.get(key, -1))
        self._buf["text"].append("" if silent else str(labels.get("text", ""))[:256])
        if len(self._buf["clips"]) >= self.shard_size:
            self._flush()

    def _flush(self) -> None:
        n = len(self._buf["clips"])
        if n == 0:
            return
        name = f"shard_{len(self.shards):05d}.npz"
        arrays = {k: np.asarray(v, dtype=ARRAYS[k]) for k, v in self._buf.items()}
        np.savez_compressed(self.dir / name, **arrays)
        self.shards.append({"file": name, "n": n})
        self._buf = {k: [] for k in ARRAYS}

    def close(self) -> Path:
        """Flush and write ``index.json``; returns the dataset directory."""
        self._flush()
        index = {
            "version": 1,
            "clip_len": self.clip_len,
            "frame_size": self.frame_size,
            "feature_dim": len(self.feature_names),
            "feature_names": list(self.feature_names),
            "percepts": self.percepts,
            "n_samples": sum(s["n"] for s in self.shards),
            "shards": self.shards,
            "meta": self.meta,
        }
        (self.dir / INDEX).write_text(json.dumps(index, indent=1))
        return self.dir


def labels_of(index: dict[str, Any]) -> str:
    """The ``labels`` a dataset was collected with (``"oracle"`` for older datasets)."""
    return str(((index.get("meta") or {}).get("options") or {}).get("labels", "oracle"))


class InteractionDataset:
    """All shards of one or more dataset directories, loaded into memory.

    Several directories are concatenated (DAgger aggregates the rounds' datasets);
    their episode numbers are shifted so episodes stay distinct.

    Args:
        root: A dataset directory holding ``index.json``, or a sequence of them.

    Raises:
        FileNotFoundError: When an ``index.json`` is missing.
        ValueError: When the features are not this code's (``input_names``), or the
            directories differ in clip length, frame size or features.
    """

    def __init__(self, root: str | Path | Sequence[str | Path]) -> None:
        roots = [Path(root)] if isinstance(root, (str, Path)) else [Path(r) for r in root]
        if not roots:
            raise ValueError("no dataset directory given")
        self.root, self.roots = roots[0], roots
        self.index = _read_index(roots[0])
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ARRAYS}
        offset = 0
        for r in roots:
            index = _read_index(r)
            keys = ("clip_len", "frame_size", "feature_names")
            if [index[k] for k in keys] != [self.index[k] for k in keys]:
                raise ValueError(f"{r}: clip_len/frame_size/features differ from {roots[0]}")
            if labels_of(index) != labels_of(self.index):
                raise ValueError(
                    f"{r}: labels {labels_of(index)!r} differ from {roots[0]}'s "
                    f"{labels_of(self.index)!r} (collect --labels); train on one kind"
                )
            offset = _load_shards(r, index, parts, offset)
        self.arrays = {
            k: np.concatenate(v) if v else np.zeros((0,), dtype=ARRAYS[k]) for k, v in parts.items()
        }
        self.clip_len = int(self.index["clip_len"])
        self.frame_size = int(self.index["frame_size"])
        #: Whether the features carry the percepts.
        self.percepts = bool(self.index.get("percepts", False))
        #: Where the labels come from (``collect --labels``): ``"oracle"`` or ``"deviations"``.
        self.labels = labels_of(self.index)

    def __len__(self) -> int:
        return int(self.arrays["decision"].shape[0])

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {k: v[i] for k, v in self.arrays.items()}

    def subset(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        """The arrays at ``indices``."""
        return {k: v[indices] for k, v in self.arrays.items()}


def _read_index(root: Path) -> dict[str, Any]:
    path = root / INDEX
    if not path.is_file():
        raise FileNotFoundError(f"no {INDEX} in {root} (write one with DatasetWriter)")
    index = json.loads(path.read_text())
    names = index.get("feature_names")
    if names not in (list(input_names(False)), list(input_names(True))):
        raise ValueError(f"{path}: feature_names differ from this code's input_names()")
    return index


def _load_shards(root: Path, index: dict, parts: dict[str, list], offset: int) -> int:
    """Append ``root``'s shards to ``parts`` (episodes shifted by ``offset``); next offset."""
    top = offset - 1
    for shard in index["shards"]:
        with np.load(root / shard["file"]) as data:
            for key in ARRAYS:
                arr = data[key] + offset if key == "episode" else data[key]
                parts[key].append(arr)
                if key == "episode" and arr.size:
                    top = max(top, int(arr.max()))
    return top + 1


def eligible_silent(
    decision: np.ndarray, t: np.ndarray, episode: np.ndarray, min_gap_s: float
) -> np.ndarray:
    """Boolean mask of silent samples at least ``min_gap_s`` from every interrupt of
    their episode."""
    decision, t, episode = (
        np.asarray(decision),
        np.asarray(t, dtype=np.float64),
        np.asarray(episode),
    )
    mask = decision == 0
    for ep in np.unique(episode):
        in_ep = episode == ep
        hits = np.sort(t[in_ep & (decision == 1)])
        if hits.size == 0:
            continue
        times = t[in_ep]
        pos = np.searchsorted(hits, times)
        before = np.abs(times - hits[np.clip(pos - 1, 0, hits.size - 1)])
        after = np.abs(hits[np.clip(pos, 0, hits.size - 1)] - times)
        near = np.minimum(before, after) < min_gap_s
        mask[np.flatnonzero(in_ep)[near]] = False
    return mask


def recipe_indices(
    decision: np.ndarray,
    t: np.ndarray,
    episode: np.ndarray,
    rng: np.random.Generator,
    ratio: float = 1.0,
    min_gap_s: float = 3.0,
) -> np.ndarray:
    """One epoch of PWR's recipe, shuffled: every interrupt sample and
    ``round(n_interrupt / ratio)`` silent samples (fewer if not enough are eligible)
    drawn without replacement from those at least ``min_gap_s`` from any interrupt.

    Args:
        decision: 0/1 per sample.
        t: Sample times (seconds).
        episode: Episode id per sample.
        rng: The generator for the draws and the shuffle.
        ratio: Target interrupt:silent ratio (> 0).
        min_gap_s: Exclusion radius around interrupts, seconds.
    """
    if ratio <= 0:
        raise ValueError(f"ratio must be > 0, got {ratio}")
    positives = np.flatnonzero(np.asarray(decision) == 1)
    silent = np.flatnonzero(eligible_silent(decision, t, episode, min_gap_s))
    n_silent = min(silent.size, int(round(positives.size / ratio)))
    if positives.size == 0:
        n_silent = silent.size
    chosen = rng.choice(silent, size=n_silent, replace=False) if n_silent else silent[:0]
    return rng.permutation(np.concatenate([positives, chosen]))
