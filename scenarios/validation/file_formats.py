"""The YAML schemas of layouts, person profiles and task files (see CONTRACTS.md §1)."""

from __future__ import annotations

from typing import Any

from proassist.scenarios.errors import KeyPath
from proassist.scenarios.validation.typecheck import (
    Ctx,
    Field,
    Record,
    boolean,
    choice,
    color,
    ident,
    integer,
    list_of,
    mapping_of,
    number,
    one_of,
    params,
    string,
    text,
    vector,
)

_NONNEG = number(0.0)
_PROB = number(0.0, 1.0)
_COUNT = integer(0)


def _optional_count(value: Any, path: KeyPath, ctx: Ctx) -> Any:
    """An integer >= 0, or ``null`` (no cap, e.g. ``deviations.max_random``)."""
    return None if value is None else _COUNT(value, path, ctx)


#: The object shapes the renderer draws (``proassist.sim.render.shapes.SHAPES``).
SHAPES: tuple[str, ...] = ("box", "cylinder", "sphere", "capsule")
#: Half-extents in metres: a zero size cannot be drawn, a huge one is a typo.
_SIZE = vector(3, lo=1e-4, hi=100.0)
#: Coordinates in metres of fixtures and stand points.
_COORD_LIMIT = 1000.0

FIXTURE = Record(
    "fixture",
    {
        "id": Field(ident, required=True, default=""),
        "kind": Field(text, required=True, default=""),
        "position": Field(
            vector(3, -_COORD_LIMIT, _COORD_LIMIT), required=True, default=(0.0, 0.0, 0.0)
        ),
        "size": Field(_SIZE, required=True, default=(0.1, 0.1, 0.1)),
        "color": Field(color, default=(0.7, 0.7, 0.7, 1.0)),
        "stand": Field(vector(2, -_COORD_LIMIT, _COORD_LIMIT), required=True, default=(0.0, 0.0)),
    },
)

LAYOUT = Record(
    "layout",
    {
        "id": Field(ident, required=True, default=""),
        "fixtures": Field(list_of(FIXTURE), required=True, default=list),
        "floor_color": Field(color, default=(0.55, 0.5, 0.45, 1.0)),
        "wall_color": Field(color, default=(0.9, 0.9, 0.85, 1.0)),
    },
)

DURATION = Record(
    "duration",
    {
        "mean": Field(number(0.0), required=True, default=5.0),
        "std": Field(_NONNEG, default=0.0),
        "min": Field(_NONNEG, default=0.5),
    },
)

#: Fields of a person profile (all optional: defaults are PersonProfile's).
PROFILE_FIELDS: dict[str, Field] = {
    "name": Field(text),
    "base": Field(ident),
    "error_proneness": Field(_NONNEG),
    "compliance": Field(_PROB),
    "reaction_delay": Field(DURATION),
    "patience": Field(integer(0)),
    "trust_floor": Field(_PROB),
    "ask_when_stuck": Field(_PROB),
    "self_correction": Field(_PROB),
    "rationality": Field(_NONNEG),
    "speed": Field(number(0.05)),
    "listen_base": Field(_NONNEG),
    "listen_per_word": Field(_NONNEG),
    "dispute_time": Field(_NONNEG),
    "redundancy_window": Field(_NONNEG),
    "trust_gain": Field(_PROB),
    "redundant_cost": Field(_NONNEG),
    "irrelevant_cost": Field(_NONNEG),
    "stop_trust": Field(_PROB),
    "tune_out": Field(_NONNEG),
    "prevention": Field(_PROB),
    "guidance_window": Field(_NONNEG),
    "prevention_window": Field(_NONNEG),
    "refusal_reply": Field(_PROB),
}

PROFILE = Record(
    "person profile",
    PROFILE_FIELDS,
    retired={
        "stop_ignore": "the person now tunes out for a time, not for a number of messages: "
        "use `tune_out` (seconds; 30 in the typical profile)"
    },
)

PERSON = one_of((str, ident), (dict, PROFILE), expected="a profile name or a profile mapping")

OBJECT = Record(
    "object",
    {
        "id": Field(ident, required=True, default=""),
        "name": Field(text, required=True, default=""),
        "shape": Field(choice(*SHAPES), default="box"),
        "size": Field(_SIZE, default=(0.05, 0.05, 0.05)),
        "color": Field(color, default=(0.6, 0.6, 0.6, 1.0)),
        "category": Field(text, default="utensil"),
        "start": Field(ident, required=True, default=""),
        "alternatives": Field(list_of(ident), default=list),
        "lying": Field(boolean),
        "yaw": Field(number(-360.0, 360.0), default=0.0),
    },
)

STEP = Record(
    "step",
    {
        "id": Field(ident, required=True, default=""),
        "instruction": Field(text, required=True, default=""),
        "after": Field(list_of(ident), default=list),
        "requires": Field(list_of(string), default=list),
        "effects": Field(list_of(string), default=list),
        "objects": Field(list_of(ident), default=list),
        "tools": Field(list_of(ident), default=list),
        "location": Field(ident, required=True, default=""),
        "duration": Field(DURATION, required=True, default=lambda: {"mean": 5.0, "std": 1.0}),
        "optional": Field(boolean, default=False),
        "safety_critical": Field(boolean, default=False),
        "done_cue": Field(string, default=""),
        "todo_cue": Field(string, default=""),
        "params": Field(params, default=dict),
    },
)

SCRIPTED = Record(
    "scripted deviation",
    {
        "kind": Field(ident, required=True, default=""),
        "step": Field(ident, required=True, default=""),
        "time": Field(_NONNEG),
        "params": Field(params, default=dict),
    },
)

DEVIATIONS = Record(
    "deviations",
    {
        "rates": Field(mapping_of(ident, _PROB), default=dict),
        "max_random": Field(_optional_count, default=3),
        "scripted": Field(list_of(SCRIPTED), default=list),
    },
)

TASK = Record(
    "task",
    {
        "id": Field(ident, required=True, default=""),
        "domain": Field(ident, required=True, default=""),
        "title": Field(text, required=True, default=""),
        "goal": Field(text, required=True, default=""),
        "layout": Field(text, required=True, default=""),
        "max_duration": Field(number(1.0), default=600.0),
        "objects": Field(list_of(OBJECT), required=True, default=list),
        "initial": Field(list_of(string), default=list),
        "goal_predicates": Field(list_of(string), required=True, default=list),
        "steps": Field(list_of(STEP), required=True, default=list),
        "person": Field(PERSON, default="typical"),
        "deviations": Field(DEVIATIONS, default=dict),
    },
)

__all__ = ["DURATION", "FIXTURE", "LAYOUT", "OBJECT", "PERSON", "PROFILE", "STEP", "TASK"]
__all__ += ["DEVIATIONS", "PROFILE_FIELDS", "SCRIPTED", "string"]
