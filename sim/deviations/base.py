"""Out-of-Plan deviations: the records, the kind base class and the registry.

A deviation *kind* is a class registered with :func:`register_deviation`; it says

- when it applies (:meth:`DeviationKind.applies`, static, and
  :meth:`DeviationKind.candidates`, at a decision point of the person);
- what it does to the person's behaviour and to the world (:meth:`DeviationKind.start`
  makes the person act wrongly, :meth:`DeviationKind.at_onset` changes the world when
  the deviation becomes visible);
- its recovery (``fix``) steps (:meth:`DeviationKind.recovery`), records
  ``{id: "fix_<kind>_<step>", instruction, step}`` with a duration;
- its deadline (:meth:`DeviationKind.window`: onset + window, at least
  :data:`MIN_WINDOW`, is the last moment recovery may *start*; a recovery under way at
  the deadline still counts);
- the predicates that say it is resolved (:meth:`DeviationKind.resolved_when`);
- its consequence when the deadline passes unresolved (:attr:`DeviationKind.consequence`).

**Lateness costs.** The later a deviation is corrected, the more it costs:

- *Work built on the error is redone.* When recovery starts (assisted or by the person
  themselves), every plan step that depends on the affected step (transitively) and
  was completed since the onset is redone as an extra recovery step
  ``redo_<step>`` with that step's duration (:func:`redo_step`); a dependent step
  under way is abandoned and started again later; steps that were botched (done
  without their preconditions) are redone after the resolution. Steps that do not
  depend on the affected step add nothing.
- *Past the deadline there is no recovery.* A correction heard after the deadline
  does nothing (the person says it is too late) and the person no longer notices by
  themselves; the consequence applies: ``"fail"`` ends the episode as failed at the
  deadline (reason ``hazard`` for safety, else ``deviation_unrecovered``); ``"redo"``:
  the error stands, the work built on it would have to be redone from scratch, so
  the episode goes on but ends failed (``deviation_unrecovered``) when the person
  finishes; ``"none"``: the person gets back on track by themselves (only time lost).

Deadlines per kind (``deps(n)``: until the ``n``-th remaining step that depends on the
affected step is expected to end, else the task's expected end; ``n`` is
:data:`DEADLINE_DEPENDENTS`; every window is at least :data:`MIN_WINDOW`):

============  ==========================================  ===========
kind          deadline (from the onset)                   consequence
============  ==========================================  ===========
omission      deps(n)                                     redo
order         deps(n), at least the early step's cost     redo
substitution  deps(n)                                     redo
placement     deps(n)                                     redo
measurement   deps(n)                                     redo
timing        deps(n)                                     redo
setting       deps(1) (the food burns, the part is        fail
              ruined)
repetition    deps(n), at least the repeat's cost         redo
distraction   ``params.duration`` (15-40 s)               none
hesitation    ``params.duration`` (8-20 s)                none
safety        the hazard clock: step ``params.hazard_     fail
              time`` (default 30 s, ``HAZARD_TIME``)      (``hazard``)
============  ==========================================  ===========

The built-in kinds live in :mod:`proassist.sim.deviations.step_kinds` and
:mod:`proassist.sim.deviations.attention_kinds` and
:mod:`proassist.sim.deviations.hazard_kinds`; the registry imports them on first lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from proassist.scenarios.model import DEVIATION_KINDS, Duration, Procedure, Step
from proassist.sim.deviations.interface import KindSim

#: Minimum seconds between onset and deadline (time to notice, speak and react).
MIN_WINDOW: float = 6.0

#: Default deadline: until this many steps that depend on the affected step are
#: expected to end (the work that may pile up on the error before it is past fixing).
DEADLINE_DEPENDENTS: int = 2

#: Deviation life cycle.
STATUSES: tuple[str, ...] = ("pending", "active", "recovering", "resolved", "expired", "failed")

CONSEQUENCES: tuple[str, ...] = ("fail", "redo", "none")


@dataclass
class RecoveryStep:
    """A step-like record the person performs to recover from a deviation.

    Attributes:
        id: ``fix_<kind>_<step>`` (or ``redo_<step>`` for redone work).
        instruction: What to do, in words.
        step: The plan step the deviation affected.
        duration: How long it takes (before the profile's speed).
        location: Fixture where it happens.
        objects: Objects it handles; the first is carried when ``dest`` is set.
        adds: Predicates it makes true.
        removes: Predicates it makes false.
        completes: A plan step id it completes (marked done in the world).
        dest: Fixture where ``objects[0]`` is put.
    """

    id: str
    instruction: str
    step: str
    duration: Duration
    location: str = ""
    objects: tuple[str, ...] = ()
    adds: tuple[str, ...] = ()
    removes: tuple[str, ...] = ()
    completes: str | None = None
    dest: str | None = None

    def record(self) -> dict[str, str]:
        """The public ``{id, instruction, step}`` record (event log, plans)."""
        return {"id": self.id, "instruction": self.instruction, "step": self.step}


@dataclass(eq=False)
class Deviation:
    """One deviation of an episode.

    Attributes:
        id: ``dev<n>`` in order of creation.
        kind: The registered kind name.
        step: The affected plan step id.
        index: The affected step's plan index.
        params: Kind-specific parameters (logged).
        scripted: Forced by the scenario or the ``script`` argument.
        consequence: ``fail``, ``redo`` or ``none``.
        onset: First moment it is visible (``None`` until then).
        deadline: Absolute time after which recovery is impossible.
        recovery: The recovery steps.
        resolved_when: Predicates that all hold once it is resolved.
        status: One of :data:`STATUSES`.
        by: ``"assistant"`` or ``"self"`` once recovery has started.
        event: The logged ``deviation`` event.
        activity: The person's activity it belongs to (if any).
        late: True once its deadline passed unresolved (it can no longer be recovered).
        related: Further plan steps a correction may name (:meth:`DeviationKind.related_steps`).
    """

    id: str
    kind: str
    step: str
    index: int
    params: dict[str, Any]
    scripted: bool
    consequence: str
    onset: float | None = None
    deadline: float | None = None
    recovery: list[RecoveryStep] = field(default_factory=list)
    resolved_when: tuple[str, ...] = ()
    status: str = "pending"
    by: str | None = None
    event: dict[str, Any] | None = None
    activity: Any = None
    late: bool = False
    related: tuple[str, ...] = ()

    @property
    def open(self) -> bool:
        """Visible and not yet resolved, expired or failed."""
        return self.status in ("active", "recovering")

    def is_recovery(self, step_id: str | None) -> bool:
        """Whether ``step_id`` is one of the recovery steps' ids."""
        return any(r.id == step_id for r in self.recovery)


class DeviationKind:
    """Base class of a deviation kind (subclass and register with a decorator).

    Methods receive ``sim``, the running :class:`~proassist.sim.engine.Simulation`
    (world, person, deviation manager, clock).
    """

    #: Registered name (set by :func:`register_deviation`).
    name: ClassVar[str] = ""
    #: What happens when the deadline passes unresolved.
    consequence: ClassVar[str] = "redo"

    def applies(self, step: Step, procedure: Procedure) -> bool:
        """Whether the kind can affect ``step`` at all (static check)."""
        raise NotImplementedError

    def candidates(self, sim: KindSim, chosen: Step) -> list[str]:
        """Plan step ids this kind could affect now, when ``chosen`` is about to start."""
        return [chosen.id] if self.applies(chosen, sim.procedure) else []

    def make_params(self, sim: KindSim, step: Step, given: dict[str, Any]) -> dict[str, Any]:
        """The deviation's parameters (``given`` from a script override defaults).

        Draw any randomness from ``sim.deviations.param_rng(self.name, step.id)``, a
        generator derived from the seed, the kind and the step: the latent plan calls
        this at reset and again when the deviation manifests, and both calls must give
        the same random values whatever happened in between.
        """
        return dict(given)

    def start(self, sim: KindSim, dev: Deviation, chosen: Step, t: float) -> None:
        """Make the person act out the deviation instead of starting ``chosen`` normally."""
        raise NotImplementedError

    def at_onset(self, sim: KindSim, dev: Deviation) -> None:
        """Change the world when the deviation becomes visible (default: fault predicate)."""
        sim.world.apply_effects(adds=(fault(dev),))

    def recovery(self, sim: KindSim, dev: Deviation) -> list[RecoveryStep]:
        """The recovery steps."""
        raise NotImplementedError

    def related_steps(self, sim: KindSim, dev: Deviation) -> tuple[str, ...]:
        """Plan steps besides the affected step and the recovery steps that a correction
        may name to address ``dev`` (default none; ``order``: the predecessor it skipped
        ahead of). The person accepts such a correction and the OOP metric counts it
        (:func:`addressable_steps`)."""
        return ()

    def window(self, sim: KindSim, dev: Deviation) -> float:
        """Seconds from onset to deadline (default: :data:`DEADLINE_DEPENDENTS` dependents)."""
        return sim.expected_window(dev.step, dependents=DEADLINE_DEPENDENTS)

    def resolved_when(self, dev: Deviation) -> tuple[str, ...]:
        """Predicates that hold once resolved (default: the fault predicate is gone)."""
        return (f"not {fault(dev)}",)

    def on_recover(self, sim: KindSim, dev: Deviation) -> None:
        """Called when recovery starts (e.g. to undo a running step's wrong effects)."""
        act = dev.activity
        if act is not None:
            act.restore_effects()

    def on_deadline(self, sim: KindSim, dev: Deviation, t: float) -> None:
        """Called when the deadline passes unresolved (after ``deadline_missed``)."""


def addressable_steps(event: dict[str, Any]) -> frozenset[str]:
    """The step ids a correction may name to address the deviation of a ``deviation``
    event (or an ``active_deviations`` entry): its step, its recovery steps and its
    ``related_steps``. The one definition the person, the env and the metrics use."""
    steps = {str(r["id"]) for r in event.get("recovery_steps") or [] if r.get("id")}
    steps |= {str(s) for s in event.get("related_steps") or []}
    return frozenset(steps | ({str(event["step"])} if event.get("step") is not None else set()))


def fault(dev: Deviation) -> str:
    """The fault predicate of a deviation: ``fault_<kind>(<step>)``."""
    return f"fault_{dev.kind}({dev.step})"


def register_deviation(name: str):
    """Class decorator registering a :class:`DeviationKind` subclass under ``name``.

    The kind is registered in :data:`proassist.scenarios.model.DEVIATION_KINDS`, the one
    list of kinds that task files, ``deviation_rates``, ``deviation_kinds`` and scripted
    deviations are checked against; random deviations are drawn in registration order.

    Raises:
        proassist.scenarios.registry.RegistryError: If ``name`` is already registered
            by another class (the registry is left unchanged).
    """

    def wrap(cls: type[DeviationKind]) -> type[DeviationKind]:
        DEVIATION_KINDS.add(name, cls())
        cls.name = name
        return cls

    return wrap


def get_deviation(name: str) -> DeviationKind:
    """The registered kind ``name``.

    Raises:
        proassist.scenarios.registry.RegistryError: If unknown (a ``KeyError``), with
            the closest registered names ("did you mean").
    """
    return DEVIATION_KINDS.get(name)


def registered_kinds() -> tuple[str, ...]:
    """Names of every registered kind, in registration order."""
    return tuple(DEVIATION_KINDS)


def applicable_steps(kind: str, procedure: Procedure) -> list[str]:
    """Ids of the steps of ``procedure`` where ``kind`` applies (static check)."""
    k = get_deviation(kind)
    return [s.id for s in procedure.steps if k.applies(s, procedure)]


def redo_step(step: Step, dev: Deviation, *, prefix: str = "fix") -> RecoveryStep:
    """A recovery step that performs plan ``step`` properly (its effects, marks it done)."""
    adds, removes = [], []
    for e in step.effects:
        (removes if e.startswith("not ") else adds).append(e[4:] if e.startswith("not ") else e)
    rid = f"{prefix}_{dev.kind}_{dev.step}" if prefix == "fix" else f"redo_{step.id}"
    return RecoveryStep(
        id=rid,
        instruction=step.instruction,
        step=dev.step,
        duration=step.duration,
        location=step.location,
        objects=tuple(step.objects) + tuple(t for t in step.tools if t not in step.objects),
        adds=tuple(adds),
        removes=tuple(removes),
        completes=step.id,
    )
