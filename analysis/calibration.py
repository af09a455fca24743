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

__all__ = [
    "VALIDATION_SEED_BASE",
    "calibrate",
    "calibrate_closed_loop",
    "inference_of",
    "one_math_thread",
    "process_map",
    "take_inference",
]


def _logits(model_path: Path, data: Any) -> tuple[np.ndarray, np.ndarray]:
    """Interrupt logit (interrupt minus silent) and intent argmax of every sample."""
    from proassist.policies.learned import require_torch

    torch = require_torch("calibrating the learned interaction model")
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
        settings = {"logit_bias": best["bias"], "min_gap_s": best["gap"]}
        note = {"val_dir": str(val_dir), "val": best}
        _store_inference(Path(model_path).with_suffix(".json"), settings, note)
    return result


def _store_inference(
    meta_path: Path, inference: dict[str, Any], note: dict[str, Any] | None, out: Path | None = None
) -> None:
    """Write ``meta_path``'s ``model.json`` (to ``out``, default in place) with these
    inference settings and, unless None, this ``calibration`` note."""
    meta = json.loads(meta_path.read_text())
    meta["inference"] = inference
    if note is not None:
        meta["calibration"] = note
    (out or meta_path).write_text(json.dumps(meta, indent=1))


# ---------------------------------------------------------------- closed loop

#: Seeds reserved for closed-loop validation (evaluate on other seeds < 1,000,000;
#: training episodes use seeds >= 1,000,000).
VALIDATION_SEED_BASE: int = 900_000


def _candidate(model_path: Path, where: Path, bias: float, gap: float) -> Path:
    """A copy of the model whose ``model.json`` carries the candidate inference settings."""
    import shutil

    where.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_path, where / "model.pt")
    settings = {"logit_bias": bias, "min_gap_s": gap}
    _store_inference(model_path.with_suffix(".json"), settings, None, where / "model.json")
    return where / "model.pt"


def _loop_scores(checkpoint: Path, envs: Sequence[str], seeds: Sequence[int], **env: Any) -> dict:
    """Mean over envs (equal seeds each, so = pooled over pairs) of the candidate's paired
    net assistance and interruptions per minute (``evaluate`` runs the silent pairs)."""
    from proassist.analysis.evaluation import evaluate

    kwargs = {"interaction": "learned", "checkpoint": str(checkpoint)}
    runs = [evaluate("duplex", env_id, seeds, policy_kwargs=kwargs, **env) for env_id in envs]
    return {
        key: float(np.mean([float(r.scores[key]) for r in runs]))
        for key in ("net_assistance", "interruptions_per_min")
    }


def _loop_job(job: tuple[Path, tuple[str, ...], tuple[int, ...], dict[str, Any]]) -> dict:
    ckpt, envs, seeds, env_kwargs = job
    return _loop_scores(ckpt, envs, seeds, **env_kwargs)


def process_map(fn: Any, jobs: list, workers: int, progress: str | None = None) -> list:
    """``[fn(j) for j in jobs]``, in a spawn process pool of :func:`one_math_thread`
    workers when ``workers > 1`` (``fn`` must be picklable: a module-level function);
    ``progress`` names a progress bar."""
    from tqdm import tqdm

    bar = tqdm(total=len(jobs), desc=progress, disable=progress is None, leave=False)
    if workers <= 1 or len(jobs) <= 1:
        return [_tick(bar, fn(j)) for j in jobs]
    import concurrent.futures as cf
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    n = min(workers, len(jobs))
    with cf.ProcessPoolExecutor(n, mp_context=ctx, initializer=one_math_thread) as pool:
        return [_tick(bar, r) for r in pool.map(fn, jobs, chunksize=_chunk(len(jobs), workers))]


def one_math_thread() -> None:
    """Pool initializer: one math thread per worker (``workers`` processes share the cores)."""
    import os

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def _chunk(n_jobs: int, workers: int) -> int:
    """Jobs sent to a worker at once: few round trips, still a balanced end."""
    return max(1, n_jobs // (workers * 16))


def _tick(bar: Any, result: Any) -> Any:
    bar.update(1)
    return result


def calibrate_closed_loop(
    model_path: str | Path,
    envs: Sequence[str],
    seeds: Sequence[int],
    biases: Sequence[float] = (0.0, -2.0, -4.0),
    gaps: Sequence[float] = (4.0, 8.0, 16.0),
    write: bool = True,
    workers: int = 1,
    **env_kwargs: Any,
) -> dict[str, Any]:
    """Choose ``logit_bias`` and ``min_gap_s`` by closed-loop **net assistance**.

    Unlike :func:`calibrate` (teacher-forced decision metrics, which reward talking at
    every gold moment), each candidate deploys the learned duplex on ``seeds`` of every
    env in ``envs``, paired with the silent assistant, and the candidate with the best
    mean net assistance wins (ties: fewer interruptions per minute, then the larger
    gap): talking is charged, never rewarded. Use seeds disjoint from evaluation, e.g.
    ``range(VALIDATION_SEED_BASE, VALIDATION_SEED_BASE + n)``.

    Args:
        model_path: The ``model.pt`` (its ``model.json`` gets ``"inference"`` when
            ``write``).
        envs: Env ids.
        seeds: Validation seeds.
        biases: Candidate logit biases.
        gaps: Candidate silences after speaking, seconds.
        write: Store the chosen pair in ``model.json``.
        workers: Candidates evaluated in parallel (spawned processes).
        **env_kwargs: Passed to ``gym.make`` for the assistant's runs.

    Returns:
        ``{"logit_bias", "min_gap_s", "val": best scores, "grid": all scores}``.
    """
    import tempfile

    model_path = Path(model_path)
    pairs = [(float(b), float(g)) for b in biases for g in gaps]
    with tempfile.TemporaryDirectory(prefix="proassist-cal-") as tmp:
        ckpts = [_candidate(model_path, Path(tmp) / str(i), b, g) for i, (b, g) in enumerate(pairs)]
        jobs = [(c, tuple(envs), tuple(int(s) for s in seeds), env_kwargs) for c in ckpts]
        scores = process_map(_loop_job, jobs, workers)
    grid = [{"bias": b, "gap": g} | s for (b, g), s in zip(pairs, scores, strict=True)]
    best = max(grid, key=lambda r: (r["net_assistance"], -r["interruptions_per_min"], r["gap"]))
    result = {"logit_bias": best["bias"], "min_gap_s": best["gap"], "val": best, "grid": grid}
    if write:
        settings = {"logit_bias": best["bias"], "min_gap_s": best["gap"]}
        objective = "closed-loop net assistance vs silent (issue 11)"
        note = {"objective": objective, "envs": list(envs), "seeds": [int(s) for s in seeds]}
        _store_inference(
            model_path.with_suffix(".json"), settings, note | {"val": best, "grid": grid}
        )
    return result


def inference_of(model: str | Path) -> dict[str, Any]:
    """A model's stored inference settings (``logit_bias``, ``min_gap_s`` and any other,
    e.g. ``persist``), as :class:`~proassist.policies.learned.interaction.LearnedInteractionModel`
    reads them.

    Args:
        model: Its ``model.pt`` or ``model.json``.

    Raises:
        ValueError: When its ``model.json`` is unreadable, or has no numeric
            ``logit_bias`` and ``min_gap_s``.
    """
    source_json = Path(model).with_suffix(".json")
    try:
        settings = json.loads(source_json.read_text()).get("inference")
    except (OSError, json.JSONDecodeError, AttributeError) as e:
        raise ValueError(f"{source_json}: not a readable model.json ({e})") from e
    if not isinstance(settings, dict) or not {"logit_bias", "min_gap_s"} <= settings.keys():
        raise ValueError(f"{source_json}: has no inference settings (logit_bias, min_gap_s)")
    try:
        return settings | {k: float(settings[k]) for k in ("logit_bias", "min_gap_s")}
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"{source_json}: inference logit_bias and min_gap_s must be numbers"
        ) from e


def take_inference(model_path: str | Path, source: str | Path) -> dict[str, Any]:
    """Store ``source``'s inference settings (:func:`inference_of`) in ``model_path``'s
    ``model.json``, not tuned.

    A model trained like another one on a subset of the tasks (a held-out split) keeps
    that model's settings instead of calibrating on episodes of tasks it must not see
    (``proassist train --inference-from``).

    Args:
        model_path: The new ``model.pt`` (its ``model.json`` is rewritten).
        source: The model whose settings are taken over (``model.pt`` or its ``model.json``).

    Returns:
        The settings taken over.
    """
    taken = inference_of(source)
    note = {"taken_from": str(Path(source).with_suffix(".json"))}
    _store_inference(Path(model_path).with_suffix(".json"), taken, note)
    return taken
