"""A planner backed by any local causal language model (Hugging Face transformers).

The model is prompted as PWR's planner (goal, previous plan, the utterance just made,
a text description of the latest clip) and must answer in the tagged plan format of
:mod:`proassist.policies.duplex.plan_format`. A malformed answer is counted in
``stats["malformed"]`` and the previous plan is kept (the initial plan falls back to
the task graph), so a bad model never crashes an episode. ``transformers`` and
``torch`` (the ``[hf]`` extra) are imported only when the planner is built.

Generation is greedy and sized to the plan format: unless ``max_new_tokens`` is set,
each call may generate ``PLAN_SLACK_FACTOR`` times the length (in the model's tokens)
of the task-graph plan for the same request, plus ``PLAN_SLACK_TOKENS``; it stops as
soon as the last section (``</cue_todo>``) is written or the answer can no longer
parse (a section repeated, an unknown mode). ``last_output`` holds the raw text of
the last call; the duplex assistant saves every one in the episode record.

The prompt is a ``str.format`` template with the fields of :data:`PLANNER_FIELDS`
(:data:`DEFAULT_PLANNER_TEMPLATE`), replaceable inline or from a file (``prompt``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from proassist.policies.duplex.components import Decision, PlanContext
from proassist.policies.duplex.hf_common import (
    check_dtype,
    dtype_kwargs,
    load_template,
    require_hf,
    resolve_device,
    stop_when,
)
from proassist.policies.duplex.plan_format import (
    MODES,
    Plan,
    PlanParseError,
    parse_plan,
    render_plan,
)
from proassist.policies.duplex.planners import TaskGraphPlanner, register_planner

__all__ = [
    "DEFAULT_PLANNER_TEMPLATE",
    "HFPlanner",
    "PLANNER_FIELDS",
    "build_planner_prompt",
    "plan_answer_done",
]

_FORMAT = (
    "<mode>normal or recovery</mode><goal>...</goal><done>[id] step; [id] step</done>"
    "<plan>1. [id] step (Current)\\n2. [id] step</plan><cue_done>...</cue_done>"
    "<cue_todo>...</cue_todo>; mark recovery steps (fix)."
)

#: Fields of the planner prompt template.
PLANNER_FIELDS: tuple[str, ...] = ("format", "goal", "procedure", "previous", "utterance", "clip")

#: The built-in planner prompt (ends where the model's plan starts).
DEFAULT_PLANNER_TEMPLATE: str = (
    "You are the planner of a proactive assistant watching a person through a "
    "head-mounted camera. Answer with the revised plan in this format: {format}\n"
    "Goal: {goal}\n"
    "Procedure: {procedure}\n"
    "Previous plan:\n{previous}\n"
    "Assistant just said: {utterance}\n"
    "Latest clip: {clip}\n"
    "Revised plan:\n"
)

#: Token budget per plan, when not set: this factor times the reference plan's length...
PLAN_SLACK_FACTOR: float = 1.25
#: ... plus this many tokens.
PLAN_SLACK_TOKENS: int = 16

_OPEN_TAG = re.compile(r"<(mode|goal|done|plan|cue_done|cue_todo)>")
_MODE = re.compile(r"<mode>(.*?)</mode>", re.S)


def _describe_utterance(utterance: Decision | str | None) -> str:
    if utterance is None:
        return "(nothing yet)"
    if isinstance(utterance, str):
        return utterance
    parts = [p for p in (utterance.intent, utterance.step) if p]
    label = f"[{' '.join(parts)}] " if parts else ""
    return f"{label}{utterance.text}".strip() or "(silent)"


def build_planner_prompt(
    prev_plan: Plan | None,
    utterance: Decision | str | None,
    context: PlanContext,
    template: str = DEFAULT_PLANNER_TEMPLATE,
) -> str:
    """The PWR planner prompt: ``template`` filled with :data:`PLANNER_FIELDS`."""
    procedure = "; ".join(f"[{s['id']}] {s.get('instruction', '')}" for s in context.procedure)
    previous = render_plan(prev_plan) if prev_plan is not None else "(none: write the first plan)"
    return template.format(
        format=_FORMAT,
        goal=context.goal,
        procedure=procedure,
        previous=previous,
        utterance=_describe_utterance(utterance),
        clip=context.clip_description or "(no description)",
    )


def plan_answer_done(text: str) -> bool:
    """Whether generation can stop: the last section is closed, or the text cannot
    parse any more (a section opened twice, a closed ``<mode>`` that is not a mode)."""
    if "</cue_todo>" in text:
        return True
    opened = _OPEN_TAG.findall(text)
    if len(opened) != len(set(opened)):
        return True
    mode = _MODE.search(text)
    return mode is not None and mode.group(1).strip() not in MODES


@register_planner("hf")
class HFPlanner:
    """Planner prompting a local causal LM (``AutoModelForCausalLM``/``AutoTokenizer``).

    Args:
        model_path: Directory holding the model and tokenizer (``save_pretrained``
            output); loaded with ``local_files_only=True``, never from the hub.
        max_new_tokens: Most tokens generated per plan; ``None`` sizes it to the plan
            format (see the module docstring).
        device: Torch device string (``"auto"``: CUDA when available, else CPU).
        dtype: Weights dtype: ``"auto"`` (the checkpoint's), ``"float32"``,
            ``"float16"`` or ``"bfloat16"``.
        prompt: Prompt template (inline ``str.format`` text or a file path); ``None``
            for :data:`DEFAULT_PLANNER_TEMPLATE`.
    """

    def __init__(
        self,
        model_path: str,
        max_new_tokens: int | None = None,
        device: str = "cpu",
        dtype: str = "auto",
        prompt: str | None = None,
    ) -> None:
        path = Path(model_path)
        if not path.is_dir():
            raise FileNotFoundError(f"HFPlanner: model_path {model_path!r} is not a directory")
        if max_new_tokens is not None and int(max_new_tokens) < 1:
            raise ValueError(f"max_new_tokens must be >= 1 (or None), got {max_new_tokens}")
        self.template = load_template(prompt, DEFAULT_PLANNER_TEMPLATE, PLANNER_FIELDS)
        self.dtype = check_dtype(dtype)
        _, transformers = require_hf("planner='hf'")
        self.device = resolve_device(device)
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(
            str(path), local_files_only=True
        )
        self.tokenizer.truncation_side = "left"
        self.model = transformers.AutoModelForCausalLM.from_pretrained(
            str(path), local_files_only=True, **dtype_kwargs(self.dtype)
        )
        self.model.to(self.device).eval()
        self.max_new_tokens = None if max_new_tokens is None else int(max_new_tokens)
        self.fallback = TaskGraphPlanner(plan_quality=1.0)
        self.stats: dict[str, int] = {"calls": 0, "malformed": 0, "new_tokens": 0}
        self.last_output = ""

    def token_budget(self, reference: Plan) -> int:
        """Tokens allowed for one plan: ``max_new_tokens``, else sized to ``reference``."""
        if self.max_new_tokens is not None:
            return self.max_new_tokens
        ids = self.tokenizer(render_plan(reference), add_special_tokens=False)["input_ids"]
        return int(math.ceil(PLAN_SLACK_FACTOR * len(ids))) + PLAN_SLACK_TOKENS

    def _max_prompt_tokens(self, budget: int) -> int:
        limit = getattr(self.model.config, "max_position_embeddings", None) or 2048
        return max(8, int(limit) - budget)

    def generate(self, prompt: str, max_new_tokens: int | None = None) -> str:
        """Greedy continuation of ``prompt`` (the new text only), stopping at the end
        of the plan (:func:`plan_answer_done`)."""
        import torch

        budget = int(max_new_tokens or self.max_new_tokens or 256)
        enc = self.tokenizer(
            prompt, return_tensors="pt", truncation=True, max_length=self._max_prompt_tokens(budget)
        ).to(self.device)
        n_prompt = int(enc["input_ids"].shape[1])
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id
        with torch.no_grad():
            out = self.model.generate(
                **enc,
                max_new_tokens=budget,
                do_sample=False,
                pad_token_id=pad,
                stopping_criteria=stop_when(self.tokenizer, n_prompt, plan_answer_done),
            )
        new_tokens = out[0, n_prompt:]
        self.stats["new_tokens"] += int(new_tokens.shape[0])
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
        reference = self.fallback.replan(clip, prev_plan, utterance, context)
        prompt = build_planner_prompt(prev_plan, utterance, context, self.template)
        self.last_output = self.generate(prompt, self.token_budget(reference))
        try:
            return parse_plan(self.last_output)
        except PlanParseError:
            self.stats["malformed"] += 1
            return prev_plan if prev_plan is not None else reference
