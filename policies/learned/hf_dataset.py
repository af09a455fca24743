"""A collected dataset as a Hugging Face ``datasets`` dataset others can train on.

:func:`to_hf` reads a directory written by :func:`~proassist.policies.learned.collect.collect`
(``index.json``, the ``.npz`` shards, ``episodes.jsonl``) and writes a
:class:`datasets.DatasetDict` with :meth:`~datasets.DatasetDict.save_to_disk`, plus a
dataset card (``README.md``: fields, generating config, how to load); load it with
``datasets.load_from_disk(DIR)``. ``proassist collect --format hf`` runs both.

**Rows**: one per collected sample (a decision point of an episode), in collection
order within each split.

* Every per-sample array of the shards, under its shard name, generically (whatever
  the collector writes, with its dtype, :func:`array_feature`): RGB frames (``uint8``
  ``(H, W, 3)`` or ``(K, H, W, 3)``) become :class:`datasets.Image` (lossless PNG, so a
  frame round-trips bit for bit) or a fixed-length list of them; a ``(n,)`` array a
  scalar column (``<U`` strings: ``string``); any other shape nested fixed-length lists
  of its dtype. Today: ``clips`` (K images, oldest first; ``with_format("numpy")``
  gives ``uint8 (K, S, S, 3)``, ``"torch"`` ``(K, 3, S, S)``), ``feats`` (``float32``,
  named by ``feature_names`` of the collector's index, listed in the card), the
  oracle's labels ``decision, intent, offset, fix, text``, ``t`` and ``episode``.
  (Frames are images, not ``Array4D``: datasets' numpy and torch formats turn integer
  arrays into int64, 8x the memory, while images stay uint8; and PNG is smaller.)
* Derived at time ``t`` from the episode record: ``intent_name``;
  ``plan_current_step`` (decoded from the ``cur_<i>`` features: the current step of
  the assistant's own cached plan, '' for none); ``utterance`` (what the person said in
  ``(t - dt, t]``); ``dialogue`` (the assistant's messages before ``t`` and the person's
  utterances up to ``t``: ``role`` ``assistant``/``user``, ``time``, ``content``,
  ``intent``, ``step``); the gold labels of :mod:`proassist.sim.gold` (``gold_interrupt``
  and the moment's ``gold_kind, gold_intent, gold_step, gold_text``, '' when silence is
  right); the ground truth ``gt_current_step`` (the plan step the person is doing, ''
  for none), ``gt_completed_steps`` and ``active_deviations`` (visible at ``t``: onset
  ``<= t``, neither resolved nor past a missed deadline).
* Per episode (repeated on its rows): ``seed, env_id, task, domain, goal, profile,
  deviation_rate, driver, success, episode_duration``, the ``plan`` (``id,
  instruction, after, optional, safety_critical, duration_mean``) and every
  ``deviations`` event (``id, kind, step, onset, deadline, recovery_steps, scripted,
  params`` (JSON), ``resolved_t``, ``assisted``, ``missed_t``; null when absent).

**Splits** (:func:`split_of`): by episode seed, so an episode never straddles two
splits: ``h = int(sha256(f"proassist-split:{seed}")[:16 hex], 16) % 100``; ``h < 80``
train, ``h < 90`` validation, else test. A split with no episode is written empty.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "DATA_EXTRA",
    "SPLITS",
    "array_feature",
    "is_frames",
    "read_collected",
    "require_datasets",
    "split_of",
    "to_hf",
]

#: The install command named when ``datasets`` is missing.
DATA_EXTRA: str = "pip install 'proassist[data]'"
#: Split names, in order, and their share of the hash range (percent).
SPLITS: tuple[str, ...] = ("train", "validation", "test")
SPLIT_EDGES: tuple[int, ...] = (80, 90, 100)
#: The dataset card's file name.
CARD = "README.md"


def require_datasets(feature: str = "the Hugging Face dataset export") -> ModuleType:
    """Import ``datasets``, or fail with a message naming the extra.

    Raises:
        ImportError: "``feature`` needs the Hugging Face ``datasets`` library: pip
            install 'proassist[data]'".
    """
    try:
        return importlib.import_module("datasets")
    except ImportError as err:
        raise ImportError(
            f"{feature} needs the Hugging Face 'datasets' library: {DATA_EXTRA}"
        ) from err


def split_of(seed: int) -> str:
    """The split of an episode seed (module docstring): deterministic, ~80/10/10."""
    digest = hashlib.sha256(f"proassist-split:{int(seed)}".encode()).hexdigest()
    h = int(digest[:16], 16) % 100
    return next(name for name, edge in zip(SPLITS, SPLIT_EDGES, strict=True) if h < edge)


def read_collected(src: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(index, records)`` of a collected directory (``index.json``, ``episodes.jsonl``).

    Raises:
        FileNotFoundError: When either file is missing.
    """
    root = Path(src)
    for name in ("index.json", "episodes.jsonl"):
        if not (root / name).is_file():
            raise FileNotFoundError(f"{root / name} not found: expected a proassist collect dir")
    index = json.loads((root / "index.json").read_text())
    lines = (root / "episodes.jsonl").read_text(encoding="utf-8").splitlines()
    return index, [json.loads(line) for line in lines if line.strip()]


def _shards(root: Path, index: Mapping[str, Any]) -> Iterator[dict[str, np.ndarray]]:
    for shard in index.get("shards", []):
        with np.load(root / shard["file"]) as data:
            yield {key: data[key] for key in data.files}


def is_frames(dtype: np.dtype, shape: tuple[int, ...]) -> bool:
    """Whether a per-sample array is RGB frames: uint8 ``(H, W, 3)`` or ``(K, H, W, 3)``."""
    return np.dtype(dtype) == np.uint8 and len(shape) in (3, 4) and shape[-1] == 3


def array_feature(dtype: np.dtype, shape: tuple[int, ...]) -> Any:
    """The ``datasets`` feature of a per-sample array of ``dtype`` and ``shape``.

    RGB frames (:func:`is_frames`) become ``Image`` (lossless PNG) or a list of them;
    any other array a scalar ``Value`` or nested fixed-length ``List`` of its dtype
    (``<U``/``S`` strings: ``string``).
    """
    ds = require_datasets()
    if is_frames(dtype, shape):
        return ds.Image() if len(shape) == 3 else ds.List(ds.Image(), length=int(shape[0]))
    feature = ds.Value("string" if np.dtype(dtype).kind in "US" else np.dtype(dtype).name)
    for n in reversed(shape):
        feature = ds.List(feature, length=int(n))
    return feature


def _png(frame: np.ndarray) -> dict[str, Any]:
    """One RGB frame as the ``Image`` feature's stored form (PNG bytes)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(frame)).save(buf, format="PNG")
    return {"bytes": buf.getvalue(), "path": None}


def _cell(value: np.ndarray) -> Any:
    """One sample's value of a shard array, as stored (frames as PNG, arrays as lists)."""
    if not isinstance(value, np.ndarray) or value.ndim == 0:
        return value.item() if hasattr(value, "item") else value
    if is_frames(value.dtype, value.shape):
        return _png(value) if value.ndim == 3 else [_png(f) for f in value]
    return value.tolist()


def _shard_schema(root: Path, index: Mapping[str, Any]) -> dict[str, tuple[np.dtype, tuple]]:
    """Name -> (dtype, per-sample shape) of the shard arrays (from the first shard)."""
    for arrays in _shards(root, index):
        return {k: (v.dtype, tuple(v.shape[1:])) for k, v in arrays.items()}
    from proassist.policies.learned.dataset import ARRAYS

    k, s, f = (int(index[key]) for key in ("clip_len", "frame_size", "feature_dim"))
    shapes = {"clips": (k, s, s, 3), "feats": (f,)}
    return {name: (np.dtype(dt), shapes.get(name, ())) for name, dt in ARRAYS.items()}


def _features(schema: Mapping[str, tuple[np.dtype, tuple]]) -> Any:
    """The dataset's ``Features``: the shard arrays, then the derived columns."""
    from proassist.policies.learned.hf_columns import derived_features

    ds = require_datasets()
    columns = {name: array_feature(dt, shape) for name, (dt, shape) in schema.items()}
    return ds.Features(columns | derived_features(ds))


def _rows(src: str, split: str) -> Iterator[dict[str, Any]]:
    """The rows of ``split`` (the ``from_generator`` generator)."""
    from proassist.policies.learned.hf_columns import EpisodeColumns

    root = Path(src)
    index, records = read_collected(root)
    names = list(index.get("feature_names") or _default_names())
    episodes: dict[int, EpisodeColumns] = {}
    for arrays in _shards(root, index):
        for i in range(len(arrays["episode"])):
            ep = int(arrays["episode"][i])
            record = records[ep]
            if split_of(record["seed"]) != split:
                continue
            if ep not in episodes:
                episodes[ep] = EpisodeColumns(record, names)
            row = {k: _cell(v[i]) for k, v in arrays.items()}
            yield row | episodes[ep].at(float(arrays["t"][i]), arrays["feats"][i], row)


def _default_names() -> tuple[str, ...]:
    from proassist.policies.learned.features import FEATURE_NAMES

    return FEATURE_NAMES


def to_hf(
    src: str | Path,
    dst: str | Path,
    config: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the collected directory ``src`` as a ``DatasetDict`` at ``dst`` (+ card).

    Args:
        src: A ``proassist collect`` directory.
        dst: The dataset folder (created; may be ``src`` itself: nothing is removed).
        config: The generating configuration (e.g. the collect arguments) for the card.
        provenance: Package version, git commit... for the card (default: the version).

    Returns:
        ``{"dir", "rows": {split: n}, "episodes": {split: n}, "bytes"}``.

    Raises:
        FileNotFoundError: ``src`` is not a collected directory.
        ImportError: ``datasets`` is not installed (names the extra).
    """
    import tempfile

    ds = require_datasets()
    index, records = read_collected(src)
    features = _features(_shard_schema(Path(src), index))
    counts = _split_rows(Path(src), index, records)
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".hf-cache-", dir=dst) as cache:
        splits = {name: _split(ds, src, name, features, cache, counts[name]) for name in SPLITS}
        # one shard per split at least: an empty split saved without one does not load
        ds.DatasetDict(splits).save_to_disk(str(dst), num_shards=_shard_counts(counts))
    summary = _summary(dst, counts, records)
    from proassist.policies.learned.hf_card import write_card

    write_card(dst, index, records, summary, features, dict(config or {}), provenance)
    return summary


def _split_rows(
    root: Path, index: Mapping[str, Any], records: Sequence[Mapping[str, Any]]
) -> dict[str, int]:
    """Rows per split (from the shards' ``episode`` arrays only)."""
    counts = dict.fromkeys(SPLITS, 0)
    for shard in index.get("shards", []):
        with np.load(root / shard["file"]) as data:
            episodes, n = np.unique(data["episode"], return_counts=True)
        for ep, k in zip(episodes, n, strict=True):
            counts[split_of(records[int(ep)]["seed"])] += int(k)
    return counts


def _shard_counts(rows: Mapping[str, int], per_shard: int = 20_000) -> dict[str, int]:
    """Arrow files per split: one per ``per_shard`` rows, at least one."""
    return {name: max(1, -(-n // per_shard)) for name, n in rows.items()}


def _split(ds: ModuleType, src: str | Path, name: str, features: Any, cache: str, n: int) -> Any:
    """One split's ``Dataset`` (built in ``cache``; an empty one when ``n == 0``)."""
    if n == 0:
        empty = {key: [] for key in features}
        return ds.Dataset.from_dict(empty, features=features, split=ds.NamedSplit(name))
    return ds.Dataset.from_generator(
        _rows,
        features=features,
        cache_dir=cache,
        gen_kwargs={"src": str(src), "split": name},
        split=ds.NamedSplit(name),
        fingerprint=hashlib.sha256(f"{Path(src).resolve()}:{name}".encode()).hexdigest(),
    )


def _summary(dst: Path, rows: Mapping[str, int], records: Sequence[Mapping]) -> dict[str, Any]:
    episodes = dict.fromkeys(SPLITS, 0)
    for record in records:
        episodes[split_of(record["seed"])] += 1
    files = [p for name in SPLITS for p in (dst / name).rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files) + (dst / "dataset_dict.json").stat().st_size
    return {"dir": str(dst), "rows": dict(rows), "episodes": episodes, "bytes": size}
