"""A small name → class registry shared by policies and planners.

Each registry maps a name to a class; :meth:`Registry.make` builds an instance from
keyword arguments and rejects unknown names and unknown keyword arguments with a
"did you mean" hint. :meth:`Registry.kwargs` introspects the constructor, so a command
line can list what a component accepts.
"""

from __future__ import annotations

import difflib
import inspect
import re
import typing
from collections.abc import Callable
from typing import Any

__all__ = ["Registry", "RegistryError", "describe_kwargs"]


class RegistryError(ValueError):
    """A registry lookup failed (unknown name or unknown keyword argument)."""


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=3, cutoff=0.5)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def _arg_docs(cls: type) -> dict[str, str]:
    """Parse ``name: description`` lines of the ``Args:`` sections of Google docstrings."""
    docs: dict[str, str] = {}
    for source in (cls.__doc__ or "", cls.__init__.__doc__ or ""):
        lines = source.expandtabs().splitlines()
        heads = [i for i, ln in enumerate(lines) if ln.strip() == "Args:"]
        if not heads:
            continue
        base = len(lines[heads[0]]) - len(lines[heads[0]].lstrip())
        name, item_indent = None, None
        for line in lines[heads[0] + 1 :]:
            indent = len(line) - len(line.lstrip())
            if line.strip() and indent <= base:
                break
            head = re.match(r"^\s*(\w+)(?:\s*\([^)]*\))?:\s*(.*)$", line)
            if head and (item_indent is None or indent == item_indent):
                item_indent = indent
                name = head.group(1)
                docs[name] = head.group(2).strip()
            elif name and line.strip():
                docs[name] = f"{docs[name]} {line.strip()}"
    return docs


def describe_kwargs(cls: type) -> dict[str, tuple[Any, Any, str]]:
    """Describe the keyword arguments of a class's constructor.

    Args:
        cls: The class to introspect.

    Returns:
        ``{name: (type, default, doc)}`` for every constructor parameter except
        ``self`` and ``*args``/``**kwargs``; ``default`` is
        :data:`inspect.Parameter.empty` for a required argument, ``type`` is the
        resolved annotation (or ``Any``) and ``doc`` the docstring's description.
    """
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # unresolvable annotations: fall back to the raw strings
        hints = dict(getattr(cls.__init__, "__annotations__", {}))
    docs = _arg_docs(cls)
    out: dict[str, tuple[Any, Any, str]] = {}
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        out[name] = (hints.get(name, Any), param.default, docs.get(name, ""))
    return out


class Registry:
    """Name → class registry with helpful errors.

    Args:
        kind: What is registered (``"policy"``, ``"planner"``), used in messages.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, type] = {}

    def register(self, name: str) -> Callable[[type], type]:
        """Return a class decorator registering the class under ``name``."""

        def decorator(cls: type) -> type:
            if name in self._items and self._items[name] is not cls:
                raise RegistryError(f"{self.kind} {name!r} is already registered")
            self._items[name] = cls
            cls.registered_name = name
            return cls

        return decorator

    def names(self) -> list[str]:
        """Sorted registered names."""
        return sorted(self._items)

    def get(self, name: str) -> type:
        """The class registered under ``name``.

        Raises:
            RegistryError: Naming the known names and the closest matches.
        """
        if name not in self._items:
            hint = _did_you_mean(name, self.names())
            raise RegistryError(
                f"unknown {self.kind} {name!r}{hint} (known: {', '.join(self.names())})"
            )
        return self._items[name]

    def kwargs(self, name: str) -> dict[str, tuple[Any, Any, str]]:
        """``{kwarg: (type, default, doc)}`` accepted by ``name`` (see :func:`describe_kwargs`)."""
        return describe_kwargs(self.get(name))

    def make(self, name: str, **kwargs: Any) -> Any:
        """Instantiate ``name`` with ``kwargs``, rejecting unknown keyword arguments."""
        cls = self.get(name)
        accepted = describe_kwargs(cls)
        for key in kwargs:
            if key not in accepted:
                hint = _did_you_mean(key, list(accepted))
                listing = ", ".join(accepted) or "none"
                raise RegistryError(
                    f"{self.kind} {name!r} got unknown keyword argument {key!r}{hint} "
                    f"(accepted: {listing})"
                )
        missing = [
            k
            for k, (_, d, _) in accepted.items()
            if d is inspect.Parameter.empty and k not in kwargs
        ]
        if missing:
            raise RegistryError(f"{self.kind} {name!r} requires keyword argument(s) {missing}")
        return cls(**kwargs)
