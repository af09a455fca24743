"""Crash-safe storage of a sweep's results in its output folder.

Files:

- ``results.jsonl``: one row per finished unit (the row is the commit marker).
- ``episodes.jsonl``: the episode record of each unit that produced one, with
  ``unit_id`` and ``label`` added (CONTRACTS.md §5 otherwise).

Each line is appended with a single ``write`` of the complete line followed by
``fsync``; the episode line is written before the result row, so a unit counts as done
only when its row is on disk. A process killed mid-write leaves at most one torn last
line (no trailing newline, or not valid JSON); reading ignores it (and
:attr:`SweepStore.corrupt` names each ignored line, ``FILE:LINE``). :meth:`SweepStore.compact`
rewrites both files atomically (temporary file, ``fsync``, ``os.replace``) with exactly one
row per unit (the last written wins, so a retried unit supersedes its failed row) and
only the episodes of units whose final row is ``ok``; a row that says it has an episode
whose line is missing is dropped, so that unit runs again. A lock file (``flock``, released by
the kernel even on SIGKILL) keeps two sweeps from writing the same folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

RESULTS = "results.jsonl"
EPISODES = "episodes.jsonl"
LOCK = ".sweep.lock"


class SweepLockedError(RuntimeError):
    """Another process is running a sweep in the same output folder."""


def read_jsonl(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Read complete JSON-object lines of ``path``.

    Returns:
        ``(rows, n_bad)``: the parsed rows, and how many lines were ignored (a torn last
        line without newline, or any line that is not a JSON object).
    """
    rows, bad = read_jsonl_lines(path)
    return rows, len(bad)


def read_jsonl_lines(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """Like :func:`read_jsonl`, with the 1-based numbers of the ignored lines."""
    if not path.exists():
        return [], []
    lines = path.read_bytes().split(b"\n")
    tail = lines.pop()  # text after the last newline: empty, or a torn line
    rows: list[dict[str, Any]] = []
    bad = [len(lines) + 1] if tail.strip() else []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        if isinstance(row, dict):
            rows.append(row)
        else:
            bad.append(number)
    return rows, sorted(bad)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (tmp file, fsync, rename, fsync dir)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def dumps_line(obj: Any) -> str:
    """One JSONL line (compact, newline-terminated)."""
    return json.dumps(obj, separators=(",", ":")) + "\n"


class SweepStore:
    """The result files of one sweep folder, opened for appending under a lock."""

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.results_path = self.out_dir / RESULTS
        self.episodes_path = self.out_dir / EPISODES
        self._lock_fd = self._acquire_lock()
        self._fds: dict[Path, int] = {}
        self.ignored_lines = 0
        #: ``FILE:LINE`` of every corrupt line the last :meth:`load` ignored.
        self.corrupt: list[str] = []
        #: Units whose row :meth:`compact` dropped because their episode line was lost.
        self.lost: list[str] = []

    def _acquire_lock(self) -> int:
        import fcntl

        fd = os.open(self.out_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise SweepLockedError(f"another sweep is running in {self.out_dir}") from exc
        return fd

    def load(self) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """Final rows and episodes by unit id (last line wins; torn lines ignored)."""
        rows, bad_r = read_jsonl_lines(self.results_path)
        episodes, bad_e = read_jsonl_lines(self.episodes_path)
        self.corrupt = [f"{self.results_path}:{n}" for n in bad_r]
        self.corrupt += [f"{self.episodes_path}:{n}" for n in bad_e]
        self.ignored_lines = len(self.corrupt)
        by_id = {r["unit_id"]: r for r in rows if isinstance(r.get("unit_id"), str)}
        eps = {e["unit_id"]: e for e in episodes if isinstance(e.get("unit_id"), str)}
        return by_id, eps

    def compact(self, order: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Rewrite both files: one row per unit (``order`` first), episodes of ok units.

        Returns:
            The final rows by unit id.
        """
        self._close_fds()
        rows, eps = self.load()
        self.lost = [u for u, r in rows.items() if r.get("has_episode") and u not in eps]
        for u in self.lost:  # its episode line is gone (file damaged): run the unit again
            del rows[u]
        ids = [u for u in dict.fromkeys(order) if u in rows]
        ids += [u for u in rows if u not in set(ids)]
        write_atomic(self.results_path, "".join(dumps_line(rows[u]) for u in ids))
        keep = [u for u in ids if rows[u].get("status") == "ok" and u in eps]
        write_atomic(self.episodes_path, "".join(dumps_line(eps[u]) for u in keep))
        return {u: rows[u] for u in ids}

    def _append(self, path: Path, line: str) -> None:
        fd = self._fds.get(path)
        if fd is None:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._fds[path] = fd
        data = line.encode("utf-8")
        written = os.write(fd, data)
        while written < len(data):  # os.write may be partial for very large lines
            written += os.write(fd, data[written:])
        os.fsync(fd)

    def record(self, row: dict[str, Any], episode: dict[str, Any] | None) -> None:
        """Append one unit's episode (if any) then its row, each durably."""
        if episode is not None:
            ep = {"unit_id": row["unit_id"], "label": row["label"], **episode}
            self._append(self.episodes_path, dumps_line(ep))
        self._append(self.results_path, dumps_line(row))

    def _close_fds(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def close(self) -> None:
        """Close the files and release the lock."""
        self._close_fds()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
