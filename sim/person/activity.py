"""What the person is doing: activities made of timed primitive phases.

An :class:`Activity` is one plan step, recovery step, repeat, distraction, hesitation
or the final wrap-up. It is split into :class:`Phase` records, each a primitive of
:data:`proassist.sim.body.PRIMITIVES` over ``[t0, t1)``, with where the person stands,
what they look at and what they hold; :mod:`proassist.sim.person.kinematics` turns a phase
into a :class:`~proassist.sim.body.BodyState`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

#: Fractions of the handling time per primitive: object fetched from elsewhere.
CARRY_SPLIT: tuple[tuple[str, float], ...] = (
    ("look", 0.12),
    ("reach", 0.12),
    ("grasp", 0.08),
    ("carry", 0.2),
    ("place", 0.1),
    ("operate", 0.38),
)
#: Object already where the step happens: picked up, used, put down.
LOCAL_SPLIT: tuple[tuple[str, float], ...] = (
    ("look", 0.12),
    ("reach", 0.14),
    ("grasp", 0.1),
    ("operate", 0.5),
    ("place", 0.14),
)
#: No object handled.
BARE_SPLIT: tuple[tuple[str, float], ...] = (("look", 0.15), ("operate", 0.85))

#: Primitives during which the carried object is in the right hand.
HOLDING: frozenset[str] = frozenset({"grasp", "carry", "place"})


@dataclass
class Phase:
    """One primitive over ``[t0, t1)``.

    Attributes:
        prim: The primitive.
        t0: Start time.
        t1: End time.
        stand_from: Fixture id where the person stands at ``t0``.
        stand: Fixture id where the person stands at ``t1``.
        target_from: What the person looks at at ``t0`` (object/fixture id or ``away:*``).
        target: What the person looks at during the phase.
        held: Object in the right hand.
        dest: Where ``held`` is put (fixture or object id) in a ``place`` phase.
    """

    prim: str
    t0: float
    t1: float
    stand_from: str
    stand: str
    target_from: str
    target: str
    held: str | None = None
    dest: str | None = None

    @property
    def walks(self) -> bool:
        """Whether the person walks from ``stand_from`` to ``stand`` during the phase
        (``look`` and ``carry`` always go where they look; any phase whose stand points
        differ walks, e.g. to a wrong fixture in a placement error)."""
        return self.prim in ("look", "carry") or self.stand_from != self.stand


@dataclass(eq=False)
class Activity:
    """Something the person does over time (see module docstring).

    Attributes:
        kind: ``step``, ``repeat``, ``recovery``, ``distraction``, ``hesitation`` or ``wrapup``.
        step: The plan or recovery step id (``None`` for other kinds).
        start: Start time.
        end: End time (``inf`` for activities ended by an event).
        phases: The primitive phases.
        index: Plan index of ``step`` (-1 for recovery steps).
        interruptible: Abandoned (not paused) when recovery starts.
        forced: Started with unmet preconditions: its effects will not apply.
        adds: Predicates added when it ends.
        removes: Predicates removed when it ends.
        completes: Plan step marked done when it ends.
        dev: The deviation it acts out or recovers from.
        triggers: ``(time, deviation)`` onsets due during the activity.
        onset_at_end: Deviations whose onset is this activity's end.
        repeat: A repetition deviation to act out right after it ends.
        paused_at: When it was paused, if paused.
    """

    kind: str
    step: str | None
    start: float
    end: float
    phases: list[Phase]
    index: int = -1
    interruptible: bool = False
    forced: bool = False
    adds: tuple[str, ...] = ()
    removes: tuple[str, ...] = ()
    completes: str | None = None
    dev: Any = None
    triggers: list[tuple[float, Any]] = field(default_factory=list)
    onset_at_end: list[Any] = field(default_factory=list)
    repeat: Any = None
    paused_at: float | None = None
    orig: tuple[tuple[str, ...], tuple[str, ...], dict[str, str]] | None = None

    def next_time(self) -> float:
        """The next moment something happens: a trigger or the end."""
        return self.triggers[0][0] if self.triggers else self.end

    def shift(self, delta: float) -> None:
        """Move every time of the activity by ``delta`` seconds (resume after a pause)."""
        self.start += delta
        self.end += delta
        for ph in self.phases:
            ph.t0 += delta
            ph.t1 += delta
        self.triggers = [(t + delta, d) for t, d in self.triggers]

    def phase_at(self, t: float) -> Phase | None:
        """The phase running at time ``t`` (the last one after the end)."""
        for ph in self.phases:
            if t < ph.t1:
                return ph
        return self.phases[-1] if self.phases else None

    def phase_start(self, prim: str) -> float | None:
        """Start time of the first phase with primitive ``prim``."""
        for ph in self.phases:
            if ph.prim == prim:
                return ph.t0
        return None

    def save_effects(self) -> None:
        """Remember the effects and destinations before a deviation changes them."""
        if self.orig is None:
            dests = {ph.held or "": ph.dest or "" for ph in self.phases if ph.prim == "place"}
            self.orig = (self.adds, self.removes, dests)

    def restore_effects(self) -> None:
        """Undo changes made by a deviation (the person now does it right)."""
        if self.orig is None:
            return
        self.adds, self.removes, dests = self.orig
        for ph in self.phases:
            if ph.prim == "place" and ph.held in dests:
                ph.dest = dests[ph.held] or None


@dataclass
class PhaseSpec:
    """Inputs of :func:`build_phases`.

    Attributes:
        location: Fixture where the work happens.
        stand_from: Fixture where the person stands now.
        target_from: What the person looks at now.
        obj: Object handled (``None``: no object).
        obj_fixture: Fixture where ``obj`` is now.
        dest: Where ``obj`` ends up (fixture or object id); default ``location``.
        wait: Seconds of waiting at the end (timed steps).
    """

    location: str
    stand_from: str
    target_from: str
    obj: str | None = None
    obj_fixture: str | None = None
    dest: str | None = None
    wait: float = 0.0


def build_phases(t0: float, handling: float, spec: PhaseSpec) -> list[Phase]:
    """Split ``handling`` seconds (then ``spec.wait``) into primitive phases from ``t0``."""
    loc = spec.location or spec.stand_from
    local = spec.obj is not None and spec.obj_fixture in (None, "", loc)
    if spec.obj is None:
        split = BARE_SPLIT
    else:
        split = LOCAL_SPLIT if local else CARRY_SPLIT
    phases: list[Phase] = []
    t, stand, target = t0, spec.stand_from, spec.target_from
    for prim, frac in split:
        ph = _phase(prim, t, t + handling * frac, stand, target, spec, loc, local)
        phases.append(ph)
        t, stand, target = ph.t1, ph.stand, ph.target
    if spec.wait > 0:
        phases.append(Phase("wait", t, t + spec.wait, stand, stand, target, loc))
    return phases


def _phase(
    prim: str, t0: float, t1: float, stand: str, target: str, spec: PhaseSpec, loc: str, local: bool
) -> Phase:
    obj, src = spec.obj, spec.obj_fixture or loc
    if prim == "look":
        where = src if obj else loc
        return Phase(prim, t0, t1, stand, where, target, obj or loc)
    if prim in ("reach", "grasp"):
        return Phase(
            prim, t0, t1, stand, stand, target, obj or loc, obj if prim == "grasp" else None
        )
    if prim == "carry":
        return Phase(prim, t0, t1, stand, loc, target, loc, obj)
    if prim == "place":
        dest = spec.dest or loc
        return Phase(prim, t0, t1, stand, stand, target, dest, obj, dest)
    held = obj if local else None
    return Phase(prim, t0, t1, stand, stand, target, loc, held)


def idle_phases(
    t0: float, stand: str, target_from: str, targets: list[tuple[str, str, float]]
) -> list[Phase]:
    """Look phases at ``(prim, target, seconds)`` entries, then an endless ``idle``."""
    phases, t, tgt = [], t0, target_from
    for prim, target, secs in targets:
        phases.append(Phase(prim, t, t + secs, stand, stand, tgt, target))
        t, tgt = t + secs, target
    phases.append(Phase("idle", t, math.inf, stand, stand, tgt, tgt))
    return phases
