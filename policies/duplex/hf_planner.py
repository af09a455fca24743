"""A planner backed by any local causal language model (Hugging Face transformers).

The model is prompted as PWR's planner (goal, previous plan, the utterance just made,
a text description of the latest clip) and must answer in the tagged plan format of
:mod:`proassist.policies.duplex.plan_format`. A malformed answer is counted in
``stats["malformed"]`` and the previous plan is kept (the initial plan falls back to
the task graph), so a bad model never crashes an episode. ``transformers`` and
``torch`` are imported only when the planner is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from proassist.policies.duplex.components import Decision, PlanContext
from proassist.policies.duplex.plan_format import Plan, PlanParseError, parse_plan, render_plan
from proassist.policies.duplex.planners import TaskGraphPlanner, register_planner

__all__ = ["HFPlanner", "build_planner_prompt"]

_FORMAT = (
    "<mode>normal or recovery</mode><goal>...</goal><done>[id] step; [id] step</done>"
    "<plan>1. [id] step (Current)\\n2. [id] step</plan><cue_done>...</cue_done>"
    "<cue_todo>...</cue_todo>; mark recovery steps (fix)."
)


def _describe_utterance(utterance: Decision | str | None) -> str:
    if utterance is None:
        return "(nothing yet)"
    if isinstance(utterance, str):
        return utterance
    parts = [p for p in (utterance.intent, utterance.step) if p]
    label = f"[{' '.join(parts)}] " if parts else ""
    return f"{label}{utterance.text}".strip() or "(silent)"


def build_planner_prompt(
    prev_plan: Plan | None, utterance: Decision | str | None, context: PlanContext
) -> str:
    """The PWR planner prompt (plain text, ends where the model's plan starts)."""
    procedure = "; ".join(f"[{s['id']}] {s.get('instruction', '')}" for s in context.procedure)
    previous = render_plan(prev_plan) if prev_plan is not None else "(none: write the first plan)"
    return (
        "You are the planner of a proactive assistant watching a person through a "
        f"head-mounted camera. Answer with the revised plan in this format: {_FORMAT}\n"
        f"Goal: {context.goal}\n"
        f"Procedure: {procedure}\n"
        f"Previous plan:\n{previous}\n"
        f"Assistant just said: {_describe_utterance(utterance)}\n"
        f"Latest clip: {context.clip_description or '(no description)'}\n"
        "Revised plan:\n"
    )


@register_planner("hf")
class HFPlanner:
    """Planner prompting a local causal LM (``AutoModelForCausalLM``/``AutoTokenizer``).

    Args:
        model_path: Directory holding the model and tokenizer (``save_pretrained``
            output); loaded with ``local_files_only=True``, never from the hub.
        max_new_tokens: Most tokens generated per plan.
        device: Torch device string.
    """

    def __init__(self, model_path: str, max_new_tokens: int = 256, device: str = "cpu") -> None:
        path = Path(model_path)
        if not path.is_dir():
            raise FileNotFoundError(f"HFPlanner: model_path {model_path!r} is not a directory")
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.tokenizer.truncation_side = "left"
        self.model = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True)
        self.model.to(device).eval()
        self.device = device
        self.max_new_tokens = int(max_new_tokens)
        self.fallback = TaskGraphPlanner(plan_quality=1.0)
        self.stats: dict[str, int] = {"calls": 0, "malformed": 0}
        self.last_output = ""

    def _max_prompt_tokens(self) -> int:
        limit = getattr(self.model.config, "max_position_embeddings", None) or 2048
        return max(8, int(limit) - self.max_new_tokens)

    def generate(self, prompt: str) -> str:
        """Greedy continuation of ``prompt`` (the new text only)."""
        import torch

        enc = self.tokenizer(
            prompt, return_tensors="pt", truncation=True, max_length=self._max_prompt_tokens()
        ).to(self.device)
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id
        with torch.no_grad():
            out = self.model.generate(
                **enc, max_new_tokens=self.max_new_tokens, do_sample=False, pad_token_id=pad
            )
        new_tokens = out[0, enc["input_ids"].shape[1] :]
        return self.tokenizer.decode(new_tokens, skip_special_tokens=True)

    def replan(
        self,
        clip: Sequence[Any],
        prev_plan: Plan | None,
        utterance: Decision | str | None,
        context: PlanContext,
    ) -> Plan:
        """Prompt the model; keep ``prev_plan`` (or the task-graph plan) when malformed."""
        self.stats["calls"] += 1
        self.last_output = self.generate(build_planner_prompt(prev_plan, utterance, context))
        try:
            return parse_plan(self.last_output)
        except PlanParseError:
            self.stats["malformed"] += 1
            if prev_plan is not None:
                return prev_plan
            return self.fallback.replan(clip, None, utterance, context)
