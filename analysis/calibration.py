"""Calibration of the learned interaction model's inference settings (app layer).

:func:`calibrate` chooses the deployed model's inference settings (``logit_bias``, a
prior correction of the class-balanced training, and ``min_gap_s``, the silence after
speaking; see :mod:`proassist.policies.learned.interaction`) on a validation dataset
collected with every decision point kept (``proassist collect --silent-keep 1``): it
replays the model's decisions over the oracle's episodes (teacher forcing) for every
pair of a grid and keeps the pair with the best mean of the window-collapsed G-Mean and
the OOP recall against the gold moments, the two headline acceptance metrics (ties: the
smaller gap, then the larger bias). ``proassist train --calibrate DIR`` calls it.

It lives in :mod:`proassist.analysis` because it scores with the analysis metrics;
the policies layer never imports analysis.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["calibrate"]


def _logits(model_path: Path, data: Any) -> tuple[np.ndarray, np.ndarray]:
    """Interrupt logit (interrupt minus silent) and intent argmax of every sample."""
    import torch

    from proassist.policies.learned.train import load_model

    model = load_model(model_path)
    arrays = data.arrays
    logits, intents = [], []
    with torch.no_grad():
        for start in range(0, len(data), 256):
            sl = slice(start, start + 256)
            out = model(
                torch.from_numpy(arrays["clips"][sl]), torch.from_numpy(arrays["feats"][sl])
            )
            logits.append((out["decision"][:, 1] - out["decision"][:, 0]).numpy())
            intents.append(out["intent"].argmax(1).numpy())
    return np.concatenate(logits), np.concatenate(intents)


def _simulate(ep: dict[str, Any], bias: float, gap: float, correcting: list[int]) -> np.ndarray:
    """The learned model's rule (:mod:`proassist.policies.learned.interaction`): interrupt where
    ``logit + bias > 0``, except within ``gap`` s of the last interrupt unless this is a
    correction and that was not."""
    logit, t, intent = ep["logit"], ep["t"], ep["intent"]
    fired = np.zeros(logit.shape, dtype=bool)
    last_t, last_corr = -np.inf, False
    for k in range(logit.size):
        corr = int(intent[k]) in correcting
        if logit[k] + bias <= 0:
            continue
        if t[k] - last_t >= gap - 1e-9 or (corr and not last_corr):
            fired[k], last_t, last_corr = True, t[k], corr
    return fired


def _grid_scores(episodes: list[dict], bias: float, gap: float) -> dict[str, float]:
    from proassist.analysis.metrics.scores import collapse_windows, decision_scores
    from proassist.sim.gold import CORRECTING_INTENTS
    from proassist.sim.messages import INTENTS

    gold_all: list[bool] = []
    pred_all: list[bool] = []
    hit, n_dev = 0, 0
    corr_ids = [INTENTS.index(i) for i in CORRECTING_INTENTS]
    for ep in episodes:
        fired = _simulate(ep, bias, gap, corr_ids)
        gold, pred = collapse_windows(ep["content"], list(fired))
        gold_all += gold
        pred_all += pred
        correcting = fired & np.isin(ep["intent"], corr_ids)
        for m in {
            id(m): m for m in ep["content"] if m is not None and m.kind == "deviation"
        }.values():
            n_dev += 1
            hit += any(c and m.contains(t) for c, t in zip(correcting, ep["t"], strict=True))
    scores = decision_scores(gold_all, pred_all)
    return {"bias": bias, "gap": gap, **scores, "oop_recall": hit / n_dev if n_dev else 0.0}


def _episodes(data: Any, logit: np.ndarray, intent: np.ndarray) -> list[dict[str, Any]]:
    from proassist.sim.gold import gold_content

    arrays = data.arrays
    lines = (data.root / "episodes.jsonl").read_text().splitlines()
    out = []
    for ep, line in enumerate(lines):
        record = json.loads(line)
        mask = arrays["episode"] == ep
        if int(mask.sum()) != len(record["decisions"]):
            raise ValueError(
                f"{data.root}: episode {ep} has {int(mask.sum())} samples for "
                f"{len(record['decisions'])} decision points; collect it with --silent-keep 1"
            )
        out.append(
            {"logit": logit[mask], "intent": intent[mask], "t": arrays["t"][mask]}
            | {"content": gold_content(record)}
        )
    return out


def _objective(row: dict[str, float]) -> tuple[float, float, float]:
    return (round(0.5 * (row["g_mean"] + row["oop_recall"]), 6), -row["gap"], row["bias"])


def calibrate(
    model_path: str | Path,
    val_dir: str | Path,
    biases: Sequence[float] = (0.0, -2.0, -4.0, -6.0, -8.0),
    gaps: Sequence[float] = (0.0, 2.0, 3.0, 4.0, 6.0),
    write: bool = True,
) -> dict[str, Any]:
    """Choose ``logit_bias`` and ``min_gap_s`` on a validation dataset (module docstring).

    Args:
        model_path: The ``model.pt`` (its ``model.json`` gets ``"inference"`` when
            ``write``).
        val_dir: A dataset with every decision point (``--silent-keep 1``) and its
            ``episodes.jsonl``.
        biases: Candidate logit biases.
        gaps: Candidate silences after speaking, seconds.
        write: Store the chosen pair in ``model.json``.

    Returns:
        ``{"logit_bias", "min_gap_s", "val": best scores, "grid": all scores}``.
    """
    from proassist.policies.learned.dataset import InteractionDataset

    data = InteractionDataset(val_dir)
    episodes = _episodes(data, *_logits(Path(model_path), data))
    grid = [_grid_scores(episodes, float(b), float(g)) for b in biases for g in gaps]
    best = max(grid, key=_objective)
    result = {"logit_bias": best["bias"], "min_gap_s": best["gap"], "val": best, "grid": grid}
    if write:
        meta_path = Path(model_path).with_suffix(".json")
        meta = json.loads(meta_path.read_text())
        meta["inference"] = {"logit_bias": best["bias"], "min_gap_s": best["gap"]}
        meta["calibration"] = {"val_dir": str(val_dir), "val": best}
        meta_path.write_text(json.dumps(meta, indent=1))
    return result
