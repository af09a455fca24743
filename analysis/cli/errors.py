"""The command line's error boundary: a user's mistake is one ``error: ...`` line, exit 2.

:class:`UserError` is what a subcommand raises for a mistake in what it was asked to do
(an unknown env, policy or keyword argument, a missing file, an unusable ``--out``), as
found by its checks before anything runs. :func:`proassist.analysis.cli.main` prints its
lines and returns 2. Besides it, :data:`SELF_EXPLAINING` errors (registry lookups,
invalid scenario files, missing or unreadable files) are reported the same way wherever
they are raised; every other exception is a bug and keeps its traceback.

Set ``PROASSIST_TRACEBACK=1`` to see the traceback of a user error too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from proassist.scenarios.errors import ScenarioError
from proassist.scenarios.registry import RegistryError

__all__ = ["SELF_EXPLAINING", "UserError", "one_line", "report", "user_errors"]

#: Errors whose message explains the user's mistake by itself, wherever raised.
SELF_EXPLAINING: tuple[type[BaseException], ...] = (
    RegistryError,
    ScenarioError,
    FileNotFoundError,
    PermissionError,
    NotADirectoryError,
    IsADirectoryError,
)


class UserError(Exception):
    """A mistake in what the user asked for (not a bug): printed without traceback.

    Args:
        *messages: One problem each; each is printed as one ``error: ...`` line.
    """

    def __init__(self, *messages: str) -> None:
        self.messages = [_flatten(m) for m in messages] or ["invalid arguments"]
        super().__init__("; ".join(self.messages))


def _flatten(text: str) -> str:
    """``text`` on one line: ``head:\\nline\\nline`` becomes ``head: line; line``."""
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        return f"{lines[0]} {'; '.join(lines[1:])}"
    return "; ".join(lines)


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (a file error names its file)."""
    if isinstance(exc, ScenarioError):
        return "; ".join(str(p) for p in exc.problems) or str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        where = exc.filename if exc.filename is not None else ""
        return _flatten(f"{where}: {exc.strerror}" if where != "" else exc.strerror)
    if isinstance(exc, KeyError) and not isinstance(exc, RegistryError) and exc.args:
        return _flatten(str(exc.args[0]))
    return _flatten(str(exc)) or type(exc).__name__


@contextmanager
def user_errors(*types: type[BaseException], what: str = "") -> Iterator[None]:
    """Turn the listed exception types raised inside into :class:`UserError`.

    Use it around checks that run before any work starts (building the policy and the
    env from the user's arguments), where these errors can only mean bad input.

    Args:
        *types: Exception types that mean the user's input is wrong.
        what: A prefix naming the input, e.g. ``"--task"`` (none when empty).
    """
    try:
        yield
    except UserError:
        raise
    except types as exc:
        message = one_line(exc)
        raise UserError(f"{what}: {message}" if what else message) from exc


def report(exc: BaseException) -> int:
    """Print ``exc`` as ``error: ...`` lines on stderr and return the exit code 2.

    Raises:
        BaseException: ``exc`` again when ``PROASSIST_TRACEBACK`` is set.
    """
    if os.environ.get("PROASSIST_TRACEBACK"):
        raise exc
    messages = exc.messages if isinstance(exc, UserError) else [one_line(exc)]
    for message in messages:
        print(f"error: {message}", file=sys.stderr)
    return 2
