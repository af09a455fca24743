"""The learned interaction model as a duplex component.

:class:`LearnedInteractionModel` wraps a trained
:class:`~proassist.policies.learned.net.InteractionNet` (``model.pt`` + ``model.json``
from :func:`proassist.policies.learned.train.train`) behind the
:class:`~proassist.policies.duplex.components.InteractionModel` protocol. Frame embeddings
are cached by observation time, so each decision encodes only the newest frame.
torch is imported when the model is built, which also sets torch's thread count
(one per process by default: :mod:`proassist.policies.learned.threads`).

A deviation detector (trained on ``proassist collect --labels deviations``,
:mod:`proassist.policies.learned.truth`) carries ``"deploy": {"plan_mode": "tracked",
"intents": [...correcting...]}`` in ``model.json``: :attr:`LearnedInteractionModel.plan_mode`
is the plan mode the duplex uses with it unless told otherwise, and it speaks
corrections only.

Calibration: the network is trained on a class-balanced recipe with the interrupt
class weighted (PWR), so its raw interrupt probability is inflated at deployment,
where interrupts are rare. ``model.json`` may carry ``"inference": {"logit_bias": b,
"min_gap_s": g}`` (written by :func:`proassist.analysis.calibration.calibrate` on
validation episodes): ``b`` is added to the interrupt logit (a prior correction) before
``threshold`` applies, and the model stays silent for ``g`` seconds after the
assistant last spoke, except that a correction may follow a non-correcting message
(a deviation often starts right after a step instruction).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proassist.policies.base import observation_time
from proassist.policies.duplex.components import Decision, DialogueTurn, utterance_for
from proassist.policies.duplex.plan_format import Plan
from proassist.policies.learned.features import (
    FEATURE_DIM,
    InputTracker,
    downsample,
    input_names,
    offset_steps,
)
from proassist.sim.gold import CORRECTING_INTENTS
from proassist.sim.messages import INTENTS

__all__ = ["CORRECTING", "LearnedInteractionModel"]

#: Intents of correcting messages (may break the silence gap after a non-correcting one).
CORRECTING: tuple[str, ...] = CORRECTING_INTENTS


def _check_inputs(n: int, percepts: bool) -> int:
    """``n``, the checkpoint's input width: the plan features and, with percepts, a
    prefix of this code's percepts (those added since come last); raises otherwise."""
    full = len(input_names(percepts))
    if n > full or (percepts and n < FEATURE_DIM) or (not percepts and n != full):
        raise ValueError(f"checkpoint has {n} inputs; this code makes {full} (percepts={percepts})")
    return n


def _check_intents(intents: Sequence[str] | None) -> frozenset[str] | None:
    """``intents`` as a set (``None``: every intent); raises on unknown names."""
    if intents is None:
        return None
    unknown = sorted(set(intents) - set(INTENTS))
    if unknown:
        raise ValueError(f"unknown intents {unknown}; expected a subset of {list(INTENTS)}")
    return frozenset(intents)


class LearnedInteractionModel:
    """Decides silent/interrupt, intent, step and fix with the trained network.

    Args:
        model_path: The ``model.pt`` written by training (``model.json`` beside it).
        threshold: Interrupt when the (calibrated) interrupt probability is at least this.
        device: Torch device string.
        min_gap_s: Seconds of silence after the assistant spoke; ``None`` takes
            ``model.json``'s ``inference.min_gap_s`` (0 when absent).
        num_threads: Torch intra-op threads set when the model is built; ``None``
            takes ``PROASSIST_TORCH_THREADS``, else leaves ``OMP_NUM_THREADS`` /
            ``MKL_NUM_THREADS`` in charge, else 1; ``0`` leaves torch's setting alone
            (see :mod:`proassist.policies.learned.threads`).
        logit_bias: Added to the interrupt logit; ``None`` takes ``model.json``'s
            ``inference.logit_bias`` (0 when absent).
        intents: Speak only messages with these intents (e.g. :data:`CORRECTING`:
            corrections only, no step guidance); ``None``: ``model.json``'s
            ``deploy.intents`` (a deviation detector's: the correcting intents), else
            every intent.
        persist: Speak only when the interrupt probability reached ``threshold`` at this
            many consecutive decision points (1: at once); ``None`` takes
            ``model.json``'s ``inference.persist`` (1 when absent). A detection must
            last, so a one-point spike stays silent.
        intent_bias: Added to the interrupt logit when the intent head picks that intent
            (e.g. ``{"re_engage": 2.0}``: speak sooner to re-engage); ``None`` takes
            ``model.json``'s ``inference.intent_bias`` (none when absent).
    """

    def __init__(
        self,
        model_path: str | Path,
        threshold: float = 0.5,
        device: str = "cpu",
        min_gap_s: float | None = None,
        num_threads: int | None = None,
        logit_bias: float | None = None,
        intents: Sequence[str] | None = None,
        persist: int | None = None,
        intent_bias: Mapping[str, float] | None = None,
    ) -> None:
        import json

        from proassist.policies.learned.threads import apply_inference_threads
        from proassist.policies.learned.train import load_model

        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        #: Torch intra-op threads in use after the model was built.
        self.num_threads = apply_inference_threads(num_threads)
        self.net = load_model(model_path).to(device)
        meta = json.loads(Path(model_path).with_suffix(".json").read_text())
        self._settings(meta, logit_bias, intents, min_gap_s, persist, intent_bias)
        self._streak = 0
        self.device = device
        self.threshold = threshold
        self.clip_len = int(self.net.config["clip_len"])
        self.frame_size = int(self.net.config["frame_size"])
        self.inputs = InputTracker({}, False)
        #: Whether the network reads the segmentation percepts (then the env renders it).
        self.uses_percepts = bool(self.net.config.get("percepts", False))
        #: What the offset head counts over (:data:`~proassist.policies.learned.features.OFFSET_BASES`).
        self.offsets = str(self.net.config.get("offsets", "plan"))
        self.n_inputs = _check_inputs(int(self.net.config["feature_dim"]), self.uses_percepts)
        self.obs_modes: tuple[str, ...] = (
            ("rgb", "segmentation") if self.uses_percepts else ("rgb",)
        )
        self._cache: OrderedDict[float, Any] = OrderedDict()
        self.stats: dict[str, int] = {"calls": 0, "interrupts": 0}

    def _settings(
        self,
        meta: dict[str, Any],
        logit_bias: float | None,
        intents: Sequence[str] | None,
        min_gap_s: float | None,
        persist: int | None,
        intent_bias: Mapping[str, float] | None,
    ) -> None:
        """The inference and deploy settings: the arguments, else ``model.json``'s."""
        inference = meta.get("inference") or {}
        bias = inference.get("logit_bias", 0.0) if logit_bias is None else logit_bias
        self.logit_bias = float(bias)
        deploy = meta.get("deploy") or {}
        self.intents = _check_intents(deploy.get("intents") if intents is None else intents)
        #: The plan mode the model was trained on (``model.json["deploy"]``), if any.
        self.plan_mode: str | None = deploy.get("plan_mode")
        gap = inference.get("min_gap_s", 0.0) if min_gap_s is None else min_gap_s
        self.min_gap_s = float(gap)
        self.persist = int(inference.get("persist", 1) if persist is None else persist)
        biases = (inference.get("intent_bias") or {}) if intent_bias is None else intent_bias
        _check_intents(list(biases))
        self.intent_bias = {k: float(v) for k, v in biases.items()}
        if self.persist < 1:
            raise ValueError(f"persist must be >= 1 decision point, got {self.persist}")

    def reset(self, env_info: dict[str, Any]) -> None:
        """Start an episode: new plan-state tracker, empty frame cache."""
        self.inputs = InputTracker(env_info, self.uses_percepts)
        self._cache.clear()
        self._streak = 0

    def _embeddings(self, obs_history: Sequence[dict[str, Any]]) -> Any:
        import torch

        recent = list(obs_history)[-self.clip_len :]
        for obs in recent:
            key = observation_time(obs)
            if key not in self._cache:
                frame = downsample(obs["rgb"], self.frame_size)[None]
                with torch.no_grad():
                    emb = self.net.encode_frames(torch.from_numpy(frame).to(self.device))
                self._cache[key] = emb[0]
        while len(self._cache) > 4 * self.clip_len:
            self._cache.popitem(last=False)
        embs = [self._cache[observation_time(o)] for o in recent]
        embs = [embs[0]] * (self.clip_len - len(embs)) + embs
        return torch.stack(embs)[None]

    def decide(
        self,
        obs_history: Sequence[dict[str, Any]],
        plan: Plan | None,
        dialogue: Sequence[DialogueTurn],
    ) -> Decision:
        """One decision from the recent observations, the cached plan and the dialogue."""
        import torch

        if not obs_history:
            raise ValueError("decide needs at least one observation")
        self.stats["calls"] += 1
        last = obs_history[-1]
        state, feats = self.inputs.update(last, plan, dialogue)
        feats = feats[: self.n_inputs]  # percepts added since a checkpoint was trained come last
        feats = torch.from_numpy(feats)[None].to(self.device)
        with torch.no_grad():
            out = self.net.forward_embeddings(self._embeddings(obs_history), feats)
        intent = INTENTS[int(out["intent"].argmax(-1)[0])]
        logit = float(out["decision"][0, 1] - out["decision"][0, 0]) + self.logit_bias
        logit += self.intent_bias.get(intent, 0.0)
        p_interrupt = 1.0 / (1.0 + np.exp(-np.clip(logit, -50.0, 50.0)))
        self._streak = self._streak + 1 if p_interrupt >= self.threshold else 0
        if self._streak < self.persist or self._quiet(dialogue, state.since_interrupt, intent):
            return Decision(False, confidence=p_interrupt)
        if self.intents is not None and intent not in self.intents:
            return Decision(False, confidence=p_interrupt)
        self.stats["interrupts"] += 1
        return self._structured(out, plan, p_interrupt, intent)

    def _quiet(self, dialogue: Sequence[DialogueTurn], since: float | None, intent: str) -> bool:
        """Within ``min_gap_s`` of the last message, unless this one is a correction and
        the last one was not (a deviation right after a step instruction)."""
        if since is None or since >= self.min_gap_s - 1e-9:
            return False
        said = [turn for turn in dialogue if turn.speaker == "assistant"]
        last = said[-1].intent if said else None
        return not (intent in CORRECTING and last not in CORRECTING)

    def _structured(
        self, out: dict[str, Any], plan: Plan | None, p: float, intent: str
    ) -> Decision:
        from proassist.policies.learned.net import MAX_OFFSET

        fix = bool(out["fix"].argmax(-1)[0])
        steps, current = offset_steps(plan, self.offsets)
        if current is None:
            return Decision(True, intent, None, utterance_for(intent, ""), fix, p)
        offset = int(out["offset"].argmax(-1)[0]) - MAX_OFFSET
        target = steps[int(np.clip(current + offset, 0, len(steps) - 1))]
        return Decision(True, intent, target.id, utterance_for(intent, target.text), fix, p)
