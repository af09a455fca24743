"""Turn validated, cleaned documents into the frozen dataclasses of :mod:`.model`."""

from __future__ import annotations

import dataclasses
from typing import Any

from proassist.scenarios.model import (
    DeviationSpec,
    Duration,
    Fixture,
    Layout,
    ObjectSpec,
    PersonProfile,
    Procedure,
    ScriptedDeviation,
    Step,
)


def build_duration(d: dict[str, Any]) -> Duration:
    """A :class:`Duration` from ``{mean, std, min}``."""
    return Duration(float(d["mean"]), float(d.get("std") or 0.0), float(d.get("min", 0.5)))


def build_layout(d: dict[str, Any]) -> Layout:
    """A :class:`Layout` from a cleaned layout document."""
    fixtures = tuple(
        Fixture(
            id=f["id"],
            kind=f["kind"],
            position=tuple(f["position"]),
            size=tuple(f["size"]),
            color=tuple(f["color"]),
            stand=tuple(f["stand"]),
        )
        for f in d["fixtures"]
        if f is not None
    )
    return Layout(d["id"], fixtures, tuple(d["floor_color"]), tuple(d["wall_color"]))


def build_profile(d: dict[str, Any], base: PersonProfile, name: str) -> PersonProfile:
    """Override the fields of ``base`` with the non-null fields of ``d``.

    Args:
        d: A cleaned profile mapping (``base`` key ignored).
        base: The profile to start from.
        name: The name to use when ``d`` gives none.
    """
    changes: dict[str, Any] = {"name": d.get("name") or name}
    for key, value in d.items():
        if value is None or key in ("name", "base"):
            continue
        changes[key] = build_duration(value) if key == "reaction_delay" else value
    return dataclasses.replace(base, **changes)


def build_step(d: dict[str, Any]) -> Step:
    """A :class:`Step`; ``objects`` lists the tools too (tools are among the objects)."""
    tools = tuple(t for t in d["tools"] if t)
    objects = tuple(dict.fromkeys([o for o in d["objects"] if o] + list(tools)))
    return Step(
        id=d["id"],
        instruction=d["instruction"].strip(),
        after=tuple(a for a in d["after"] if a),
        requires=tuple(p for p in d["requires"] if p),
        effects=tuple(p for p in d["effects"] if p),
        objects=objects,
        tools=tools,
        location=d["location"],
        duration=build_duration(d["duration"]),
        optional=bool(d["optional"]),
        safety_critical=bool(d["safety_critical"]),
        done_cue=d["done_cue"].strip(),
        todo_cue=d["todo_cue"].strip(),
        params=dict(d["params"]),
    )


def build_object(d: dict[str, Any]) -> ObjectSpec:
    """An :class:`ObjectSpec` from a cleaned object mapping."""
    return ObjectSpec(
        id=d["id"],
        name=d["name"],
        shape=d["shape"],
        size=tuple(d["size"]),
        color=tuple(d["color"]),
        category=d["category"],
        start=d["start"],
        alternatives=tuple(a for a in d["alternatives"] if a),
        lying=d["lying"],
        yaw=float(d["yaw"]),
    )


def build_procedure(d: dict[str, Any], initial: set[str]) -> Procedure:
    """A :class:`Procedure`; ``initial`` is the completed initial state (sorted)."""
    given = [p for p in d["initial"] if p]
    extra = sorted(initial - set(given))
    return Procedure(
        id=d["id"],
        domain=d["domain"],
        title=d["title"],
        goal=d["goal"].strip(),
        steps=tuple(build_step(s) for s in d["steps"] if s is not None),
        objects=tuple(build_object(o) for o in d["objects"] if o is not None),
        initial=tuple(dict.fromkeys(given + extra)),
        goal_predicates=tuple(p for p in d["goal_predicates"] if p),
    )


def build_deviations(d: dict[str, Any]) -> DeviationSpec:
    """A :class:`DeviationSpec` from a cleaned ``deviations`` mapping."""
    scripted = tuple(
        ScriptedDeviation(s["kind"], s["step"], s.get("time"), dict(s.get("params") or {}))
        for s in d.get("scripted") or []
        if s is not None
    )
    cap = d.get("max_random", 3)
    return DeviationSpec(scripted, dict(d.get("rates") or {}), None if cap is None else int(cap))
