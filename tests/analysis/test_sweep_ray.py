"""The Ray backend against a real local Ray: the same rows as local processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_sweep_helpers import write_spec

from proassist.analysis.sweeps.runner import run_sweep

ray = pytest.importorskip("ray")


def _strip(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "traceback"} for r in rows]


def test_ray_rows_equal_local_rows(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml", seeds=2, unit="crash_unit")
    local = run_sweep(spec, tmp_path / "local", workers=0, progress=False)
    assert not ray.is_initialized()
    remote = run_sweep(spec, tmp_path / "ray", workers=2, backend="ray", progress=False)
    assert not ray.is_initialized()  # the Ray it started was shut down
    assert _strip(remote.ordered_rows()) == _strip(local.ordered_rows())
    assert remote.failed == 4 and remote.ok == 4
    failed = [r for r in remote.ordered_rows() if r["status"] == "failed"]
    assert all("boom at seed 1" in r["traceback"] for r in failed)
    episodes = (tmp_path / "ray" / "episodes.jsonl").read_bytes()
    assert episodes == (tmp_path / "local" / "episodes.jsonl").read_bytes()
