"""ProAssist analysis: metrics, evaluation runs, sweeps, plots and the command line.

``evaluate`` is re-exported here (``from proassist.analysis import evaluate``); it
lives in :mod:`proassist.analysis.evaluation`. Importing this package stays light:
the heavy modules (sweeps, plots) load on first use.
"""

from __future__ import annotations

from proassist.analysis.evaluation import Evaluation, evaluate, run_episode

__all__ = ["Evaluation", "evaluate", "run_episode"]
