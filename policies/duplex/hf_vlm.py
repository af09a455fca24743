"""An interaction model backed by any local image-text-to-text model (transformers).

At each decision point the model sees the latest frame(s), the goal, the cached plan
(PWR's tagged format) and the recent dialogue, and answers as PWR's duplex model:
``$silent$`` or ``$interrupt$<what to say>``. Anything else (including an interrupt
with nothing to say) is taken as silent and counted in ``stats["malformed"]``, so a
bad model never crashes an episode. An interrupt is a free-text decision (``intent``
and ``step`` ``None``): the simulated person matches the text to steps.
``transformers``/``torch`` (the ``[hf]`` extra) are imported when the model is built.

Generation is greedy, at most ``max_new_tokens`` tokens, and stops as soon as the
answer is complete (``$silent$``, or the line after ``$interrupt$``) or can no longer be
either (:func:`vlm_answer_done`). ``last_output`` holds the raw text of the last call;
the duplex assistant saves every one in the episode record. The text prompt is a
``str.format`` template with the fields of :data:`VLM_FIELDS`
(:data:`DEFAULT_VLM_TEMPLATE`), replaceable inline or from a file (``prompt``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proassist.policies.duplex.components import Decision, DialogueTurn
from proassist.policies.duplex.hf_common import (
    check_dtype,
    dtype_kwargs,
    load_template,
    require_hf,
    resolve_device,
    stop_when,
)
from proassist.policies.duplex.plan_format import Plan, render_plan
from proassist.sim.messages import MAX_TEXT, fold_text

__all__ = [
    "DEFAULT_VLM_TEMPLATE",
    "HFInteractionModel",
    "VLM_FIELDS",
    "build_vlm_prompt",
    "parse_vlm_output",
    "vlm_answer_done",
]

SILENT_TAG = "$silent$"
INTERRUPT_TAG = "$interrupt$"

#: Fields of the interaction prompt template.
VLM_FIELDS: tuple[str, ...] = ("silent", "interrupt", "goal", "plan", "dialogue")

#: The built-in interaction prompt (the frames are given separately).
DEFAULT_VLM_TEMPLATE: str = (
    "You are a proactive assistant watching a person through a head-mounted camera. "
    "Answer {silent} to stay silent or {interrupt}<what to say> to speak.\n"
    "Goal: {goal}\nPlan:\n{plan}\nDialogue:\n{dialogue}\nAnswer:"
)


def parse_vlm_output(text: str) -> Decision | None:
    """``$silent$`` → silent, ``$interrupt$<text>`` → interrupt, else ``None`` (malformed).

    The tags are matched after stripping leading whitespace, as the EgoProactive
    scorer does.
    """
    stripped = text.lstrip()
    if stripped.startswith(SILENT_TAG):
        return Decision(interrupt=False)
    if stripped.startswith(INTERRUPT_TAG):
        said = " ".join(fold_text(stripped[len(INTERRUPT_TAG) :]).split())[:MAX_TEXT]
        return Decision(interrupt=True, text=said) if said else None
    return None


def vlm_answer_done(text: str) -> bool:
    """Whether generation can stop: ``$silent$`` said, the ``$interrupt$`` line ended,
    or the text starts with neither tag (malformed whatever follows)."""
    stripped = text.lstrip()
    if stripped.startswith(SILENT_TAG):
        return True
    if stripped.startswith(INTERRUPT_TAG):
        return "\n" in stripped[len(INTERRUPT_TAG) :].lstrip()
    return not any(tag.startswith(stripped) for tag in (SILENT_TAG, INTERRUPT_TAG))


def build_vlm_prompt(
    goal: str,
    plan: Plan | None,
    dialogue: Sequence[DialogueTurn],
    template: str = DEFAULT_VLM_TEMPLATE,
) -> str:
    """The text part of the duplex prompt: ``template`` filled with :data:`VLM_FIELDS`."""
    plan_text = render_plan(plan) if plan is not None else "(no plan yet)"
    turns = "\n".join(f"{t.speaker}: {t.text}" for t in dialogue) or "(nothing said yet)"
    return template.format(
        silent=SILENT_TAG, interrupt=INTERRUPT_TAG, goal=goal, plan=plan_text, dialogue=turns
    )


class HFInteractionModel:
    """Duplex interaction model from a local image-text-to-text model.

    Args:
        model_path: Directory with the model and its processor (``save_pretrained``
            output); loaded with ``local_files_only=True``.
        n_frames: How many of the latest frames to show (>= 1).
        max_new_tokens: Most tokens generated per decision (>= 1); generation stops
            earlier when the answer is complete.
        max_turns: How many of the latest dialogue turns to show.
        device: Torch device string (``"auto"``: CUDA when available, else CPU).
        dtype: Weights dtype: ``"auto"`` (the checkpoint's), ``"float32"``,
            ``"float16"`` or ``"bfloat16"``.
        prompt: Prompt template (inline ``str.format`` text or a file path); ``None``
            for :data:`DEFAULT_VLM_TEMPLATE`.
    """

    def __init__(
        self,
        model_path: str | Path,
        n_frames: int = 1,
        max_new_tokens: int = 24,
        max_turns: int = 6,
        device: str = "cpu",
        dtype: str = "auto",
        prompt: str | None = None,
    ) -> None:
        path = Path(model_path)
        if not path.is_dir():
            raise FileNotFoundError(f"HFInteractionModel: {model_path!r} is not a directory")
        if n_frames < 1:
            raise ValueError(f"n_frames must be >= 1, got {n_frames}")
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        self.template = load_template(prompt, DEFAULT_VLM_TEMPLATE, VLM_FIELDS)
        self.dtype = check_dtype(dtype)
        require_hf("interaction='hf'")
        self.device = resolve_device(device)
        self.processor, self.model = _load(path, self.dtype)
        self.model.to(self.device).eval()
        self.n_frames = int(n_frames)
        self.max_new_tokens, self.max_turns = int(max_new_tokens), max_turns
        self.goal = ""
        self.stats: dict[str, int] = {"calls": 0, "interrupts": 0, "malformed": 0, "new_tokens": 0}
        self.last_output = ""

    def reset(self, env_info: dict[str, Any]) -> None:
        """Start an episode (remembers the goal)."""
        self.goal = str(env_info.get("goal", ""))

    def _prompt(self, text: str, n_images: int) -> str:
        template = getattr(self.processor, "chat_template", None)
        if template:
            content = [{"type": "image"}] * n_images + [{"type": "text", "text": text}]
            messages = [{"role": "user", "content": content}]
            return self.processor.apply_chat_template(messages, add_generation_prompt=True)
        token = getattr(self.processor, "image_token", None) or "<image>"
        return " ".join([token] * n_images + [text])

    def generate(self, frames: list[np.ndarray], text: str) -> str:
        """Greedy answer of the model to ``frames`` + ``text`` (new text only)."""
        import torch

        prompt = self._prompt(text, len(frames))
        enc = self.processor(images=frames, text=prompt, return_tensors="pt").to(self.device)
        n_prompt = int(enc["input_ids"].shape[1])
        tokenizer = getattr(self.processor, "tokenizer", None) or self.processor
        with torch.no_grad():
            out = self.model.generate(
                **enc,
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                stopping_criteria=stop_when(tokenizer, n_prompt, vlm_answer_done),
            )
        new = out[:, n_prompt:]
        self.stats["new_tokens"] += int(new.shape[1])
        return self.processor.batch_decode(new, skip_special_tokens=True)[0]

    def decide(
        self,
        obs_history: Sequence[dict[str, Any]],
        plan: Plan | None,
        dialogue: Sequence[DialogueTurn],
    ) -> Decision:
        """Prompt the model with the latest frames, the plan and the dialogue."""
        if not obs_history:
            raise ValueError("decide needs at least one observation")
        self.stats["calls"] += 1
        frames = [np.asarray(o["rgb"], dtype=np.uint8) for o in obs_history[-self.n_frames :]]
        goal = self.goal or str(obs_history[-1].get("goal", ""))
        text = build_vlm_prompt(goal, plan, list(dialogue)[-self.max_turns :], self.template)
        self.last_output = self.generate(frames, text)
        decision = parse_vlm_output(self.last_output)
        if decision is None:
            self.stats["malformed"] += 1
            return Decision(interrupt=False)
        self.stats["interrupts"] += int(decision.interrupt)
        return decision


def _load(path: Path, dtype: str = "auto") -> tuple[Any, Any]:
    """The processor and the model (image-text-to-text, else vision-to-sequence)."""
    import transformers

    processor = transformers.AutoProcessor.from_pretrained(str(path), local_files_only=True)
    errors = []
    for name in ("AutoModelForImageTextToText", "AutoModelForVision2Seq"):
        auto = getattr(transformers, name, None)
        if auto is None:
            continue
        try:
            model = auto.from_pretrained(str(path), local_files_only=True, **dtype_kwargs(dtype))
            return processor, model
        except ValueError as err:  # the config class is not mapped by this auto class
            errors.append(f"{name}: {err}")
    raise ValueError(f"{path}: no image-text-to-text model found ({'; '.join(errors)})")
