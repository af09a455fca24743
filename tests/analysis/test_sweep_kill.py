"""A sweep killed with SIGKILL and started again ends with exactly the rows of a sweep
that was never interrupted: nothing lost, nothing duplicated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_sweep_helpers import HERE, write_spec

from proassist.analysis.sweeps.runner import run_sweep

N_UNITS = 2 * 2 * 6


def _cli(spec: Path, out: Path, env: dict[str, str]) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "proassist.analysis.cli",
        "sweep",
        str(spec),
        "--out",
        str(out),
        "--workers",
        "2",
        "--no-progress",
    ]
    return subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


def _complete_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _kill_when(proc: subprocess.Popen, results: Path, n_rows: int, timeout: float = 120) -> None:
    """SIGKILL the sweep's whole process group once ``n_rows`` rows are on disk."""
    deadline = time.monotonic() + timeout
    while _complete_lines(results) < n_rows:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the sweep made no progress"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_sigkill_then_resume_equals_uninterrupted(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml", seeds=6, unit="slow_unit")
    env = {**os.environ, "PYTHONPATH": str(HERE), "SWEEP_TEST_SLEEP": "0.05"}
    out = tmp_path / "killed"
    # Seed 4 blocks while SWEEP_TEST_BLOCK is set, so the kill always lands mid-sweep.
    proc = _cli(spec, out, {**env, "SWEEP_TEST_BLOCK": "4"})
    _kill_when(proc, out / "results.jsonl", 8)
    assert proc.returncode == -signal.SIGKILL
    n_before = _complete_lines(out / "results.jsonl")
    assert 8 <= n_before < N_UNITS
    # A write torn by the kill: half a line at the end of both files.
    with open(out / "results.jsonl", "ab") as fh:
        fh.write(b'{"unit_id":"0123456789abcdef","label":"silent,omi')
    with open(out / "episodes.jsonl", "ab") as fh:
        fh.write(b'{"unit_id":"0123456789abcdef","env_id":"Pro')

    resumed = _cli(spec, out, env)
    _, err = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, err.decode()

    clean = run_sweep(spec, tmp_path / "clean", workers=0, progress=False)
    assert len(clean.rows) == N_UNITS
    for name in ("results.jsonl", "episodes.jsonl"):
        got = (out / name).read_text().splitlines()
        want = (tmp_path / "clean" / name).read_text().splitlines()
        assert got == want, name
        ids = [json.loads(line)["unit_id"] for line in got]
        assert len(ids) == len(set(ids)) == N_UNITS
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ran"] == N_UNITS - n_before


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_stops_workers_and_keeps_rows(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml", seeds=6, unit="slow_unit")
    env = {**os.environ, "PYTHONPATH": str(HERE), "SWEEP_TEST_SLEEP": "0.05"}
    out = tmp_path / "termed"
    proc = _cli(spec, out, {**env, "SWEEP_TEST_BLOCK": "4"})
    deadline = time.monotonic() + 120
    while _complete_lines(out / "results.jsonl") < 4:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode == 130
    deadline = time.monotonic() + 10
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _group_alive(proc.pid), "worker processes outlived the sweep"
    kept = _complete_lines(out / "results.jsonl")
    resumed = _cli(spec, out, env)
    _, err = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, err.decode()
    assert _complete_lines(out / "results.jsonl") == N_UNITS and kept >= 4


def _children(pid: int) -> list[int]:
    """Pids of the live (non-zombie) processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _proc_field(int(entry.name), "PPid") == str(pid):
            out.append(int(entry.name))
    return out


def _proc_field(pid: int, field: str) -> str | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{field}:"):
            return line.split(":", 1)[1].split()[0]
    return None


def _running(pid: int) -> bool:
    state = _proc_field(pid, "State")
    return state is not None and state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_sigkill_of_the_driver_leaves_no_worker(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml", seeds=6, unit="slow_unit")
    env = {**os.environ, "PYTHONPATH": str(HERE), "SWEEP_TEST_SLEEP": "0.5"}
    out = tmp_path / "orphans"
    proc = _cli(spec, out, {**env, "SWEEP_TEST_BLOCK": "0"})
    try:
        deadline = time.monotonic() + 120
        while _complete_lines(out / "results.jsonl") < 1:  # the workers are up and busy
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the sweep made no progress"
            time.sleep(0.05)
        workers = _children(proc.pid)
        assert len(workers) >= 2, workers
        proc.kill()  # SIGKILL the driver only, not its process group
        proc.wait()
        deadline = time.monotonic() + 5
        while any(_running(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [w for w in workers if _running(w)], "workers outlived the driver"
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
