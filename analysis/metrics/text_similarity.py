"""Semantic similarity of free-text utterances with all-MiniLM-L6-v2, fully offline.

The model and its embedding cache live at the lowest layer that needs them,
:mod:`proassist.sim.person.embedding` (the simulated person understands free text
with it); this module re-exports :func:`embed`, :func:`cosine` and
:func:`model_path` from there and defines the metrics' content score.

Content score of a free-text utterance (used by PQS, time matching and STS):
``g = max(0, cos(embed(pred), embed(gold)))`` in [0, 1]: unrelated or opposite
sentences score 0, identical ones 1.
"""

from __future__ import annotations

from collections.abc import Callable

from proassist.sim.person.embedding import cosine, embed, model_path

__all__ = ["TextSim", "cosine", "embed", "model_path", "text_score"]

#: Signature of a text-similarity function: (prediction, reference) -> [0, 1].
TextSim = Callable[[str, str], float]


def text_score(pred: str, gold: str) -> float:
    """Free-text content score ``max(0, cos)`` in [0, 1] (0 when either is empty)."""
    if not pred.strip() or not gold.strip():
        return 0.0
    return min(1.0, max(0.0, cosine(pred, gold)))
