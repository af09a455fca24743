"""Head, gaze, hands and object poses of the person (what the renderer draws).

The head is at eye height :data:`EYE_HEIGHT` above the ``stand`` point of the fixture
the person works at; it moves between stand points during ``look`` and ``carry``
phases and turns smoothly (eased interpolation of ``look_at``), with a small head bob
whose frequencies and phases are drawn once per episode. ``look_at`` is where the head
camera points (:func:`camera_aim`): the eyes look further down than the head turns, so
the camera pitch stays within :data:`HEAD_PITCH_MAX` and a worktop is seen with the wall
behind it; gaze turns interpolate yaw and pitch. The hands rest in front of the body
(left hand left); one hand (the right, or the left for an object on the left: no
reaching across the body) reaches to an object's top, grasps, carries (the held object
hangs below it) and places; during ``operate`` the hands work at the target as the
step's effects call for (:mod:`proassist.sim.person.motions`: circling above it,
turning a knob low and close, cutting up and down beside it, pouring from above,
holding still on either side). The arms are kept out of the camera's near view
(:func:`proassist.sim.person.reach.clear_view`).

Object poses come from the world's location predicates: ``at(o,f)`` puts ``o`` on
fixture ``f``'s top surface at a spot that is fixed per fixture (the objects that may
rest there side by side, as they rest: :mod:`proassist.sim.person.placement`), ``in(o,c)`` /
``on(o,p)`` put ``o`` on top of ``c``/``p``. Objects with no location predicate sit at
their ``start`` fixture. Each object rests upright or lying, turned with the fixture it
is on (:mod:`proassist.sim.person.orientation`); a held one turns with the person.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from proassist.scenarios.model import Fixture, Layout, Procedure, Step, parse_predicate
from proassist.sim.body import BodyState, Quat, Vec3
from proassist.sim.person.activity import HOLDING, Phase
from proassist.sim.person.motions import hand_offsets, step_motion
from proassist.sim.person.orientation import (
    fixture_yaw,
    footprint,
    front_axis,
    heading_yaw,
    rest_half_height,
    rest_rotation,
)
from proassist.sim.person.orientation import half_height as half_height  # re-exported
from proassist.sim.person.placement import grid_spot, place_objects
from proassist.sim.person.reach import clear_view
from proassist.sim.world import LOCATION_PREDICATES

EYE_HEIGHT: float = 1.6
#: Seconds the gaze takes to turn to a new target outside ``look`` phases.
TURN_TIME: float = 0.8
#: A fixture taller than the eyes is looked at this far below eye height (its face).
FACE_DROP: float = 0.15
#: Resting hand (forward, to the right, up) from the eyes, metres (the left hand mirrored).
REST_HAND: tuple[float, float, float] = (0.3, 0.16, -0.6)
#: A carried object's hand (forward, to the right, up) from the eyes, metres (the
#: right hand; the left one mirrored).
CARRY_HAND: tuple[float, float, float] = (0.38, 0.1, -0.42)
#: An object resting further than this left of its fixture's stand point (metres) is
#: handled with the left hand (reaching across the body would put the right arm in
#: front of the camera).
LEFT_HAND_FROM: float = 0.15
#: Gaze pitch (degrees below horizontal) up to which the head follows the eyes fully.
HEAD_PITCH_FREE: float = 25.0
#: Share of the gaze pitch beyond :data:`HEAD_PITCH_FREE` that the head takes.
HEAD_PITCH_SHARE: float = 0.6
#: Steepest head (camera) pitch, degrees below horizontal.
HEAD_PITCH_MAX: float = 50.0
_PRIORITY = {"in": 0, "on": 1, "at": 2}
#: (world version, locations, object centres, the fixture each object rests on).
_Cache = tuple[int, dict[str, tuple[str, str]], dict[str, Vec3], dict[str, str]]


def carried_object(step: Step, adds: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The object a step carries and where it goes (``None`` when not moved).

    Preference: an object whose location the step changes, then a tool, then the
    first object (:func:`carried_by`).
    """
    return carried_by(step.objects, step.tools, adds)


def carried_by(
    objects: Sequence[str], tools: Sequence[str], adds: Iterable[str]
) -> tuple[str | None, str | None]:
    """:func:`carried_object` from a step's ``objects``, ``tools`` and added predicates
    (also what an assistant reads off a plan entry)."""
    handled = (*objects, *tools)
    for p in adds:
        name, args = parse_predicate(p)
        if name in LOCATION_PREDICATES and len(args) == 2 and args[0] in handled:
            return args[0], args[1]
    if tools:
        return tools[0], None
    if objects:
        return objects[0], None
    return None, None


def locations(predicates: set[str] | frozenset[str]) -> dict[str, tuple[str, str]]:
    """Object -> ``(predicate name, place)`` from location predicates (in/on beat at)."""
    out: dict[str, tuple[str, str]] = {}
    best: dict[str, tuple[int, str]] = {}
    for p in predicates:
        if not p.startswith(("at(", "in(", "on(")):
            continue
        name, args = parse_predicate(p)
        if len(args) != 2:
            continue
        key = (_PRIORITY[name], p)
        if args[0] not in best or key < best[args[0]]:
            best[args[0]] = key
            out[args[0]] = (name, args[1])
    return out


def object_fixture(sim: Any, obj: str) -> str | None:
    """The fixture an object is on now (through containers), or its start fixture."""
    locs = sim.kinematics.locs()
    for _ in range(6):
        if obj not in locs:
            return sim.kinematics.start.get(obj)
        name, place = locs[obj]
        if name == "at":
            return place
        obj = place
    return None


class Kinematics:
    """Computes :class:`BodyState` for one episode (slots and bob drawn at reset).

    Args:
        sim: The owning simulation (world, person, clock).
        rng: Generator for the head bob parameters.
    """

    def __init__(self, sim: Any, rng: Any) -> None:
        self.sim = sim
        self.layout: Layout = sim.layout
        self.fixtures = {f.id: f for f in self.layout.fixtures}
        proc: Procedure = sim.procedure
        self.objects = {o.id: o for o in proc.objects}
        default = proc.steps[0].location or self.layout.fixtures[0].id
        self.start = {o.id: o.start or default for o in proc.objects}
        self.slots = _static_slots(proc, self.start)
        packed = {
            fid: place_objects(self.fixtures[fid], [self.objects[o] for o in oids])
            for fid, oids in self.slots.items()
            if fid in self.fixtures
        }
        self.spots = {fid: spots for fid, (spots, _) in packed.items()}
        #: Fixtures whose objects do not all fit on the top side by side.
        self.crowded = frozenset(fid for fid, (_, fits) in packed.items() if not fits)
        self.bob = [
            (0.006 + 0.008 * rng.random(), 1.4 + 0.6 * rng.random(), 2 * math.pi * rng.random())
            for _ in range(3)
        ]
        self._cache: _Cache | None = None
        #: Step id -> its operate motion (:func:`~proassist.sim.person.motions.step_motion`).
        self.motions = {s.id: step_motion(s.effects) for s in proc.steps}

    # ------------------------------------------------------------------ objects
    def locs(self) -> dict[str, tuple[str, str]]:
        """Object locations (cached per world version)."""
        return self._update()[1]

    def base_poses(self) -> dict[str, Vec3]:
        """Object centres from the world predicates only (cached per world version)."""
        return self._update()[2]

    def base_support(self) -> dict[str, str]:
        """The fixture each object rests on, through containers (cached per world version)."""
        return self._update()[3]

    def _update(self) -> _Cache:
        world = self.sim.world
        if self._cache is None or self._cache[0] != world.version:
            locs = locations(world.predicates)
            poses: dict[str, Vec3] = {}
            support: dict[str, str] = {}
            for oid in self.objects:
                self._pose(oid, locs, poses, support, 0)
            self._cache = (world.version, locs, poses, support)
        return self._cache

    def _pose(
        self, oid: str, locs: dict, poses: dict[str, Vec3], support: dict[str, str], depth: int
    ) -> Vec3:
        if oid in poses:
            return poses[oid]
        name, place = locs.get(oid, ("at", self.start[oid]))
        if name != "at" and place in self.objects and depth < 6:
            below = self._pose(place, locs, poses, support, depth + 1)
            h = rest_half_height(self.objects[place]) + rest_half_height(self.objects[oid])
            pose = (below[0], below[1], below[2] + h)
            support[oid] = support[place]
        else:
            fixture = self._fixture(place if place in self.fixtures else self.start[oid])
            pose = self.slot_pose(oid, fixture)
            support[oid] = fixture
        poses[oid] = pose
        return pose

    def _fixture(self, fixture: str) -> str:
        """``fixture`` if the layout has it, else the layout's first fixture."""
        return fixture if fixture in self.fixtures else self.layout.fixtures[0].id

    def slot_pose(self, oid: str, fixture: str) -> Vec3:
        """Centre of ``oid`` resting in its slot on ``fixture``, kept on its top if it fits.

        The objects that may rest on a fixture have their spots on it
        (:func:`~proassist.sim.person.placement.place_objects`); any other object gets a
        spot of the fixture's grid after theirs.
        """
        fx = self.fixtures[self._fixture(fixture)]
        spot = self.spots.get(fx.id, {}).get(oid) or self._grid_spot(oid, fx)
        (x, y, z), (hx, hy, _) = fx.position, fx.size
        obj = self.objects[oid]
        wx, wy = footprint(obj, fixture_yaw(fx))
        px, py = _keep_on(spot[0], x, hx - wx), _keep_on(spot[1], y, hy - wy)
        return (float(px), float(py), float(z + rest_half_height(obj)))

    def _grid_spot(self, oid: str, fx: Fixture) -> tuple[float, float]:
        """A spot for an object not expected on ``fx`` (after the expected ones)."""
        return grid_spot(fx, len(self.slots.get(fx.id, [])) + list(self.objects).index(oid))

    def rotation(self, oid: str, fixture: str) -> Quat:
        """Orientation of ``oid`` resting on ``fixture``."""
        return rest_rotation(self.objects[oid], fixture_yaw(self.fixtures[self._fixture(fixture)]))

    # ------------------------------------------------------------------ body
    def point(self, target: str, head: Vec3, fwd: tuple[float, float]) -> Vec3:
        """World point of a look target (object, fixture or ``away:*``)."""
        if target in self.objects:
            return self.base_poses()[target]
        if target in self.fixtures:
            x, y, z = self.fixtures[target].position
            return (float(x), float(y), float(min(z, head[2] - FACE_DROP)))
        side = (fwd[1], -fwd[0])
        if target == "away:phone":  # turned away from the worktop, head down at the phone
            back = (-0.5 * fwd[0] + 0.2 * side[0], -0.5 * fwd[1] + 0.2 * side[1])
            return (head[0] + back[0], head[1] + back[1], head[2] - 0.9)
        return (
            head[0] + 2.5 * side[0] + 0.5 * fwd[0],
            head[1] + 2.5 * side[1] + 0.5 * fwd[1],
            head[2],
        )

    def stand(self, fixture: str) -> tuple[float, float]:
        """The stand point of a fixture (the first fixture's when unknown)."""
        fx = self.fixtures.get(fixture) or self.layout.fixtures[0]
        return (float(fx.stand[0]), float(fx.stand[1]))

    def body(self, t: float) -> BodyState:
        """The body at time ``t`` (does not touch any random generator)."""
        ph, u, e = self._phase(t)
        head, fwd = self._head(ph, t, e)
        look, aim = self._gaze(ph, t, e, head, fwd)
        poses, support = dict(self.base_poses()), dict(self.base_support())
        self._placed(self.sim.person.activity, t, poses, support)
        hands, held, rests, side = self._hands(ph, u, head, fwd, look, poses)
        hands = clear_view(head, aim, hands, rests)
        rots = {oid: self.rotation(oid, fixture) for oid, fixture in support.items()}
        if held is not None and held in poses:
            h = hands[side]
            poses[held] = (h[0], h[1], h[2] - rest_half_height(self.objects[held]))
            rots[held] = rest_rotation(self.objects[held], heading_yaw(fwd))
        return BodyState(
            head=_f3(head),
            look_at=_f3(aim),
            hands=(_f3(hands[0]), _f3(hands[1])),
            held=(held, None) if side == 0 else (None, held),
            object_poses={k: _f3(v) for k, v in poses.items()},
            primitive=ph.prim,
            object_rotations={k: _f4(q) for k, q in rots.items()},
            working=self._working(t),
        )

    def _working(self, t: float) -> str | None:
        """The step whose operate (else wait) phase has started by ``t`` (see BodyState):
        the running activity's, else that of an activity paused after it started (what
        was poured stays while the person listens or recovers something else)."""
        person = self.sim.person
        running = [(person.activity, t)] if person.activity is not None else []
        for act, now in [*running, *((a, a.paused_at) for a in reversed(person.paused))]:
            when = act.phase_start("operate")
            when = act.phase_start("wait") if when is None else when
            if act.step is not None and when is not None and now is not None and now >= when:
                return act.step
        return None

    def _phase(self, t: float) -> tuple[Phase, float, float]:
        """The phase running at ``t``, its linear progress and its eased progress."""
        person = self.sim.person
        act = person.activity
        ph = act.phase_at(t) if act is not None else None
        if ph is None:
            ph = Phase(
                "idle", t, math.inf, person.stand, person.stand, person.target, person.target
            )
        u = (
            1.0
            if ph.t1 <= ph.t0 or math.isinf(ph.t1)
            else min(1.0, max(0.0, (t - ph.t0) / (ph.t1 - ph.t0)))
        )
        return ph, u, u * u * (3 - 2 * u)

    def _head(self, ph: Phase, t: float, e: float) -> tuple[Vec3, tuple[float, float]]:
        """Eye position (walking between stand points, bobbing) and the facing direction."""
        (ax, ay), (bx, by) = self.stand(ph.stand_from), self.stand(ph.stand)
        moving = ph.walks
        sx, sy = (ax + (bx - ax) * e, ay + (by - ay) * e) if moving else (bx, by)
        bob = [a * math.sin(2 * math.pi * f * t + p) for a, f, p in self.bob]
        head = (sx + bob[0], sy + bob[1], EYE_HEIGHT + bob[2])
        fx = self.fixtures.get(ph.stand) or self.layout.fixtures[0]
        return head, _unit(fx.position[0] - bx, fx.position[1] - by)

    def _gaze(
        self, ph: Phase, t: float, e: float, head: Vec3, fwd: tuple[float, float]
    ) -> tuple[Vec3, Vec3]:
        """The gazed-at point and the camera aim (turning from the previous target)."""
        look = self.point(ph.target, head, fwd)
        aim = camera_aim(head, look)
        if ph.target_from != ph.target:
            turn = self._turn(ph, t, e)
            if turn < 1.0:
                a = self.point(ph.target_from, head, fwd)
                aim = _turn_aim(head, camera_aim(head, a), aim, turn)
                look = _lerp(a, look, turn)
        return look, aim

    @staticmethod
    def _turn(ph: Phase, t: float, e: float) -> float:
        """Eased progress of the gaze turn: the whole ``look`` phase, else :data:`TURN_TIME`."""
        if ph.prim == "look":
            return e
        span = min(TURN_TIME, ph.t1 - ph.t0)
        u = 1.0 if span <= 0 else min(1.0, max(0.0, (t - ph.t0) / span))
        return u * u * (3 - 2 * u)

    def _placed(self, act: Any, t: float, poses: dict[str, Vec3], support: dict[str, str]) -> None:
        """Objects put down earlier in the running activity are shown where put."""
        if act is None:
            return
        for ph in act.phases:
            if ph.t1 > t:
                break
            if ph.prim == "place" and ph.held in poses and ph.dest:
                poses[ph.held] = self._dest_pose(ph.held, ph.dest, poses)
                on_object = ph.dest in self.objects and ph.dest in support
                support[ph.held] = support[ph.dest] if on_object else self._fixture(ph.dest)

    def _dest_pose(self, obj: str, dest: str, poses: dict[str, Vec3]) -> Vec3:
        if dest in self.objects and dest in poses:
            b = poses[dest]
            h = rest_half_height(self.objects[dest]) + rest_half_height(self.objects[obj])
            return (b[0], b[1], b[2] + h)
        return self.slot_pose(obj, dest)

    def _hands(
        self, ph: Phase, u: float, head: Vec3, fwd: tuple[float, float], look: Vec3, poses: dict
    ) -> tuple[tuple[Vec3, Vec3], str | None, tuple[Vec3, Vec3], int]:
        """Hand targets (left, right) of the phase, the held object, the resting hands and
        which hand works (1 the right one, 0 the left: :meth:`_working_hand`)."""
        right = (fwd[1], -fwd[0])
        obj = ph.held if ph.held in poses else (ph.target if ph.target in poses else None)
        side = self._working_hand(obj)
        sign = 1.0 if side else -1.0
        f, s, z = REST_HAND
        rest = (_offset(head, fwd, right, f, -s, z), _offset(head, fwd, right, f, s, z))
        cf, cs, cz = CARRY_HAND
        chest = _offset(head, fwd, right, cf, sign * cs, cz)
        w, other = rest[side], rest[1 - side]
        if ph.prim == "reach" and obj is not None:
            w = _lerp(rest[side], self._grip(obj, poses), u)
        elif ph.prim == "grasp" and obj is not None:
            w = self._grip(obj, poses)
        elif ph.prim == "carry":
            w = chest
        elif ph.prim == "place" and ph.held in poses and ph.dest:
            dest = self._dest_pose(ph.held, ph.dest, poses)
            w = _lerp(chest, self._grip(ph.held, {ph.held: dest}), u)
        elif ph.prim == "operate" and (ph.target in poses or ph.target in self.fixtures):
            w, other = self._operate(ph, u, look, fwd, sign, other)
        held = ph.held if ph.prim in HOLDING or (ph.prim == "operate" and ph.held) else None
        return ((w, other) if side == 0 else (other, w)), held, rest, side

    def _operate(
        self, ph: Phase, u: float, look: Vec3, fwd: tuple[float, float], sign: float, rest: Vec3
    ) -> tuple[Vec3, Vec3]:
        """The working and the other hand during ``operate``, by the running step's
        motion (:mod:`proassist.sim.person.motions`; ``rest``: the other hand at rest)."""
        act = self.sim.person.activity
        motion = self.motions.get(act.step if act is not None else None, "work")
        span = max(1.0, ph.t1 - ph.t0 if not math.isinf(ph.t1) else 1.0)
        right = (fwd[1] * sign, -fwd[0] * sign)
        if motion == "work":  # circling above the target; the other hand holds it
            a = 2 * math.pi * 1.5 * u * span
            w = (look[0] + 0.04 * math.cos(a), look[1] + 0.04 * math.sin(a), look[2] + 0.1)
            return w, _offset(look, fwd, right, 0.0, -0.15, 0.05)
        (f, r, z), other = hand_offsets(motion, u * span)
        if ph.held in self.objects:  # a held object hangs below the hand: lift it clear
            z = max(z, 2 * rest_half_height(self.objects[ph.held]) + 0.02)
        w = _offset(look, fwd, right, f, r, z)
        return w, rest if other is None else _offset(look, fwd, right, *other)

    def _working_hand(self, obj: str | None) -> int:
        """The hand that handles ``obj``: 0 (the left) if it rests more than
        :data:`LEFT_HAND_FROM` left of its fixture's stand point, else 1 (the right).

        Read from the world's predicates, which hold still while a step runs, so one
        hand reaches, carries and places.
        """
        if obj is None or obj not in self.objects:
            return 1
        base, fx = self.base_poses()[obj], self.fixtures[self.base_support()[obj]]
        back = front_axis(fx)
        offset = (base[0] - fx.stand[0]) * -back[1] + (base[1] - fx.stand[1]) * back[0]
        return 0 if offset < -LEFT_HAND_FROM else 1

    def _grip(self, obj: str, poses: dict[str, Vec3]) -> Vec3:
        """Where the hand holds ``obj``: on its top (a carried object hangs below the hand)."""
        p = poses[obj]
        return (p[0], p[1], p[2] + rest_half_height(self.objects[obj]))


def _keep_on(p: float, centre: float, room: float) -> float:
    """``p`` moved to within ``room`` of ``centre`` (to ``centre`` if ``room`` < 0)."""
    room = max(0.0, room)
    return min(centre + room, max(centre - room, p))


def camera_aim(head: Vec3, gaze: Vec3) -> Vec3:
    """The point the head camera is aimed at when the eyes look at ``gaze``.

    The eyes turn further than the head: beyond :data:`HEAD_PITCH_FREE` degrees down, the
    head takes only :data:`HEAD_PITCH_SHARE` of the extra pitch, up to
    :data:`HEAD_PITCH_MAX`, so the worktop, the wall behind it and the hands are in view
    with the gazed-at point below the centre of the frame.
    """
    dx, dy, dz = gaze[0] - head[0], gaze[1] - head[1], head[2] - gaze[2]
    r = math.hypot(dx, dy)
    if r < 1e-6:
        return gaze
    pitch = math.degrees(math.atan2(dz, r))
    if pitch <= HEAD_PITCH_FREE:
        return gaze
    cam = min(HEAD_PITCH_MAX, HEAD_PITCH_FREE + HEAD_PITCH_SHARE * (pitch - HEAD_PITCH_FREE))
    return (gaze[0], gaze[1], head[2] - r * math.tan(math.radians(cam)))


def _turn_aim(head: Vec3, a: Vec3, b: Vec3, k: float) -> Vec3:
    """The camera aim a fraction ``k`` of the way from aim ``a`` to aim ``b``.

    Yaw (the short way round) and pitch are interpolated, so a turn to a target behind
    the person swings the view round instead of through the floor under the feet.
    """
    va, vb = _sub(a, head), _sub(b, head)
    ya, yb = math.atan2(va[1], va[0]), math.atan2(vb[1], vb[0])
    dy = (yb - ya + math.pi) % (2 * math.pi) - math.pi
    pa, pb = (
        math.atan2(va[2], math.hypot(va[0], va[1])),
        math.atan2(vb[2], math.hypot(vb[0], vb[1])),
    )
    yaw, pitch = ya + dy * k, pa + (pb - pa) * k
    dist = math.dist(a, head) + (math.dist(b, head) - math.dist(a, head)) * k
    c = dist * math.cos(pitch)
    return (
        head[0] + c * math.cos(yaw),
        head[1] + c * math.sin(yaw),
        head[2] + dist * math.sin(pitch),
    )


def _sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _offset(head: Vec3, fwd: tuple[float, float], right: tuple[float, float], *fsz: float) -> Vec3:
    """``head`` moved ``f`` forward, ``s`` to the right and ``z`` up."""
    f, s, z = fsz
    return (
        head[0] + f * fwd[0] + s * right[0],
        head[1] + f * fwd[1] + s * right[1],
        head[2] + z,
    )


def _static_slots(proc: Procedure, start: dict[str, str]) -> dict[str, list[str]]:
    """Fixture -> objects that may stand on it (start, ``at`` in initial or effects)."""
    slots: dict[str, list[str]] = {}
    preds = list(proc.initial) + [
        e for s in proc.steps for e in s.effects if not e.startswith("not ")
    ]
    pairs = [(o, f) for o, f in start.items()]
    for p in preds:
        if p.startswith("at("):
            _, args = parse_predicate(p)
            if len(args) == 2:
                pairs.append((args[0], args[1]))
    order = list(start)
    for o, f in sorted(
        set(pairs), key=lambda of: (of[1], order.index(of[0]) if of[0] in order else 99)
    ):
        if o in start:
            slots.setdefault(f, []).append(o)
    return slots


def _unit(x: float, y: float) -> tuple[float, float]:
    n = math.hypot(x, y)
    return (0.0, 1.0) if n < 1e-9 else (x / n, y / n)


def _lerp(a: Vec3, b: Vec3, u: float) -> Vec3:
    return (a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u, a[2] + (b[2] - a[2]) * u)


def _f3(v: Any) -> Vec3:
    return (float(v[0]), float(v[1]), float(v[2]))


def _f4(q: Any) -> Quat:
    return (float(q[0]), float(q[1]), float(q[2]), float(q[3]))
