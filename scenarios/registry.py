"""One name → object registry with "did you mean" errors, used for every extension point.

Deviation kinds, policies, planners, interaction models, metrics and renderers are each
a :class:`Registry`. Behaviour is registered with a decorator where it is defined
(``@register_deviation("x")``, ``@register_policy("x")``, ...); a failed lookup raises
:class:`RegistryError` naming the closest known names.

A registry may name *built-in modules* that define its entries (like Gymnasium's
``entry_point`` strings): they are imported on the first lookup. This is how the
scenario validator, at the lowest layer, checks deviation-kind names against the kinds
that :mod:`proassist.sim` and any plugin registered, without importing the simulation.

Re-registering a name with a different object raises :class:`RegistryError` and leaves
the registry unchanged (registering the very same object again is a no-op, so a
module imported twice does not fail).
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
import typing
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

__all__ = ["Registry", "RegistryError", "describe_kwargs", "did_you_mean"]

T = TypeVar("T")


class RegistryError(KeyError, ValueError):
    """A registry lookup or registration failed (unknown or duplicate name, bad kwarg).

    A :class:`KeyError` (lookups) and a :class:`ValueError` (bad values) at once; its
    ``str()`` is the plain message.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def did_you_mean(word: str, options: Sequence[str]) -> str:
    """A ``" (did you mean 'x'?)"`` hint, or ``""`` when nothing is close.

    Args:
        word: The unknown word.
        options: The known words.
    """
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=2, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)"


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


class Registry(Generic[T]):
    """Name → object registry with helpful errors.

    Iterating yields the names in registration order (built-ins first); ``in`` and
    ``len`` work on names.

    Args:
        kind: What is registered (``"policy"``, ``"deviation kind"``), used in messages.
        builtins: Modules that register the built-in entries, imported on first use.
    """

    def __init__(self, kind: str, builtins: Sequence[str] = ()) -> None:
        self.kind = kind
        self._builtins = tuple(builtins)
        self._loading = False
        self._loaded = not self._builtins
        self._items: dict[str, T] = {}

    def _load(self) -> None:
        if self._loaded or self._loading:
            return
        self._loading = True
        try:
            for module in self._builtins:
                importlib.import_module(module)
            self._loaded = True
        finally:
            self._loading = False

    def add(self, name: str, obj: T) -> T:
        """Register ``obj`` under ``name``.

        Raises:
            RegistryError: When ``name`` is taken by another object (nothing changes).
        """
        if not isinstance(name, str) or not name:
            raise RegistryError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        self._load()
        old = self._items.get(name)
        if old is not None and old is not obj and not _same_class(old, obj):
            raise RegistryError(
                f"{self.kind} {name!r} is already registered (by {_origin(old)}); "
                "choose another name"
            )
        self._items[name] = obj
        return obj

    def register(self, name: str) -> Callable[[T], T]:
        """A decorator registering the decorated object under ``name``."""

        def decorator(obj: T) -> T:
            self.add(name, obj)
            if isinstance(obj, type):
                obj.registered_name = name  # type: ignore[attr-defined]
            return obj

        return decorator

    def remove(self, name: str) -> None:
        """Unregister ``name`` (for tests and interactive sessions)."""
        self._items.pop(name, None)

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        self._load()
        return list(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def __len__(self) -> int:
        return len(self.names())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"

    def unknown(self, name: object) -> RegistryError:
        """The error for an unknown ``name``: the closest names and every known name."""
        known = self.names()
        hint = did_you_mean(str(name), known)
        return RegistryError(f"unknown {self.kind} {name!r}{hint}; known: {', '.join(known)}")

    def get(self, name: str) -> T:
        """The object registered under ``name``.

        Raises:
            RegistryError: Naming the known names and the closest matches.
        """
        self._load()
        if not isinstance(name, str) or name not in self._items:
            raise self.unknown(name)
        return self._items[name]

    def kwargs(self, name: str) -> dict[str, tuple[Any, Any, str]]:
        """``{kwarg: (type, default, doc)}`` accepted by class ``name`` (:func:`describe_kwargs`)."""
        return describe_kwargs(self.get(name))  # type: ignore[arg-type]

    def check_kwargs(self, name: str, kwargs: Sequence[str]) -> list[str]:
        """Messages for the keyword arguments class ``name`` does not accept ([] if fine)."""
        accepted = self.kwargs(name)
        out = []
        for key in kwargs:
            if key not in accepted:
                hint = did_you_mean(key, list(accepted))
                listing = ", ".join(accepted) or "none"
                out.append(
                    f"{self.kind} {name!r} got unknown keyword argument {key!r}{hint} "
                    f"(accepted: {listing})"
                )
        return out

    def make(self, name: str, **kwargs: Any) -> Any:
        """Instantiate class ``name`` with ``kwargs``, rejecting unknown keyword arguments."""
        cls = self.get(name)
        problems = self.check_kwargs(name, list(kwargs))
        if problems:
            raise RegistryError(problems[0])
        accepted = self.kwargs(name)
        missing = [
            k
            for k, (_, d, _) in accepted.items()
            if d is inspect.Parameter.empty and k not in kwargs
        ]
        if missing:
            raise RegistryError(f"{self.kind} {name!r} requires keyword argument(s) {missing}")
        return cls(**kwargs)  # type: ignore[operator]


def _same_class(old: Any, new: Any) -> bool:
    """True when ``new`` is ``old`` re-imported (same module and qualified name)."""
    return _origin(old) == _origin(new)


def _origin(obj: Any) -> str:
    cls = obj if isinstance(obj, type) or inspect.isfunction(obj) else type(obj)
    return f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', '?')}"
