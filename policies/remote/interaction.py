"""A duplex interaction model behind any OpenAI-compatible chat-completions endpoint.

At each decision point the model gets one request (:mod:`proassist.policies.remote.prompt`):
the latest ``n_frames`` egocentric frames as PNG data URLs (none for a text-only
server), then the prompt text: the goal, the cached plan (PWR's tagged format, when
the assistant has one) and the last ``max_turns`` dialogue turns (what the assistant
said and what the person said), asking for ``$silent$`` or ``$interrupt$<what to
say>`` (``output="structured"``: optionally ``$interrupt$[intent step_id] ...``). The
reply is parsed by :func:`~proassist.policies.remote.parse.parse_reply`; a malformed
reply, a request that fails after its retries or times out, is a silent decision,
never an error.

Every request is logged: ``last_output`` (the raw reply) and ``last_output_info``
(``latency_s`` wall clock, ``charged_s`` simulated, ``attempts``, ``finish_reason``,
``error``: ``None`` or ``"timeout: ..."``; ``parsed`` false on an error), which the
duplex assistant copies into the episode record's ``model_outputs``; ``stats`` counts
``calls``, ``interrupts``, ``malformed``, ``errors`` and ``busy`` (points skipped
while a charged call was running).

Time (``latency``, :mod:`proassist.policies.remote.latency`): ``"paused"`` (the
simulation waits), ``"charged"`` (measured latency) or fixed seconds. A charged call
is one at a time: it starts on the observation at hand, the model is silent while it
runs, and its decision is returned at the first decision point at or after it
completes. When that decision is silent the next call starts at that same point;
after an interrupt it starts at the next point, once the message is in the dialogue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from proassist.policies.duplex.components import SILENT, Decision, DialogueTurn
from proassist.policies.duplex.hf_common import load_template
from proassist.policies.duplex.hf_vlm import VLM_FIELDS, build_vlm_prompt
from proassist.policies.duplex.plan_format import Plan
from proassist.policies.remote.client import ChatClient, RemoteCallError
from proassist.policies.remote.latency import charged_seconds, check_latency
from proassist.policies.remote.parse import parse_reply
from proassist.policies.remote.prompt import chat_messages, default_template
from proassist.scenarios.registry import describe_kwargs

__all__ = ["RemoteInteractionModel", "make_remote_interaction", "request_info"]

#: Settings every duplex interaction-model factory receives that a remote model ignores.
_DUPLEX_SETTINGS: tuple[str, ...] = (
    "threshold",
    "checkpoint",
    "model_path",
    "rng",
    "device",
    "dtype",
)


class RemoteInteractionModel:
    """Interaction model asking a served chat model (see the module docstring).

    Args:
        base_url: API root of the server, e.g. ``http://127.0.0.1:8000/v1``.
        model: The served model's name (the request's ``model`` field).
        api_key_env: Environment variable holding the API key (``None``: no key).
        n_frames: Latest frames sent per decision (>= 0; 0 for a text-only server).
        max_turns: Latest dialogue turns shown.
        max_tokens: Reply token budget.
        temperature: Sampling temperature (0: greedy, reproducible).
        output: Answer format asked for: ``"free"`` or ``"structured"``.
        prompt: Prompt template (inline ``str.format`` text with ``{goal}``, ``{plan}``,
            ``{dialogue}``, ``{silent}``, ``{interrupt}``, or a file path); ``None``
            for the built-in one of ``output``.
        latency: ``"paused"``, ``"charged"`` or fixed seconds (module docstring).
        timeout: Seconds allowed per request.
        retries: Retries of a failed request (exponential backoff).
        backoff: Seconds before the first retry (doubled each time).
        check: Ask the server for its models at once (an unreachable server raises
            :class:`~proassist.policies.remote.client.ServerUnreachable`).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        n_frames: int = 1,
        max_turns: int = 6,
        max_tokens: int = 24,
        temperature: float = 0.0,
        output: str = "free",
        prompt: str | None = None,
        latency: str | float = "paused",
        timeout: float = 30.0,
        retries: int = 2,
        backoff: float = 0.5,
        check: bool = True,
    ) -> None:
        if n_frames < 0 or max_turns < 0 or max_tokens < 1:
            raise ValueError(
                f"need n_frames >= 0, max_turns >= 0, max_tokens >= 1; got "
                f"{n_frames}, {max_turns}, {max_tokens}"
            )
        self.template = load_template(prompt, default_template(output), VLM_FIELDS)
        self.latency = check_latency(latency)
        self.client = ChatClient(base_url, model, api_key_env, timeout, retries, backoff)
        if check:
            self.client.check()
        self.n_frames, self.max_turns, self.max_tokens = int(n_frames), int(max_turns), max_tokens
        self.temperature, self.output = float(temperature), output
        self.obs_modes: tuple[str, ...] = ("rgb",)
        self.stats: dict[str, int] = dict.fromkeys(
            ("calls", "interrupts", "malformed", "errors", "busy"), 0
        )
        self.last_output, self.last_output_info = "", {}
        self.goal, self.procedure = "", []
        self._pending: tuple[float, Decision] | None = None

    def reset(self, env_info: dict[str, Any]) -> None:
        """Start an episode: remember the goal and the procedure; no call pending."""
        self.goal = str(env_info.get("goal", ""))
        self.procedure = list(env_info.get("plan") or [])
        self._pending = None

    def decide(
        self,
        obs_history: Sequence[dict[str, Any]],
        plan: Plan | None,
        dialogue: Sequence[DialogueTurn],
    ) -> Decision:
        """The decision at the newest observation (module docstring for the timing)."""
        if not obs_history:
            raise ValueError("decide needs at least one observation")
        now = float(np.asarray(obs_history[-1]["time"], dtype=np.float64).reshape(-1)[0])
        if self._pending is not None:
            due, ready = self._pending
            if now + 1e-9 < due:
                self.stats["busy"] += 1
                return SILENT
            self._pending = None
            if ready.interrupt:
                return ready
        decision, charge = self._call(obs_history, plan, dialogue)
        if charge <= 0:
            return decision
        self._pending = (now + charge, decision)
        return SILENT

    def request(
        self, obs_history: Sequence[dict[str, Any]], plan: Plan | None, dialogue: Sequence[Any]
    ) -> list[dict[str, Any]]:
        """The chat messages of one decision (frames, then the prompt text)."""
        frames = [np.asarray(o["rgb"], dtype=np.uint8) for o in obs_history[-self.n_frames :]]
        goal = self.goal or str(obs_history[-1].get("goal", ""))
        turns = list(dialogue)[-self.max_turns :] if self.max_turns else []
        text = build_vlm_prompt(goal, plan, turns, self.template)
        return chat_messages(frames if self.n_frames else [], text)

    def _call(
        self, obs_history: Sequence[dict[str, Any]], plan: Plan | None, dialogue: Sequence[Any]
    ) -> tuple[Decision, float]:
        """One request: ``(decision, simulated seconds charged)``; logs the reply."""
        self.stats["calls"] += 1
        messages = self.request(obs_history, plan, dialogue)
        try:
            reply = self.client.chat(
                messages, max_tokens=self.max_tokens, temperature=self.temperature
            )
        except RemoteCallError as err:
            self.stats["errors"] += 1
            charge = charged_seconds(self.latency, err.latency_s)
            self.last_output = ""
            self.last_output_info = request_info(err.latency_s, charge, err.attempts, "", err)
            return SILENT, charge
        charge = charged_seconds(self.latency, reply.latency_s)
        self.last_output = reply.text
        self.last_output_info = request_info(
            reply.latency_s, charge, reply.attempts, reply.finish_reason
        )
        decision = parse_reply(reply.text, self.procedure)
        if decision is None:
            self.stats["malformed"] += 1
            return SILENT, charge
        self.stats["interrupts"] += int(decision.interrupt)
        return decision, charge


def request_info(
    latency_s: float, charge: float, attempts: int, finish: str, err: RemoteCallError | None = None
) -> dict[str, Any]:
    """The per-request fields of a ``model_outputs`` entry (``last_output_info``).

    Args:
        latency_s: Wall-clock seconds of the request (retries included).
        charge: Simulated seconds charged for it.
        attempts: Requests made.
        finish: The server's finish reason (``""`` on an error).
        err: The error of a failed request, or ``None``.
    """
    info: dict[str, Any] = {
        "latency_s": round(float(latency_s), 6),
        "charged_s": round(float(charge), 6),
        "attempts": int(attempts),
        "finish_reason": finish,
        "error": None if err is None else f"{err.kind}: {err}",
    }
    return info | ({"parsed": False} if err is not None else {})


def make_remote_interaction(**options: Any) -> RemoteInteractionModel:
    """Build a :class:`RemoteInteractionModel` from the duplex's factory options.

    The duplex's own settings (``threshold``, ``checkpoint``, ``model_path``, ``rng``,
    ``device``, ``dtype``) are dropped; everything else (``n_frames``, ``max_tokens``, ``prompt``
    and the ``interaction_kwargs``) must be an argument of the model.

    Raises:
        ValueError: On a missing ``base_url``/``model`` or an unknown argument (naming
            the accepted ones).
    """
    kwargs = {k: v for k, v in options.items() if k not in _DUPLEX_SETTINGS}
    accepted = describe_kwargs(RemoteInteractionModel)
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(
            f"interaction='openai-compatible' got unknown argument(s) {unknown}; "
            f"accepted: {', '.join(accepted)}"
        )
    missing = [k for k in ("base_url", "model") if not kwargs.get(k)]
    if missing:
        raise ValueError(
            "interaction='openai-compatible' needs interaction_kwargs with "
            + " and ".join(f"{k}=..." for k in missing)
        )
    return RemoteInteractionModel(**kwargs)
