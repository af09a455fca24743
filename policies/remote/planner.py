"""A duplex planner behind any OpenAI-compatible chat-completions endpoint.

Registered as planner ``"openai-compatible"``: ``make_policy("duplex",
planner="openai-compatible", planner_kwargs={"base_url": ..., "model": ...})``.

The request is one user message: the latest ``n_frames`` frames of the clip as PNG
data URLs (default 0: the planner is text-only, like PWR's), then the PWR planner
prompt of :func:`~proassist.policies.duplex.hf_planner.build_planner_prompt` (goal,
procedure, previous plan, the utterance just made, a text description of the clip,
the format to answer in), a ``str.format`` template with the fields of
:data:`~proassist.policies.duplex.hf_planner.PLANNER_FIELDS`. The reply is cut after
its first ``</cue_todo>`` (what a ``stop`` string would do; the request sends none, as
``transformers serve`` fails on ``stop`` with vision-language processors) and parsed
by :func:`~proassist.policies.duplex.plan_format.parse_plan`;
a malformed reply or a failed request keeps the previous plan (the initial plan falls
back to the task graph), counted in ``stats["malformed"]`` / ``stats["errors"]``.
``last_output`` and ``last_output_info`` log every request as for
:class:`~proassist.policies.remote.interaction.RemoteInteractionModel`.

``latency`` (:mod:`proassist.policies.remote.latency`) sets ``charged_s`` after each
call: the simulated seconds the duplex adds to its ``planner_latency`` before the
revised plan takes effect (the initial plan is available at once, as always).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from proassist.policies.duplex.components import Decision, PlanContext
from proassist.policies.duplex.hf_common import load_template
from proassist.policies.duplex.hf_planner import (
    DEFAULT_PLANNER_TEMPLATE,
    PLAN_SLACK_FACTOR,
    PLAN_SLACK_TOKENS,
    PLANNER_FIELDS,
    build_planner_prompt,
)
from proassist.policies.duplex.plan_format import Plan, PlanParseError, parse_plan, render_plan
from proassist.policies.duplex.planners import TaskGraphPlanner, register_planner
from proassist.policies.remote.client import ChatClient, RemoteCallError
from proassist.policies.remote.interaction import request_info
from proassist.policies.remote.latency import charged_seconds, check_latency
from proassist.policies.remote.prompt import chat_messages

__all__ = ["CHARS_PER_TOKEN", "RemotePlanner"]

#: Characters per token assumed when sizing the reply budget (the server's tokenizer
#: is not known here).
CHARS_PER_TOKEN: float = 3.0

_END = "</cue_todo>"


@register_planner("openai-compatible")
class RemotePlanner:
    """Planner asking a served chat model for PWR's tagged plan (module docstring).

    Args:
        base_url: API root of the server, e.g. ``http://127.0.0.1:8000/v1``.
        model: The served model's name.
        api_key_env: Environment variable holding the API key (``None``: no key).
        n_frames: Latest clip frames sent per plan (>= 0; default text-only).
        max_new_tokens: Reply token budget; ``None`` sizes it to the task-graph plan
            for the same request (``PLAN_SLACK_FACTOR`` times its length at
            ``CHARS_PER_TOKEN``, plus ``PLAN_SLACK_TOKENS``).
        temperature: Sampling temperature (0: greedy).
        prompt: Prompt template (inline or a file path); ``None`` for
            :data:`~proassist.policies.duplex.hf_planner.DEFAULT_PLANNER_TEMPLATE`.
        latency: ``"paused"``, ``"charged"`` or fixed seconds.
        timeout: Seconds allowed per request.
        retries: Retries of a failed request (exponential backoff).
        backoff: Seconds before the first retry (doubled each time).
        check: Ask the server for its models at once (an unreachable server raises).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        n_frames: int = 0,
        max_new_tokens: int | None = None,
        temperature: float = 0.0,
        prompt: str | None = None,
        latency: str | float = "paused",
        timeout: float = 60.0,
        retries: int = 2,
        backoff: float = 0.5,
        check: bool = True,
    ) -> None:
        if n_frames < 0 or (max_new_tokens is not None and max_new_tokens < 1):
            raise ValueError(
                f"need n_frames >= 0 and max_new_tokens >= 1 (or None); got "
                f"{n_frames}, {max_new_tokens}"
            )
        self.template = load_template(prompt, DEFAULT_PLANNER_TEMPLATE, PLANNER_FIELDS)
        self.latency = check_latency(latency)
        self.client = ChatClient(base_url, model, api_key_env, timeout, retries, backoff)
        if check:
            self.client.check()
        self.n_frames, self.max_new_tokens = int(n_frames), max_new_tokens
        self.temperature = float(temperature)
        self.fallback = TaskGraphPlanner(plan_quality=1.0)
        self.stats: dict[str, int] = {"calls": 0, "malformed": 0, "errors": 0}
        self.last_output, self.last_output_info = "", {}
        self.charged_s = 0.0

    def token_budget(self, reference: Plan) -> int:
        """Tokens allowed for one plan: ``max_new_tokens``, else sized to ``reference``."""
        if self.max_new_tokens is not None:
            return int(self.max_new_tokens)
        tokens = len(render_plan(reference)) / CHARS_PER_TOKEN
        return int(math.ceil(PLAN_SLACK_FACTOR * tokens)) + PLAN_SLACK_TOKENS

    def replan(
        self,
        clip: Sequence[Any],
        prev_plan: Plan | None,
        utterance: Decision | str | None,
        context: PlanContext,
    ) -> Plan:
        """Ask the model; keep ``prev_plan`` (or the task-graph plan) when it fails."""
        self.stats["calls"] += 1
        reference = self.fallback.replan(clip, prev_plan, utterance, context)
        keep = prev_plan if prev_plan is not None else reference
        text = build_planner_prompt(prev_plan, utterance, context, self.template)
        frames = [np.asarray(o["rgb"], dtype=np.uint8) for o in list(clip)[-self.n_frames :]]
        messages = chat_messages(frames if self.n_frames else [], text)
        try:
            reply = self.client.chat(
                messages,
                max_tokens=self.token_budget(reference),
                temperature=self.temperature,
            )
        except RemoteCallError as err:
            self.stats["errors"] += 1
            self.charged_s = charged_seconds(self.latency, err.latency_s)
            self.last_output = ""
            self.last_output_info = request_info(
                err.latency_s, self.charged_s, err.attempts, "", err
            )
            return keep
        self.charged_s = charged_seconds(self.latency, reply.latency_s)
        self.last_output = reply.text
        info = request_info(reply.latency_s, self.charged_s, reply.attempts, reply.finish_reason)
        self.last_output_info = info
        return self._parse(reply.text, keep)

    def _parse(self, text: str, keep: Plan) -> Plan:
        """The plan in ``text`` up to its first ``</cue_todo>``; ``keep`` when malformed."""
        end = text.find(_END)
        text = text[: end + len(_END)] if end >= 0 else text
        try:
            return parse_plan(text)
        except PlanParseError:
            self.stats["malformed"] += 1
            return keep
