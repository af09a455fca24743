"""Messages from the assistant to the simulated person, and the text rules.

This module is the one home of the text rules shared by the env's ``Text`` spaces
(:mod:`proassist.envs.spaces`), the policies' action helpers
(:func:`proassist.policies.base.make_action`), the person's reading of free text
(:mod:`proassist.sim.person.language`) and the duplex output parsers:

- :data:`CHARSET`: printable ASCII without tabs or newlines;
- :data:`MAX_TEXT`: at most 256 characters;
- :func:`normalize_text`: turns any string into one the env accepts (dashes, curly
  quotes, accents, ellipses and odd spaces become their ASCII stand-ins).
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass

__all__ = [
    "CHARSET",
    "INTENTS",
    "MAX_TEXT",
    "Message",
    "fold_text",
    "is_valid_text",
    "normalize_text",
]

#: What an assistant message is for (the ``intent`` action field indexes this tuple).
INTENTS: tuple[str, ...] = (
    "instruct_next",
    "correct_deviation",
    "confirm_done",
    "warn",
    "answer_question",
    "re_engage",
)

#: Characters allowed in every text field (printable ASCII, no tabs or newlines).
CHARSET: str = "".join(c for c in string.printable if c not in "\t\n\r\x0b\x0c")
#: Longest text in any field (observation and action).
MAX_TEXT: int = 256
_CHARSET_SET: frozenset[str] = frozenset(CHARSET)

#: Non-ASCII characters whose ASCII stand-in NFKD decomposition does not give.
_STAND_INS: dict[int, str] = {
    **dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043"), "-"),
    **dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032\u00b4"), "'"),
    **dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"), '"'),
    ord("\u2026"): "...",
    ord("\u2022"): "*",
    ord("\u00b7"): ".",
    ord("\u00d7"): "x",
    ord("\u00df"): "ss",
    ord("\u00e6"): "ae",
    ord("\u00c6"): "AE",
    ord("\u0153"): "oe",
    ord("\u0152"): "OE",
    ord("\u00f8"): "o",
    ord("\u00d8"): "O",
    ord("\u0142"): "l",
    ord("\u0141"): "L",
}


#: A run of whitespace holding at least one character other than a plain space.
_ODD_SPACE = re.compile(r"\s*[^\S ]\s*")


def _fold_char(ch: str) -> str:
    """The ASCII stand-in of one character already NFKD-decomposed ('' drops it)."""
    if ch in _CHARSET_SET:
        return ch
    return " " if ch.isspace() else ""


def fold_text(text: str) -> str:
    """``text`` folded into :data:`CHARSET` without truncation.

    Known punctuation (em/en dashes, curly quotes, ellipsis, ...) becomes its ASCII
    stand-in, accents are stripped (NFKD decomposition, combining marks dropped), a
    run of whitespace with tabs, newlines or non-breaking spaces in it becomes one
    space, and any other character (controls, emoji, other scripts) is dropped. Text
    already in :data:`CHARSET` is returned unchanged.

    Args:
        text: Any string.

    Returns:
        A string of :data:`CHARSET` characters.
    """
    if all(ch in _CHARSET_SET for ch in text):
        return text
    spaced = _ODD_SPACE.sub(" ", text.translate(_STAND_INS))
    decomposed = unicodedata.normalize("NFKD", spaced)
    return "".join(_fold_char(ch) for ch in decomposed.translate(_STAND_INS))


def normalize_text(text: str) -> str:
    """``text`` made acceptable to every env text field (see :func:`fold_text`).

    Args:
        text: Any string.

    Returns:
        :func:`fold_text` of ``text`` cut to :data:`MAX_TEXT` characters; text that is
        already valid (:func:`is_valid_text`) is returned unchanged.
    """
    return fold_text(text)[:MAX_TEXT]


def is_valid_text(text: object) -> bool:
    """Whether ``text`` is a str of at most :data:`MAX_TEXT` :data:`CHARSET` characters."""
    return (
        isinstance(text, str) and len(text) <= MAX_TEXT and all(ch in _CHARSET_SET for ch in text)
    )


@dataclass(frozen=True)
class Message:
    """One assistant utterance.

    Attributes:
        intent: One of :data:`INTENTS`, or ``""`` for a free-text message that the
            person interprets by matching ``text`` to steps.
        step: The plan step id referred to (for a correction: the affected step),
            or ``None``.
        text: The utterance as spoken (may be empty for structured messages).
    """

    intent: str = ""
    step: str | None = None
    text: str = ""

    def __post_init__(self) -> None:
        if self.intent and self.intent not in INTENTS:
            raise ValueError(f"unknown intent {self.intent!r}; expected one of {INTENTS}")
