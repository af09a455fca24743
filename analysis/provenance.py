"""Provenance of an output file: the exact config, seeds, package version and git commit.

``scores.json`` (``proassist eval``, ``proassist demo``), a sweep's ``summary.json`` and
``report.html`` carry the dict of :func:`provenance` under the key ``provenance``::

    {"package": "proassist", "version": "0.1.0", "git_commit": "3f2c...", "git_dirty": false,
     "python": "3.11.9", "config": {...}, "seeds": [0, 1, 2]}

``git_commit`` and ``git_dirty`` are ``None`` when the package does not run from a git
checkout (an installed wheel) or ``git`` is missing; nothing here ever raises for that.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "SUBPACKAGES",
    "files_fingerprint",
    "git_commit",
    "git_dirty",
    "package_version",
    "provenance",
    "source_fingerprint",
    "source_root",
]

#: Seconds a ``git`` call may take before it is given up (no commit recorded then).
GIT_TIMEOUT_S = 5.0

#: The package's subpackages: their files (code, task files, checkpoints) make
#: :func:`source_fingerprint`.
SUBPACKAGES: tuple[str, ...] = ("analysis", "envs", "policies", "scenarios", "sim")


def source_root() -> Path:
    """The folder the package's sources live in (the repository root in a checkout)."""
    return Path(__file__).resolve().parent.parent


def package_version() -> str | None:
    """The installed ``proassist`` version (``importlib.metadata``), or None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("proassist")
    except PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    """Output of ``git args`` run in :func:`source_root` when it is a checkout's root."""
    root = source_root()
    if not (root / ".git").exists():
        return None  # an installed package: a git repo around it is not its source
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # never write the index
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.cache
def git_commit() -> str | None:
    """``git rev-parse HEAD`` of the package's checkout, or None (module docstring)."""
    out = _git("rev-parse", "HEAD")
    return out if out and len(out) >= 40 else None


@functools.cache
def git_dirty() -> bool | None:
    """Whether tracked files of the checkout differ from :func:`git_commit` (None: unknown)."""
    if git_commit() is None:
        return None
    out = _git("status", "--porcelain", "--untracked-files=no")
    return None if out is None else bool(out)


def provenance(config: Mapping[str, Any] | str, seeds: Iterable[int]) -> dict[str, Any]:
    """What reproduces an output: ``config`` and ``seeds`` plus the code's identity.

    Args:
        config: The exact run configuration (JSON-serialisable), or a config file's text.
        seeds: The episode seeds run.

    Returns:
        The provenance dict (module docstring).
    """
    return {
        "package": "proassist",
        "version": package_version(),
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        "python": platform.python_version(),
        "config": config if isinstance(config, str) else dict(config),
        "seeds": sorted({int(s) for s in seeds}),
    }


def source_fingerprint(fresh: bool = False) -> str:
    """A hash of every file of the package's :data:`SUBPACKAGES` (code, task files,
    checkpoints; committed or not, ``__pycache__`` left out): equal fingerprints ran the
    same code on the same data. About 10 ms; the first one of the process is kept and
    returned again unless ``fresh`` (hash the files as they are now)."""
    return _hash_sources() if fresh else _first_fingerprint()


@functools.cache
def _first_fingerprint() -> str:
    return _hash_sources()


def _hash_sources() -> str:
    import importlib.util

    folders = []
    for name in SUBPACKAGES:
        spec = importlib.util.find_spec(f"proassist.{name}")
        folders += [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    return files_fingerprint(folders)


def files_fingerprint(paths: Iterable[str | Path]) -> str:
    """SHA-256 (16 hex digits) of the files at ``paths`` (folders: every file under them
    but ``__pycache__``), by their names relative to each path and their bytes; a
    missing path counts by its name only."""
    digest = hashlib.sha256()
    for root in map(Path, paths):
        files = [root] if root.is_file() else sorted(root.rglob("*")) if root.is_dir() else []
        digest.update(f"{root.name}\0".encode())
        for path in (f for f in files if f.is_file() and "__pycache__" not in f.parts):
            digest.update(f"{path.relative_to(root) if path != root else ''}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
