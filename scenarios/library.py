"""Where the library's task, layout and profile files live."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent
TASKS_DIR = ROOT / "tasks"
LAYOUTS_DIR = ROOT / "layouts"
PROFILES_DIR = ROOT / "profiles"


def library_names(folder: Path) -> list[str]:
    """Sorted stems of the ``*.yaml`` files of ``folder``."""
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.yaml"))


def resolve(name_or_path: str | Path, folder: Path, base: Path | None = None) -> Path | None:
    """Find a library file by name or a file by path.

    Args:
        name_or_path: A library name (``kitchen``) or a path to a ``.yaml`` file.
        folder: The library folder for names.
        base: Folder that relative paths are resolved against (besides the cwd).

    Returns:
        The existing file, or ``None`` when there is none.
    """
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith((".yaml", ".yml")) or "/" in text:
        path = Path(text)
        if not path.is_absolute() and base is not None and not path.exists():
            path = base / path
        return path if path.is_file() else None
    candidate = folder / f"{text}.yaml"
    return candidate if candidate.is_file() else None
