"""The process-scaling benchmark's machinery (not its speed: tests never fail on timing)."""

from __future__ import annotations

import pytest

from bench import bench_scale


def test_procs_sps_runs_every_process_and_measures_cpu_share() -> None:
    sps, busy = bench_scale.procs_sps("pybullet", 2, size=32, seconds=0.3, render=False)
    assert sps > 0
    assert 0.0 < busy <= 1.5  # a share of wall-clock time (a little over 1 from threads)


def test_counts_and_sizes_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROASSIST_BENCH_PROCS", "1, 16")
    monkeypatch.setenv("PROASSIST_BENCH_SIZES", "64,512")
    assert bench_scale._counts() == [1, 16]
    assert bench_scale._sizes() == (64, 512)
    monkeypatch.delenv("PROASSIST_BENCH_SIZES")
    assert bench_scale._sizes() == bench_scale.SIZES


def test_renderers_name_the_device_they_draw_on() -> None:
    found = bench_scale._renderers()
    assert found.get("pybullet") == "TinyRenderer (CPU)"
    assert all(isinstance(v, str) and v for v in found.values())


def test_a_process_that_dies_is_reported_not_waited_for() -> None:
    with pytest.raises(RuntimeError, match="died or hung"):
        bench_scale.procs_sps("no-such-renderer", 2, size=32, seconds=0.1, wait=15)
