"""The ``openai-compatible`` policy: an assistant whose every decision comes from a
model behind an OpenAI-compatible chat-completions endpoint::

    policy = make_policy("openai-compatible", base_url="http://127.0.0.1:8000/v1",
                         model="Qwen/Qwen2.5-VL-3B-Instruct", api_key_env="MY_KEY")

It is a :class:`~proassist.policies.duplex.assistant.DuplexAssistant` whose interaction
model is :class:`~proassist.policies.remote.interaction.RemoteInteractionModel` (the
prompt, the answer format and the timing are documented there and in
:mod:`proassist.policies.remote.prompt`): at every decision point the served model
sees the latest ``n_frames`` frames, the goal, the plan (``plan=True``: the task-graph
planner's, revised after each message, as in the duplex; ``plan=False``: none) and the
dialogue, and answers ``$silent$`` or ``$interrupt$<what to say>``.

Episode records carry, besides the duplex's ``policy_stats``, ``model_outputs``: one
entry per request ``{t, component, output, parsed, latency_s, charged_s, attempts,
finish_reason, error}``, and ``model_server``: ``{base_url, model, latency, output,
n_frames}`` (never the API key). With ``latency="paused"`` (the default) or fixed
seconds and ``temperature=0`` the records depend only on the replies, so a
``--concurrency N`` run equals the sequential one apart from ``latency_s``.
"""

from __future__ import annotations

from typing import Any

from proassist.policies.base import register_policy
from proassist.policies.duplex.assistant import DuplexAssistant

__all__ = ["OpenAICompatibleAssistant"]


@register_policy("openai-compatible")
class OpenAICompatibleAssistant(DuplexAssistant):
    """An assistant asking a served model at every decision point (module docstring).

    Args:
        base_url: API root of the server, e.g. ``http://127.0.0.1:8000/v1``.
        model: The served model's name (the request's ``model`` field).
        api_key_env: Environment variable holding the API key (``None``: no key).
        n_frames: Latest frames sent per decision (0: text only, and no rendering).
        output: Answer format asked for: ``"free"`` or ``"structured"`` (with
            ``[intent step_id]``).
        plan: Show the model the task-graph plan (else no plan).
        latency: ``"paused"`` (the simulation waits), ``"charged"`` (measured
            latency charged in simulated time) or fixed seconds.
        max_tokens: Reply token budget.
        temperature: Sampling temperature (0: greedy).
        max_turns: Latest dialogue turns shown.
        timeout: Seconds allowed per request.
        retries: Retries of a failed request (exponential backoff).
        backoff: Seconds before the first retry (doubled each time).
        prompt: Prompt template, inline (``{goal}``, ``{plan}``, ``{dialogue}``,
            ``{silent}``, ``{interrupt}``) or a file path; ``None``: built in.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        n_frames: int = 1,
        output: str = "free",
        plan: bool = True,
        latency: str | float = "paused",
        max_tokens: int = 24,
        temperature: float = 0.0,
        max_turns: int = 6,
        timeout: float = 30.0,
        retries: int = 2,
        backoff: float = 0.5,
        prompt: str | None = None,
    ) -> None:
        remote = {"base_url": base_url, "model": model, "api_key_env": api_key_env}
        remote |= {"output": output, "latency": latency, "temperature": temperature}
        remote |= {"max_turns": max_turns, "timeout": timeout, "retries": retries}
        super().__init__(
            interaction="openai-compatible",
            plan_mode="predicted" if plan else "none",
            clip_len=max(1, int(n_frames)),
            n_frames=n_frames,
            max_new_tokens=max_tokens,
            prompt=prompt,
            interaction_kwargs=remote | {"backoff": backoff},
        )
        self.needs_pixels = int(n_frames) > 0
        self.server_info: dict[str, Any] = {
            "base_url": self.interaction.client.base_url,
            "model": str(model),
            "latency": self.interaction.latency,
            "output": output,
            "n_frames": int(n_frames),
        }

    def episode_extras(self) -> dict[str, Any]:
        """The duplex's ``policy_stats`` and ``model_outputs``, and ``model_server``."""
        return super().episode_extras() | {"model_server": dict(self.server_info)}
