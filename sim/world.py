"""The symbolic world: a set of predicates plus the plan steps done so far.

Semantics (the same as the scenario validator's, :mod:`proassist.scenarios.validation.reachability`):

- A step can be applied when every step of its ``after`` list is done and every
  ``requires`` predicate holds. An ``after`` entry naming an *optional* step counts as
  met when that step was skipped: optional steps may always be left out. An optional
  step is no longer available once a step that lists it in ``after`` is done.
- Applying a step first removes the predicates of its ``not p(x)`` effects, then adds
  the others, and records the step as done.

Steps are identified by id; the per-procedure data (effects split into adds and
removes, successors, dependents) is compiled once into a :class:`ProcedureIndex`
that every copy of a world shares, so copies are cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from proassist.scenarios.model import Procedure, Step

#: Predicate names that give an object's location (the first argument is the object).
LOCATION_PREDICATES: tuple[str, ...] = ("at", "in", "on")


def split_effects(effects: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split effects into (adds, removes); ``not p(x)`` goes to removes as ``p(x)``."""
    adds, removes = [], []
    for e in effects:
        if e.startswith("not "):
            removes.append(e[4:].strip())
        else:
            adds.append(e)
    return tuple(adds), tuple(removes)


@dataclass(frozen=True)
class StepInfo:
    """The compiled form of one step."""

    id: str
    position: int
    after: tuple[str, ...]
    requires: tuple[str, ...]
    adds: tuple[str, ...]
    removes: tuple[str, ...]
    optional: bool
    cost: float


class ProcedureIndex:
    """Per-procedure lookup tables, built once and shared by worlds and the person.

    Attributes:
        procedure: The procedure.
        order: Step ids in canonical (file) order.
        info: Step id -> :class:`StepInfo`.
        steps: Step id -> :class:`Step`.
        successors: Step id -> ids of the steps that list it in ``after``.
        dependents: Step id -> ids of every step that needs it, transitively
            (through ``after`` or through a ``requires`` predicate it adds).
        ancestors: Step id -> ids of every step it needs (the inverse of ``dependents``).
        required: Ids of the non-optional steps, in order.
        goal: The goal predicates.
    """

    def __init__(self, procedure: Procedure) -> None:
        self.procedure = procedure
        self.order = tuple(s.id for s in procedure.steps)
        self.steps = {s.id: s for s in procedure.steps}
        self.info = {s.id: _compile(s, i) for i, s in enumerate(procedure.steps)}
        self.required = tuple(s.id for s in procedure.steps if not s.optional)
        self.optional = frozenset(s.id for s in procedure.steps if s.optional)
        self.goal = tuple(procedure.goal_predicates)
        succ: dict[str, list[str]] = {sid: [] for sid in self.order}
        for s in procedure.steps:
            for a in s.after:
                if a in succ:
                    succ[a].append(s.id)
        self.successors = {k: tuple(v) for k, v in succ.items()}
        self.dependents = self._dependents()
        self.ancestors: dict[str, frozenset[str]] = {
            sid: frozenset(a for a in self.order if sid in self.dependents[a]) for sid in self.order
        }

    def _dependents(self) -> dict[str, frozenset[str]]:
        direct: dict[str, set[str]] = {sid: set(self.successors[sid]) for sid in self.order}
        for sid in self.order:
            adds = set(self.info[sid].adds)
            for other in self.order:
                if other != sid and adds.intersection(self.info[other].requires):
                    direct[sid].add(other)
        out: dict[str, frozenset[str]] = {}
        for sid in self.order:
            seen: set[str] = set()
            stack = list(direct[sid])
            while stack:
                d = stack.pop()
                if d not in seen and d != sid:
                    seen.add(d)
                    stack.extend(direct[d])
            out[sid] = frozenset(seen)
        return out


def _compile(step: Step, position: int) -> StepInfo:
    adds, removes = split_effects(step.effects)
    return StepInfo(
        id=step.id,
        position=position,
        after=tuple(step.after),
        requires=tuple(step.requires),
        adds=adds,
        removes=removes,
        optional=bool(step.optional),
        cost=float(step.duration.mean),
    )


class WorldState:
    """The symbolic truth: predicates that hold and plan steps done (in order).

    Args:
        procedure: The procedure the world belongs to.
        predicates: The predicates that hold (default: ``procedure.initial``).
        done: Ids of the steps already done.
        index: A shared :class:`ProcedureIndex` (built when omitted).
    """

    def __init__(
        self,
        procedure: Procedure,
        predicates: Iterable[str] | None = None,
        done: Iterable[str] = (),
        index: ProcedureIndex | None = None,
    ) -> None:
        self.index = index if index is not None else ProcedureIndex(procedure)
        self.procedure = procedure
        self.predicates: set[str] = set(procedure.initial if predicates is None else predicates)
        self.done: dict[str, None] = dict.fromkeys(done)
        #: Incremented on every change (lets readers cache derived data).
        self.version = 0

    # ------------------------------------------------------------------ queries
    def _info(self, step: Step | str) -> StepInfo:
        sid = step if isinstance(step, str) else step.id
        try:
            return self.index.info[sid]
        except KeyError:
            raise KeyError(
                f"unknown step {sid!r}; expected one of {list(self.index.order)}"
            ) from None

    def holds(self, predicate: str) -> bool:
        """Whether ``predicate`` holds; accepts ``not p(x)`` and ``done(step_id)``."""
        if predicate.startswith("not "):
            return not self.holds(predicate[4:].strip())
        if predicate.startswith("done(") and predicate.endswith(")"):
            return predicate[5:-1] in self.done
        return predicate in self.predicates

    def holds_all(self, predicates: Iterable[str]) -> bool:
        """Whether every predicate of ``predicates`` holds (see :meth:`holds`)."""
        return all(self.holds(p) for p in predicates)

    def can_apply(self, step: Step | str, done: Iterable[str] | None = None) -> list[str]:
        """What keeps ``step`` from being applied now (empty list: it can be).

        Args:
            step: A step or step id.
            done: Step ids to treat as done (default: this world's).

        Returns:
            The unmet ``after`` step ids followed by the unmet ``requires`` predicates.
        """
        info = self._info(step)
        done_set = self.done if done is None else set(done)
        opt = self.index.optional
        unmet = [a for a in info.after if a not in done_set and a not in opt]
        unmet.extend(p for p in info.requires if p not in self.predicates)
        return unmet

    def available_steps(self, done: Iterable[str] | None = None) -> list[str]:
        """Ids of the steps that can be applied now, in canonical order.

        Args:
            done: Step ids to treat as done (default: this world's).
        """
        done_set = self.done if done is None else set(done)
        out = []
        for sid in self.index.order:
            if sid in done_set or self.can_apply(sid, done_set):
                continue
            if sid in self.index.optional and any(
                s in done_set for s in self.index.successors[sid]
            ):
                continue
            out.append(sid)
        return out

    def goal_reached(self) -> bool:
        """Whether every goal predicate holds."""
        return all(p in self.predicates for p in self.index.goal)

    def goal_reachable(self, done: Iterable[str] | None = None) -> bool:
        """Whether some sequence of the remaining steps reaches the goal."""
        return self.shortest_completion(done) is not None

    def shortest_completion(self, done: Iterable[str] | None = None) -> list[str] | None:
        """The cheapest sequence of remaining steps that completes the task.

        Completing means every non-optional step is done and the goal predicates hold.
        Optional steps are added only when a remaining step or the goal needs one of
        their effects (the one with the least expected duration first). Steps run in
        canonical order whenever they can.

        Args:
            done: Step ids to treat as done (default: this world's).

        Returns:
            Step ids in execution order (empty when already complete), or ``None``
            when the goal cannot be reached from here.
        """
        done_set = set(self.done if done is None else done)
        needed = {s for s in self.index.required if s not in done_set}
        for _ in range(len(self.index.order) + 1):
            order, missing = self._greedy(needed, done_set)
            if not missing:
                return order
            supplier = self._supplier(missing, needed | done_set)
            if supplier is None:
                return None
            needed.add(supplier)
        return None

    def _greedy(self, needed: set[str], done: set[str]) -> tuple[list[str], set[str]]:
        """Run ``needed`` in canonical order; return the order and the missing predicates."""
        state, d, order = set(self.predicates), set(done), []
        opt = self.index.optional
        remaining = [s for s in self.index.order if s in needed]
        progress = True
        while remaining and progress:
            progress = False
            for sid in remaining:
                info = self.index.info[sid]
                after_ok = all(a in d or (a in opt and a not in needed) for a in info.after)
                if after_ok and all(p in state for p in info.requires):
                    state.difference_update(info.removes)
                    state.update(info.adds)
                    d.add(sid)
                    order.append(sid)
                    remaining.remove(sid)
                    progress = True
                    break
        if remaining:
            missing = {p for s in remaining for p in self.index.info[s].requires if p not in state}
            missing |= {a for s in remaining for a in self.index.info[s].after if a not in d}
            return order, missing or {"?"}
        return order, {p for p in self.index.goal if p not in state}

    def _supplier(self, missing: set[str], taken: set[str]) -> str | None:
        """The cheapest step not yet taken that adds a missing predicate (or is one)."""
        best: tuple[float, int, str] | None = None
        for sid in self.index.order:
            if sid in taken:
                continue
            info = self.index.info[sid]
            if sid in missing or missing.intersection(info.adds):
                key = (info.cost, info.position, sid)
                best = key if best is None or key < best else best
        return None if best is None else best[2]

    # ------------------------------------------------------------------ changes
    def apply(self, step: Step | str, force: bool = False) -> list[str]:
        """Apply a step: check preconditions, apply its effects, mark it done.

        Args:
            step: A step or step id.
            force: Apply even when preconditions are unmet.

        Returns:
            What was unmet (empty when the preconditions held).

        Raises:
            ValueError: If preconditions are unmet and ``force`` is false.
        """
        info = self._info(step)
        unmet = self.can_apply(info.id)
        if unmet and not force:
            raise ValueError(f"cannot apply step {info.id!r}: unmet {unmet}")
        self.apply_effects(info.adds, info.removes)
        self.mark_done(info.id)
        return unmet

    def apply_effects(self, adds: Iterable[str] = (), removes: Iterable[str] = ()) -> None:
        """Remove ``removes`` then add ``adds`` (plain predicates, no ``not``)."""
        self.predicates.difference_update(removes)
        self.predicates.update(adds)
        self.version += 1

    def mark_done(self, step_id: str) -> None:
        """Record ``step_id`` as done (its effects are not applied)."""
        self.done[step_id] = None
        self.version += 1

    def unmark_done(self, step_id: str) -> None:
        """Forget that ``step_id`` was done."""
        self.done.pop(step_id, None)
        self.version += 1

    # ------------------------------------------------------------------ copies
    def copy(self) -> WorldState:
        """An independent copy (shares the read-only index)."""
        return WorldState(self.procedure, self.predicates, self.done, index=self.index)

    def snapshot(self) -> frozenset[str]:
        """The predicates as a frozen set (plus ``done(step)`` for each done step)."""
        return frozenset(self.predicates).union(f"done({s})" for s in self.done)

    def location(self, obj: str) -> str | None:
        """The location predicate of ``obj`` (``at/in/on(obj,x)``), or ``None``.

        When several hold (effects need not remove the old one), ``in`` and ``on``
        win over ``at`` (an object put into a container is no longer drawn on the
        fixture it was carried to); ties go to the first in sorted order.
        """
        found = None
        for name in ("in", "on", "at"):
            prefix = f"{name}({obj},"
            for p in self.predicates:
                if p.startswith(prefix):
                    if found is None or p < found:
                        found = p
            if found is not None:
                return found
        return None
