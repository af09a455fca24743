"""Parse a served model's reply into a duplex decision (PWR's answer format), robustly.

The answer format is PWR's: ``$silent$``, or ``$interrupt$<what to say>``; the
structured variant starts what is said with ``[intent step_id]`` (or ``[intent]``),
e.g. ``$interrupt$[correct_deviation boil_water] Wait, the kettle is still off.``.
The tags and the final text rules are those of
:func:`~proassist.policies.duplex.hf_vlm.parse_vlm_output` (which this module calls);
around them, :func:`parse_reply` tolerates what chat models add:

* a reasoning block (``<think>...</think>``), code fences and backquotes, surrounding
  quotes, tags in another letter case;
* chatter before the first tag (``Answer: $silent$``): the first tag counts;
* text after the utterance: it ends at the end of its line or at the next tag.

A structured label with an unknown intent, or a step id not in the plan, is dropped
(the text is still spoken, as free text, or the intent without a step); a label with
no text is spoken with the intent's template
(:func:`~proassist.policies.duplex.components.utterance_for`). A reply with no tag, or
an interrupt with nothing to say, is malformed: :func:`parse_reply` returns ``None``
and the caller stays silent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from proassist.policies.duplex.components import Decision, utterance_for
from proassist.policies.duplex.hf_vlm import INTERRUPT_TAG, SILENT_TAG, parse_vlm_output
from proassist.sim.messages import INTENTS

__all__ = ["clean_reply", "parse_reply"]

_THINK = re.compile(r"<(think|thinking|reasoning)>.*?(</\1>|$)", re.S | re.I)
_TAG = re.compile(r"\$(silent|interrupt)\$", re.I)
_LABEL = re.compile(r"^\s*\[\s*([A-Za-z_]+)(?:[\s,:;/]+([^\]\s]+))?\s*\]\s*(.*)$", re.S)


def clean_reply(text: str) -> str:
    """``text`` without reasoning blocks, code fences, backquotes and quotes, tags in
    their canonical case, from the first tag on (``""`` when there is no tag)."""
    body = _THINK.sub(" ", str(text)).replace("```", " ").replace("`", "")
    first = _TAG.search(body)
    if first is None:
        return ""
    body = _TAG.sub(lambda m: f"${m.group(1).lower()}$", body[first.start() :])
    return body.strip().strip("\"'").strip()


def _utterance(rest: str) -> str:
    """What follows ``$interrupt$``, up to the end of its line or the next tag."""
    rest = rest.lstrip()
    nxt = _TAG.search(rest)
    if nxt is not None:
        rest = rest[: nxt.start()]
    return rest.split("\n", 1)[0].strip().strip("\"'").strip()


def parse_reply(text: str, plan: Sequence[Mapping[str, Any]] = ()) -> Decision | None:
    """The decision a reply says, or ``None`` when malformed (see the module docstring).

    Args:
        text: The model's raw reply.
        plan: The procedure (``env_info["plan"]`` step dicts with ``id`` and
            ``instruction``), to check a structured label's step id.

    Returns:
        A silent decision, an interrupt (structured when the label is valid, else free
        text: ``intent`` and ``step`` ``None``), or ``None``.
    """
    body = clean_reply(text)
    if body.startswith(SILENT_TAG):
        return Decision(interrupt=False)
    if not body.startswith(INTERRUPT_TAG):
        return None
    said = _utterance(body[len(INTERRUPT_TAG) :])
    label = _LABEL.match(said)
    if label is None:
        return parse_vlm_output(INTERRUPT_TAG + said)
    intent, step, words = label.group(1).lower(), label.group(2), label.group(3)
    steps = {str(s.get("id")): s for s in plan}
    if intent not in INTENTS:
        return parse_vlm_output(INTERRUPT_TAG + words)
    step = step if step in steps else None
    if not words.strip():
        what = str(steps[step].get("instruction", step)) if step else ""
        words = utterance_for(intent, what)
    free = parse_vlm_output(INTERRUPT_TAG + words)
    return Decision(interrupt=True, intent=intent, step=step, text=free.text if free else "")
