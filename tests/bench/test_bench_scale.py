"""The process-scaling benchmark's machinery (not its speed: tests never fail on timing)."""

from __future__ import annotations

import time

import pytest

from bench import bench_scale


def test_procs_sps_runs_every_process_and_measures_cpu_share() -> None:
    sps, busy = bench_scale.procs_sps("gl", 2, size=32, seconds=0.3, render=False)
    assert sps > 0
    assert 0.0 < busy <= 1.5  # a share of wall-clock time (a little over 1 from threads)


def test_a_process_that_fails_is_reported_at_once() -> None:
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match=r"(?s)died or hung.*no-such-renderer"):
        bench_scale.procs_sps("no-such-renderer", 2, size=32, seconds=0.1, wait=120)
    assert time.monotonic() - t0 < 60  # not the 120 s wait: the failure breaks the barrier


def test_counts_and_sizes_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROASSIST_BENCH_PROCS", "1, 16")
    monkeypatch.setenv("PROASSIST_BENCH_SIZES", "64,512")
    assert bench_scale._counts() == [1, 16]
    assert bench_scale._sizes() == (64, 512)
    monkeypatch.delenv("PROASSIST_BENCH_SIZES")
    assert bench_scale._sizes() == bench_scale.SIZES
    for bad in ("0", "two"):
        monkeypatch.setenv("PROASSIST_BENCH_PROCS", bad)
        with pytest.raises(ValueError, match="PROASSIST_BENCH_PROCS"):
            bench_scale._counts()


def test_renderers_name_the_device_they_draw_on() -> None:
    from proassist.sim.render.gl_context import create_context

    found = bench_scale._renderers()
    try:
        create_context().release()
        assert found["gl"].strip()
    except (ImportError, RuntimeError):
        assert "gl" not in found
    try:
        import pybullet  # noqa: F401

        assert found["pybullet"] == "TinyRenderer (CPU)"
    except ImportError:
        assert "pybullet" not in found


def test_pack_forced_sets_and_restores_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setenv("PROASSIST_GL_PACK", "0")
    with bench_scale.pack_forced("1"):
        assert os.environ["PROASSIST_GL_PACK"] == "1"
    assert os.environ["PROASSIST_GL_PACK"] == "0"
    monkeypatch.delenv("PROASSIST_GL_PACK")
    with pytest.raises(KeyError), bench_scale.pack_forced("1"):
        raise KeyError("inside")
    assert "PROASSIST_GL_PACK" not in os.environ


def test_pack_sps_builds_one_env_per_read_back_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both envs step, and each drew with the path it was built under."""
    pytest.importorskip("moderngl")
    from proassist.sim.render.gl_backend import GLRenderer

    made: list[bool] = []
    init = GLRenderer._make_targets

    def spy(self: GLRenderer) -> None:
        init(self)
        made.append(self.targets.pack)

    monkeypatch.setattr(GLRenderer, "_make_targets", spy)
    try:
        sps = bench_scale.pack_sps(32, seconds=0.2, rounds=2)
    except RuntimeError as exc:  # no EGL context on this machine
        pytest.skip(str(exc))
    assert set(sps) == {"1", "0"} and min(sps.values()) > 0
    assert made == [True, False]
