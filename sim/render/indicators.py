"""Fault indicators: how wrong amounts, wrong settings and cut-short waits look.

Most deviation kinds show in the frames through the person's behaviour or the world
predicates (a skipped step leaves its effects missing, a substitute has its own id, a
misplaced object stands elsewhere, a distracted person looks away). Three kinds only
add a fault predicate, ``fault_<kind>(<step>)``; this module draws them, backend-free,
as extra :class:`~proassist.sim.render.shapes.Part` groups:

================  ==========================================================================
``measurement``   The step's *amount target* (the object it fills or acts on) shows a wrong
                  fill level: ``low`` (a small content disc inside a band of the container's
                  inner wall) or ``high`` (a dome of content over the rim and a spill around
                  the base). The content reads ``<object>_fill`` in segmentation, as does
                  its normal ``filled``/``steeped`` liquid; the inner wall reads the object.
                  ``fault_repetition`` of an amount step (e.g. sugar added twice) shows
                  ``high``. A *dry* target's right amount is drawn too (``fill_ok``, a
                  full disc, also ``<object>_fill``) from the moment the person starts
                  operating on it (:attr:`BodyState.working`), as a wrong one is, and
                  once the step is done: the fill's presence never tells a fault, only
                  its size does. A liquid's right amount is its ``liquid``.
``setting``       The step's *setting target* (what it switches on or adjusts) has a knob
                  (``<entity>_knob``) whose pointer angle shows the setting: off, the right
                  setting, or the wrong one (from the deviation's onset, when the person
                  operates it, even before the step switches the target on). Heat
                  fixtures (burner, stove, hob) also show a flame ring
                  (``<fixture>_flame``) whose size follows the setting.
``timing``        The step's finished state looks unfinished: one small wisp instead of the
                  steam, pale instead of brewed tea, otherwise a small timer dial on top
                  (``timer``) whose hand stands a quarter turn from that of the dial a step
                  done right shows (``timer_done``, from ``done(step)``).
================  ==========================================================================

Until the twenty-fifth round a dry target's fill and the timer dial were drawn only
under a fault, so their presence alone told it (a shortcut that judged no amount).

The direction of a wrong amount or setting is not in the predicates: a wrong amount is
drawn ``low`` and a wrong setting one notch up (a notch down at the top of the ladder).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from proassist.scenarios.model import Fixture, Layout, ObjectSpec, Step, parse_predicate
from proassist.sim.person.orientation import half_height
from proassist.sim.render.objects import half_width
from proassist.sim.render.shapes import PALETTE, RGBA, Part, Vec3, front_axis, mix, shade

#: Where a setting sits on a knob's scale (0 = lowest, 1 = highest); others sit at 0.5.
SETTING_SCALE: dict[str, float] = {
    "low": 0.2,
    "medium-low": 0.35,
    "medium": 0.5,
    "medium-high": 0.65,
    "high": 0.8,
    "max": 1.0,
}
#: Knob pointer angle (radians, about z from the entity's front axis) when switched off.
OFF_ANGLE: float = math.radians(-150.0)
#: Fixture kinds that show a flame ring when switched on.
HEAT_KINDS: frozenset[str] = frozenset({"burner", "stove", "cooktop", "hob"})
#: Flame ring radius, as a multiple of the fixture's burner radius, per flame size.
FLAME_SIZES: dict[str, float] = {"low": 1.05, "normal": 1.3, "high": 1.75}
#: Predicate names that are locations, not states (never picked as a step's target).
_PLACES = frozenset({"at", "in", "on", "attached", "not"})
#: Finished-state predicates whose decoration a cut-short wait replaces.
_STATE_DECOS: dict[str, str] = {"heated": "steam", "steeped": "tea", "brewed": "tea"}

COLORS: dict[str, RGBA] = {
    "flame": (1.0, 0.62, 0.12, 1.0),
    "knob": (0.12, 0.12, 0.13, 1.0),
    "pointer": (0.95, 0.95, 0.92, 1.0),
    "grain": (0.93, 0.88, 0.74, 1.0),
    "pale_tea": (0.8, 0.66, 0.42, 1.0),
    "timer": (0.97, 0.97, 0.95, 1.0),
    "timer_hand": (0.85, 0.12, 0.1, 1.0),
}


#: Suffixes of indicator segments: the pixels of ``<entity>_<suffix>`` (a knob, a flame
#: ring, a fill level) are part of ``entity``.
INDICATOR_SUFFIXES: tuple[str, ...] = ("fill", "knob", "flame")


def segment_owners(segmentation_ids: Mapping[str, int]) -> dict[int, str]:
    """Segmentation id -> the fixture or object its pixels belong to (an indicator
    segment such as ``drill_knob`` -> ``drill``; every other name -> itself)."""
    names = set(segmentation_ids)
    out = {}
    for name, i in segmentation_ids.items():
        base, _, suffix = str(name).rpartition("_")
        out[int(i)] = base if suffix in INDICATOR_SUFFIXES and base in names else str(name)
    return out


@dataclass(frozen=True)
class Group:
    """One indicator body: parts drawn, shown and moved together.

    Attributes:
        entity: The object or fixture it belongs to.
        look: Its name (``fill_low``, ``knob``, ``flame_high``...).
        owner: Segmentation name of its pixels (the entity, or ``<entity>_<suffix>``).
        parts: The parts, in the group's frame.
        anchor: ``"object"`` (offset from the object's centre, follows it) or ``"world"``.
        offset: Object: offset from its centre; world: the group's position.
        spin: Whether the group turns about z with a knob angle.
        extent: An object knob: the object's half extents (x, y, z) in its own frame;
            when the object does not stand upright (it lies, or is tilted in a hand)
            the knob sits on its world top instead of on its own +z face, which then
            faces sideways and shows the camera only the knob's edge.
    """

    entity: str
    look: str
    owner: str
    parts: tuple[Part, ...]
    anchor: str
    offset: Vec3
    spin: bool = False
    extent: Vec3 | None = None

    @property
    def key(self) -> tuple[str, str]:
        """``(entity, look)``."""
        return (self.entity, self.look)


@dataclass(frozen=True)
class SettingTarget:
    """What a setting step adjusts: the entity, its right scale position, its switch."""

    entity: str
    right: float
    switched: bool

    @property
    def wrong(self) -> float:
        """Scale position of the wrong setting (one notch up, or down at the top)."""
        return self.right + 0.3 if self.right <= 0.7 else self.right - 0.3


@dataclass(frozen=True)
class FaultTargets:
    """Per step, what its fault indicators are drawn on.

    Attributes:
        amount: Step id -> object showing the amount (steps with ``params.amount``).
        filled: Objects whose amount is a liquid (their step adds ``filled(obj)``).
        setting: Step id -> :class:`SettingTarget` (steps with ``params.setting``).
        timing: Step id -> (object, state decoration or ``""``) (``params.min_time``).
    """

    amount: dict[str, str]
    filled: frozenset[str]
    setting: dict[str, SettingTarget]
    timing: dict[str, tuple[str, str]]


def _adds(step: Step) -> list[tuple[str, tuple[str, ...]]]:
    out = []
    for e in step.effects:
        try:
            out.append(parse_predicate(e))
        except ValueError:
            continue
    return out


def _state_target(step: Step, entities: set[str]) -> str | None:
    """The entity of the step's first state effect, else its first object, else location."""
    for name, args in _adds(step):
        if name not in _PLACES and args and args[0] in entities:
            return args[0]
    for oid in (*step.objects, *step.tools):
        if oid in entities:
            return oid
    return step.location if step.location in entities else None


def _amount_target(step: Step, objects: set[str]) -> str | None:
    adds = _adds(step)
    for name, args in adds:
        if name == "filled" and args[0] in objects:
            return args[0]
    for name, args in adds:
        if name == "in" and len(args) == 2 and args[1] in objects:
            return args[1]
    return _state_target(step, objects)


def _setting_target(step: Step, entities: set[str]) -> SettingTarget | None:
    on = [a[0] for n, a in _adds(step) if n == "switched_on" and a and a[0] in entities]
    entity = on[0] if on else _state_target(step, entities)
    if entity is None:
        return None
    right = SETTING_SCALE.get(str(step.params["setting"]).strip().lower(), 0.5)
    return SettingTarget(entity, right, bool(on))


def fault_targets(
    steps: Iterable[Step], layout: Layout, objects: Sequence[ObjectSpec]
) -> FaultTargets:
    """Find, per step, what its measurement, setting and timing faults are drawn on."""
    oids = {o.id for o in objects}
    entities = oids | {f.id for f in layout.fixtures}
    amount, setting, timing, filled = {}, {}, {}, set()
    for step in steps:
        params = step.params or {}
        if "amount" in params or "amount_value" in params:
            target = _amount_target(step, oids)
            if target is not None:
                amount[step.id] = target
                if f"filled({target})" in step.effects:
                    filled.add(target)
        if "setting" in params:
            st = _setting_target(step, entities)
            if st is not None:
                setting[step.id] = st
        if float(params.get("min_time", 0) or 0) > 0:
            target = _state_target(step, oids)
            if target is not None:
                deco = next((_STATE_DECOS[n] for n, a in _adds(step) if n in _STATE_DECOS), "")
                timing[step.id] = (target, deco)
    return FaultTargets(amount, frozenset(filled), setting, timing)


# --------------------------------------------------------------------------- geometry


def _disc(obj: ObjectSpec, z: float, rgba: RGBA, k: float, thick: float = 0.002) -> Part:
    """A thin disc (or slab) covering ``k`` of the object's top outline at height ``z``."""
    hx, hy = half_width(obj)
    if obj.shape == "box":
        return Part("box", (hx * k, hy * k, thick), (0.0, 0.0, z), rgba)
    return Part("cylinder", (hx * k, thick, 0.0), (0.0, 0.0, z), rgba)


def _fill_groups(obj: ObjectSpec, liquid: bool) -> list[Group]:
    """``fill_wall``, the ``fill_low``/``fill_high`` looks (and ``_tea`` ones if liquid)
    and, for a dry target, ``fill_ok`` (a liquid's right amount is its ``liquid``)."""
    h, (hx, hy) = half_height(obj), half_width(obj)
    wall = Group(
        obj.id,
        "fill_wall",
        obj.id,
        (_disc(obj, h + 0.004, shade(obj.color, 0.7), 0.84),),
        "object",
        (0, 0, 0),
    )
    colors = {"": mix(PALETTE["water"], obj.color, 0.15), "_tea": PALETTE["tea"]}
    out, owner, rr = [wall], f"{obj.id}_fill", 0.84 * min(hx, hy)
    if not liquid:  # the right amount is drawn too: only the size tells a wrong one
        colors = {"": COLORS["grain"]}
        ok = (_disc(obj, h + 0.006, COLORS["grain"], 0.84),)
        out.append(Group(obj.id, "fill_ok", owner, ok, "object", (0, 0, 0)))
    for suffix, c in colors.items():
        low = (_disc(obj, h + 0.006, c, 0.5),)
        dome = Part("sphere", (rr, 0.0, 0.0), (0.0, 0.0, h - 0.45 * rr), c)
        spill = Part("cylinder", (1.7 * max(hx, hy), 0.002, 0.0), (0.0, 0.0, 0.002 - h), c)
        out.append(Group(obj.id, f"fill_low{suffix}", owner, low, "object", (0, 0, 0)))
        out.append(Group(obj.id, f"fill_high{suffix}", owner, (dome, spill), "object", (0, 0, 0)))
    return out


def _knob_parts(r: float) -> tuple[Part, ...]:
    """A knob of radius ``r`` with a pointer along its local +x axis."""
    return (
        Part("cylinder", (r, 0.008, 0.0), (0.0, 0.0, 0.0), COLORS["knob"]),
        Part("box", (0.45 * r, 0.22 * r, 0.003), (0.5 * r, 0.0, 0.009), COLORS["pointer"]),
    )


def _fixture_groups(fx: Fixture) -> list[Group]:
    """A knob in front of a fixture's top and, for heat fixtures, its flame rings."""
    f = front_axis(fx)
    depth = fx.size[0] if abs(f[0]) > 0.5 else fx.size[1]
    px, py, top = fx.position
    u = depth + 0.06
    knob = Group(
        fx.id,
        "knob",
        f"{fx.id}_knob",
        _knob_parts(0.035),
        "world",
        (px + u * f[0], py + u * f[1], top + 0.008),
        spin=True,
    )
    out = [knob]
    if fx.kind in HEAT_KINDS:
        r0 = min(fx.size[0], fx.size[1]) if fx.kind == "burner" else 0.1
        for size, k in FLAME_SIZES.items():
            ring = Part("cylinder", (k * r0, 0.002, 0.0), (0.0, 0.0, 0.0), COLORS["flame"])
            out.append(
                Group(
                    fx.id,
                    f"flame_{size}",
                    f"{fx.id}_flame",
                    (ring,),
                    "world",
                    (px, py, top + 0.007),
                )
            )
    return out


def _object_knob(obj: ObjectSpec) -> Group:
    h, (hx, hy) = half_height(obj), half_width(obj)
    r = max(0.03, min(0.04, 0.45 * min(hx, hy)))  # readable at 64 px on a hand tool
    return Group(
        obj.id,
        "knob",
        f"{obj.id}_knob",
        _knob_parts(r),
        "object",
        (0.4 * hx, 0.0, h + 0.008),
        spin=True,
        extent=(hx, hy, h),
    )


def _timing_groups(obj: ObjectSpec, owner_fill: str) -> list[Group]:
    """``wisp`` (steam that is not yet boiling), ``pale_tea`` and a timer dial: ``timer``
    (cut short: its hand a quarter turn from ``timer_done``'s, the wait run out)."""
    h, (hx, hy) = half_height(obj), half_width(obj)
    r = max(0.012, min(0.03, 0.35 * min(hx, hy)))
    wisp = Part("sphere", (0.018, 0.0, 0.0), (0.0, 0.0, h + 0.05), PALETTE["steam"])
    dial = Part("cylinder", (r, 0.006, 0.0), (0.0, 0.0, h + 0.006), COLORS["timer"])
    hand = COLORS["timer_hand"]
    timer = (dial, Part("box", (0.4 * r, 0.12 * r, 0.002), (0.4 * r, 0.0, h + 0.013), hand))
    done = (dial, Part("box", (0.12 * r, 0.4 * r, 0.002), (0.0, 0.4 * r, h + 0.013), hand))
    return [
        Group(obj.id, "wisp", "", (wisp,), "object", (0, 0, 0)),
        Group(
            obj.id,
            "pale_tea",
            owner_fill,
            (_disc(obj, h + 0.003, COLORS["pale_tea"], 0.84),),
            "object",
            (0, 0, 0),
        ),
        Group(obj.id, "timer", obj.id, timer, "object", (0, 0, 0)),
        Group(obj.id, "timer_done", obj.id, done, "object", (0, 0, 0)),
    ]


def indicator_groups(
    targets: FaultTargets, layout: Layout, objects: Sequence[ObjectSpec]
) -> list[Group]:
    """Every indicator body of a scene, in a fixed order (see the module docstring)."""
    objs = {o.id: o for o in objects}
    fixtures = {f.id: f for f in layout.fixtures}
    out: list[Group] = []
    for oid in dict.fromkeys(targets.amount.values()):
        out += _fill_groups(objs[oid], oid in targets.filled)
    seen: set[str] = set()
    for st in targets.setting.values():
        if st.entity in seen:
            continue
        seen.add(st.entity)
        if st.entity in fixtures:
            out += _fixture_groups(fixtures[st.entity])
        else:
            out.append(_object_knob(objs[st.entity]))
    for oid in dict.fromkeys(t[0] for t in targets.timing.values()):
        owner = f"{oid}_fill" if oid in targets.amount.values() else oid
        out += _timing_groups(objs[oid], owner)
    return out


def owner_names(groups: Iterable[Group]) -> list[str]:
    """The new segmentation names the groups need (``<entity>_<suffix>``), in order."""
    return list(dict.fromkeys(g.owner for g in groups if g.owner and g.owner != g.entity))


# ------------------------------------------------------------------------- frame state


def knob_angle(scale: float) -> float:
    """Pointer angle (radians from the front axis) of a setting at ``scale`` in [0, 1]."""
    return math.radians(-120.0 + 240.0 * max(0.0, min(1.0, scale)))


class IndicatorView:
    """Which indicator groups a predicate set shows, and the knobs' angles.

    Args:
        targets: The scene's :class:`FaultTargets`.
        layout: The layout (fixtures' front axes orient their knobs).
    """

    def __init__(self, targets: FaultTargets, layout: Layout) -> None:
        self.targets = targets
        self.knobs: dict[str, SettingTarget] = {}
        for st in targets.setting.values():
            self.knobs.setdefault(st.entity, st)
        fronts = {f.id: front_axis(f) for f in layout.fixtures}
        self.base = {e: math.atan2(*reversed(fronts.get(e, (0.0, -1.0)))) for e in self.knobs}
        self.flames = {g for g in self.knobs if g in fronts}
        self.on: frozenset[tuple[str, str]] = frozenset()
        self._fills: frozenset[str] = frozenset()
        self.angles: dict[str, float] = {}

    def update(
        self, parsed: Sequence[tuple[str, tuple[str, ...]]], shown: dict[str, set[str]]
    ) -> None:
        """Take the parsed predicates; hide the decorations the indicators replace in ``shown``."""
        on: set[tuple[str, str]] = set()
        wrong: dict[str, float] = {}
        switched = {a[0] for n, a in parsed if n == "switched_on" and a}
        faults = {(n[6:], a[0]) for n, a in parsed if n.startswith("fault_") and a}
        for kind, step in sorted(faults):
            if kind in ("measurement", "repetition") and step in self.targets.amount:
                self._amount(step, kind == "repetition", shown, on)
            elif kind == "timing" and step in self.targets.timing:
                self._timing(step, shown, on)
            elif kind == "setting" and step in self.targets.setting:
                st = self.targets.setting[step]
                wrong[st.entity] = st.wrong
        done = {a[0] for n, a in parsed if n == "done" and a}
        self._finished(done, faults, shown, on)
        self.angles = {}
        for entity, st in self.knobs.items():
            # a wrong setting means the person has operated it (the kind's onset): its
            # knob and flame show that setting from then on, not only once the step's
            # ``switched_on`` effect lands at the step's end (issue 11: invisible before)
            live = entity in switched or not st.switched or entity in wrong
            scale = wrong.get(entity, st.right)
            angle = knob_angle(scale) if live else OFF_ANGLE
            self.angles[entity] = self.base[entity] + angle
            if live and st.switched and entity in self.flames:
                size = "normal" if scale == st.right else ("high" if scale > st.right else "low")
                on.add((entity, f"flame_{size}"))
        self.on = frozenset(on)
        self._fills = frozenset(e for e, look in on if look.startswith("fill_"))

    def looks(self, working: str | None) -> frozenset[tuple[str, str]]:
        """The groups shown while the person works step ``working``: :attr:`on`, plus
        the right amount of a dry target from the start of its operate phase (a wrong
        amount's fault shows from then on too, so the two appear at the same moment)."""
        obj = self.targets.amount.get(working) if working is not None else None
        if obj is None or obj in self.targets.filled or obj in self._fills:
            return self.on
        return self.on | {(obj, "fill_ok")}

    def _finished(
        self,
        done: set[str],
        faults: set[tuple[str, str]],
        shown: dict[str, set[str]],
        on: set[tuple[str, str]],
    ) -> None:
        """What a step done without its fault shows: a dry target's right amount, and a
        run-out timer where a cut-short wait would show a ``timer``."""
        fills = {e for e, look in on if look.startswith("fill_")}
        for step in sorted(done):
            obj = self.targets.amount.get(step)
            wrong = {("measurement", step), ("repetition", step)} & faults
            if obj is not None and obj not in self.targets.filled and not wrong:
                if obj not in fills:
                    on.add((obj, "fill_ok"))
            timed = self.targets.timing.get(step)
            if timed is not None and ("timing", step) not in faults:
                obj, deco = timed
                if not deco or deco not in shown[obj]:
                    on.add((obj, "timer_done"))

    def _amount(
        self, step: str, high: bool, shown: dict[str, set[str]], on: set[tuple[str, str]]
    ) -> None:
        obj = self.targets.amount[step]
        tea = "_tea" if obj in self.targets.filled and "tea" in shown[obj] else ""
        on.add((obj, f"fill_{'high' if high else 'low'}{tea}"))
        if not high:
            on.add((obj, "fill_wall"))
        shown[obj] -= {"liquid", "tea"}

    def _timing(self, step: str, shown: dict[str, set[str]], on: set[tuple[str, str]]) -> None:
        obj, deco = self.targets.timing[step]
        if deco == "steam" and "steam" in shown[obj]:
            shown[obj].discard("steam")
            on.add((obj, "wisp"))
        elif deco == "tea" and "tea" in shown[obj]:
            shown[obj].discard("tea")
            on.add((obj, "pale_tea"))
        else:
            on.add((obj, "timer"))
