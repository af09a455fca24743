"""Soak: hundreds of short episodes in one process keep the resident memory flat."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH_SOAK = Path(__file__).resolve().parents[2] / "bench" / "bench_soak.py"


def _bench_soak() -> ModuleType:
    if "bench_soak_under_test" in sys.modules:
        return sys.modules["bench_soak_under_test"]
    spec = importlib.util.spec_from_file_location("bench_soak_under_test", BENCH_SOAK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_rss_probe_sees_an_allocation() -> None:
    soak = _bench_soak()
    before = soak.rss_mib()
    block = bytearray(64 * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # touch every page
    after = soak.rss_mib()
    assert after - before > 48, (before, after)
    del block


def test_soak_rejects_bad_sizes() -> None:
    soak = _bench_soak()
    with pytest.raises(ValueError, match="n_episodes"):
        soak.soak(0)


@pytest.mark.slow
def test_soak_memory_is_flat() -> None:
    """1,000 short sweep units (3 domains, random deviations, no rendering; ~30 s):
    after the first 200 (imports, caches), RSS grows by less than 8 MiB (10 KB/episode)."""
    soak = _bench_soak()
    res = soak.soak(1000, sample_every=200, max_duration=10.0)
    assert [n for n, _ in res.samples] == [0, 200, 400, 600, 800, 1000]
    assert res.deviations > 0 and res.steps >= 1000 * 10
    assert res.growth_mib < 8.0, res.samples
