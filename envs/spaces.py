"""Observation and action spaces of the ProAssist environments, and action checking."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from proassist.envs.vector import SharedText
from proassist.scenarios.model import MAX_STEPS
from proassist.sim.messages import CHARSET, INTENTS, MAX_TEXT, normalize_text

__all__ = [
    "CHARSET",
    "MAX_TEXT",
    "NO_STEP",
    "OBS_MODES",
    "ActionError",
    "action_space",
    "check_action",
    "check_plan_step",
    "clean_text",
    "observation_space",
    "text_space",
]

#: Kept importable here; the text rules live in :mod:`proassist.sim.messages`.
clean_text = normalize_text
#: Observation modes an env can emit besides the text fields and time.
OBS_MODES: tuple[str, ...] = ("rgb", "depth", "segmentation")
#: Upper bound of ``depth`` (metres; the renderer's far plane is 10 m).
MAX_DEPTH: float = 100.0
#: Upper bound of ``time`` (simulated seconds).
MAX_TIME: float = 1e6
#: ``step`` value that means "no step".
NO_STEP: int = MAX_STEPS


def text_space(min_length: int = 0) -> spaces.Text:
    """A Text space over :data:`CHARSET` of at most :data:`MAX_TEXT` characters.

    A :class:`~proassist.envs.vector.SharedText`, so async vector envs return the text.
    """
    return SharedText(max_length=MAX_TEXT, min_length=min_length, charset=CHARSET)


def observation_space(width: int, height: int, obs_modes: tuple[str, ...]) -> spaces.Dict:
    """Build the Dict observation space for a resolution and a set of obs modes."""
    fields: dict[str, spaces.Space] = {}
    if "rgb" in obs_modes:
        fields["rgb"] = spaces.Box(0, 255, (height, width, 3), np.uint8)
    if "depth" in obs_modes:
        fields["depth"] = spaces.Box(0.0, MAX_DEPTH, (height, width), np.float32)
    if "segmentation" in obs_modes:
        fields["segmentation"] = spaces.Box(-1, 2**16, (height, width), np.int32)
    fields["utterance"] = text_space()
    fields["goal"] = text_space()
    fields["time"] = spaces.Box(0.0, MAX_TIME, (1,), np.float32)
    return spaces.Dict(fields)


def action_space() -> spaces.Dict:
    """The Dict action space: decision, intent, step, text."""
    return spaces.Dict(
        {
            "decision": spaces.Discrete(2),
            "intent": spaces.Discrete(len(INTENTS)),
            "step": spaces.Discrete(MAX_STEPS + 1),
            "text": text_space(),
        }
    )


_EXPECTS = {
    "decision": "an int in {0, 1} (0 silent, 1 interrupt)",
    "intent": f"an int in [0, {len(INTENTS) - 1}] indexing {list(INTENTS)}",
    "step": f"an int in [0, {MAX_STEPS}] (a plan step index; {MAX_STEPS} = no step)",
    "text": f"a str of at most {MAX_TEXT} printable characters (no tabs or newlines)",
}


class ActionError(ValueError):
    """An action outside the action space; the message names the field and what it expects."""


def _as_int(value: Any) -> int | None:
    """``value`` as a Python int when it is an integer scalar (bool included), else None."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "iub":
        return int(value)
    return None


def _in_discrete(value: int, space: spaces.Space) -> bool:
    """Whether the Python int ``value`` lies in the Discrete ``space`` (no int64 overflow)."""
    start = int(space.start)
    return start <= value < start + int(space.n)


def check_action(action: Any, space: spaces.Dict) -> dict[str, Any]:
    """Validate ``action`` against ``space`` and return it normalised.

    Missing ``intent``/``step``/``text`` default to 0 / no step / "" so a silent
    action can be just ``{"decision": 0}``.

    Raises:
        ActionError: Naming the offending field and what it expects.
    """
    if not isinstance(action, dict):
        raise ActionError(
            f"action must be a dict with keys {list(space.spaces)}; got {type(action).__name__}"
        )
    unknown = sorted(set(action) - set(space.spaces))
    if unknown:
        raise ActionError(f"unknown action field(s) {unknown}; expected keys {list(space.spaces)}")
    if "decision" not in action:
        raise ActionError(f"action field 'decision' is missing: expected {_EXPECTS['decision']}")
    out: dict[str, Any] = {"intent": 0, "step": NO_STEP, "text": ""}
    out.update(action)
    for key in ("decision", "intent", "step"):
        value = _as_int(out[key])
        if value is None or not _in_discrete(value, space.spaces[key]):
            raise ActionError(f"action field {key!r} = {out[key]!r}: expected {_EXPECTS[key]}")
        out[key] = value
    text = out["text"]
    if not isinstance(text, str) or not space.spaces["text"].contains(text):
        raise ActionError(f"action field 'text' = {text!r:.60}: expected {_EXPECTS['text']}")
    return out


def check_plan_step(act: dict[str, Any], plan_len: int) -> None:
    """Reject an interrupt whose ``step`` points past a plan of ``plan_len`` steps.

    ``check_action`` only knows ``MAX_STEPS``; this checks a checked action against
    the episode's plan. A silent action (``decision=0``) ignores ``step``.

    Raises:
        ActionError: When ``plan_len <= step < MAX_STEPS``.
    """
    step = act["step"]
    if act["decision"] and plan_len <= step < NO_STEP:
        raise ActionError(
            f"action field 'step' = {step}: the plan has {plan_len} steps; expected a plan "
            f"step index in [0, {plan_len - 1}] or {NO_STEP} (MAX_STEPS) for no step"
        )
