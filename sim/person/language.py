"""How the simulated person understands a free-text assistant utterance.

The person matches the words of the utterance to the words of each step (instruction,
id, object names) and infers the intent from keywords. Deterministic, no model. Text is
first folded to ASCII by :func:`proassist.sim.messages.fold_text` (the shared text
rules), so "café" matches "cafe" and an em dash separates words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from proassist.scenarios.model import Procedure
from proassist.sim.messages import fold_text

_WORD = re.compile(r"[a-z]+")

STOPWORDS: frozenset[str] = frozenset(
    """a an the to you your it its of and or please now then next do did does dont don
    just that this these those is are be been was were have has had i me my we us our
    with for from at by as so but if can could would should will shall need needs must
    let lets go get got also still yet very some any all one there here what which who
    forgot forget forgotten wrong instead mistake skip skipped missed again twice stop
    careful hey okay ok good great well done yes no not""".split()
)

#: Intent keywords, checked in this order (phrases match as substrings of the text).
INTENT_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "warn",
        (
            "careful",
            "danger",
            "hazard",
            "watch out",
            "still on",
            "left on",
            "turn off",
            "stop",
            "hot",
        ),
    ),
    (
        "correct_deviation",
        (
            "forgot",
            "forget",
            "skip",
            "missed",
            "wrong",
            "instead",
            "mistake",
            "not the",
            "again",
            "twice",
            "already",
            "too much",
            "too little",
            "too long",
            "too short",
            "too early",
            "redo",
            "fix",
            "more",
            "less",
            "back",
        ),
    ),
    ("re_engage", ("hey", "focus", "are you there", "continue", "come on", "let's get")),
    ("instruct_next", ("next", "then", "now", "start", "go ahead", "you can", "let's", "first")),
    (
        "confirm_done",
        ("done", "good", "great", "well done", "looks good", "correct", "perfect", "nice"),
    ),
)


def words(text: str) -> list[str]:
    """Lower-case content words of ``text`` (stop words removed, light stemming)."""
    return [stem(w) for w in _WORD.findall(fold_text(text).lower()) if w not in STOPWORDS]


def stem(word: str) -> str:
    """A crude suffix stripper so that ``fill``/``filled``/``filling`` match."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


class StepMatcher:
    """Matches utterances to the steps of one procedure (vocabularies built once)."""

    def __init__(self, procedure: Procedure) -> None:
        names = {o.id: o.name for o in procedure.objects}
        self.vocab: dict[str, frozenset[str]] = {}
        self.order: list[str] = []
        for s in procedure.steps:
            text = " ".join(
                [s.instruction, s.id.replace("_", " ")]
                + [names.get(o, o) for o in (*s.objects, *s.tools)]
            )
            self.add(s.id, text)

    def add(self, key: str, text: str) -> None:
        """Register (or replace) a matchable entry, e.g. a recovery step."""
        if key not in self.vocab:
            self.order.append(key)
        self.vocab[key] = frozenset(words(text))

    def match(self, text: str, keys: Iterable[str] | None = None) -> str | None:
        """The entry sharing the most words with ``text`` (ties: fewer words, then order).

        Args:
            text: The utterance.
            keys: Restrict to these entries (default: all).

        Returns:
            The best entry id, or ``None`` when no word is shared.
        """
        said = set(words(text))
        best: tuple[int, float, int] | None = None
        best_key = None
        allowed = self.order if keys is None else [k for k in self.order if k in set(keys)]
        for pos, key in enumerate(allowed):
            vocab = self.vocab[key]
            n = len(said & vocab)
            if n == 0:
                continue
            score = (n, n / max(1, len(vocab)), -pos)
            if best is None or score > best:
                best, best_key = score, key
        return best_key


def infer_intent(text: str) -> str | None:
    """The intent a free utterance most likely has, or ``None`` if no keyword matches."""
    low_raw = fold_text(text).lower()
    low = " " + " ".join(_WORD.findall(low_raw)) + " "
    for intent, keys in INTENT_KEYWORDS:
        for k in keys:
            if f" {k} " in low or (" " in k and k in low_raw):
                return intent
    return None


def interpret(
    text: str, matcher: StepMatcher, *, asked: bool = False, keys: Sequence[str] | None = None
) -> tuple[str | None, str | None]:
    """Intent and step id of a free utterance.

    Args:
        text: The utterance.
        matcher: The procedure's matcher.
        asked: The person asked "what next?" and has no answer yet (an instruction
            then counts as an answer).
        keys: Entries to match against (default: all).

    Returns:
        ``(intent, step)``; ``intent`` is ``None`` when nothing was understood.
    """
    step = matcher.match(text, keys)
    intent = infer_intent(text)
    if intent is None and step is not None:
        intent = "instruct_next"
    if intent == "instruct_next" and asked:
        intent = "answer_question"
    return intent, step
