"""How the simulated person understands a free-text assistant utterance.

Two backends, chosen by :func:`backend` (deterministic: the same text, the same steps
and the same backend always give the same understanding):

- ``"minilm"`` (default when the ``[hf]`` extra is installed): semantic similarity
  with all-MiniLM-L6-v2 (:mod:`proassist.sim.person.embedding`, offline, loaded on the
  first free utterance, embeddings cached per process; structured messages never load
  it). **Step**: the entry (plan or recovery step) maximising
  ``cos(content words, instruction) + LEXICAL_WEIGHT * overlap`` (``overlap``: the
  IDF-weighted cosine of the two sets of content words), when that score is at least
  :data:`STEP_THRESHOLD`; else none. **Intent**: the nearest of a few prototype
  sentences per intent (:data:`INTENT_PROTOTYPES`, negations included: "don't X yet",
  "you forgot to X", "stop, wrong one"), filled in with the matched step's instruction
  so that only the framing differs; the head of a ``"head: body"`` utterance (the
  shape of the project's own templates, "Wait, that is not right: ...") is read first,
  against the prototypes with no step. The prototypes of the intent the keyword cues
  give get :data:`CUE_BONUS`; below :data:`INTENT_THRESHOLD` the cues decide.
  ``answer_question`` needs the person to have asked or an explicit answer phrase.
- ``"keywords"`` (the documented fallback when ``sentence_transformers`` cannot be
  imported): **step** = the entry sharing the most content words (stop words removed,
  light stemming); **intent** = the first family of cue patterns
  (:data:`INTENT_CUES`) found in the head of a ``"head: body"`` utterance, else in the
  *frame* (the utterance without the matched step's content words, so that "hot" in
  "Next: pour the hot water" is no warning).

Both: a matched step with no recognisable intent is an instruction (``instruct_next``),
which becomes ``answer_question`` when the person has just asked "what next?"; no step
and no intent is not understood (``None``). The environment variable
``PROASSIST_LANGUAGE`` (``auto``, ``minilm`` or ``keywords``) forces a backend.

Accuracy on the shipped paraphrase set (``paraphrases.yaml``: 227 utterances, six
tasks, every intent, the project's templates, negations), printed by
``tests/sim/test_language.py`` (intent / step / both): MiniLM 0.987 / 0.921 / 0.907;
keywords 0.996 / 0.868 / 0.868. Cached, an utterance is understood in under a
millisecond; the first free utterance loads the model (seconds) and a new step costs
one batch of prototype embeddings. Text is first folded to ASCII by
:func:`proassist.sim.messages.fold_text` (the shared text rules).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

from proassist.sim.messages import fold_text
from proassist.sim.person import embedding

_WORD = re.compile(r"[a-z0-9]+")
_INTERJECTION = re.compile(r"\b(wait|hold on|hang on|stop|hey|oops|hello)\s*[,:;!.?-]")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9']")

#: Environment variable forcing a backend (``auto``, ``minilm``, ``keywords``).
BACKEND_ENV: str = "PROASSIST_LANGUAGE"
#: Least step score (cosine + lexical bonus) for a step to be understood (MiniLM).
STEP_THRESHOLD: float = 0.5
#: Weight of the content-word overlap added to the cosine of step matching (MiniLM).
LEXICAL_WEIGHT: float = 0.8
#: Least cosine between the frame and an intent prototype (MiniLM).
INTENT_THRESHOLD: float = 0.45
#: Least cosine for the head of a "head: body" utterance to decide the intent (MiniLM).
HEAD_THRESHOLD: float = 0.5
#: Added to the cosine of the prototypes of the intent the keyword cues give (MiniLM).
CUE_BONUS: float = 0.1

STOPWORDS: frozenset[str] = frozenset(
    """a an the to you your it its of and or please now then next do did does dont don
    just that this these those is are be been was were have has had i me my we us our
    with for from at by as so but if can could would should will shall need needs must
    let lets go get got also still yet very some any all one there here what which who
    forgot forget forgotten wrong instead mistake skip skipped missed again twice stop
    careful hey okay ok good great well done yes no not""".split()
)

#: Prototype templates per intent (MiniLM backend); ``{s}`` is the matched step's
#: instruction (lower-cased first letter, no final period), ``{S}`` the instruction as
#: written; with no step matched, ``{s}`` and ``{S}`` read "that".
INTENT_PROTOTYPES: dict[str, tuple[str, ...]] = {
    "instruct_next": (
        "{S}.",
        "Next, {s}.",
        "Now {s}.",
        "Go ahead and {s}.",
        "Then {s}.",
        "Don't forget to {s}.",
    ),
    "correct_deviation": (
        "Wait, that is not right: {s}.",
        "You forgot to {s}.",
        "You skipped a step: {s}.",
        "You missed this: {s}.",
        "You didn't {s}.",
        "Don't {s} yet.",
        "Stop, wrong one: {s}.",
        "That's the wrong one, use the other one instead: {s}.",
        "That's too much, it should be less: {s}.",
        "You already did this: {s}.",
        "That was a mistake: {s}.",
    ),
    "confirm_done": (
        "Well done, that step is complete: {s}.",
        "Great, that's done: {s}.",
        "Looks good, you did it: {s}.",
        "Perfect, that's right: {s}.",
    ),
    "warn": (
        "Careful: {s}.",
        "Watch out, that's dangerous: {s}.",
        "Danger, it is still on: {s}.",
        "Be careful, that is a hazard: {s}.",
    ),
    "answer_question": ("To answer you: {s}.", "You asked what is next: {s}."),
    "re_engage": (
        "Let's get back to it: {s}.",
        "Hey, are you still with me? {S}.",
        "Focus, let's continue: {s}.",
        "Back to the task: {s}.",
        "Come on, let's keep going: {s}.",
    ),
}

_R = re.compile
#: Cue patterns per intent for the keyword backend, checked in this order on the frame.
INTENT_CUES: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...] = (
    ("answer_question", (_R(r"\bto answer\b"), _R(r"\byou asked\b"), _R(r"\bquestion\b"))),
    (
        "re_engage",
        (
            _R(r"\b(get|come|go) back\b"),
            _R(r"\bback to (it|the task|work)\b"),
            _R(r"\b(are you|you) (still )?(there|with me)\b"),
            _R(r"\bstill (there|with me)\b"),
            _R(r"\b(focus|hey|hello|continue|attention)\b"),
            _R(r"\bcome on\b"),
            _R(r"\blet's (finish|keep)\b"),
        ),
    ),
    ("instruct_next", (_R(r"\bdon'?t forget\b"), _R(r"\bremember to\b"))),
    (
        "warn",
        (
            _R(r"\bcareful"),
            _R(r"\bwatch out\b"),
            _R(r"\b(danger|hazard|fire|safety)"),
            _R(r"\bmind (your|the)\b"),
            _R(r"\bstill (on|plugged|open|unlocked|released|hot|running)\b"),
            _R(r"\bleft (it |the \w+ )?on\b"),
        ),
    ),
    (
        "correct_deviation",
        (
            _R(r"\b(not right|wrong|mistake|instead|oops|redo|undo|twice|already|only)\b"),
            _R(r"\b(forg[eo]t|skip|miss)"),
            _R(r"\b(didn|haven|hasn|aren|isn|wasn|won)'?t\b"),
            _R(r"\bdon'?t\b.*\byet\b"),
            _R(r"\bnot (yet|done|that|the|this|enough)\b"),
            _R(r"\btoo (much|little|many|few|early|late|long|short|high|low|soon)\b"),
            _R(r"\bwait [,:!-]"),
            _R(r"\b(hold on|stop|should be|should have)\b"),
            _R(r"^ ?no\b"),
            _R(r"\b(that's|those are|these are) (a|an|the|[0-9]+)\b"),
        ),
    ),
    (
        "confirm_done",
        (
            _R(r"\b(well|nicely) done\b"),
            _R(r"\b(good|great|nice|perfect|exactly|complete|done|excellent|yes)\b"),
            _R(r"\bcorrect\b(?! the)"),
            _R(r"\bthat'?s right\b"),
        ),
    ),
    ("instruct_next", (_R(r"\b(next|now|then|first|start|let's)\b"), _R(r"\bgo ahead\b"))),
)


def backend() -> str:
    """The understanding backend in use: ``"minilm"`` or ``"keywords"``.

    ``PROASSIST_LANGUAGE=keywords`` forces the fallback, ``minilm`` the model (an
    ``ImportError`` follows when the ``[hf]`` extra is missing); ``auto`` (default)
    uses the model when :func:`proassist.sim.person.embedding.available`.
    """
    choice = os.environ.get(BACKEND_ENV, "auto").strip().lower()
    if choice in ("minilm", "keywords"):
        return choice
    return "minilm" if embedding.available() else "keywords"


def words(text: str) -> list[str]:
    """Lower-case content words of ``text`` (stop words and interjections such as
    "Wait," removed, light stemming)."""
    low = _INTERJECTION.sub(" ", fold_text(text).lower())
    return [stem(w) for w in _WORD.findall(low) if w not in STOPWORDS]


def stem(word: str) -> str:
    """A crude suffix stripper so that ``fill``/``filled``/``filling`` match."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            root = word[: -len(suffix)]
            if suffix != "s" and root[-1] == root[-2] and root[-1] not in "lsz":
                root = root[:-1]  # stirred -> stir, plugged -> plug
            return root
    return word


def _tokens(text: str) -> list[str]:
    """Lower-case word and punctuation tokens of folded ``text`` (apostrophes kept)."""
    return _TOKEN.findall(fold_text(text).lower().replace("\u2019", "'"))


class StepMatcher:
    """Matches utterances to the steps of one procedure (vocabularies built once).

    Building one embeds nothing: step embeddings are computed on the first free
    utterance matched with the MiniLM backend, and cached per process.
    """

    def __init__(self, procedure: Any) -> None:
        names = {o.id: o.name for o in procedure.objects}
        self.vocab: dict[str, frozenset[str]] = {}
        self.texts: dict[str, str] = {}
        self.order: list[str] = []
        for s in procedure.steps:
            extra = [s.id.replace("_", " ")] + [names.get(o, o) for o in (*s.objects, *s.tools)]
            self.add(s.id, s.instruction, extra=" ".join(extra))

    def add(self, key: str, text: str, *, extra: str = "") -> None:
        """Register (or replace) a matchable entry, e.g. a recovery step.

        Args:
            key: Entry id.
            text: Its instruction (embedded by the MiniLM backend).
            extra: More words for the lexical vocabulary (id, object names).
        """
        if key not in self.vocab:
            self.order.append(key)
        self.vocab[key] = frozenset(words(f"{text} {extra}"))
        self.texts[key] = text.strip() or key.replace("_", " ")

    def allowed(self, keys: Iterable[str] | None) -> list[str]:
        """Entries in matching order, restricted to ``keys`` when given."""
        if keys is None:
            return list(self.order)
        wanted = set(keys)
        return [k for k in self.order if k in wanted]

    def idf(self, word: str) -> float:
        """``log(1 + N / (1 + df))`` over the N entries: rarer words weigh more."""
        df = sum(word in v for v in self.vocab.values())
        return math.log(1.0 + len(self.vocab) / (1.0 + df))

    def overlap(self, said: set[str], key: str) -> float:
        """IDF-weighted cosine of the content-word sets of an utterance and an entry."""
        vocab = self.vocab[key]
        if not said or not vocab:
            return 0.0
        w = {x: self.idf(x) ** 2 for x in said | vocab}
        shared = sum(w[x] for x in said & vocab)
        return shared / (sum(w[x] for x in said) * sum(w[x] for x in vocab)) ** 0.5

    def match(self, text: str, keys: Iterable[str] | None = None) -> str | None:
        """The entry ``text`` refers to, with the active backend (module docstring).

        Args:
            text: The utterance.
            keys: Restrict to these entries (default: all).

        Returns:
            The best entry id, or ``None`` when none is close enough.
        """
        if backend() == "minilm":
            return self.match_semantic(text, keys)
        return self.match_words(text, keys)

    def match_words(self, text: str, keys: Iterable[str] | None = None) -> str | None:
        """The entry sharing the most words with ``text`` (ties: fewer words, then order)."""
        said = set(words(text))
        best: tuple[int, float, int] | None = None
        best_key = None
        for pos, key in enumerate(self.allowed(keys)):
            n = len(said & self.vocab[key])
            if n == 0:
                continue
            score = (n, n / max(1, len(self.vocab[key])), -pos)
            if best is None or score > best:
                best, best_key = score, key
        return best_key

    def semantic_scores(self, text: str, keys: Iterable[str] | None = None) -> dict[str, float]:
        """Step scores of ``text`` per allowed entry (empty when it has no content word).

        ``score = cos(content words of text, instruction) + LEXICAL_WEIGHT * overlap``,
        rounded to 6 decimals (:meth:`overlap`; the content words are :func:`words`).
        """
        content = words(text)
        allowed = self.allowed(keys)
        if not content or not allowed:
            return {}
        vecs = embedding.embed([" ".join(content)] + [self.texts[k] for k in allowed])
        said = set(content)
        return {
            k: round(float(s) + LEXICAL_WEIGHT * self.overlap(said, k), 6)
            for k, s in zip(allowed, vecs[1:] @ vecs[0], strict=True)
        }

    def match_semantic(self, text: str, keys: Iterable[str] | None = None) -> str | None:
        """The entry of highest :meth:`semantic_scores` (first in order on ties), if any
        reaches :data:`STEP_THRESHOLD`."""
        scores = self.semantic_scores(text, keys)
        if not scores:
            return None
        best = max(scores, key=lambda k: scores[k])
        return best if scores[best] >= STEP_THRESHOLD else None


def frame(text: str, vocab: Iterable[str] = ()) -> str:
    """``text`` as lower-case tokens with the content words in ``vocab`` removed.

    Args:
        text: The utterance.
        vocab: Stemmed content words of the step it refers to.

    Returns:
        The remaining tokens joined by single spaces (punctuation kept as tokens).
    """
    drop = frozenset(vocab)
    kept = [t for t in _tokens(text) if not (t[0].isalnum() and stem(t.split("'")[0]) in drop)]
    return " ".join(kept)


def _head(text: str) -> str | None:
    """The head of a ``"head: body"`` utterance (before the first colon), if any."""
    head, sep, _ = fold_text(text).partition(":")
    return head if sep and len(head.split()) <= 8 else None


def cue_intent(text: str, vocab: Iterable[str] = ()) -> str | None:
    """Keyword intent of ``text`` (the fallback backend; see :data:`INTENT_CUES`).

    Args:
        text: The utterance.
        vocab: Content words of the step it refers to, left out of the frame.

    Returns:
        The intent of the first cue found (in the head of a ``"head: body"``
        utterance first, then in the whole frame), or ``None``.
    """
    head = _head(text)
    for part in ([frame(head)] if head else []) + [frame(text, vocab)]:
        low = f" {part} "
        for intent, cues in INTENT_CUES:
            if any(c.search(low) for c in cues):
                return intent
    return None


def infer_intent(text: str) -> str | None:
    """The keyword intent of a free utterance, or ``None`` if no cue matches."""
    return cue_intent(text)


def prototypes(instruction: str | None) -> tuple[list[str], tuple[str, ...]]:
    """The intent of each prototype and the prototypes, filled in for ``instruction``.

    Args:
        instruction: The matched step's instruction, or ``None`` (no step).

    Returns:
        ``(intents, sentences)``, aligned (see :data:`INTENT_PROTOTYPES`).
    """
    body = fold_text(instruction or "").strip().rstrip(". ") or "that"
    low, cap = body[:1].lower() + body[1:], body[:1].upper() + body[1:]
    names = [i for i, ps in INTENT_PROTOTYPES.items() for _ in ps]
    sentences = tuple(p.format(s=low, S=cap) for ps in INTENT_PROTOTYPES.values() for p in ps)
    return names, sentences


def _nearest(text: str, instruction: str | None, cue: str | None) -> tuple[str, float]:
    """The intent of the prototype nearest ``text`` and its score (cosine + cue bonus)."""
    names, sentences = prototypes(instruction)
    vec = embedding.embed([fold_text(text)])[0]
    sims = embedding.embed_group(sentences) @ vec
    scores = [
        round(float(s) + (CUE_BONUS if n == cue else 0.0), 6)
        for n, s in zip(names, sims, strict=True)
    ]
    best = max(range(len(scores)), key=lambda i: scores[i])
    return names[best], scores[best]


def semantic_intent(
    text: str, instruction: str | None = None, cue: str | None = None
) -> str | None:
    """MiniLM intent of ``text``: its nearest prototype (module docstring).

    The head of a ``"head: body"`` utterance is read first, against the prototypes
    with no step; the whole utterance otherwise (or when the head is not close to any
    prototype), against the prototypes filled in with the step's instruction.

    Args:
        text: The utterance.
        instruction: The instruction of the step it refers to (``None``: no step).
        cue: The keyword intent of the utterance (:func:`cue_intent`), whose
            prototypes get :data:`CUE_BONUS`.

    Returns:
        The intent of the nearest prototype, or ``None`` below
        :data:`INTENT_THRESHOLD`.
    """
    head = _head(text)
    if head:
        intent, score = _nearest(head, None, cue)
        if score >= HEAD_THRESHOLD:
            return intent
    intent, score = _nearest(text, _body(instruction) if instruction else None, cue)
    if intent == "answer_question" and cue != "answer_question":
        intent = "instruct_next"  # an answer needs a question (``asked``) or saying so
    return intent if score >= INTENT_THRESHOLD else None


def _body(instruction: str) -> str:
    """A recovery instruction without its head ("Back to the task: X" -> "X")."""
    head = _head(instruction)
    return fold_text(instruction).split(":", 1)[1].strip() if head else instruction


def interpret(
    text: str, matcher: StepMatcher, *, asked: bool = False, keys: Sequence[str] | None = None
) -> tuple[str | None, str | None]:
    """Intent and step id of a free utterance (backend: :func:`backend`).

    Args:
        text: The utterance.
        matcher: The procedure's matcher.
        asked: The person asked "what next?" and has no answer yet (an instruction
            then counts as an answer).
        keys: Entries to match against (default: all).

    Returns:
        ``(intent, step)``; ``intent`` is ``None`` when nothing was understood.
    """
    if not fold_text(text).strip():
        return None, None
    semantic = backend() == "minilm"
    step = matcher.match_semantic(text, keys) if semantic else matcher.match_words(text, keys)
    cue = cue_intent(text, matcher.vocab[step] if step is not None else ())
    intent = cue
    if semantic:
        instruction = matcher.texts[step] if step is not None else None
        intent = semantic_intent(text, instruction, cue) or cue
    if intent is None and step is not None:
        intent = "instruct_next"
    if intent == "instruct_next" and asked:
        intent = "answer_question"
    return intent, step
