"""The vector-env benchmark's machinery (not its speed: tests never fail on timing)."""

from __future__ import annotations

import pytest

from bench import bench_vec


def test_vector_sps_measures_one_env_and_both_vector_envs() -> None:
    sps = bench_vec.vector_sps("pybullet", 2, seconds=0.4, blocks=2)
    assert set(sps) == {"single", "async", "inline"}
    assert all(v > 0 for v in sps.values())


def test_rows_per_count_above_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROASSIST_BENCH_PROCS", "1,2")
    monkeypatch.setattr(
        bench_vec, "vector_sps", lambda r, n, s: {"single": 10.0, "async": 15.0, "inline": 17.0}
    )
    rows = bench_vec._renderer_rows("gl", 0.1)
    assert [r["ratio"] for r in rows] == ["1.50", "1.70"]
    assert all("2-env" in r["name"] and r["goal"] for r in rows)
