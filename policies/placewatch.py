"""Placement watching: catch an object put down where the plan does not put it.

A plan step that moves an object says where it goes (``at(obj,fixture)`` in its
effects). A **placement** error puts it elsewhere: the bowl that belongs on the
counter ends up on the stove. :class:`PlacementWatch` reads that from two frames an
egocentric camera gives, the segmentation and the depth:

- an object *rests on* a fixture when the fixture's pixels right under the object's
  lowest pixels (in at least ``contact`` image columns) are at the object's depth,
  within ``delta`` metres (touching, not a fixture further back that shows under a
  carried object);
- where an object *may* rest at a point of the procedure: where it starts, where each
  plan step worked on so far puts it, and, while a step that handles it is under way,
  that step's fixture and destination. Fixtures the person works at from one stand
  point (a shelf over a counter, a burner on a stove) count as one place, since a
  head camera cannot tell them apart reliably;
- an object seen resting anywhere else for ``sustain`` points is misplaced: say
  ``correct_deviation`` naming the step that should have put it in place (the last
  plan step moving it that was worked on or is under way, else the first step moving
  it). Once per object.

The same reading catches a **substitution** whenever the look-alike is carried: an
object that no plan step uses (the 26-inch tube next to the 700c one, the cyan
cartridge next to the black) never leaves its start, so once it is seen resting
anywhere else, the step recognised when it was last seen at home (where it was taken)
is named. An object that a step puts into or onto another object (a tube into a tyre)
travels with it and is not judged from then on. A **repetition** (the person does a
step again right after finishing it) shows in the object the step carries
(:func:`_carried`: the one whose place it changes, else its tool, else its first
object): taken up (a hand pixel next to it at its depth), put down (seen resting on a
fixture, no hand at it, at ``rest_points`` points since the last touch), then taken up
again while the same step is recognised (points where none is recognised do not end
it): say ``correct_deviation`` naming that step ("stop, this was already done"), once
per step (:meth:`PlacementWatch.regrasp`). The watch never reads the deviations; it
needs the plan's effects, the fixtures' stand points and the objects' start fixtures
(:func:`~proassist.policies.rollout.env_info`), and which plan steps were worked on
(from a :class:`~proassist.policies.stepwatch.DependencyWatch`).

With ``credit``, the same reading tells which plan steps were done
(:meth:`PlacementWatch.credits`), so that a step recogniser that missed a step on a
task it never saw does not name it as missing when the next step starts: a step whose
effect puts an object at a fixture (``at/in/on(obj,fixture)``) is done once the object
is seen resting there for ``credit_points`` points in a row, if no other step puts it
at that fixture and it does not start there; or resting anywhere worked at from that
fixture's stand point, if no other step puts it at that stand point and it does not
start at it. The fixture itself is told apart even where its stand point is shared (a
bowl seen on the counter has left its shelf), which the placement rule does not risk
(a false alarm costs more than a missed credit). Known limits: an object misplaced
onto a later step's place credits that later step, and an omitted step is credited when
a later step carries its object to its place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from proassist.scenarios.model import parse_predicate
from proassist.sim.person.kinematics import carried_by
from proassist.sim.world import LOCATION_PREDICATES, split_effects

__all__ = ["PlacementWatch", "handled", "resting_on"]

Station = tuple[float, ...]
#: Where an effect puts an object: a fixture, or the stand point it is worked at from.
Place = str | Station


def resting_on(
    seg: np.ndarray,
    depth: np.ndarray,
    sid: int | Sequence[int],
    names: dict[int, str],
    delta: float,
) -> Counter[str]:
    """Image columns in which object ``sid`` touches each entity right under it.

    For each column of the object's mask (the pixels of ``sid``, or of any of its
    segmentation values: an object with a fill level), the first pixel of another
    named entity (``names`` maps segmentation values to ids; an indicator segment such
    as a flame ring to its fixture) within 3 rows under its lowest pixel counts for
    that entity when its depth is within ``delta`` metres of the object's there.
    """
    own = [int(sid)] if np.isscalar(sid) else [int(v) for v in sid]
    mask = np.isin(np.asarray(seg), own)
    cols = np.nonzero(mask.any(axis=0))[0]
    out: Counter[str] = Counter()
    if not len(cols):
        return out
    h = mask.shape[0]
    bottom = h - 1 - np.argmax(mask[::-1, cols], axis=0)
    seen = np.zeros(len(cols), bool)
    for d in (1, 2, 3):
        rows = bottom + d
        inside = (rows < h) & ~seen
        vals = np.where(inside, seg[np.minimum(rows, h - 1), cols], -1)
        labelled = inside & np.isin(vals, list(names)) & ~np.isin(vals, own)
        close = np.abs(depth[np.minimum(rows, h - 1), cols] - depth[bottom, cols]) < delta
        for v in vals[labelled & close].tolist():
            out[names[int(v)]] += 1
        seen |= labelled
    return out


class PlacementWatch:
    """The placement rule over segmentation and depth frames (module docstring).

    Args:
        plan: The plan's step dicts (``objects``, ``tools``, ``location``, ``effects``).
        env_info: What the policy's ``reset`` got: ``segmentation_ids``, ``stands``
            (fixture -> stand point) and ``starts`` (object -> start fixture).
        delta: Metres between an object's and a fixture's depth that count as touching.
        contact: Image columns of contact that make a resting place.
        min_px: Fewest pixels of the object in view.
        sustain: Points in a row the object must rest at a wrong place.
        regrasp: Also the repetition rule (:meth:`regrasp`).
        rest_points: Points the carried object must be seen resting, no hand at it, since
            the last touch to count as put down (:meth:`regrasp`).
        credit: Also tell the steps whose effect is seen (:meth:`credits`).
        credit_points: Points in a row an effect must be seen.
    """

    def __init__(
        self,
        plan: list[dict[str, Any]],
        env_info: dict[str, Any],
        delta: float = 0.06,
        contact: int = 3,
        min_px: int = 4,
        sustain: int = 1,
        regrasp: bool = True,
        rest_points: int = 2,
        credit: bool = False,
        credit_points: int = 2,
    ) -> None:
        if delta <= 0 or min(contact, min_px, sustain, rest_points, credit_points) < 1:
            raise ValueError(
                f"need delta > 0, contact, min_px, sustain, rest_points, credit_points >= 1; "
                f"got {delta}, {contact}, {min_px}, {sustain}, {rest_points}, {credit_points}"
            )
        self.delta, self.contact, self.min_px = float(delta), int(contact), int(min_px)
        self.sustain = int(sustain)
        ids = dict(env_info.get("segmentation_ids") or {})
        stands = dict(env_info.get("stands") or {})
        self.station: dict[str, Station] = {f: tuple(map(float, xy)) for f, xy in stands.items()}
        from proassist.sim.render.indicators import segment_owners

        # an indicator segment (a burner's flame ring, a mug's fill) is its entity's
        self.names = segment_owners(ids)
        self.ids = {k: int(v) for k, v in ids.items()}
        self.parts: dict[str, list[int]] = {}
        for v, owner in sorted(self.names.items()):
            self.parts.setdefault(owner, []).append(v)
        self.starts = dict(env_info.get("starts") or {})
        self.plan = plan
        self.dest = _destinations(plan)
        self.objects = self._watched()
        self.taken_in: dict[str, int] = {}  # stray -> step recognised when last seen at home
        self.regrasp_on, self.rest_points = bool(regrasp), int(rest_points)
        self.hands = [v for k, v in self.ids.items() if k.startswith("hand")]
        self.carried = [_carried(step) for step in plan]
        self.repeated: set[int] = set()
        self._run: list[Any] = [None, 0, None, 0]  # step, pick-ups, held?, resting points
        self.strikes: dict[str, int] = {}
        self.flagged: set[str] = set()
        self._start_credit(credit, credit_points)

    def _watched(self) -> list[str]:
        """The objects the rule judges: those a step moves, then those no step uses (a
        similar-looking alternative: they never leave their start)."""
        used = set().union(*(handled(step) for step in self.plan)) if self.plan else set()
        movers = sorted({o for _, o in self.dest if o in self.ids})
        strays = sorted(o for o in self.starts if o in self.ids and o not in used)
        return movers + [o for o in strays if o not in movers]

    def _start_credit(self, credit: bool, points: int) -> None:
        """The credit's places (:func:`_effect_places`; none when off) and runs."""
        self.effects = _effect_places(self.dest, self.starts, self.station) if credit else {}
        self.credit_points, self.seen_at = int(points), Counter()  # (obj, step) -> run

    def credits(self, seg: np.ndarray, depth: np.ndarray) -> list[int]:
        """Plan steps whose effect has *just* been seen for ``credit_points`` points in a
        row (module docstring): each once a run, so call it at every point; none
        without ``credit``."""
        if not self.effects:
            return []
        seg = np.asarray(seg).astype(np.int64, copy=False)
        pixels, out = _pixel_counts(seg), set()
        for obj, places in self.effects.items():
            where = self._resting(seg, depth, obj) if self._in_view(pixels, obj) else None
            keys = [] if where is None else [where, self.station.get(where)]
            step = next((places[p] for p in keys if p in places), None)
            for k in set(places.values()):
                self.seen_at[(obj, k)] = self.seen_at[(obj, k)] + 1 if k == step else 0
                if k == step and self.seen_at[(obj, k)] == self.credit_points:
                    out.add(k)
        return sorted(out)

    def _in_view(self, pixels: np.ndarray, obj: str) -> bool:
        """Whether at least ``min_px`` pixels of ``obj`` are in view (``pixels``:
        :func:`_pixel_counts` of the frame)."""
        parts = self.parts.get(obj, ())
        return sum(int(pixels[v + 1]) for v in parts if v + 1 < len(pixels)) >= self.min_px

    def allowed(self, obj: str, current: int | None, worked: set[int]) -> set[Station] | None:
        """Where ``obj`` may rest now (stand points); ``None``: inside/on another object."""
        start = self.starts.get(obj)
        ok = {self.station[start]} if start in self.station else set()
        inside = False
        for k in sorted(self.maybe_done(current, worked)):
            d = self.dest.get((k, obj))
            if d in self.station:
                ok.add(self.station[d])
            if d is not None and (k in worked or k == current):  # not a step only maybe done
                inside = d not in self.station  # put into/onto another object
        if current is not None and obj in handled(self.plan[current]):
            inside = False
            for f in (self.plan[current].get("location"), self.dest.get((current, obj))):
                ok |= {self.station[f]} if f in self.station else set()
        return None if inside else ok

    def maybe_done(self, current: int | None, worked: set[int]) -> set[int]:
        """Plan steps that may be done: those worked on, and every step up to one after
        the furthest of them and the current one (a recogniser misses steps)."""
        horizon = max([*worked, *([] if current is None else [current])], default=-1) + 1
        return set(worked) | set(range(min(horizon + 1, len(self.plan))))

    def culprit(self, obj: str, current: int | None, worked: set[int]) -> int | None:
        """The plan step to name for misplaced ``obj``: the last step moving it that was
        worked on (or is under way), else the first step moving it; for an object no
        step uses (taken instead of the right one: a substitution), the step recognised
        when it was last seen where it may rest (where it was taken), else the current
        step (None while no step is recognised)."""
        movers = [k for k, o in self.dest if o == obj]
        if not movers:
            return self.taken_in.get(obj, current)
        done = [k for k in movers if k in worked or k == current]
        return max(done) if done else min(movers)

    def observe(
        self, seg: np.ndarray, depth: np.ndarray, current: int | None, worked: set[int]
    ) -> int | None:
        """Take this point's frames and the recognised step; a plan index to name, or None.

        Every object's count of points at a wrong place is brought up to date; the
        first object due is named (another one due is named at a later point). Then,
        with ``regrasp``, the repetition rule sees the frame (:meth:`regrasp`); it
        speaks when the placement rule does not (else at its next touch).
        """
        seg = np.asarray(seg).astype(np.int64, copy=False)
        pixels = _pixel_counts(seg)
        named = None
        for obj in self.objects:
            if obj in self.flagged or not self._in_view(pixels, obj):
                self.strikes[obj] = 0
                continue
            where = self._resting(seg, depth, obj)
            ok = None if where is None else self.allowed(obj, current, worked)
            if ok is None or self.station.get(where) in ok:
                self.strikes[obj] = 0
                if where is not None and current is not None:
                    self.taken_in[obj] = current
                continue
            self.strikes[obj] = self.strikes.get(obj, 0) + 1
            if named is None and self.strikes[obj] >= self.sustain:
                named = self.culprit(obj, current, worked)
                if named is not None:
                    self.flagged.add(obj)
        again = self.regrasp(seg, depth, current) if self.regrasp_on else None
        if named is None and again is not None:
            self.repeated.add(again)  # said once (recorded only when said)
            named = again
        return named

    def regrasp(self, seg: np.ndarray, depth: np.ndarray, current: int | None) -> int | None:
        """A **repetition**: the object the step under way carries, put down, is taken up
        again while that step is still recognised; the step to name, or None.

        The run (``self._run``: step, pick-ups, held, rest points) follows the recognised
        step (a point with none keeps it). Held is three-valued: None before the object
        was touched or put down. A touch (:func:`_touching`) counts as a pick-up unless
        the object is already held; ``rest_points`` points seen resting with no hand at
        it since the last touch (not necessarily in a row) put it down.
        """
        run = self._run
        step = run[0] if current is None else current
        if step != run[0]:
            run[:] = [step, 0, None, 0]
        obj = None if step is None or step in self.repeated else self.carried[step]
        if obj is None or obj not in self.parts:
            return None
        mask = np.isin(seg, self.parts[obj])
        if not mask.any():
            return None
        if _touching(seg, depth, mask, self.hands, self.delta):
            run[1] += run[2] is not True  # a new pick-up unless already held
            run[2], run[3] = True, 0
            if run[1] >= 2:
                return step
        elif self._resting(seg, depth, obj) is not None:
            run[3] += 1
            run[2] = False if run[3] >= self.rest_points else run[2]
        return None

    def _resting(self, seg: np.ndarray, depth: np.ndarray, obj: str) -> str | None:
        touch = resting_on(seg, depth, self.parts[obj], self.names, self.delta)
        on = Counter({k: v for k, v in touch.items() if k in self.station})
        if sum(on.values()) < self.contact:
            return None
        return on.most_common(1)[0][0]


def _pixel_counts(seg: np.ndarray) -> np.ndarray:
    """Pixels of each segmentation value ``v`` (at index ``v + 1``; -1: nothing)."""
    return np.bincount(np.clip(seg.ravel(), -1, None) + 1)


def _carried(step: dict[str, Any]) -> str | None:
    """The object a plan step carries, by the simulator's own rule
    (:func:`~proassist.sim.person.kinematics.carried_by`)."""
    objects = [str(o) for o in step.get("objects") or ()]
    tools = [str(o) for o in step.get("tools") or ()]
    adds, _ = split_effects(str(e) for e in step.get("effects") or ())
    return carried_by(objects, tools, adds)[0]


def _touching(
    seg: np.ndarray, depth: np.ndarray, mask: np.ndarray, hands: list[int], delta: float
) -> bool:
    """Whether a hand pixel next to the mask (4-neighbours) is at its depth (``delta``)."""
    hand = np.isin(seg, hands)
    for a, b in (
        (np.s_[1:, :], np.s_[:-1, :]),
        (np.s_[:-1, :], np.s_[1:, :]),
        (np.s_[:, 1:], np.s_[:, :-1]),
        (np.s_[:, :-1], np.s_[:, 1:]),
    ):
        if (mask[a] & hand[b] & (np.abs(depth[a] - depth[b]) < delta)).any():
            return True
    return False


def handled(step: dict[str, Any]) -> set[str]:
    """The objects and tools plan step ``step`` handles."""
    return {str(o) for o in (*(step.get("objects") or ()), *(step.get("tools") or ()))}


def _destinations(plan: list[dict[str, Any]]) -> dict[tuple[int, str], str]:
    """``(plan index, object) -> where the step puts it`` from ``at/in/on`` effects."""
    out = {}
    for i, step in enumerate(plan):
        for effect in step.get("effects") or ():
            if str(effect).startswith("not "):
                continue
            name, args = parse_predicate(str(effect))
            if name in LOCATION_PREDICATES and len(args) == 2:
                out[(i, args[0])] = args[1]
    return out


def _effect_places(
    dest: dict[tuple[int, str], str], starts: dict[str, str], station: dict[str, Station]
) -> dict[str, dict[Place, int]]:
    """``object -> {place: plan step}`` for the places that only one step puts an object
    at (:meth:`PlacementWatch.credits`): a fixture other than where it starts, and that
    fixture's stand point when it is not the start's."""
    steps: dict[tuple[str, Place], set[int]] = {}
    for (k, obj), fixture in dest.items():
        start = starts.get(obj, "")
        if fixture not in station or fixture == start:
            continue
        steps.setdefault((obj, fixture), set()).add(k)
        if station[fixture] != station.get(start):
            steps.setdefault((obj, station[fixture]), set()).add(k)
    out: dict[str, dict[Place, int]] = {}
    for (obj, place), ks in sorted(steps.items(), key=str):
        if len(ks) == 1:
            out.setdefault(obj, {})[place] = ks.pop()
    return out
