"""Validation problems and the typed error that carries them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from proassist.scenarios.registry import did_you_mean

__all__ = ["KeyPath", "Problem", "ScenarioError", "did_you_mean", "format_path", "sort_problems"]

#: A path into a YAML document: mapping keys (str) and list indices (int).
KeyPath = tuple[object, ...]


def format_path(path: KeyPath) -> str:
    """Render a key path as a dotted field name, e.g. ``steps[3].after``.

    Args:
        path: Mapping keys and list indices from the document root.

    Returns:
        The dotted field name; ``<root>`` for the empty path.
    """
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<root>"


@dataclass(frozen=True)
class Problem:
    """One problem found in a scenario file.

    Attributes:
        file: Path of the file (as given).
        line: 1-based line number (0 when unknown).
        field: Dotted field path, e.g. ``steps[3].after[0]``.
        message: What is wrong and what was expected.
    """

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class ScenarioError(ValueError):
    """A scenario, layout or profile file is invalid.

    Attributes:
        problems: Every problem found, in file order.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sort_problems(problems)
        super().__init__(self._text())

    def _text(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found:"
        return "\n".join([head, *(str(p) for p in self.problems)])

    def __str__(self) -> str:
        return self._text()


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Sort problems by file and line, dropping exact duplicates."""
    unique: dict[Problem, None] = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (p.file, p.line))
