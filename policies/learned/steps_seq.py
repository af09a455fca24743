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
    "ONSET_BINS",
    "ONSET_FIRST",
    "SEQUENCE_FILE",
    "SequenceScorer",
    "SequenceState",
    "dependency_matrix",
    "fit_sequence",
    "load_sequence",
    "onset_accuracy",
    "onset_points",
    "sequence_accuracy",
    "stream_arrays",
    "train_sequence",
    "with_lookahead",
]

torch = require_torch("the step recogniser's sequence companion")
nn = torch.nn

#: Input width: the MLP's features without its own-history block.
INPUT_DIM = FEATURE_DIM - CONTEXT_DIM

#: Episodes per training batch (sorted by length, so little padding).
BATCH = 16

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]

#: Bins of the points since a deviation opened (2 Hz: 0-1 s, 1-2 s, 2-3 s, 3-5 s), for
#: :func:`onset_accuracy`.
ONSET_BINS: tuple[tuple[int, int], ...] = ((0, 1), (2, 3), (4, 5), (6, 9))
#: Points after an onset that make :func:`onset_accuracy`'s ``first 3 s``.
ONSET_FIRST: int = 6
#: :func:`onset_accuracy`'s key of each :data:`ONSET_BINS` bin (``"0-1 s"``...).
_BIN_NAMES: tuple[str, ...] = tuple(f"{a // 2}-{(b + 1) // 2} s" for a, b in ONSET_BINS)


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


def stream_arrays(stream: dict[str, Any], gaze: bool, lookahead: int = 0) -> Arrays:
    """A recorded stream's inputs ``(T, C, INPUT_DIM)``, labels ``(T,)`` and
    :func:`dependency_matrix` (``gaze``: as the recogniser reads the frames).

    With ``lookahead`` (a diagnostic, never deployed) point ``t`` is labelled with the
    step of point ``t - lookahead``: a companion trained on it names each point's step
    from the frames up to ``lookahead`` points after it; the first points are not
    scored (label -100).

    Raises:
        ValueError: If ``lookahead`` is negative.
    """
    if lookahead < 0:
        raise ValueError(f"lookahead must be >= 0 points, got {lookahead}")
    tracker = StepTracker(stream["plan"], frozenset(stream["fixtures"]), gaze=gaze)
    xs = [tracker.features(px)[:, :INPUT_DIM] for px, _ in stream["rows"]]  # no history
    labels = np.array([int(label) for _, label in stream["rows"]], np.int64)
    x = np.stack(xs).astype(np.float32)
    return with_lookahead((x, labels, dependency_matrix(stream["plan"])), lookahead)


def with_lookahead(arrays: Arrays, lookahead: int) -> Arrays:
    """:func:`stream_arrays` with no lookahead relabelled for ``lookahead`` (the inputs
    are the same for every lookahead, so they are computed once).

    Raises:
        ValueError: If ``lookahead`` is negative.
    """
    if lookahead < 0:
        raise ValueError(f"lookahead must be >= 0 points, got {lookahead}")
    x, labels, after = arrays
    if not lookahead:
        return arrays
    shifted = np.full_like(labels, -100)
    shifted[lookahead:] = labels[: max(0, len(labels) - lookahead)]
    return x, shifted, after


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
    """Share of the scored points (label >= 0) at which the most probable candidate is
    the true one."""
    right = total = 0
    for one in arrays:
        y = torch.from_numpy(one[1])
        scored = y >= 0
        right += int(((_argmax(net, one) == y) & scored).sum())
        total += int(scored.sum())
    return right / max(1, total)


def _argmax(net: Any, arrays: Arrays) -> torch.Tensor:
    """The most probable candidate at every point of one stream's arrays ``(T,)``."""
    x, _, after, mask = _batch([arrays], [0])
    with torch.no_grad():
        return net(x, after, mask)[0][0].argmax(-1)


def train_sequence(
    streams: Sequence[dict[str, Any]],
    val: Sequence[dict[str, Any]],
    epochs: int = 60,
    hidden: int = 64,
    seed: int = 0,
    gaze: bool = True,
    log: Callable[[str], Any] = print,
    lookahead: int = 0,
) -> tuple[SequenceScorer, list[dict[str, float]]]:
    """Train the companion on recorded streams (module docstring).

    Adam (2e-3, cosine decay to 0 over ``epochs``), cross-entropy over every point,
    batches of :data:`BATCH` episodes of similar length in a seeded order, gradient
    norm clipped at 1. Keeps the epoch with the best validation accuracy (the last
    one without ``val``, whose ``val_acc`` are None). ``lookahead``: the diagnostic of
    :func:`stream_arrays` (0 for a companion to deploy).

    Returns:
        The network and one ``{epoch, loss, val_acc}`` per epoch.
    """
    train = [stream_arrays(s, gaze, lookahead) for s in streams]
    held = [stream_arrays(s, gaze, lookahead) for s in val]
    return fit_sequence(train, held, epochs, hidden, seed, log)


def fit_sequence(
    train: Sequence[Arrays],
    held: Sequence[Arrays],
    epochs: int = 60,
    hidden: int = 64,
    seed: int = 0,
    log: Callable[[str], Any] = print,
) -> tuple[SequenceScorer, list[dict[str, float]]]:
    """:func:`train_sequence` on streams' :func:`stream_arrays` (``held``: validation)."""
    torch.manual_seed(seed)
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


def onset_points(opened: Sequence[Sequence[int]], width: int) -> dict[int, int]:
    """Points since the latest onset, for the points less than ``width`` after one.

    An onset is a point where a plan step joins the steps a correction could name
    (``opened``: a recorded stream's ``open``), so a deviation that opens while another
    with the same steps is open is not one; a step that leaves and comes back is.

    Args:
        opened: Per point, the plan steps that could address an open deviation.
        width: Points counted after each onset.

    Returns:
        ``point -> points since the latest onset``.
    """
    out: dict[int, int] = {}
    before: set[int] = set()
    for t, now in enumerate(opened):
        if set(now) - before:
            out.update({t + k: k for k in range(min(width, len(opened) - t))})
        before = set(now)
    return out


def _buckets(k: int) -> list[str]:
    """The :func:`onset_accuracy` keys of a point ``k`` points after an onset (-1: none)."""
    keys = ["all"] + ["first 3 s"] * (0 <= k < ONSET_FIRST)
    return keys + [n for n, (a, b) in zip(_BIN_NAMES, ONSET_BINS, strict=True) if a <= k <= b]


def onset_accuracy(
    net: Any,
    streams: Sequence[dict[str, Any]],
    gaze: bool = True,
    lookahead: int = 0,
    arrays: Sequence[Arrays] | None = None,
) -> dict[str, tuple[float, int]]:
    """How often a companion names the step the person works on, by time since an onset.

    Args:
        net: A trained :class:`SequenceScorer` (any callable with its signature).
        streams: Recorded streams with their ``open`` lists (all deviation kinds).
        gaze: As the companion reads the frames.
        lookahead: The companion's training lookahead: point ``t`` is read from its
            output at ``t + lookahead``.
        arrays: The streams' :func:`stream_arrays` if already computed (only their
            inputs are read, so any lookahead's); None: computed here.

    Returns:
        ``key -> (share of points named right, points)`` for ``all``, ``first 3 s``
        (:data:`ONSET_FIRST` points after an onset) and each :data:`ONSET_BINS` bin
        (``"0-1 s"``...); the share is NaN where there are no points.
    """
    tally = {k: [0, 0] for k in ("all", "first 3 s", *_BIN_NAMES)}
    arrays = arrays if arrays is not None else [stream_arrays(s, gaze) for s in streams]
    for stream, inputs in zip(streams, arrays, strict=True):
        _count(tally, stream, _argmax(net, inputs).numpy(), lookahead)
    return {k: (right / n if n else float("nan"), n) for k, (right, n) in tally.items()}


def _count(tally: dict[str, list[int]], stream: dict[str, Any], pred: Any, lookahead: int) -> None:
    """Add one stream's points to :func:`onset_accuracy`'s ``[right, points]`` tally."""
    truth = [label for _, label in stream["rows"]]
    since = onset_points(stream.get("open") or [], ONSET_BINS[-1][1] + 1)
    for t in range(len(truth) - lookahead):
        for key in _buckets(since.get(t, -1)):
            tally[key][0] += int(pred[t + lookahead] == truth[t])
            tally[key][1] += 1


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
