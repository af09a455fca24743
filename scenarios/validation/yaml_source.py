"""YAML reading with line numbers: ``safe_load`` semantics plus a key-path → line map.

The document is composed into a node tree with :class:`yaml.SafeLoader`, constructed
with the safe constructor (so the data is exactly what ``yaml.safe_load`` returns),
and the node tree is walked in parallel to record the line of every key and value.
Duplicate mapping keys, which ``safe_load`` silently merges, are reported, and so are
alias bombs, recursive aliases and over-deep nesting (see :mod:`.yaml_limits`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from proassist.scenarios.errors import KeyPath, Problem, format_path
from proassist.scenarios.validation.yaml_limits import MAX_FILE_BYTES, check_graph

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

    Files over ``MAX_FILE_BYTES``, alias bombs, recursive aliases, over-deep nesting and
    huge integers are reported before the document is constructed (see
    :mod:`.yaml_limits`).

    Args:
        path: The file to read (also the name used in problems).
        text: The file's text, when already read.

    Returns:
        The :class:`Source`; its ``problems`` list syntax errors and duplicate keys.
    """
    src = Source(file=str(path))
    if text is None:
        text = _read_text(path, src)
        if text is None:
            return src
    if len(text) > MAX_FILE_BYTES:
        msg = f"file too large ({len(text)} characters; at most {MAX_FILE_BYTES})"
        src.problems.append(Problem(src.file, 1, "<file>", msg))
        return src
    _parse(text, src)
    return src


def _read_text(path: str | Path, src: Source) -> str | None:
    """The UTF-8 text of ``path``, or ``None`` with a problem added."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)  # a huge file is not read whole
    except (OSError, ValueError) as exc:
        src.problems.append(Problem(src.file, 0, "<file>", f"cannot read: {exc}"[:500]))
        return None
    if len(data) > MAX_FILE_BYTES:
        msg = f"file too large (over {MAX_FILE_BYTES} bytes)"
        src.problems.append(Problem(src.file, 1, "<file>", msg))
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        msg = f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        src.problems.append(Problem(src.file, line, "<file>", msg))
        return None


def _parse(text: str, src: Source) -> None:
    """Compose, check the node graph of, construct and walk ``text`` into ``src``."""
    loader = None
    try:
        loader = _LOADER(text)
        node = loader.get_single_node()
        bad = check_graph(src.file, node) if node is not None else None
        if bad is not None:
            src.problems.append(bad)
            return
        src.data = loader.construct_document(node) if node is not None else None
        if node is not None:
            _walk(loader, node, (), src, set())
    except yaml.YAMLError as exc:
        src.data = None
        src.problems.append(_syntax_problem(src.file, exc, text))
    except (RecursionError, ValueError, TypeError, OverflowError, MemoryError) as exc:
        src.data = None
        msg = f"cannot parse YAML: {type(exc).__name__}: {exc}"[:500]
        src.problems.append(Problem(src.file, 1, "<yaml>", msg))
    finally:
        if loader is not None:
            loader.dispose()


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
