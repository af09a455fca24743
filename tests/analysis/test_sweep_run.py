"""Running sweeps: crashing units, worker death, retry, resume, store, summary, CLI."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_sweep_helpers import write_spec

from proassist.analysis.cli import main as cli_main
from proassist.analysis.sweeps.backends import WORKER_DIED
from proassist.analysis.sweeps.runner import run_sweep
from proassist.analysis.sweeps.store import SweepLockedError, SweepStore, read_jsonl


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_crashing_unit_and_dying_worker_are_recorded(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml", seeds=4)
    res = run_sweep(
        spec, tmp_path / "crash", workers=2, unit_fn="test_sweep_helpers:crash_unit", progress=False
    )
    failed = [r for r in res.ordered_rows() if r["status"] == "failed"]
    assert len(res.rows) == 16 and len(failed) == 4 == res.failed and res.ok == 12
    assert all(r["seed"] == 1 and r["error"] == "RuntimeError: boom at seed 1" for r in failed)
    assert all("crash_unit" in r["traceback"] and "Traceback" in r["traceback"] for r in failed)
    res = run_sweep(
        spec, tmp_path / "die", workers=2, unit_fn="test_sweep_helpers:die_unit", progress=False
    )
    died = [r for r in res.ordered_rows() if r["status"] == "failed"]
    assert [r["seed"] for r in died] == [2, 2, 2, 2]
    assert all(r["error"] == WORKER_DIED for r in died)
    assert res.ok == 12
    assert len(_lines(tmp_path / "die" / "episodes.jsonl")) == 12


def test_rows_match_across_worker_counts_and_resume_is_a_noop(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml", seeds=3)
    inline = run_sweep(spec, tmp_path / "a", workers=0, progress=False)
    pool = run_sweep(spec, tmp_path / "b", workers=2, progress=False)
    for name in ("results.jsonl", "episodes.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    again = run_sweep(spec, tmp_path / "b", workers=2, progress=False)
    assert again.ran == 0 and again.rows == pool.rows == inline.rows
    row = inline.ordered_rows()[0]
    assert row["status"] == "ok" and row["extra"] == {"n": 1} and row["traceback"] is None
    assert row["config"]["env_kwargs"] == {"deviation_rates": {"omission": 0.1}}
    episode = _lines(tmp_path / "a" / "episodes.jsonl")[0]
    assert episode["unit_id"] == row["unit_id"] and episode["label"] == row["label"]


def test_retry_failed_supersedes_failed_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "fail"
    marker.touch()
    monkeypatch.setenv("SWEEP_TEST_FAIL_FILE", str(marker))
    spec = write_spec(tmp_path / "s.yaml", seeds=4, unit="flaky_unit")
    out = tmp_path / "out"
    first = run_sweep(spec, out, workers=0, progress=False)
    assert first.failed == 8 and first.ok == 8
    marker.unlink()
    assert run_sweep(spec, out, workers=0, progress=False).ran == 0  # failed rows stay
    retry = run_sweep(spec, out, workers=0, retry_failed=True, progress=False)
    assert retry.ran == 8 and retry.failed == 0 and retry.ok == 16
    clean = run_sweep(spec, tmp_path / "clean", workers=0, progress=False)
    assert retry.rows == clean.rows
    assert (out / "results.jsonl").read_bytes() == (
        tmp_path / "clean" / "results.jsonl"
    ).read_bytes()
    summary = json.loads((out / "summary.json").read_text())
    assert (
        summary["ok"] == 16
        and summary["failed"] == 0
        and summary["metrics"] == ["score", "success"]
    )


def test_torn_lines_and_orphan_episodes_are_dropped(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml", seeds=2)
    out = tmp_path / "out"
    full = run_sweep(spec, out, workers=0, progress=False)
    results, episodes = out / "results.jsonl", out / "episodes.jsonl"
    keep = results.read_text().splitlines(keepends=True)
    results.write_text("".join(keep[:3]) + keep[3][:25])  # 3 rows + a torn 4th
    episodes.write_text(episodes.read_text() + '{"unit_id": "zz", "tor')
    rows, bad = read_jsonl(results)
    assert len(rows) == 3 and bad == 1
    resumed = run_sweep(spec, out, workers=0, progress=False)
    assert resumed.ran == 5 and resumed.rows == full.rows
    assert len(_lines(results)) == 8 and len(_lines(episodes)) == 8
    assert len({r["unit_id"] for r in _lines(episodes)}) == 8


def test_a_second_sweep_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml", seeds=1)
    with SweepStore(tmp_path / "out"), pytest.raises(SweepLockedError):
        run_sweep(spec, tmp_path / "out", workers=0, progress=False)


def test_bad_arguments_and_unit_functions_fail_before_running(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml", seeds=1)
    with pytest.raises(ValueError, match="backend"):
        run_sweep(spec, tmp_path / "o", backend="dask")
    with pytest.raises(ModuleNotFoundError):
        run_sweep(spec, tmp_path / "o", unit_fn="no_such_module:f")
    with pytest.raises(TypeError, match="picklable"):
        run_sweep(spec, tmp_path / "o", unit_fn=lambda u: {"scores": {}})
    assert not (tmp_path / "o").exists()


def test_missing_ray_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    spec = write_spec(tmp_path / "s.yaml", seeds=1)
    with pytest.raises(ImportError, match=r"\[ray\] extra"):
        run_sweep(spec, tmp_path / "o", backend="ray", progress=False)
    assert not (tmp_path / "o").exists()


def test_cli_runs_and_prints_summary(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    spec = write_spec(tmp_path / "s.yaml", seeds=2)
    out = tmp_path / "out"
    code = cli_main(["sweep", str(spec), "--workers", "0", "--out", str(out), "--no-progress"])
    text = capsys.readouterr().out
    assert code == 0
    assert "silent,omission=0.1" in text and "8 ok, 0 failed" in text
    assert (out / "sweep.yaml").read_text() == spec.read_text()
    assert cli_main(["sweep", str(spec), "--check"]) == 0
    with pytest.raises(SystemExit):
        cli_main(["sweep", "--help"])
    assert "--retry-failed" in capsys.readouterr().out


@settings(max_examples=15, deadline=None)
@given(cut=st.floats(0.0, 1.0), cut_episodes=st.floats(0.0, 1.0))
def test_resume_after_truncation_at_any_byte(cut: float, cut_episodes: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spec = write_spec(Path(tmp) / "s.yaml", seeds=2)
        full = run_sweep(spec, Path(tmp) / "full", workers=0, progress=False)
        out = Path(tmp) / "cut"
        shutil.copytree(Path(tmp) / "full", out)
        for name, frac in (("results.jsonl", cut), ("episodes.jsonl", cut_episodes)):
            data = (out / name).read_bytes()
            (out / name).write_bytes(data[: int(len(data) * frac)])
        resumed = run_sweep(spec, out, workers=0, progress=False)
        assert resumed.rows == full.rows
        for name in ("results.jsonl", "episodes.jsonl"):
            assert (out / name).read_bytes() == (Path(tmp) / "full" / name).read_bytes()
