"""What the working hand does while a step is operated, by what the step does.

During an ``operate`` phase the hands work at the target (:mod:`.kinematics`). How
they work follows the step's effects (:func:`step_motion`): a knob is turned with the
hand low and close (``twist``), food is cut with the hand beside the target going up and
down (``chop``), a liquid is poured from above (``pour``), a thing is watched or
checked with both hands still on either side (``still``), anything else is worked with
the hand circling above the target (``work``: stirring, wiping, spreading, fitting).
Steps that share a fixture and their objects but do different things (turn the burner
on, then wait for the water) so look different, as they do to a person watching.

The vocabulary (:data:`MOTIONS`, :data:`EFFECT_MOTIONS`) is read by the person model
and by assistants that read a plan's effects (the learned step recogniser), so both
agree on what a step looks like. A task file's own effect names map to ``work``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from proassist.scenarios.model import parse_predicate
from proassist.sim.world import split_effects

__all__ = ["EFFECT_MOTIONS", "MOTIONS", "hand_offsets", "step_motion"]

#: The operate motions; ``work`` is the default.
MOTIONS: tuple[str, ...] = ("work", "twist", "chop", "pour", "still")

#: Effect predicate name -> motion (names not listed, and the location predicates,
#: are ``work``).
EFFECT_MOTIONS: dict[str, str] = {
    **dict.fromkeys(
        (
            "switched_on switched_off off attached tightened tensioned engaged released "
            "closed open plugged unplugged clipped"
        ).split(),
        "twist",
    ),
    **dict.fromkeys("cut drilled ground marked unseated seated".split(), "chop"),
    **dict.fromkeys(
        "filled bloomed wet milky sweetened seasoned dressed inflated washed loaded".split(),
        "pour",
    ),
    **dict.fromkeys(
        "heated brewed steeped checked inspected level scanned parked tested counted "
        "aligned".split(),
        "still",
    ),
}

#: (forward, right, up) offset of one hand from the gazed-at point, metres.
Offset = tuple[float, float, float]


def step_motion(effects: Iterable[str]) -> str:
    """The motion of a step with ``effects`` (predicate strings): that of its first
    added, non-location effect listed in :data:`EFFECT_MOTIONS`, else ``work``."""
    for text in split_effects(str(e).strip() for e in effects)[0]:
        try:
            name = parse_predicate(text)[0]
        except ValueError:
            continue
        if name in EFFECT_MOTIONS:  # it names no location predicate (tested)
            return EFFECT_MOTIONS[name]
    return "work"


def hand_offsets(motion: str, s: float) -> tuple[Offset, Offset | None]:
    """The working hand's and the other hand's offsets from the gazed-at point at
    progress ``s`` of an operate phase (seconds into it; the share done for phases
    under a second) (``right`` towards the working hand's side; the other hand
    ``None``: it rests). ``work`` is handled by the caller (a circle)."""
    if motion == "twist":  # low and close to the body, the wrist turning
        return (-0.12, 0.02 * math.sin(2 * math.pi * s), 0.02), None
    if motion == "chop":  # beside the target, up and down; the other hand holds it
        return (0.0, 0.06, 0.05 + 0.14 * abs(math.sin(math.pi * 1.3 * s))), (0.0, -0.15, 0.05)
    if motion == "pour":  # raised to the side, tilting slowly
        return (0.0, 0.12, 0.3 + 0.02 * math.sin(math.pi * s)), None
    if motion == "still":  # both hands low on either side, not moving
        return (-0.08, 0.1, 0.03), (-0.08, -0.1, 0.03)
    raise ValueError(f"hand_offsets: no offsets for motion {motion!r} (one of {MOTIONS[1:]})")
