"""Every ``proassist`` subcommand exists and has --help."""

from __future__ import annotations

import pytest

from proassist.analysis.cli import build_parser, main

SUBCOMMANDS = [
    "scenarios list",
    "scenarios validate",
    "scenarios generate",
    "demo",
    "eval",
    "collect",
    "train",
    "sweep",
    "plot",
    "export-challenge",
    "score-challenge",
    "sanity",
    "goals",
    "compare",
    "train-steps",
    "train-gate",
    "tune-steps",
]


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*command.split(), "--help"])
    assert exc.value.code == 0
    assert f"proassist {command}" in capsys.readouterr().out


def test_eval_help_lists_policies_and_kwargs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    out = capsys.readouterr().out
    for name in ("silent", "random", "periodic", "plan-timer", "oracle", "duplex", "monolithic"):
        assert f"  {name}:" in out
    assert "planner_latency=" in out


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "COMMAND" in capsys.readouterr().out
    assert {"demo", "eval", "sweep"} <= set(build_parser()._subparsers._group_actions[0].choices)
