"""YAML reading with line numbers: ``safe_load`` semantics plus a key-path → line map.

The document is composed into a node tree with :class:`yaml.SafeLoader`, constructed
with the safe constructor (so the data is exactly what ``yaml.safe_load`` returns),
and the node tree is walked in parallel to record the line of every key and value.
Duplicate mapping keys, which ``safe_load`` silently merges, are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from proassist.scenarios.errors import KeyPath, Problem, format_path

#: libyaml's parser when PyYAML was built with it (same results, several times faster).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Source:
    """A parsed YAML file and where each of its parts is.

    Attributes:
        file: The file path as given.
        data: The parsed document (``None`` when it could not be parsed).
        problems: Syntax and duplicate-key problems found while reading.
    """

    file: str
    data: Any = None
    problems: list[Problem] = field(default_factory=list)
    _value_lines: dict[KeyPath, int] = field(default_factory=dict)
    _key_lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int:
        """The line of the value at ``path`` (or of its nearest known ancestor)."""
        path = tuple(path)
        while path:
            if path in self._value_lines:
                return self._value_lines[path]
            path = path[:-1]
        return self._value_lines.get((), 1)

    def key_line(self, path: KeyPath) -> int:
        """The line of the mapping key that ends ``path`` (falls back to :meth:`line`)."""
        return self._key_lines.get(tuple(path)) or self.line(path)

    def problem(self, path: KeyPath, message: str, *, at_key: bool = False) -> Problem:
        """Build a :class:`Problem` located at ``path``."""
        line = self.key_line(path) if at_key else self.line(path)
        return Problem(self.file, line, format_path(path), message)


def read_source(path: str | Path, text: str | None = None) -> Source:
    """Read and parse one YAML file, recording the line of every key and value.

    Args:
        path: The file to read (also the name used in problems).
        text: The file's text, when already read.

    Returns:
        The :class:`Source`; its ``problems`` list syntax errors and duplicate keys.
    """
    src = Source(file=str(path))
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            src.problems.append(Problem(str(path), 0, "<file>", f"cannot read: {exc}"))
            return src
    loader = None
    try:
        loader = _LOADER(text)
        node = loader.get_single_node()
        src.data = loader.construct_document(node) if node is not None else None
        if node is not None:
            _walk(loader, node, (), src, set())
    except yaml.YAMLError as exc:
        src.data = None
        src.problems.append(_syntax_problem(src.file, exc, text))
    except (RecursionError, ValueError, TypeError, OverflowError) as exc:
        src.data = None
        src.problems.append(Problem(src.file, 0, "<root>", f"cannot parse YAML: {exc}"))
    finally:
        if loader is not None:
            loader.dispose()
    return src


def _syntax_problem(file: str, exc: yaml.YAMLError, text: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 0
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        return Problem(file, line, "<yaml>", _bad_char(exc.character))
    what = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {what}" + (f" ({context})" if context else "")
    return Problem(file, line, "<yaml>", message)


def _bad_char(character: object) -> str:
    code = character if isinstance(character, int) else ord(str(character)[:1] or " ")
    return f"invalid YAML: special character U+{code:04X} is not allowed"


def _walk(
    loader: yaml.SafeLoader, node: yaml.Node, path: KeyPath, src: Source, stack: set[int]
) -> None:
    src._value_lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in stack:
        return
    stack.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = _key_of(loader, key_node)
            if key in seen:
                src._key_lines.setdefault(path + (key,), key_node.start_mark.line + 1)
                src.problems.append(
                    Problem(
                        src.file,
                        key_node.start_mark.line + 1,
                        format_path(path + (key,)),
                        f"duplicate key {key!r} (the later value would silently win)",
                    )
                )
                continue
            seen.add(key)
            src._key_lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(loader, value_node, path + (key,), src, stack)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(loader, item, path + (i,), src, stack)
    stack.discard(id(node))


def _key_of(loader: yaml.SafeLoader, key_node: yaml.Node) -> Any:
    if isinstance(key_node, yaml.ScalarNode):
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            return repr(key)
        return key
    return f"<{key_node.id} key at line {key_node.start_mark.line + 1}>"
