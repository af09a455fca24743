"""The step recogniser's sequence companion: a candidate-wise GRU (torch; import lazily).

The recogniser (:mod:`proassist.policies.learned.steps_train`) is an MLP that reads each
point's evidence and its **own history** (which step it recognised last, for how long,
which steps it has seen: :func:`~proassist.policies.learned.steps.context_features`),
so it is trained with DAgger. The companion reads the evidence only
(:func:`~proassist.policies.learned.steps.candidate_features`: the frames' evidence
averaged over :data:`~proassist.policies.learned.steps.WINDOWS` and the plan's facts
of each candidate) and keeps its memory in a GRU run over each candidate's inputs, with
weights shared by every candidate, as the MLP's are. Its inputs never depend on its
outputs, so it is trained once on the true labels (no DAgger, no teacher forcing).

Each candidate (the plan's steps, then *none*) is scored from its inputs, its GRU
state, the mean state of all candidates, the mean state of its ``after`` steps (were
they worked on?) and the state of the plan step before it. Softmax over the
candidates, as the MLP's scores.

:class:`~proassist.policies.learned.steps_train.StepRecognizer` mixes the two when a
checkpoint has one (``steps.json`` ``sequence``, ``steps_seq.pt``):
``log p = (1 - w) log p_mlp + w log p_seq``, renormalised, ``w`` its ``weight``; the
MLP's history follows the mixture's choice. ``proassist train-sequence`` trains it
(:func:`train_sequence`) and adds it to a checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proassist.policies.learned import require_torch
from proassist.policies.learned.steps import (
    CONTEXT_DIM,
    FEATURE_DIM,
    SEQUENCE_FILE,
    StepTracker,
)

__all__ = [
    "SEQUENCE_FILE",
    "SequenceScorer",
    "SequenceState",
    "dependency_matrix",
    "load_sequence",
    "sequence_accuracy",
    "stream_arrays",
    "train_sequence",
]

torch = require_torch("the step recogniser's sequence companion")
nn = torch.nn

#: Input width: the MLP's features without its own-history block.
INPUT_DIM = FEATURE_DIM - CONTEXT_DIM

#: Episodes per training batch (sorted by length, so little padding).
BATCH = 16

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


class SequenceScorer(nn.Module):
    """Scores every candidate at every point (module docstring).

    Args:
        hidden: Width of the input layer, the GRU state and the head.
    """

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.inp = nn.Sequential(nn.Linear(INPUT_DIM, hidden), nn.ReLU())
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.head = nn.Sequential(
            nn.Linear(INPUT_DIM + 4 * hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(
        self, x: torch.Tensor, after: torch.Tensor, mask: torch.Tensor, hx: Any = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Scores ``(B, T, C)`` (masked candidates -1e9) and the GRU state.

        Args:
            x: Inputs ``(B, T, C, INPUT_DIM)``.
            after: ``(B, C, C)``: 1 where candidate ``c`` needs step ``d`` first.
            mask: ``(B, C)``: the real candidates.
            hx: The GRU state carried from the previous call (None: start).
        """
        b, t, c, _ = x.shape
        z = self.inp(x).permute(0, 2, 1, 3).reshape(b * c, t, -1)
        h, hn = self.gru(z, hx)
        h = h.reshape(b, c, t, -1).permute(0, 2, 1, 3)
        m = mask[:, None, :, None].float()
        mean = ((h * m).sum(2, keepdim=True) / m.sum(2, keepdim=True).clamp(min=1)).expand_as(h)
        needs = torch.einsum("bcd,btdh->btch", after / after.sum(-1, keepdim=True).clamp(min=1), h)
        before = torch.cat([torch.zeros_like(h[:, :, :1]), h[:, :, :-1]], 2)
        s = self.head(torch.cat([x, h, mean, needs, before], -1)).squeeze(-1)
        return s.masked_fill(~mask[:, None, :], -1e9), hn


def dependency_matrix(plan: Sequence[dict[str, Any]]) -> np.ndarray:
    """``(len(plan) + 1, len(plan) + 1)``: 1 where step ``i`` has step ``j`` in ``after``."""
    n = len(plan)
    index = {str(s["id"]): i for i, s in enumerate(plan)}
    out = np.zeros((n + 1, n + 1), np.float32)
    for i, step in enumerate(plan):
        for a in step.get("after") or ():
            if a in index:
                out[i, index[a]] = 1.0
    return out


def stream_arrays(stream: dict[str, Any], gaze: bool) -> Arrays:
    """A recorded stream's inputs ``(T, C, INPUT_DIM)``, labels ``(T,)`` and
    :func:`dependency_matrix` (``gaze``: as the recogniser reads the frames)."""
    tracker = StepTracker(stream["plan"], frozenset(stream["fixtures"]), gaze=gaze)
    xs = [tracker.features(px)[:, :INPUT_DIM] for px, _ in stream["rows"]]  # no history
    labels = np.array([int(label) for _, label in stream["rows"]], np.int64)
    return np.stack(xs).astype(np.float32), labels, dependency_matrix(stream["plan"])


def _batch(arrays: Sequence[Arrays], ids: Sequence[int]) -> tuple[torch.Tensor, ...]:
    """Padded tensors of some streams: inputs, labels (-100: padding), after, mask."""
    t = max(len(arrays[i][1]) for i in ids)
    c = max(arrays[i][0].shape[1] for i in ids)
    x = np.zeros((len(ids), t, c, INPUT_DIM), np.float32)
    y = np.full((len(ids), t), -100, np.int64)
    after = np.zeros((len(ids), c, c), np.float32)
    mask = np.zeros((len(ids), c), bool)
    for b, i in enumerate(ids):
        xi, yi, ai = arrays[i]
        x[b, : len(yi), : xi.shape[1]] = xi
        y[b, : len(yi)] = yi
        after[b, : ai.shape[0], : ai.shape[0]] = ai
        mask[b, : xi.shape[1]] = True
    return tuple(torch.from_numpy(a) for a in (x, y, after, mask))


def sequence_accuracy(net: SequenceScorer, arrays: Sequence[Arrays]) -> float:
    """Share of the points at which the most probable candidate is the true one."""
    right = total = 0
    with torch.no_grad():
        for i in range(len(arrays)):
            x, y, after, mask = _batch(arrays, [i])
            right += int((net(x, after, mask)[0].argmax(-1) == y).sum())
            total += int(y.numel())
    return right / max(1, total)


def train_sequence(
    streams: Sequence[dict[str, Any]],
    val: Sequence[dict[str, Any]],
    epochs: int = 60,
    hidden: int = 64,
    seed: int = 0,
    gaze: bool = True,
    log: Callable[[str], Any] = print,
) -> tuple[SequenceScorer, list[dict[str, float]]]:
    """Train the companion on recorded streams (module docstring).

    Adam (2e-3, cosine decay to 0 over ``epochs``), cross-entropy over every point,
    batches of :data:`BATCH` episodes of similar length in a seeded order, gradient
    norm clipped at 1. Keeps the epoch with the best validation accuracy (the last
    one without ``val``, whose ``val_acc`` are None).

    Returns:
        The network and one ``{epoch, loss, val_acc}`` per epoch.
    """
    torch.manual_seed(seed)
    train = [stream_arrays(s, gaze) for s in streams]
    held = [stream_arrays(s, gaze) for s in val]
    net = SequenceScorer(hidden)
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    order = np.argsort([len(a[1]) for a in train], kind="stable")
    chunks = [order[i : i + BATCH] for i in range(0, len(order), BATCH)]
    rng, history, best = np.random.default_rng(seed), [], (-1.0, None)
    for epoch in range(epochs):
        rng.shuffle(chunks)
        loss = _epoch(net, opt, train, chunks)
        sched.step()
        acc = sequence_accuracy(net.eval(), held) if held else None
        net.train()
        shown = None if acc is None else round(acc, 4)
        history.append({"epoch": epoch, "loss": round(loss, 4), "val_acc": shown})
        log(f"epoch {epoch}: loss {loss:.3f}, validation accuracy {shown}")
        if acc is None or acc > best[0]:
            best = (acc, {k: v.clone() for k, v in net.state_dict().items()})
    net.load_state_dict(best[1])
    return net.eval(), history


def _epoch(net: SequenceScorer, opt: Any, arrays: Sequence[Arrays], chunks: list) -> float:
    """One pass over the batches; the mean loss."""
    total = 0.0
    for ids in chunks:
        x, y, after, mask = _batch(arrays, list(ids))
        scores = net(x, after, mask)[0]
        loss = nn.functional.cross_entropy(
            scores.reshape(-1, scores.shape[-1]), y.reshape(-1), ignore_index=-100
        )
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        total += loss.item()
    return total / max(1, len(chunks))


def load_sequence(folder: str | Path, hidden: int) -> SequenceScorer:
    """The companion in a checkpoint folder (:data:`SEQUENCE_FILE`).

    Raises:
        FileNotFoundError: When the file is missing.
    """
    path = Path(folder) / SEQUENCE_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"step recogniser: steps.json has a sequence companion, need {path} (copy it "
            "with steps.pt and steps.json)"
        )
    net = SequenceScorer(hidden)
    net.load_state_dict(torch.load(path, map_location="cpu"))
    return net.eval()


class SequenceState:
    """Runs the companion point by point over one episode.

    Args:
        net: The trained companion.
        plan: The episode's plan step dicts.
    """

    def __init__(self, net: SequenceScorer, plan: Sequence[dict[str, Any]]) -> None:
        self.net = net
        self.after = torch.from_numpy(dependency_matrix(plan))[None]
        self.mask = torch.ones(1, len(plan) + 1, dtype=torch.bool)
        self.hx: Any = None

    def log_probs(self, features: np.ndarray) -> torch.Tensor:
        """Log-probabilities of the candidates at this point, from the MLP's features
        ``(C, FEATURE_DIM)`` (its own-history block is not read)."""
        x = torch.from_numpy(np.ascontiguousarray(features[:, :INPUT_DIM]))[None, None]
        with torch.no_grad():
            scores, self.hx = self.net(x, self.after, self.mask, self.hx)
        return torch.log_softmax(scores[0, 0], -1)
