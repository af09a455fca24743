"""A killed sanity run resumes where it was (``analysis/sanity_cells.py``, ``--resume``).

Cells are recorded as they finish; a resumed run reuses exactly the cells recorded with
the same key (row, env, seeds, settings, plugins, package files) and runs the rest, and
its result equals an uninterrupted run's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import proassist.analysis.provenance as provenance
import proassist.analysis.sanity as sanity
from proassist.analysis.cli import main
from proassist.analysis.provenance import files_fingerprint
from proassist.analysis.sanity import ROWS, run_sanity
from proassist.analysis.sanity_cells import CellStore, cell_key
from proassist.analysis.sweeps.store import SweepLockedError

ENVS = ("ProAssist-Kitchen-v0", "ProAssist-Assembly-v0")
ROWS_RUN = tuple(r for r in ROWS if r.label in ("silent", "coin", "periodic-5s"))
N_CELLS = len(ENVS) * len(ROWS_RUN)


def _run(out: Path, resume: bool, seeds: range = range(2)) -> tuple[dict, CellStore]:
    store = CellStore(out, resume=resume)
    try:
        return run_sanity(ENVS, seeds, rows=ROWS_RUN, store=store), store
    finally:
        store.close()


def _counting(monkeypatch: pytest.MonkeyPatch, fail_at: int | None = None) -> list[str]:
    """Count the cells run; raise KeyboardInterrupt at the ``fail_at``-th (a kill)."""
    calls: list[str] = []
    real = sanity.evaluate_row

    def evaluate_row(row, env_id, *args, **kwargs):  # noqa: ANN001, ANN202
        calls.append(f"{row.label}|{env_id}")
        if fail_at is not None and len(calls) == fail_at:
            raise KeyboardInterrupt
        return real(row, env_id, *args, **kwargs)

    monkeypatch.setattr(sanity, "evaluate_row", evaluate_row)
    return calls


def test_a_killed_run_resumes_with_the_missing_cells_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole, _ = _run(tmp_path / "whole", resume=False)
    _counting(monkeypatch, fail_at=4)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "killed", resume=False)
    calls = _counting(monkeypatch)
    resumed, store = _run(tmp_path / "killed", resume=True)
    assert (store.reused, store.stale, len(calls)) == (3, 0, N_CELLS - 3)
    assert resumed["rows"] == whole["rows"]
    calls = _counting(monkeypatch)
    again, store = _run(tmp_path / "killed", resume=True)
    assert (store.reused, calls, again["rows"]) == (N_CELLS, [], whole["rows"])


def test_cells_of_other_seeds_or_code_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(tmp_path, resume=False)
    calls = _counting(monkeypatch)
    _, store = _run(tmp_path, resume=True, seeds=range(1, 3))
    assert (store.reused, store.stale, len(calls)) == (0, N_CELLS, N_CELLS)
    monkeypatch.setattr(
        "proassist.analysis.provenance.source_fingerprint", lambda fresh=False: "edited"
    )
    calls = _counting(monkeypatch)
    _, store = _run(tmp_path, resume=True, seeds=range(1, 3))
    assert (store.reused, store.stale, len(calls)) == (0, N_CELLS, N_CELLS)
    _, store = _run(tmp_path, resume=False)  # without --resume nothing is reused
    assert store.reused == 0


def test_a_cell_that_ends_after_the_code_changed_is_not_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = provenance.source_fingerprint()
    monkeypatch.setattr(
        provenance, "source_fingerprint", lambda fresh=False: "edited" if fresh else first
    )
    _, store = _run(tmp_path, resume=False)
    assert store.changed == N_CELLS and "changed during 6 cells" in store.summary()
    monkeypatch.undo()
    calls = _counting(monkeypatch)
    _, store = _run(tmp_path, resume=True)
    assert (store.reused, len(calls)) == (0, N_CELLS)


def test_the_key_sees_named_files_plugins_and_proassist_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = tmp_path / "task.yaml"
    task.write_text("a: 1\n")
    plugin = tmp_path / "plug.py"
    plugin.write_text("X = 1\n")
    row = ROWS_RUN[0]

    def key() -> str:
        return cell_key(row, ENVS[0], range(2), {"task": str(task)}, [str(plugin), "json"])

    first = key()
    assert key() == first
    task.write_text("a: 2\n")
    assert key() != first
    task.write_text("a: 1\n")
    plugin.write_text("X = 2\n")
    assert key() != first
    plugin.write_text("X = 1\n")
    monkeypatch.setenv("PROASSIST_TEST_KEY_VARIABLE", "tfidf")
    assert key() != first
    monkeypatch.delenv("PROASSIST_TEST_KEY_VARIABLE")
    assert key() == first
    assert cell_key(row, ENVS[0], range(3), {"task": str(task)}, [str(plugin), "json"]) != first


def test_a_crashed_cell_is_recorded_and_runs_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sanity.evaluate_row

    def broken(row, env_id, *args, **kwargs):  # noqa: ANN001, ANN202
        if row.label == "coin":
            raise ValueError("boom")
        return real(row, env_id, *args, **kwargs)

    monkeypatch.setattr(sanity, "evaluate_row", broken)
    first, _ = _run(tmp_path, resume=False)
    assert {e: "ValueError: boom" for e in ENVS} == first["rows"][1]["errors"]
    monkeypatch.setattr(sanity, "evaluate_row", real)  # mended
    calls = _counting(monkeypatch)
    second, store = _run(tmp_path, resume=True)
    assert sorted(calls) == sorted(f"coin|{e}" for e in ENVS) and store.reused == N_CELLS - 2
    assert not second["rows"][1]["errors"] and second["all_hold"]


def test_one_run_per_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    held = CellStore(tmp_path)
    try:
        with pytest.raises(SweepLockedError):
            CellStore(tmp_path, resume=True)
        code = main(["sanity", "--rows", "silent", "--seeds", "1", "--out", str(tmp_path)])
        assert code == 2
        assert "another sanity run is recording cells in" in capsys.readouterr().err
    finally:
        held.close()


def test_cli_resume_says_what_it_reused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["sanity", "--rows", "silent,coin", "--seeds", "2", "--env", ENVS[0]]
    assert main([*args, "--out", str(tmp_path)]) == 0
    first = (tmp_path / "sanity.json").read_text()
    assert main([*args, "--out", str(tmp_path), "--resume"]) == 0
    assert "reused 2 recorded cells; 0 recorded by other code" in capsys.readouterr().out
    assert (tmp_path / "sanity.json").read_text() == first


def test_files_fingerprint_reads_names_and_bytes(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    first = files_fingerprint([tmp_path / "pkg"])
    (tmp_path / "pkg" / "__pycache__" / "a.pyc").write_bytes(b"\0")
    assert files_fingerprint([tmp_path / "pkg"]) == first
    (tmp_path / "pkg" / "a.py").write_text("x = 2\n")
    assert files_fingerprint([tmp_path / "pkg"]) != first
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    assert files_fingerprint([tmp_path / "pkg"]) == first
    (tmp_path / "pkg" / "a.py").rename(tmp_path / "pkg" / "b.py")
    assert files_fingerprint([tmp_path / "pkg"]) != first
