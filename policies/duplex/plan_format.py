"""PWR's token-delimited plan format: render and parse.

The planner of "Plan, Watch, Recover" writes the plan as tagged sections: the mode,
the goal, the steps completed so far, the remaining plan with the current step marked
``(Current)`` and recovery steps marked ``(fix)``, and the visual cues saying that the
current step is done or not yet done::

    <mode>recovery</mode>
    <goal>Make a cup of tea</goal>
    <done>[fill_kettle] Fill the kettle with water; [place_kettle] Put the kettle on the stove</done>
    <plan>
    1. [switch_on_burner] Turn the burner on (fix) (Current)
    2. [boil_water] Wait for the water to boil
    </plan>
    <cue_done>burner glowing</cue_done>
    <cue_todo>burner dark</cue_todo>

A step reads ``N. [id] text [(fix)] [(Current)]``; the ``[id]`` (a procedure step id;
for a fix step the id of the affected step) is optional so that a language model may
omit it. Completed steps are separated by ``;``. ``mode``, ``goal`` and ``plan`` are
required; ``done``, ``cue_done`` and ``cue_todo`` default to empty. Text outside the
tags is ignored (a model may add chatter), but every section may appear only once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "MODES",
    "Plan",
    "PlanParseError",
    "PlanStep",
    "clean_text",
    "parse_plan",
    "render_plan",
]

#: Plan modes: following the procedure, or recovering from a deviation.
MODES: tuple[str, ...] = ("normal", "recovery")

_TAGS: tuple[str, ...] = ("mode", "goal", "done", "plan", "cue_done", "cue_todo")
_REQUIRED: tuple[str, ...] = ("mode", "goal", "plan")
_FORBIDDEN = re.compile(r"[<>;\[\]\n\r]")
_ID_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
_STEP_RE = re.compile(
    r"^(?P<num>\d+)\.\s+(?:\[(?P<id>[^\]\s]+)\]\s*)?(?P<text>.*?)"
    r"(?P<fix>\s*\(fix\))?(?P<cur>\s*\(Current\))?\s*$"
)


class PlanParseError(ValueError):
    """The text is not a well-formed plan (the message names the section at fault)."""


@dataclass(frozen=True)
class PlanStep:
    """One step of a plan.

    Attributes:
        text: The instruction (no ``< > ; [ ]`` or newlines; see :func:`clean_text`).
        id: The procedure step id, or ``None`` when unknown. For a fix step: the id of
            the step affected by the deviation.
        fix: True for a recovery step injected after a deviation.
    """

    text: str
    id: str | None = None
    fix: bool = False


@dataclass(frozen=True)
class Plan:
    """A plan in PWR's format.

    Attributes:
        mode: One of :data:`MODES`.
        goal: The task goal.
        completed: Steps completed so far, in order.
        steps: Remaining steps, in order.
        current: Index into ``steps`` of the current step, or ``None`` (finished plan).
        cue_done: Visual cue that the current step is done.
        cue_todo: Visual cue that the current step is not done yet.
    """

    mode: str
    goal: str
    completed: tuple[PlanStep, ...] = ()
    steps: tuple[PlanStep, ...] = ()
    current: int | None = None
    cue_done: str = ""
    cue_todo: str = ""

    @property
    def current_step(self) -> PlanStep | None:
        """The current step, or ``None``."""
        return None if self.current is None else self.steps[self.current]

    def validate(self) -> None:
        """Check the plan is renderable.

        Raises:
            ValueError: Naming the field at fault.
        """
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.current is not None and not 0 <= self.current < len(self.steps):
            raise ValueError(f"current={self.current} outside the {len(self.steps)} steps")
        for name in ("goal", "cue_done", "cue_todo"):
            _check_text(getattr(self, name), name)
        for name in ("completed", "steps"):
            for step in getattr(self, name):
                _check_text(step.text, name)
                if not step.text:
                    raise ValueError(f"{name}: step text must not be empty")
                if step.id is not None and not _ID_RE.match(step.id):
                    raise ValueError(f"{name}: step id {step.id!r} must match {_ID_RE.pattern}")
                if step.text.endswith(("(fix)", "(Current)")):
                    raise ValueError(f"{name}: step text must not end with a marker")
        if any(s.fix for s in self.completed):
            raise ValueError("completed: steps cannot be marked fix")


def clean_text(text: str) -> str:
    """Make ``text`` renderable: drop forbidden characters, collapse whitespace."""
    text = _FORBIDDEN.sub(" ", text)
    text = re.sub(r"(\s*\((fix|Current)\))+\s*$", "", text)
    return " ".join(text.split())


def _check_text(text: str, name: str) -> None:
    if _FORBIDDEN.search(text) or text != " ".join(text.split()):
        raise ValueError(f"{name}: {text!r} has forbidden characters or extra whitespace")


def _step_ref(step: PlanStep) -> str:
    return f"[{step.id}] {step.text}" if step.id is not None else step.text


def render_plan(plan: Plan) -> str:
    """Render ``plan`` in the tagged format (see the module docstring).

    Raises:
        ValueError: If the plan is not renderable (see :meth:`Plan.validate`).
    """
    plan.validate()
    lines = []
    for i, step in enumerate(plan.steps):
        marks = (" (fix)" if step.fix else "") + (" (Current)" if i == plan.current else "")
        lines.append(f"{i + 1}. {_step_ref(step)}{marks}")
    done = "; ".join(_step_ref(s) for s in plan.completed)
    body = "\n".join(lines)
    return (
        f"<mode>{plan.mode}</mode>\n<goal>{plan.goal}</goal>\n<done>{done}</done>\n"
        f"<plan>\n{body}\n</plan>\n"
        f"<cue_done>{plan.cue_done}</cue_done>\n<cue_todo>{plan.cue_todo}</cue_todo>"
    )


def _sections(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag in _TAGS:
        matches = re.findall(rf"<{tag}>(.*?)</{tag}>", text, re.S)
        if len(matches) > 1:
            raise PlanParseError(f"<{tag}> appears {len(matches)} times; expected once")
        if matches:
            found[tag] = matches[0]
        elif tag in _REQUIRED:
            raise PlanParseError(f"missing <{tag}>...</{tag}> section")
    return found


def _parse_ref(text: str, section: str) -> PlanStep:
    match = re.match(r"^\s*(?:\[(?P<id>[^\]\s]+)\]\s*)?(?P<text>.*?)\s*$", text)
    if match is None or not match.group("text") and match.group("id") is None:
        raise PlanParseError(f"<{section}>: empty step in {text!r}")
    return PlanStep(text=match.group("text"), id=match.group("id"))


def _parse_steps(body: str) -> tuple[tuple[PlanStep, ...], int | None]:
    steps: list[PlanStep] = []
    current: int | None = None
    for line in (ln.strip() for ln in body.strip().splitlines()):
        if not line:
            continue
        match = _STEP_RE.match(line)
        if match is None:
            raise PlanParseError(f"<plan>: line {line!r} is not 'N. [id] text [(fix)] [(Current)]'")
        if int(match.group("num")) != len(steps) + 1:
            raise PlanParseError(
                f"<plan>: step numbered {match.group('num')}, expected {len(steps) + 1}"
            )
        if match.group("cur"):
            if current is not None:
                raise PlanParseError("<plan>: more than one step marked (Current)")
            current = len(steps)
        steps.append(PlanStep(match.group("text"), match.group("id"), bool(match.group("fix"))))
    return tuple(steps), current


def parse_plan(text: str) -> Plan:
    """Parse the tagged format back into a :class:`Plan`.

    Raises:
        PlanParseError: On a missing or repeated section, an unknown mode, a badly
            formed or misnumbered step line, or several ``(Current)`` markers.
    """
    if not isinstance(text, str):
        raise PlanParseError(f"expected plan text (str), got {type(text).__name__}")
    sec = _sections(text)
    mode = sec["mode"].strip()
    if mode not in MODES:
        raise PlanParseError(f"<mode>: {mode!r} is not one of {MODES}")
    done = sec.get("done", "").strip()
    completed = tuple(_parse_ref(part, "done") for part in done.split(";")) if done else ()
    steps, current = _parse_steps(sec["plan"])
    plan = Plan(
        mode=mode,
        goal=" ".join(sec["goal"].split()),
        completed=completed,
        steps=steps,
        current=current,
        cue_done=" ".join(sec.get("cue_done", "").split()),
        cue_todo=" ".join(sec.get("cue_todo", "").split()),
    )
    try:
        plan.validate()
    except ValueError as err:
        raise PlanParseError(str(err)) from err
    return plan
