"""Where task, layout and profile files are found: the built-in library and search paths.

The built-in library is ``scenarios/{tasks,layouts,profiles}/``. Users add whole folders
with :func:`add_search_path` or the ``PROASSIST_PATH`` environment variable
(folders separated by ``os.pathsep``); each folder may hold ``tasks/``, ``layouts/``
and ``profiles/`` sub-folders laid out like the library. Names resolve in the library
first, then in the search folders in order (a later file with a taken name is
shadowed). A file given by path is used as is.

A layout or profile named inside a task file resolves relative to that task file first
(its folder, then the sibling ``layouts/`` or ``profiles/`` folder), then by name as
above; never relative to the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TASKS_DIR = ROOT / "tasks"
LAYOUTS_DIR = ROOT / "layouts"
PROFILES_DIR = ROOT / "profiles"

#: The environment variable holding extra search folders (``os.pathsep``-separated).
PATH_VARIABLE = "PROASSIST_PATH"
#: The sub-folder of a search folder for each kind of file.
SUBFOLDERS: dict[str, str] = {"task": "tasks", "layout": "layouts", "profile": "profiles"}
_LIBRARY: dict[str, Path] = {"task": TASKS_DIR, "layout": LAYOUTS_DIR, "profile": PROFILES_DIR}
_EXTRA: list[Path] = []


def add_search_path(folder: str | Path) -> None:
    """Add a folder of ``tasks/``, ``layouts/`` and ``profiles/`` to the search paths.

    Raises:
        FileNotFoundError: When ``folder`` is not a directory.
    """
    path = Path(folder).expanduser().resolve()
    if not path.is_dir():
        raise FileNotFoundError(f"search path {str(folder)!r} is not a directory")
    if path not in _EXTRA:
        _EXTRA.append(path)


def remove_search_path(folder: str | Path) -> None:
    """Remove a folder added with :func:`add_search_path` (no error when absent)."""
    path = Path(folder).expanduser().resolve()
    if path in _EXTRA:
        _EXTRA.remove(path)


def search_paths() -> list[Path]:
    """The extra search folders: :func:`add_search_path` ones, then ``PROASSIST_PATH``."""
    env = [Path(p).expanduser() for p in os.environ.get(PATH_VARIABLE, "").split(os.pathsep)]
    return [*_EXTRA, *(p for p in env if str(p) not in ("", ".") and p not in _EXTRA)]


def folders(kind: str) -> list[Path]:
    """The folders searched for ``kind`` (``task``, ``layout``, ``profile``), in order."""
    return [_LIBRARY[kind], *(p / SUBFOLDERS[kind] for p in search_paths())]


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # ENAMETOOLONG, NUL bytes, ...
        return False


def library_names(folder: Path) -> list[str]:
    """Sorted stems of the ``*.yaml`` files of ``folder``."""
    try:
        if not folder.is_dir():
            return []
        return sorted(p.stem for p in folder.glob("*.yaml"))
    except OSError:
        return []


def names(kind: str) -> list[str]:
    """Sorted names of every ``kind`` file in the library and the search paths."""
    return sorted({n for folder in folders(kind) for n in library_names(folder)})


def looks_like_path(name_or_path: str | Path) -> bool:
    """True for a ``Path``, a ``.yaml``/``.yml`` name or anything with a separator."""
    text = str(name_or_path)
    return isinstance(name_or_path, Path) or text.endswith((".yaml", ".yml")) or "/" in text


def find(kind: str, name_or_path: str | Path, relative_to: Path | None = None) -> Path | None:
    """Find a ``kind`` file by name or path.

    Args:
        kind: ``task``, ``layout`` or ``profile``.
        name_or_path: A name (``kitchen``) or a path to a ``.yaml`` file.
        relative_to: The folder of the file that refers to it (a task file): searched
            first, and the base of relative paths (instead of the current directory).

    Returns:
        The existing file, or ``None`` when there is none.
    """
    text = str(name_or_path)
    if looks_like_path(name_or_path):
        path = Path(text).expanduser()
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        return path if _is_file(path) else None
    local = []
    if relative_to is not None:
        local = [relative_to, relative_to.parent / SUBFOLDERS[kind]]
    for folder in [*local, *folders(kind)]:
        candidate = folder / f"{text}.yaml"
        if _is_file(candidate):
            return candidate
    return None
