"""Declarative type checking of parsed YAML documents.

A :class:`Record` lists the keys a mapping may have, each with a type checker, whether
it is required and its default. :func:`check_document` walks a document against a
record, reports every unknown key, missing field and wrong type (with its line), and
returns a *cleaned* copy in which each bad value is replaced by its default, so the
semantic checks that follow can run on well-typed data and report their own problems
in the same pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from proassist.scenarios.errors import KeyPath, Problem, did_you_mean
from proassist.scenarios.validation.yaml_source import Source

#: Ids of steps, objects and fixtures: they appear as predicate arguments.
ID_RE = re.compile(r"^[a-z0-9_]+$")


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


#: Returned by a checker when the value is unusable (a problem was reported).
INVALID: Any = _Invalid()


@dataclass
class Ctx:
    """Where problems go while checking one file."""

    src: Source
    problems: list[Problem] = field(default_factory=list)

    def report(self, path: KeyPath, message: str, *, at_key: bool = False) -> None:
        """Record one problem at ``path``."""
        self.problems.append(self.src.problem(path, message, at_key=at_key))


Checker = Callable[[Any, KeyPath, Ctx], Any]


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names.update({list: "a list", dict: "a mapping"})
    return names.get(type(value), f"a {type(value).__name__}")


def _shown(value: Any) -> str:
    """``repr(value)`` for a scalar (shortened to about 80 characters), else its type."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"an integer of {len(str(abs(value)))} digits"
    if not isinstance(value, (str, int, float)):
        return _type_name(value)
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}...' ({len(value)} characters)"


def _wrong(ctx: Ctx, path: KeyPath, expected: str, value: Any) -> Any:
    ctx.report(path, f"expected {expected}, got {_shown(value)}")
    return INVALID


def _finite(value: Any) -> bool:
    """Whether ``value`` is an int or float (not a bool) that is finite as a float."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def string(value: Any, path: KeyPath, ctx: Ctx) -> Any:
    """A string (may be empty)."""
    return value if isinstance(value, str) else _wrong(ctx, path, "a string", value)


def text(value: Any, path: KeyPath, ctx: Ctx) -> Any:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        return _wrong(ctx, path, "a non-empty string", value)
    return value


def ident(value: Any, path: KeyPath, ctx: Ctx) -> Any:
    """An id: lowercase letters, digits and underscores."""
    if not isinstance(value, str) or not ID_RE.match(value):
        return _wrong(ctx, path, "an id of lowercase letters, digits and '_'", value)
    return value


def boolean(value: Any, path: KeyPath, ctx: Ctx) -> Any:
    """``true`` or ``false``."""
    return value if isinstance(value, bool) else _wrong(ctx, path, "true or false", value)


def number(lo: float | None = None, hi: float | None = None) -> Checker:
    """A finite int or float, optionally inside ``[lo, hi]``."""

    def check(value: Any, path: KeyPath, ctx: Ctx) -> Any:
        if not _finite(value):
            return _wrong(ctx, path, "a finite number", value)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return _wrong(
                ctx, path, f"a number in [{lo}, {hi if hi is not None else 'inf'}]", value
            )
        return float(value)

    return check


def integer(lo: int | None = None, hi: int | None = None) -> Checker:
    """An int, optionally inside ``[lo, hi]``."""

    def check(value: Any, path: KeyPath, ctx: Ctx) -> Any:
        if not isinstance(value, int) or isinstance(value, bool):
            return _wrong(ctx, path, "an integer", value)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return _wrong(ctx, path, f"an integer in [{lo}, {hi}]", value)
        return value

    return check


def list_of(item: Checker) -> Checker:
    """A list whose items pass ``item``; a bad item becomes ``None`` (keeps indices)."""

    def check(value: Any, path: KeyPath, ctx: Ctx) -> Any:
        if not isinstance(value, list):
            return _wrong(ctx, path, "a list", value)
        out = [item(v, path + (i,), ctx) for i, v in enumerate(value)]
        return [None if v is INVALID else v for v in out]

    return check


def vector(n: int, lo: float | None = None, hi: float | None = None) -> Checker:
    """A list of exactly ``n`` numbers (each inside ``[lo, hi]`` when given), as a tuple."""

    def check(value: Any, path: KeyPath, ctx: Ctx) -> Any:
        if not isinstance(value, list) or len(value) != n:
            return _wrong(ctx, path, f"a list of {n} numbers", value)
        out = [number(lo, hi)(v, path + (i,), ctx) for i, v in enumerate(value)]
        return INVALID if INVALID in out else tuple(out)

    return check


def choice(*options: str) -> Checker:
    """One of the strings ``options``."""

    def check(value: Any, path: KeyPath, ctx: Ctx) -> Any:
        if isinstance(value, str) and value in options:
            return value
        hint = did_you_mean(value, options) if isinstance(value, str) else ""
        return _wrong(ctx, path, f"one of {', '.join(options)}{hint}", value)

    return check


def color(value: Any, path: KeyPath, ctx: Ctx) -> Any:
    """RGB or RGBA in [0, 1], returned as an RGBA tuple."""
    if not isinstance(value, list) or len(value) not in (3, 4):
        return _wrong(ctx, path, "a colour [r, g, b] or [r, g, b, a] in [0, 1]", value)
    out = [number(0.0, 1.0)(v, path + (i,), ctx) for i, v in enumerate(value)]
    if INVALID in out:
        return INVALID
    return tuple(out) if len(out) == 4 else (*out, 1.0)


def mapping_of(key: Checker, value: Checker) -> Checker:
    """A mapping whose keys pass ``key`` and values pass ``value``."""

    def check(data: Any, path: KeyPath, ctx: Ctx) -> Any:
        if not isinstance(data, dict):
            return _wrong(ctx, path, "a mapping", data)
        out = {}
        for k, v in data.items():
            k2 = key(k, path + (k,), ctx)
            v2 = value(v, path + (k,), ctx) if k2 is not INVALID else INVALID
            if v2 is not INVALID:
                out[k2] = v2
        return out

    return check


def params(value: Any, path: KeyPath, ctx: Ctx) -> Any:
    """A free mapping with string keys (kind-specific parameters)."""
    return mapping_of(string, lambda v, p, c: v)(value, path, ctx)


@dataclass(frozen=True)
class Field:
    """One key of a :class:`Record`."""

    check: Checker
    required: bool = False
    default: Any = None


@dataclass(frozen=True)
class Record:
    """The keys a mapping may have; checks a mapping into a cleaned ``dict``."""

    name: str
    fields: dict[str, Field]
    #: Keys an earlier version had: ``key -> what replaced it`` (named in the error).
    retired: dict[str, str] = field(default_factory=dict)

    def __call__(self, value: Any, path: KeyPath, ctx: Ctx) -> Any:
        if not isinstance(value, dict):
            return _wrong(ctx, path, f"a mapping ({self.name})", value)
        for key in value:
            if key in self.retired:
                ctx.report(path + (key,), f"{key!r} was retired: {self.retired[key]}", at_key=True)
            elif key not in self.fields:
                hint = did_you_mean(str(key), list(self.fields))
                allowed = ", ".join(self.fields)
                msg = f"unknown key {key!r} in {self.name}{hint}; allowed: {allowed}"
                ctx.report(path + (key,), msg, at_key=True)
        return {name: self._field(value, name, f, path, ctx) for name, f in self.fields.items()}

    def _field(self, value: dict, name: str, f: Field, path: KeyPath, ctx: Ctx) -> Any:
        if name not in value:
            if f.required:
                ctx.report(path + (name,), f"missing required field {name!r} in {self.name}")
            return _default(f.default)
        out = f.check(value[name], path + (name,), ctx)
        return _default(f.default) if out is INVALID else out


def _default(default: Any) -> Any:
    return default() if callable(default) else default


def one_of(*checkers: tuple[type, Checker], expected: str) -> Checker:
    """Dispatch on the Python type of the value: ``(type, checker)`` pairs."""

    def check(value: Any, path: KeyPath, ctx: Ctx) -> Any:
        for kind, checker in checkers:
            if isinstance(value, kind) and not isinstance(value, bool):
                return checker(value, path, ctx)
        return _wrong(ctx, path, expected, value)

    return check
