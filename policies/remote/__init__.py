"""Assistants behind any OpenAI-compatible chat-completions server (vLLM, ``transformers
serve``, llama.cpp, a hosted API).

* :mod:`.assistant`: the ``openai-compatible`` policy (a duplex assistant whose
  interaction model is served; the task-graph planner keeps its plan).
* :mod:`.interaction` and :mod:`.planner`: the served interaction model and planner,
  usable in any duplex (``interaction="openai-compatible"``,
  ``planner="openai-compatible"``).
* :mod:`.client` (HTTP, timeouts, retries), :mod:`.prompt` (frames as PNG data URLs),
  :mod:`.parse` (PWR's answer format), :mod:`.latency` (paused or charged time).
* :mod:`.server`: start a ``transformers serve`` process (the ``[serve]`` extra) and
  build a tiny local test model.

Nothing here imports more than the standard library and numpy; the modules register
themselves when :mod:`proassist.policies` is imported.
"""

from __future__ import annotations
