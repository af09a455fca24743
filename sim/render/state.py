"""What a frame shows, independent of the backend: decorations, lit parts, object poses.

:class:`StateView` turns the predicate set and a :class:`BodyState` into "which
decorations of which object are visible", "which fixtures/objects glow", "where each
object is drawn" (``attached`` parts are drawn joined on top of their base) and, given
the procedure's steps, which fault indicators show and how the knobs are turned (see
:mod:`proassist.sim.render.indicators`). The renderers use it, so they draw the same state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from proassist.scenarios.model import Layout, ObjectSpec, Step, parse_predicate
from proassist.sim.body import BodyState, quat_mul, quat_rotate
from proassist.sim.person.orientation import fixture_yaw, rest_half_height, rest_rotation
from proassist.sim.render.indicators import Group, IndicatorView, fault_targets
from proassist.sim.render.objects import DECORATION_OF, attached_offsets, half_height
from proassist.sim.render.shapes import IDENTITY, Quat, Vec3, quat_axis_angle

__all__ = ["PARK", "StateView", "half_height", "start_pose", "start_rotation"]

#: Where hidden things are parked: far below the floor, outside every view frustum.
PARK: Vec3 = (0.0, 0.0, -1000.0)


def start_pose(obj: ObjectSpec, layout: Layout) -> Vec3:
    """Centre of ``obj`` resting on its ``start`` fixture (:data:`PARK` if it has none)."""
    for fx in layout.fixtures:
        if fx.id == obj.start:
            x, y, z = fx.position
            return (x, y, z + rest_half_height(obj))
    return PARK


def start_rotation(obj: ObjectSpec, layout: Layout) -> Quat:
    """Orientation of ``obj`` resting on its ``start`` fixture (unturned if it has none)."""
    for fx in layout.fixtures:
        if fx.id == obj.start:
            return rest_rotation(obj, fixture_yaw(fx))
    return rest_rotation(obj, 0.0)


def _world_top(centre: Vec3, q: Quat, extent: Vec3) -> Vec3:
    """Just above the highest point of a box of half ``extent`` turned by ``q``."""
    axes = [quat_rotate(q, a) for a in ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))]
    top = sum(abs(axis[2]) * e for axis, e in zip(axes, extent, strict=True))
    return (centre[0], centre[1], centre[2] + top + 0.008)


class StateView:
    """The visible consequences of a predicate set for one scene.

    Args:
        layout: The scene's layout (for default object poses).
        objects: The task objects, in order.
        glowing: Ids of the entities that can light up (fixtures and objects).
        steps: The procedure's steps (what fault indicators are drawn on; none if empty).
    """

    def __init__(
        self,
        layout: Layout,
        objects: Sequence[ObjectSpec],
        glowing: Iterable[str],
        steps: Iterable[Step] = (),
    ):
        self.objects = {o.id: o for o in objects}
        self.default_pose = {o.id: start_pose(o, layout) for o in objects}
        self.default_rotation = {o.id: start_rotation(o, layout) for o in objects}
        self.glowing = frozenset(glowing)
        self.predicates: frozenset[str] | None = None
        self.shown: dict[str, frozenset[str]] = {o: frozenset() for o in self.objects}
        self.lit: frozenset[str] = frozenset()
        self.attached: dict[str, tuple[str, Vec3]] = {}
        self.targets = fault_targets(steps, layout, objects)
        self.indicators = IndicatorView(self.targets, layout)

    def update(self, predicates: Iterable[str]) -> bool:
        """Take a new predicate set; return ``False`` (and do nothing) if it is unchanged."""
        preds = predicates if isinstance(predicates, frozenset) else frozenset(predicates)
        if preds == self.predicates:
            return False
        self.predicates = preds
        shown: dict[str, set[str]] = {o: set() for o in self.objects}
        lit: set[str] = set()
        attached: dict[str, list[str]] = {}
        parsed = []
        for text in sorted(preds):
            try:
                name, args = parse_predicate(text)
            except ValueError:
                continue
            parsed.append((name, args))
            if name == "switched_on" and args[0] in self.glowing:
                lit.add(args[0])
            if name in DECORATION_OF and args[0] in shown:
                shown[args[0]].add(DECORATION_OF[name])
            if name == "attached" and len(args) == 2 and {args[0], args[1]} <= set(shown):
                attached.setdefault(args[1], []).append(args[0])
        for s in shown.values():
            if "tea" in s:
                s.discard("liquid")
        self.indicators.update(parsed, shown)
        self.shown = {o: frozenset(s) for o, s in shown.items()}
        self.lit = frozenset(lit)
        self._set_attached(attached)
        return True

    def _set_attached(self, attached: dict[str, list[str]]) -> None:
        self.attached = {}
        for base, parts in attached.items():
            offs = attached_offsets(self.objects[base], [self.objects[p] for p in parts])
            for part, off in zip(parts, offs, strict=True):
                self.attached[part] = (base, off)

    def object_pose(self, oid: str, body: BodyState) -> Vec3:
        """Where the centre of object ``oid`` is drawn for ``body``."""
        return self.object_transform(oid, body)[0]

    def object_transform(self, oid: str, body: BodyState, depth: int = 0) -> tuple[Vec3, Quat]:
        """Where object ``oid`` is drawn for ``body``: centre and orientation.

        An attached part is joined rigidly to its base: on the base's top face in the
        base's own frame, turned (and tilted) with it.
        """
        if oid in self.attached and oid not in body.held and depth < 4:
            base, off = self.attached[oid]
            b, q = self.object_transform(base, body, depth + 1)
            if b != PARK:
                o = quat_rotate(q, off)
                return (b[0] + o[0], b[1] + o[1], b[2] + o[2]), q
        pos = body.object_poses.get(oid)
        if pos is None:
            return self.default_pose[oid], self.default_rotation[oid]
        q = body.object_rotations.get(oid, IDENTITY)
        pos3 = (float(pos[0]), float(pos[1]), float(pos[2]))
        return pos3, (float(q[0]), float(q[1]), float(q[2]), float(q[3]))

    def groups_on(self, body: BodyState) -> frozenset[tuple[str, str]]:
        """The ``(entity, look)`` keys of the indicator groups shown for ``body``."""
        return self.indicators.looks(body.working)

    def group_pose(self, group: Group, body: BodyState) -> tuple[Vec3, Quat]:
        """Where indicator ``group`` is drawn for ``body``: position and orientation.

        A group anchored to an object turns with it.
        """
        quat = IDENTITY
        if group.spin:
            quat = quat_axis_angle((0.0, 0.0, 1.0), self.indicators.angles.get(group.entity, 0.0))
        if group.anchor == "world":
            return group.offset, quat
        c, q = self.object_transform(group.entity, body)
        if c == PARK:
            return PARK, quat
        if group.extent is not None and quat_rotate(q, (0.0, 0.0, 1.0))[2] < 0.9:
            return _world_top(c, q, group.extent), quat
        o = quat_rotate(q, group.offset)
        return (c[0] + o[0], c[1] + o[1], c[2] + o[2]), quat_mul(q, quat)
