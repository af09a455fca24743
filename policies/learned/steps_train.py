"""The learned step recogniser: record, train (DAgger, offline), load, run.

- :func:`record_streams` runs privileged episodes with the silent assistant (or, for
  *closed-loop* streams, an acting ``assistant`` such as ``step-oracle``: the person
  then reacts, undoes and redoes steps as at deployment) and keeps, per decision point,
  the segmentation's :func:`~proassist.policies.learned.steps.pixel_counts`, the
  true ``info["current_plan_step"]`` (the label) and (``open``) the plan steps that a
  correction could name to address a deviation open at that point (the gate's label,
  :mod:`proassist.policies.learned.gate_train`).
- :func:`train_recognizer` trains a small MLP that scores every candidate from
  :class:`~proassist.policies.learned.steps.StepTracker`'s features (softmax over the
  plan's steps and *none*). Round 0 is teacher-forced (the history is the truth); each
  later round replays every training stream with the current recogniser deciding, so
  the context features are its own, labels them with the truth, aggregates, and
  retrains from scratch (DAgger; Ross et al. 2011). All of it runs offline on the
  recorded streams: the person does not react to a recogniser.
- :class:`StepRecognizer` loads a checkpoint (``steps.pt`` + ``steps.json``) and gives
  the candidate probabilities of each new observation.

torch is imported lazily (the ``[learn]`` extra).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proassist.policies.duplex.cue_tracker import task_fixtures
from proassist.policies.learned import require_torch
from proassist.policies.learned.ragged import RaggedPoints
from proassist.policies.learned.steps import FEATURE_DIM, Counts, StepTracker, pixel_counts

__all__ = [
    "StepRecognizer",
    "checkpoint_dir",
    "copy_weights",
    "load_recognizer",
    "recogniser_accuracy",
    "record_streams",
    "save_recognizer",
    "train_recognizer",
]

Stream = dict[str, Any]


def _open_steps(info: dict[str, Any], ids: list[str]) -> list[int]:
    """Plan indices a correction may name now to address an open deviation (privileged)."""
    from proassist.sim.deviations.base import addressable_steps

    named: set[str] = set()
    for dev in info.get("active_deviations") or ():
        named |= addressable_steps(dev)
    return sorted(ids.index(k) for k in named if k in ids)


Job = tuple[str, int, int, str | None, str | None, dict[str, Any]]


def _assistant(name: str | None) -> Any:
    """The acting assistant of a closed-loop stream (or None)."""
    if not name:
        return None
    from proassist.policies import make_policy

    return make_policy(name)


def _record_one(job: Job) -> Stream:
    """One privileged episode: per point the pixel counts and the true step."""
    import gymnasium as gym

    import proassist.envs  # noqa: F401  (registers the ids)
    from proassist.policies.rollout import env_info
    from proassist.sim.render.indicators import segment_owners

    env_id, seed, size, task, assistant, env_kwargs = job
    policy = _assistant(assistant)
    modes = ("segmentation", *(m for m in getattr(policy, "obs_modes", ()) if m != "segmentation"))
    env = gym.make(env_id, privileged=True, obs_modes=modes, width=size, height=size, **env_kwargs)
    obs, info = env.reset(seed=seed, options={"task": task} if task else None)
    einfo = env_info(env)
    if policy is not None:
        policy.reset(env_info=einfo, seed=seed)
    names = segment_owners(einfo.get("segmentation_ids") or {})
    ids = [str(s["id"]) for s in einfo["plan"]]
    rows, opened, done = [], [], False
    while not done:
        step = info["current_plan_step"]
        rows.append(
            (pixel_counts(obs["segmentation"], names), ids.index(step) if step in ids else len(ids))
        )
        opened.append(_open_steps(info, ids))
        action = {"decision": 0} if policy is None else policy.act(obs, info)
        obs, _, term, trunc, info = env.step(action)
        done = term or trunc
    env.close()
    return {
        "env_id": env_id,
        "seed": seed,
        "assistant": assistant,
        "plan": einfo["plan"],
        "fixtures": sorted(task_fixtures(einfo)),
        "rows": rows,
        "open": opened,
    }


def record_streams(
    env_ids: Sequence[str],
    seeds: Sequence[int],
    workers: int = 1,
    size: int = 128,
    tasks: Sequence[str] = (),
    assistant: str | None = None,
    paired: bool = False,
    env_kwargs: dict[str, Any] | None = None,
) -> list[Stream]:
    """Record one stream per (env id, seed) (module docstring), in that order; with
    ``tasks``, one per (task, seed) in ``ProAssist-v0`` instead (``env_ids`` unused), or
    with ``paired``, one per ``zip(tasks, seeds)`` (one seed each, e.g. generated tasks);
    with ``assistant`` (a registered policy name, privileged allowed), that assistant
    acts and the person reacts (closed-loop streams); ``env_kwargs`` go to every env
    (e.g. ``{"max_random_deviations": None}``: more deviations to learn from)."""
    extra = dict(env_kwargs or {})
    jobs: list[Job]
    if paired:
        if len(tasks) != len(seeds):
            raise ValueError(f"paired: {len(tasks)} tasks but {len(seeds)} seeds")
        pairs = [("ProAssist-v0", int(s), t) for t, s in zip(tasks, seeds, strict=True)]
    elif tasks:
        pairs = [("ProAssist-v0", int(s), t) for s in seeds for t in tasks]
    else:
        pairs = [(e, int(s), None) for s in seeds for e in env_ids]
    jobs = [(e, s, size, t, assistant, extra) for e, s, t in pairs]
    if workers <= 1:
        return [_record_one(j) for j in jobs]
    import multiprocessing as mp

    with mp.get_context("fork").Pool(workers) as pool:
        return pool.map(_record_one, jobs, chunksize=4)


def _scorer(hidden: int) -> Any:
    torch = require_torch("the step recogniser")
    nn = torch.nn
    return nn.Sequential(
        nn.Linear(FEATURE_DIM, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, 1),
    )


def _logits(net: Any, feats: Any, mask: Any) -> Any:
    return net(feats).squeeze(-1).masked_fill(~mask, -1e9)


def _rollin(
    net: Any, streams: Sequence[Stream], gaze: bool = False
) -> tuple[list[np.ndarray], list[int], float, list[bool], float]:
    """Features and true labels of every point, the history made by ``net`` (None:
    by the truth); ``net``'s accuracy; whether a deviation was open at each point;
    ``net``'s accuracy at those points (NaN: none)."""
    torch = require_torch("the step recogniser")
    xs, ys, right, opened, right_open = [], [], 0, [], 0
    for s in streams:
        tracker = StepTracker(s["plan"], frozenset(s["fixtures"]), gaze=gaze)
        for i, (px, label) in enumerate(s["rows"]):
            f = tracker.features(px)
            xs.append(f)
            ys.append(int(label))
            opened.append(bool(s["open"][i]) if "open" in s else False)
            guess = label
            if net is not None:
                with torch.no_grad():
                    guess = int(net(torch.from_numpy(f)).squeeze(-1).argmax())
                right += guess == label
                right_open += guess == label and opened[-1]
            tracker.advance(guess)
    acc_open = right_open / sum(opened) if any(opened) else float("nan")
    return xs, ys, right / max(1, len(ys)), opened, acc_open


def _fit(
    points: RaggedPoints,
    ys: list[int],
    epochs: int,
    hidden: int,
    seed: int,
    weights: Sequence[float] | None = None,
) -> Any:
    torch = require_torch("the step recogniser")
    torch.manual_seed(seed)
    m = points.widest()
    y = torch.tensor(ys)
    w = torch.ones(len(ys)) if weights is None else torch.tensor(weights, dtype=torch.float32)
    net = _scorer(hidden)
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    for _ in range(epochs):
        for idx in torch.randperm(len(y)).split(512):
            feats, mask = points.batch(idx.numpy(), m)
            logits = _logits(net, torch.from_numpy(feats), torch.from_numpy(mask))
            each = torch.nn.functional.cross_entropy(logits, y[idx], reduction="none")
            loss = (each * w[idx]).sum() / w[idx].sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


def train_recognizer(
    streams: Sequence[Stream],
    val: Sequence[Stream] = (),
    rounds: int = 4,
    epochs: int = 8,
    hidden: int = 64,
    seed: int = 0,
    log: Any = print,
    deviation_weight: float = 1.0,
    gaze: bool = False,
) -> tuple[Any, list[dict[str, float]]]:
    """Train the recogniser with DAgger (module docstring).

    Args:
        streams: Training streams (:func:`record_streams`).
        val: Validation streams: the accuracy of each round's recogniser deciding on
            its own (closed over its own history) is logged and returned.
        rounds: DAgger rounds after the teacher-forced round 0.
        epochs: Epochs of each (re)training.
        hidden: Hidden width of the MLP.
        seed: torch seed of every training.
        log: Called with one line per round.
        deviation_weight: Loss weight of the points at which a deviation is open
            (the streams' ``open`` steps; 1: every point alike). Such points are
            rare, and there the plan's order (which the history features carry)
            points at the wrong step.
        gaze: Read the gaze-window evidence (:func:`~proassist.policies.learned.steps.frame_evidence`).
            The caller stores it as the checkpoint's ``steps.json`` ``gaze`` (as
            ``proassist train-steps`` does), so that :class:`StepRecognizer` reads
            the frames the same way.

    Returns:
        The last recogniser and one ``{round, points, train_acc, val_acc,
        val_acc_open}`` per round (``train_acc``: the previous recogniser's on the
        streams it replayed; None in round 0; ``val_acc`` None without ``val``;
        ``val_acc_open``: at the validation points where a deviation is open).
    """
    xs, ys, _, opened, _ = _rollin(None, streams, gaze)
    # every round replays the same streams: the same points, so the store is sized once
    points = RaggedPoints(sum(map(len, xs)) * (rounds + 1), len(xs) * (rounds + 1), FEATURE_DIM)
    points.extend(xs)
    del xs
    weigh = _loss_weights(opened, deviation_weight)
    net = _fit(points, ys, epochs + 2, hidden, seed, weigh)
    history = []
    for r in range(rounds + 1):
        train_acc = None
        if r > 0:
            more_x, more_y, train_acc, more_open, _ = _rollin(net, streams, gaze)
            points.extend(more_x)
            ys = ys + more_y
            weigh += _loss_weights(more_open, deviation_weight)
            net = _fit(points, ys, epochs, hidden, seed, weigh)
        history.append(_round_row(r, len(ys), _rollin(net, val, gaze) if val else None, train_acc))
        log(
            f"round {r}: {len(ys)} points, own-history accuracy: validation "
            f"{history[-1]['val_acc']} ({history[-1]['val_acc_open']} where a deviation is open)"
        )
    return net, history


def _loss_weights(opened: Sequence[bool], deviation_weight: float) -> list[float]:
    """Each point's loss weight: ``deviation_weight`` where a deviation is open, else 1."""
    return [deviation_weight if o else 1.0 for o in opened]


def _round_row(r: int, points: int, vacc: tuple | None, train_acc: float | None) -> dict[str, Any]:
    """One DAgger round's history entry (:func:`train_recognizer`'s Returns)."""
    return {
        "round": r,
        "points": points,
        "val_acc": round(vacc[2], 4) if vacc else None,
        "val_acc_open": round(vacc[4], 4) if vacc and vacc[4] == vacc[4] else None,
        "train_acc": round(train_acc, 4) if train_acc is not None else None,
    }


def save_recognizer(net: Any, out: str | Path, meta: dict[str, Any]) -> Path:
    """Write ``steps.pt`` (weights) and ``steps.json`` (config, history) into ``out``."""
    torch = require_torch("the step recogniser")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), out / "steps.pt")
    hidden = int(net[0].out_features)
    (out / "steps.json").write_text(
        json.dumps({"hidden": hidden, "feature_dim": FEATURE_DIM, **meta}, indent=1)
    )
    return out / "steps.pt"


def checkpoint_dir(path: str | Path) -> Path:
    """The folder of a checkpoint given as its folder or its ``steps.pt``."""
    path = Path(path)
    return path.parent if path.suffix == ".pt" else path


def copy_weights(source: str | Path, out: str | Path) -> None:
    """Copy a checkpoint's weight files (``steps.pt``, and its sequence companion's
    ``steps_seq.pt`` when it has one) from folder ``source`` to folder ``out``; its
    ``steps.json`` is the caller's to write."""
    import shutil

    from proassist.policies.learned.steps import SEQUENCE_FILE

    source, out = checkpoint_dir(source), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("steps.pt", SEQUENCE_FILE):
        if (source / name).is_file():
            shutil.copyfile(source / name, out / name)


def load_recognizer(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """Load ``steps.pt`` (or the folder holding it) and its ``steps.json``.

    Raises:
        FileNotFoundError: When either file is missing.
        ValueError: When the checkpoint was made for other features.
    """
    torch = require_torch("the step recogniser")
    path = Path(path)
    weights = path if path.suffix == ".pt" else path / "steps.pt"
    meta_file = weights.with_suffix(".json")
    if not weights.is_file() or not meta_file.is_file():
        raise FileNotFoundError(f"step recogniser: need {weights} and {meta_file}")
    meta = json.loads(meta_file.read_text())
    if int(meta.get("feature_dim", -1)) != FEATURE_DIM:
        raise ValueError(
            f"{weights}: made for {meta.get('feature_dim')} features, this version has {FEATURE_DIM}"
        )
    net = _scorer(int(meta["hidden"]))
    net.load_state_dict(torch.load(weights, map_location="cpu"))
    return net.eval(), meta


class StepRecognizer:
    """Runs a trained recogniser over one episode (greedy, on its own history).

    Args:
        path: The checkpoint (``steps.pt`` or its folder).
        num_threads: Torch intra-op threads for inference (``None``: one, or what
            ``PROASSIST_TORCH_THREADS`` says; :mod:`proassist.policies.learned.threads`).
            A decision is a tiny forward pass: profiled with other work on the 2 cores,
            torch's default threads made one ``update`` take 21 ms, one thread 4.3 ms.
        unseen_bias: Subtracted from the scores of the plan steps it has not recognised
            yet (not in the tracker's ``seen``) before it decides: a new step must show
            more evidence than one under way (0: none). The probabilities without it
            are kept in :attr:`raw`.

    A checkpoint whose ``steps.json`` has ``sequence`` (``hidden``, ``weight``) also
    runs its sequence companion (``steps_seq.pt``,
    :mod:`proassist.policies.learned.steps_seq`) and mixes the two distributions:
    ``log p = (1 - weight) log p_mlp + weight log p_seq``, renormalised, when
    ``companion`` (default: its ``deploy`` ``companion``; :meth:`use_companion`).

    Raises:
        ValueError: A negative ``unseen_bias``; ``companion=True`` without one.
    """

    def __init__(
        self,
        path: str | Path,
        num_threads: int | None = None,
        unseen_bias: float = 0.0,
        companion: bool | None = None,
    ) -> None:
        from proassist.policies.learned.threads import apply_inference_threads

        self.unseen_bias = unseen_bias
        self.net, self.meta = load_recognizer(path)
        self.path = Path(path)
        self.sequence: Any = None  # the companion's state over the episode (reset)
        deployed = bool(dict(self.meta.get("deploy") or {}).get("companion", False))
        self.use_companion(deployed if companion is None else companion)
        self.num_threads = apply_inference_threads(num_threads)
        self.raw = np.zeros(0)  # the last update's probabilities without unseen_bias
        self.tracker: StepTracker | None = None
        self.names: dict[int, str] = {}
        self.counts: Counts = {}  # the last frame's pixel counts (pixel_counts)

    def reset(self, env_info: dict[str, Any]) -> None:
        """Start an episode (``env_info`` with ``plan``, ``fixtures``, ``segmentation_ids``)."""
        from proassist.sim.render.indicators import segment_owners

        self.names = segment_owners(env_info.get("segmentation_ids") or {})
        self.counts = {}
        self.tracker = StepTracker(
            env_info["plan"],
            task_fixtures(env_info),
            float(env_info.get("dt", 0.5)),
            gaze=bool(self.meta.get("gaze", False)),
        )
        self.sequence = None
        if self.companion is not None:
            from proassist.policies.learned.steps_seq import SequenceState

            self.sequence = SequenceState(self.companion, env_info["plan"])

    def use_companion(self, on: bool) -> None:
        """Mix the checkpoint's sequence companion in from the next :meth:`reset`, or stop
        mixing it now.

        Raises:
            ValueError: ``on`` with a checkpoint that has no companion.
        """
        if on and not self.meta.get("sequence"):
            raise ValueError(
                f"{self.path}: companion=True but this checkpoint has no sequence companion "
                "(train one with proassist train-sequence)"
            )
        self.companion = _load_companion(self.path, self.meta) if on else None
        if not on:
            self.sequence = None  # off at once; on from the next reset

    @property
    def unseen_bias(self) -> float:
        """The bias against steps not recognised before (class docstring)."""
        return self._unseen_bias

    @unseen_bias.setter
    def unseen_bias(self, value: float) -> None:
        if value < 0:
            raise ValueError(f"step recogniser: unseen_bias must be >= 0, got {value}")
        self._unseen_bias = float(value)

    def update(self, segmentation: np.ndarray) -> np.ndarray:
        """Candidate probabilities at this point (the last one: none), with
        ``unseen_bias`` applied (:attr:`raw`: without it); advances the history with
        the most probable candidate."""
        return self.update_counts(pixel_counts(segmentation, self.names))

    def update_counts(self, counts: Counts) -> np.ndarray:
        """:meth:`update` from a frame's :func:`~proassist.policies.learned.steps.pixel_counts`."""
        torch = require_torch("the step recogniser")
        if self.tracker is None:
            raise RuntimeError("StepRecognizer: call reset() before update()")
        self.counts = counts
        f = self.tracker.features(counts)
        with torch.no_grad():
            scores = self._scores(f)
            self.raw = probs = torch.softmax(scores, 0).numpy()
            if self.unseen_bias:  # plan steps (not the last, none) not yet recognised
                unseen = [i for i in range(len(scores) - 1) if i not in self.tracker.seen]
                scores[unseen] -= self.unseen_bias
                probs = torch.softmax(scores, 0).numpy()
        self.tracker.advance(int(probs.argmax()))
        return probs

    def _scores(self, features: np.ndarray) -> Any:
        """The candidates' scores: the MLP's, or its log-probabilities mixed with the
        sequence companion's (class docstring)."""
        torch = require_torch("the step recogniser")
        scores = self.net(torch.from_numpy(features)).squeeze(-1)
        if self.sequence is None:
            return scores
        w = float(self.meta["sequence"]["weight"])
        mlp = torch.log_softmax(scores, 0)
        return (1.0 - w) * mlp + w * self.sequence.log_probs(features)


def _load_companion(path: Path, meta: dict[str, Any]) -> Any:
    """The checkpoint's sequence companion (``steps.json`` ``sequence``)."""
    from proassist.policies.learned.steps_seq import load_sequence

    return load_sequence(checkpoint_dir(path), int(meta["sequence"]["hidden"]))


def recogniser_accuracy(
    path: str | Path, streams: Sequence[Stream], companion: bool = True
) -> float:
    """Share of the recorded ``streams``' points at which the checkpoint's recogniser,
    run on its own history (no ``unseen_bias``), names the true candidate."""
    rec = StepRecognizer(path, companion=companion)
    right = total = 0
    for s in streams:
        rec.reset({"plan": s["plan"], "fixtures": s["fixtures"]})
        for counts, label in s["rows"]:
            right += int(rec.update_counts(counts).argmax()) == int(label)
            total += 1
    return right / max(1, total)
