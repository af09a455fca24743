"""The shared text rules (:mod:`proassist.sim.messages`)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proassist.envs import spaces as S
from proassist.envs.spaces import action_space, observation_space
from proassist.sim.messages import (
    CHARSET,
    INTENTS,
    MAX_TEXT,
    Message,
    is_valid_text,
    normalize_text,
)
from proassist.sim.person.language import infer_intent, words

TEXT_SPACE = action_space()["text"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_normalized_text_is_in_the_env_text_space(text: str) -> None:
    out = normalize_text(text)
    assert TEXT_SPACE.contains(out)
    assert observation_space(16, 16, ())["utterance"].contains(out)
    assert is_valid_text(out)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=CHARSET, max_size=MAX_TEXT))
def test_valid_text_is_unchanged(text: str) -> None:
    assert normalize_text(text) == text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Wait \u2014 caf\u00e9\u2026", "Wait - cafe..."),
        ("10\u201312 min", "10-12 min"),
        ("\u201cdone\u201d, isn\u2019t it", '"done", isn\'t it'),
        ("a\u00a0b\u202fc", "a b c"),
        ("tab\there\nnew", "tab here new"),
        ("Careful\n now", "Careful now"),
        ("bell\x07 zero\u200bwidth", "bell zerowidth"),
        ("emoji \U0001f600!", "emoji !"),
        ("cr\u00e8me br\u00fbl\u00e9e, Stra\u00dfe", "creme brulee, Strasse"),
    ],
)
def test_normalize_known_characters(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_normalize_truncates() -> None:
    assert normalize_text("x" * 1000) == "x" * MAX_TEXT
    assert len(normalize_text("\u2026" * 200)) == MAX_TEXT


def test_one_home_for_the_rules() -> None:
    assert S.CHARSET is CHARSET and S.MAX_TEXT == MAX_TEXT == 256
    assert S.clean_text is normalize_text
    assert set(CHARSET) == set(string.printable) - set("\t\n\r\x0b\x0c")
    assert action_space()["intent"].n == len(INTENTS)


def test_message_rejects_unknown_intent() -> None:
    assert Message("warn", "s1", "hot").intent == "warn"
    with pytest.raises(ValueError, match="unknown intent"):
        Message("shout")


def test_person_reads_folded_text() -> None:
    assert words("Caf\u00e9 au lait") == words("Cafe au lait")
    assert infer_intent("Watch\u00a0out \u2014 it\u2019s hot") == "warn"
