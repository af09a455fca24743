"""The duplex planner–interaction assistant of "Plan, Watch, Recover" and its parts.

:mod:`.assistant` (the ``duplex`` and ``monolithic`` policies), :mod:`.components`
(the planner and interaction-model protocols), :mod:`.planners` and
:mod:`.plan_format` (PWR's plan), :mod:`.cue_tracker` (the rule-based interaction
model), :mod:`.hf_planner` and :mod:`.hf_vlm` (Hugging Face models, imported lazily).
"""

from __future__ import annotations

from proassist.policies.duplex import assistant as _assistant  # noqa: F401  (registers)
