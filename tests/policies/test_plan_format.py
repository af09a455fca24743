"""Tests of PWR's token-delimited plan format."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proassist.policies.duplex.plan_format import (
    MODES,
    Plan,
    PlanParseError,
    PlanStep,
    clean_text,
    parse_plan,
    render_plan,
)

_word = st.text(
    alphabet=st.characters(codec="ascii", exclude_characters="<>;[]\n\r\t\x0b\x0c"),
    min_size=1,
    max_size=20,
).map(clean_text)
_text = _word.filter(bool)
_id = st.one_of(st.none(), st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True))


@st.composite
def plans(draw) -> Plan:
    steps = tuple(
        PlanStep(draw(_text), draw(_id), draw(st.booleans()))
        for _ in range(draw(st.integers(0, 6)))
    )
    done = tuple(PlanStep(draw(_text), draw(_id)) for _ in range(draw(st.integers(0, 4))))
    current = draw(st.one_of(st.none(), st.integers(0, len(steps) - 1))) if steps else None
    return Plan(
        draw(st.sampled_from(MODES)), draw(_word), done, steps, current, draw(_word), draw(_word)
    )


@settings(max_examples=150, deadline=None)
@given(plans())
def test_round_trip(plan: Plan) -> None:
    assert parse_plan(render_plan(plan)) == plan


def test_example_and_chatter_outside_tags() -> None:
    text = (
        "Sure! <mode>recovery</mode><goal>Make tea</goal><done>[fill] Fill the kettle</done>"
        "<plan>\n1. [burner] Turn the burner on (fix) (Current)\n2. Boil water\n</plan>"
        "<cue_done>burner glows</cue_done> thanks"
    )
    plan = parse_plan(text)
    assert plan.current_step == PlanStep("Turn the burner on", "burner", True)
    assert plan.steps[1] == PlanStep("Boil water")
    assert plan.completed == (PlanStep("Fill the kettle", "fill"),)
    assert plan.cue_todo == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<goal>g</goal><plan>1. a</plan>", "missing <mode>"),
        ("<mode>normal</mode><plan>1. a</plan>", "missing <goal>"),
        ("<mode>panic</mode><goal>g</goal><plan>1. a</plan>", "not one of"),
        ("<mode>normal</mode><goal>g</goal><plan>1. a\n3. b</plan>", "expected 2"),
        ("<mode>normal</mode><goal>g</goal><plan>a step</plan>", "is not 'N."),
        (
            "<mode>normal</mode><goal>g</goal><plan>1. a (Current)\n2. b (Current)</plan>",
            "more than one",
        ),
        ("<mode>normal</mode><mode>normal</mode><goal>g</goal><plan></plan>", "2 times"),
        ("<mode>normal</mode><goal>g</goal><done>a;;b</done><plan></plan>", "empty step"),
        ("", "missing"),
    ],
)
def test_malformed_raises(text: str, message: str) -> None:
    with pytest.raises(PlanParseError, match=message):
        parse_plan(text)


def test_render_rejects_bad_plans() -> None:
    with pytest.raises(ValueError, match="forbidden"):
        render_plan(Plan("normal", "a<b"))
    with pytest.raises(ValueError, match="current"):
        render_plan(Plan("normal", "g", steps=(PlanStep("a"),), current=1))
    with pytest.raises(ValueError, match="mode"):
        render_plan(Plan("chaos", "g"))
    assert clean_text(" Fill [the] kettle;\n now (fix) (Current)") == "Fill the kettle now"
