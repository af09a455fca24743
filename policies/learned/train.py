"""Training of the learned interaction model with PWR's recipe.

``train(dataset_dir, out_dir, ...)`` samples each epoch with
:func:`~proassist.policies.learned.dataset.recipe_indices` (interrupt:silent ≈ 1:1, silent
samples ≥ 3 s from any interrupt), weights the interrupt class 2× in the decision
loss, and trains the intent / step-offset / fix heads on interrupt samples. After each
epoch it saves ``checkpoints/epoch_NNN.pt`` (model + optimizer + epoch + config +
history); with ``resume=True`` it continues from the last one. The per-epoch draws use
``np.random.default_rng([seed, epoch])``, so a resumed run equals an uninterrupted one.
At the end it writes the small final checkpoint ``model.pt`` (trainable weights only)
and ``model.json`` (config, history, arguments). torch is imported lazily.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proassist.policies.learned import require_torch
from proassist.policies.learned.dataset import InteractionDataset, recipe_indices
from proassist.sim.gold import CORRECTING_INTENTS

__all__ = ["evaluate_model", "load_model", "train"]

_CKPT_RE = re.compile(r"^epoch_(\d{3,})\.pt$")


def _latest_checkpoint(ckpt_dir: Path) -> Path | None:
    found = sorted(
        (int(m.group(1)), p) for p in ckpt_dir.glob("epoch_*.pt") if (m := _CKPT_RE.match(p.name))
    )
    return found[-1][1] if found else None


def _batch_loss(model: Any, batch: dict[str, np.ndarray], interrupt_weight: float) -> Any:
    import torch
    from torch.nn import functional as F

    out = model(torch.from_numpy(batch["clips"]), torch.from_numpy(batch["feats"]))
    decision = torch.from_numpy(batch["decision"].astype(np.int64))
    weight = torch.tensor([1.0, float(interrupt_weight)])
    loss = F.cross_entropy(out["decision"], decision, weight=weight)
    for head in ("intent", "offset", "fix"):
        target = torch.from_numpy(batch[head].astype(np.int64))
        if (target >= 0).any():
            loss = loss + F.cross_entropy(out[head], target, ignore_index=-1)
    return loss


def _run_epoch(model, optimizer, data, idx, batch_size, interrupt_weight, progress, epoch) -> float:
    from tqdm.auto import tqdm

    model.train()
    total, count = 0.0, 0
    starts = range(0, len(idx), batch_size)
    for start in tqdm(starts, desc=f"epoch {epoch}", disable=not progress, leave=False):
        batch = data.subset(np.sort(idx[start : start + batch_size]))
        loss = _batch_loss(model, batch, interrupt_weight)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * len(batch["decision"])
        count += len(batch["decision"])
    return total / max(count, 1)


def _build(config: dict[str, Any], lr: float, seed: int) -> tuple[Any, Any]:
    torch = require_torch("training the learned interaction model")
    from proassist.policies.learned.net import InteractionNet

    torch.manual_seed(seed)
    model = InteractionNet(config)
    params = [p for p in model.parameters() if p.requires_grad]
    return model, torch.optim.Adam(params, lr=lr)


def _resume(ckpt_dir: Path, model: Any, optimizer: Any, config: dict) -> tuple[int, list]:
    import torch

    path = _latest_checkpoint(ckpt_dir)
    if path is None:
        return 0, []
    state = torch.load(path, map_location="cpu", weights_only=False)
    if state["config"] != config:
        raise ValueError(
            f"{path}: checkpoint config {state['config']} differs from {config}; "
            "use another out_dir or resume=False"
        )
    model.load_state_dict(state["model"], strict=False)
    optimizer.load_state_dict(state["optimizer"])
    return int(state["epoch"]), list(state["history"])


def train(
    dataset_dir: str | Path | Sequence[str | Path],
    out_dir: str | Path,
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 2e-3,
    seed: int = 0,
    resume: bool = True,
    model_config: dict[str, Any] | None = None,
    interrupt_weight: float = 2.0,
    ratio: float = 1.0,
    min_gap_s: float | None = None,
    progress: bool = True,
    correction_boost: int = 1,
) -> dict[str, Any]:
    """Train the interaction model on a dataset directory.

    Args:
        dataset_dir: Directory written by :class:`~proassist.policies.learned.dataset.DatasetWriter`,
            or several (DAgger: every round's data, aggregated).
        out_dir: Where checkpoints, ``model.pt`` and ``model.json`` go.
        epochs: Total epochs (a resumed run trains the missing ones).
        batch_size: Samples per step.
        lr: Adam learning rate.
        seed: Seeds the initial weights and every epoch's draws.
        resume: Continue from the last ``checkpoints/epoch_NNN.pt`` in ``out_dir``.
        model_config: :data:`~proassist.policies.learned.net.DEFAULT_CONFIG` overrides;
            ``clip_len``, ``frame_size``, ``feature_dim`` and ``percepts`` come from the
            dataset.
        interrupt_weight: Weight of the interrupt class in the decision loss (PWR: 2).
        ratio: Interrupt:silent ratio of the recipe (PWR: 1).
        min_gap_s: Silent samples are at least this far from any interrupt (PWR: 3 s);
            ``None``: 3 s for oracle labels, 0 for deviation labels (every point of an
            active deviation is an interrupt; the points around it teach where it ends).
        progress: Show tqdm progress bars.
        correction_boost: Each correcting sample (``correct_deviation``, ``warn``,
            ``re_engage``) appears this many times per epoch (1: PWR's recipe).

    Returns:
        ``{"model_path", "epochs_trained", "history": [{"epoch", "loss", "n"}], "config"}``.
    """
    data = InteractionDataset(dataset_dir)
    if min_gap_s is None:
        min_gap_s = 0.0 if data.labels == "deviations" else 3.0
    model, optimizer = _build(_data_config(data, model_config), lr, seed)
    config = dict(model.config)
    out, ckpt_dir = Path(out_dir), Path(out_dir) / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    start, history = _resume(ckpt_dir, model, optimizer, config) if resume else (0, [])
    dirs = [str(d) for d in data.roots]
    args = {"dataset_dir": dirs[0] if len(dirs) == 1 else dirs, "epochs": epochs}
    args |= {"batch_size": batch_size, "lr": lr, "seed": seed, "ratio": ratio}
    args |= {"interrupt_weight": interrupt_weight, "min_gap_s": min_gap_s}
    args |= {"correction_boost": correction_boost, "labels": data.labels}
    for epoch in range(start + 1, epochs + 1):
        history.append(_train_epoch(model, optimizer, data, epoch, args, progress))
        _save_checkpoint(ckpt_dir / f"epoch_{epoch:03d}.pt", model, optimizer, epoch, history)
    return _save_final(out, model, history, args)


def _train_epoch(
    model: Any, optimizer: Any, data: InteractionDataset, epoch: int, args: dict, progress: bool
) -> dict[str, Any]:
    """One epoch of the recipe in ``args`` (its draws seeded by seed and epoch); its
    history row."""
    arr, rng = data.arrays, np.random.default_rng([args["seed"], epoch])
    idx = recipe_indices(
        arr["decision"], arr["t"], arr["episode"], rng, args["ratio"], args["min_gap_s"]
    )
    idx = _boost(idx, arr["intent"], args["correction_boost"], rng)
    weight, size = args["interrupt_weight"], args["batch_size"]
    loss = _run_epoch(model, optimizer, data, idx, size, weight, progress, epoch)
    return {"epoch": epoch, "loss": loss, "n": int(len(idx))}


def _data_config(data: InteractionDataset, model_config: dict[str, Any] | None) -> dict:
    """The model config: the overrides, then what the dataset fixes (clip length, frame
    size, input width, percepts, and the offset base of its labels)."""
    config = {**(model_config or {}), "clip_len": data.clip_len, "frame_size": data.frame_size}
    config |= {"feature_dim": int(data.index["feature_dim"]), "percepts": data.percepts}
    config["offsets"] = "history" if data.labels == "deviations" else "plan"
    return config


#: How a deviation detector (trained on ``collect --labels deviations``) is deployed,
#: stored as ``model.json["deploy"]``: it says corrections only, on the tracked plan
#: it was trained on (:mod:`proassist.policies.learned.truth`).
DETECTOR_DEPLOY: dict[str, Any] = {
    "plan_mode": "tracked",
    "intents": list(CORRECTING_INTENTS),
}


def _boost(idx: np.ndarray, intent: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``idx`` with every correcting sample repeated ``k`` times in all, reshuffled."""
    if k <= 1:
        return idx
    from proassist.policies.learned.interaction import CORRECTING
    from proassist.sim.messages import INTENTS

    codes = [INTENTS.index(i) for i in CORRECTING]
    extra = idx[np.isin(intent[idx], codes)]
    return rng.permutation(np.concatenate([idx, *([extra] * (k - 1))]))


def _save_checkpoint(path: Path, model: Any, optimizer: Any, epoch: int, history: list) -> None:
    import torch

    from proassist.policies.learned.net import trainable_state

    state = {"model": trainable_state(model), "optimizer": optimizer.state_dict(), "epoch": epoch}
    torch.save({**state, "config": model.config, "history": history}, path)


def _save_final(out: Path, model: Any, history: list, args: dict) -> dict[str, Any]:
    import torch

    from proassist.policies.learned.net import trainable_state

    torch.save(trainable_state(model), out / "model.pt")
    meta = {"config": dict(model.config), "history": history, "train_args": args}
    if args.get("labels") == "deviations":
        meta["deploy"] = DETECTOR_DEPLOY
    (out / "model.json").write_text(json.dumps(meta, indent=1))
    return {"model_path": str(out / "model.pt"), "epochs_trained": len(history), **meta}


def load_model(model_path: str | Path) -> Any:
    """Load ``model.pt`` + the ``model.json`` beside it → an eval-mode ``InteractionNet``.

    Raises:
        FileNotFoundError: When either file is missing.
        ImportError: Naming the ``[learn]`` extra when torch is missing.
    """
    torch = require_torch("loading the learned interaction model")
    from proassist.policies.learned.net import InteractionNet

    path = Path(model_path)
    meta_path = path.with_suffix(".json")
    if not path.is_file() or not meta_path.is_file():
        raise FileNotFoundError(f"need {path} and {meta_path} (written by proassist train)")
    model = InteractionNet(json.loads(meta_path.read_text())["config"])
    missing, unexpected = model.load_state_dict(
        torch.load(path, map_location="cpu", weights_only=True), strict=False
    )
    bad = [k for k in missing if not k.startswith("encoder.backbone.")] + list(unexpected)
    if bad:
        raise ValueError(f"{path}: state dict does not match the config (keys {bad[:5]})")
    return model.eval()


def evaluate_model(model: Any, dataset_dir: str | Path, batch_size: int = 256) -> dict[str, float]:
    """Decision accuracy (all samples and recipe-balanced), IF1, SF1 and intent accuracy."""
    import torch

    data = InteractionDataset(dataset_dir)
    preds, intents = [], []
    with torch.no_grad():
        for start in range(0, len(data), batch_size):
            b = data.subset(np.arange(start, min(start + batch_size, len(data))))
            out = model(torch.from_numpy(b["clips"]), torch.from_numpy(b["feats"]))
            preds.append(out["decision"].argmax(1).numpy())
            intents.append(out["intent"].argmax(1).numpy())
    pred, intent = np.concatenate(preds), np.concatenate(intents)
    gold = data.arrays["decision"].astype(int)
    pos = gold == 1
    return {
        "accuracy": float((pred == gold).mean()),
        "balanced_accuracy": _balanced(pred, pos),
        "if1": _f1(pred == 1, pos),
        "sf1": _f1(pred == 0, ~pos),
        "intent_accuracy": float((intent[pos] == data.arrays["intent"][pos]).mean())
        if pos.any()
        else 0.0,
    }


def _balanced(pred: np.ndarray, pos: np.ndarray) -> float:
    """Mean of the recall of each class present."""
    recalls = [float((pred[m] == v).mean()) for m, v in ((pos, 1), (~pos, 0)) if m.any()]
    return float(np.mean(recalls)) if recalls else 0.0


def _f1(pred: np.ndarray, gold: np.ndarray) -> float:
    tp = float((pred & gold).sum())
    denom = float(pred.sum() + gold.sum())
    return 2 * tp / denom if denom else 0.0
