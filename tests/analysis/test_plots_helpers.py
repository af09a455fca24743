"""Run folders shared by the plot and report tests (no tests here).

Each folder is built once per test process (cached) from real, short episodes:

- a sweep folder written by :func:`proassist.analysis.sweeps.runner.run_sweep` (silent,
  periodic and random variants on the same seeds, high deviation rates);
- an eval folder written by ``proassist eval``;

and ``proassist plot`` is run once on each.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import io
import shutil
import tempfile
from pathlib import Path

from proassist.analysis.cli import main as cli_main

ROOT = Path(tempfile.mkdtemp(prefix="proassist-plots-"))
atexit.register(shutil.rmtree, ROOT, ignore_errors=True)

RATES = "{omission: 0.5, order: 0.4, substitution: 0.3, distraction: 0.3}"
SWEEP = f"""
name: plot_test
env: ProAssist-Kitchen-v0
episodes: {{count: 3}}
env_kwargs:
  render: false
  max_duration: 60
  deviation_rates: {RATES}
variants:
  - {{label: silent, policy: silent}}
  - {{label: periodic-5, policy: periodic, policy_kwargs.period: 5.0}}
  - {{label: random-0.2, policy: random, policy_kwargs.p: 0.2}}
tasks: [kitchen_tea]
"""
LABELS = ("silent", "periodic-5", "random-0.2")
FIGURES = (
    "timeline",
    "ablation",
    "latency_cdf",
    "tolerance_prf",
    "recovery_by_kind",
    "assistance_effect",
)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """Run the ``proassist`` command line; return ``(exit code, stdout, stderr)``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(argv)
    return code, out.getvalue(), err.getvalue()


@functools.cache
def sweep_dir() -> Path:
    """A finished sweep folder (3 labels x 3 seeds of real 60 s episodes)."""
    from proassist.analysis.sweeps.runner import run_sweep
    from proassist.analysis.sweeps.spec import load_sweep

    out = ROOT / "sweep"
    run_sweep(load_sweep(SWEEP, is_text=True), out, workers=0, progress=False)
    return out


@functools.cache
def eval_dir() -> Path:
    """An ``proassist eval`` folder (periodic policy, 2 seeds, paired silent run)."""
    out = ROOT / "eval"
    argv = ["eval", "--env", "ProAssist-Kitchen-v0", "--policy", "periodic", "--episodes", "2"]
    argv += ["--out", str(out), "-e", "render=false", "-e", "max_duration=40"]
    code, _, err = run_cli([*argv, "-e", f"deviation_rates={RATES}"])
    assert code == 0, err
    return out


@functools.cache
def sweep_plot() -> tuple[int, str, str]:
    """``proassist plot`` on the sweep folder (output in ``sweep/plots``)."""
    return run_cli(["plot", str(sweep_dir())])


@functools.cache
def eval_plot() -> tuple[int, str, str]:
    """``proassist plot --video`` on the eval folder (output in ``eval_plots``)."""
    return run_cli(["plot", str(eval_dir()), "--out", str(ROOT / "eval_plots"), "--video"])
