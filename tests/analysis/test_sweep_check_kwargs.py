"""``sweep --check`` checks policy settings like env settings; resume reports what it drops."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_sweep_helpers import write_spec

from proassist.analysis.cli import main
from proassist.analysis.sweeps.runner import run_sweep
from proassist.analysis.sweeps.spec import SweepSpecError, load_sweep
from proassist.analysis.sweeps.store import read_jsonl, read_jsonl_lines

HEAD = "name: t\nenv: ProAssist-Kitchen-v0\nepisodes: {count: 1}\n"


def _problems(text: str) -> list[str]:
    with pytest.raises(SweepSpecError) as err:
        load_sweep(text, is_text=True)
    return [str(p) for p in err.value.problems]


def test_base_and_grid_settings_are_located() -> None:
    text = HEAD + (
        "policy: duplex\n"  # 4
        "policy_kwargs: {planer: taskgraph}\n"  # 5
        "grid:\n"  # 6
        "  policy_kwargs.treshold: [0.25, 0.5]\n"  # 7
    )
    problems = _problems(text)
    assert len(problems) == 2  # each once, not once per grid point
    assert problems[0].startswith("<string>:5: policy_kwargs.planer: policy 'duplex' got unknown")
    assert "did you mean 'planner'" in problems[0]
    assert problems[1].startswith("<string>:7: grid.policy_kwargs.treshold: ")
    assert "did you mean 'threshold'?" in problems[1]


def test_variant_settings_in_both_forms_and_types() -> None:
    text = HEAD + (
        "variants:\n"  # 4
        "  - {policy: silent}\n"  # 5
        "  - policy: periodic\n"  # 6
        "    policy_kwargs:\n"  # 7
        "      perod: 3\n"  # 8
        "  - {policy: periodic, policy_kwargs.period: fast}\n"  # 9
    )
    problems = _problems(text)
    assert problems[0].startswith("<string>:8: variants[1].policy_kwargs.perod: ")
    assert "did you mean 'period'" in problems[0]
    assert problems[1] == (
        "<string>:9: variants[2].policy_kwargs.period: policy 'periodic' argument 'period' "
        "must be a finite number, got 'fast'"
    )


def test_a_base_setting_another_policy_rejects() -> None:
    text = HEAD + "policy_kwargs: {period: 3}\nvariants:\n  - {policy: periodic}\n"
    assert load_sweep(text, is_text=True).policy_kwargs == {"period": 3}
    problems = _problems(text + "  - {policy: silent}\n")
    assert problems == [
        "<string>:4: policy_kwargs.period: policy 'silent' got unknown keyword argument "
        "'period' (accepted: none)"
    ]


def test_custom_units_read_kwargs_their_own_way(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml", seeds=1)
    text = spec.read_text() + "policy_kwargs: {anything: 1}\n"
    assert load_sweep(text, is_text=True).policy_kwargs == {"anything": 1}


def test_read_jsonl_lines_names_corrupt_lines(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"a": 1}\nnot json\n\n[1]\n{"b": 2}\n{"torn": ')
    rows, bad = read_jsonl_lines(path)
    assert rows == [{"a": 1}, {"b": 2}] and bad == [2, 4, 6]
    assert read_jsonl(path) == (rows, 3)


def test_resume_reports_dropped_lines(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    spec = write_spec(tmp_path / "s.yaml", seeds=1)
    out = tmp_path / "out"
    first = run_sweep(spec, out, workers=0, progress=False)
    assert first.dropped == [] and "warning" not in capsys.readouterr().err
    results = out / "results.jsonl"
    n = len(results.read_text().splitlines())
    with results.open("a") as fh:
        fh.write('garbage line\n{"unit_id": ')
    argv = ["sweep", str(spec), "--workers", "0", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    where = f"{results}:{n + 1}, {results}:{n + 2}"
    assert f"warning: dropped 2 corrupt lines ({where}); their units run again" in err
    assert len(results.read_text().splitlines()) == n  # compacted: one row per unit
