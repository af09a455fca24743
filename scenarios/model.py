"""The data model of ProAssist scenarios: pure, frozen data with no simulation.

A :class:`Scenario` bundles a :class:`Procedure` (a partially ordered task graph), a
:class:`Layout` (fixtures of the scene with their positions), a :class:`PersonProfile`
and a :class:`DeviationSpec`. Everything is loadable from YAML (see
:mod:`proassist.scenarios.loader`).

Predicates are strings of the form ``name(arg1,arg2)`` (no spaces), e.g.
``filled(kettle)``, ``at(kettle,stove)``, ``switched_on(burner)``. Arguments name
objects or fixtures. The renderer knows these predicate names and draws them:

=================  ==========================================================
``at(o,f)``        object ``o`` rests on fixture ``f``
``in(o,c)``        object ``o`` is inside container ``c`` (drawn on top of it)
``on(o,p)``        object ``o`` is stacked on object ``p``
``filled(o)``      ``o`` is full (liquid drawn)
``heated(o)``      ``o`` is hot (steam drawn)
``switched_on(a)`` appliance/burner ``a`` is on (glow drawn)
``cut(o)``         ``o`` is cut in pieces
``attached(p,b)``  part ``p`` is attached to ``b`` (drawn joined)
``open(o)``        ``o`` is open (lid drawn lifted)
=================  ==========================================================

Other predicate names are allowed; the renderer ignores them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from proassist.scenarios.registry import Registry

PREDICATE_RE = re.compile(r"^([a-z_][a-z0-9_]*)\(([a-z0-9_]+(?:,[a-z0-9_]+)*)\)$")

#: The deviation (Out-of-Plan) kinds: the one registry of kind names. The built-in
#: kinds of the taxonomy in DESIGN.md are defined in :mod:`proassist.sim.deviations`
#: (imported on first use); plugins add theirs with ``@register_deviation``.
DEVIATION_KINDS: Registry[Any] = Registry("deviation kind", builtins=("proassist.sim.deviations",))

#: A domain is any identifier written in a task file (``kitchen``, ``my_lab``); the
#: domains that have their own env id are listed in :mod:`proassist.envs.registration`.
DOMAIN_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def parse_predicate(text: str) -> tuple[str, tuple[str, ...]]:
    """Split ``name(a,b)`` into ``("name", ("a", "b"))``.

    Args:
        text: A predicate string.

    Returns:
        The predicate name and its arguments.

    Raises:
        ValueError: If ``text`` is not of the form ``name(arg,...)``.
    """
    m = PREDICATE_RE.match(text)
    if not m:
        raise ValueError(f"not a predicate 'name(arg,...)': {text!r}")
    return m.group(1), tuple(m.group(2).split(","))


@dataclass(frozen=True)
class Duration:
    """A truncated normal duration distribution in seconds."""

    mean: float
    std: float = 0.0
    min: float = 0.5

    def sample(self, rng: Any) -> float:
        """Draw one duration from ``rng`` (a ``numpy.random.Generator``)."""
        if self.std <= 0:
            return max(self.min, self.mean)
        return float(max(self.min, rng.normal(self.mean, self.std)))


@dataclass(frozen=True)
class ObjectSpec:
    """A task object or tool.

    Attributes:
        id: Unique id, used in predicates.
        name: Human-readable name ("kettle").
        shape: One of ``box``, ``cylinder``, ``sphere``, ``capsule`` (rendering).
        size: Box half-extents, or ``(radius, half_height, _)`` for cylinders (metres).
        color: RGBA in [0, 1].
        category: ``container``, ``tool``, ``ingredient``, ``appliance``, ``part``, ``utensil``.
        start: Fixture id where it starts (also expressed by ``at(...)`` in ``initial``).
        alternatives: Ids of similar-looking objects a substitution may take instead.
        lying: Whether it rests on its side (its height axis horizontal, along the
            front edge of the fixture it rests on); ``None`` (the default): lying when
            it is elongated (its half height over 4.5 times its largest horizontal
            half-extent; the simulation's rule). Parts ``attached`` to a base are
            joined to it rigidly instead.
        yaw: Turn about the vertical in degrees (counter-clockwise seen from above),
            relative to the fixture it rests on as seen from that fixture's stand
            point (and to the person while held); 0 keeps the x axis along the
            fixture's front edge.
    """

    id: str
    name: str
    shape: str = "box"
    size: tuple[float, float, float] = (0.05, 0.05, 0.05)
    color: tuple[float, float, float, float] = (0.6, 0.6, 0.6, 1.0)
    category: str = "utensil"
    start: str = ""
    alternatives: tuple[str, ...] = ()
    lying: bool | None = None
    yaw: float = 0.0


@dataclass(frozen=True)
class Fixture:
    """A static part of the scene (counter, stove, sink, workbench...).

    ``position`` is the centre of the fixture's top surface in metres (z up);
    ``size`` its half-extents. The person stands at ``stand`` (x, y) facing it.
    """

    id: str
    kind: str
    position: tuple[float, float, float]
    size: tuple[float, float, float]
    color: tuple[float, float, float, float] = (0.7, 0.7, 0.7, 1.0)
    stand: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class Layout:
    """The scene: a room of fixtures. Shared by the tasks of a domain."""

    id: str
    fixtures: tuple[Fixture, ...]
    floor_color: tuple[float, float, float, float] = (0.55, 0.5, 0.45, 1.0)
    wall_color: tuple[float, float, float, float] = (0.9, 0.9, 0.85, 1.0)

    def fixture(self, fixture_id: str) -> Fixture:
        """Return the fixture with id ``fixture_id`` (KeyError if absent)."""
        for fx in self.fixtures:
            if fx.id == fixture_id:
                return fx
        raise KeyError(fixture_id)


@dataclass(frozen=True)
class Step:
    """One step of a procedure.

    Attributes:
        id: Unique id within the procedure.
        instruction: Natural-language instruction ("Fill the kettle with water").
        after: Ids of steps that must be done first (the partial order).
        requires: Predicates that must hold before the step (world preconditions).
        effects: Predicates the step makes true; ``not p(x)`` removes ``p(x)``.
        objects: Object ids the step uses; ``tools`` the tools among them.
        location: Fixture id where the step happens (where the person looks).
        duration: How long the step takes.
        optional: Skipping it is not a deviation.
        safety_critical: A slip here is a hazard.
        done_cue: Visual cue that the step is complete (plan text for planners).
        todo_cue: Visual cue that it is not yet complete.
        params: Kind-specific parameters (e.g. ``amount``, ``setting``, ``min_time``).
    """

    id: str
    instruction: str
    after: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    location: str = ""
    duration: Duration = Duration(5.0, 1.0)
    optional: bool = False
    safety_critical: bool = False
    done_cue: str = ""
    todo_cue: str = ""
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Procedure:
    """A task graph: steps in partial order, objects, initial state and goal."""

    id: str
    domain: str
    title: str
    goal: str
    steps: tuple[Step, ...]
    objects: tuple[ObjectSpec, ...]
    initial: tuple[str, ...]
    goal_predicates: tuple[str, ...]

    def step(self, step_id: str) -> Step:
        """Return the step with id ``step_id`` (KeyError if absent)."""
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def index(self, step_id: str) -> int:
        """Return the position of ``step_id`` in ``steps`` (KeyError if absent)."""
        for i, s in enumerate(self.steps):
            if s.id == step_id:
                return i
        raise KeyError(step_id)

    def object(self, object_id: str) -> ObjectSpec:
        """Return the object with id ``object_id`` (KeyError if absent)."""
        for o in self.objects:
            if o.id == object_id:
                return o
        raise KeyError(object_id)


@dataclass(frozen=True)
class PersonProfile:
    """How the simulated person behaves.

    Attributes:
        name: Profile name.
        error_proneness: Multiplier on every random deviation rate.
        compliance: Base probability of following an assistant message.
        reaction_delay: Delay between hearing a message and acting on it.
        patience: Number of wrong messages (false alarms) after which trust falls
            from 1 to its floor: each costs ``1/patience``.
        trust_floor: Lowest trust multiplier on compliance.
        ask_when_stuck: Probability per stuck episode of asking "what next?".
        self_correction: Probability that the person notices and fixes a
            deviation on their own before its deadline.
        rationality: Inverse temperature of the noisy-rational step choice.
        speed: Multiplier on step durations (>1 is slower).
        listen_base: Seconds every heard message costs (the person stops to listen).
        listen_per_word: Extra listening seconds per spoken word.
        dispute_time: Extra seconds a useless (redundant, wrong or irrelevant)
            message costs: the person stops to object or puzzle over it.
        redundancy_window: A message with the same intent family and step as one
            heard less than this many seconds before is redundant.
        trust_gain: Trust added by a helpful message (up to 1).
        redundant_cost: Trust lost by a redundant message, in false alarms (a wrong
            message costs ``1/patience``; this one ``redundant_cost/patience``).
        irrelevant_cost: Trust lost by an irrelevant message, in false alarms.
        stop_trust: Below this trust a useless message makes the person say
            "Please stop." and tune out.
        tune_out: Seconds after "Please stop." during which messages are ignored
            unheard (0: the person never tunes out). Before the thirty-ninth round
            this was ``stop_ignore``, a number of messages, whenever they came.
        prevention: Probability (times trust) that a timely instruction for the step
            the person is about to start prevents the latent deviation planned there.
        guidance_window: Seconds after a step starts within which an instruction naming
            it is not redundant.
        prevention_window: Seconds between the end of listening to an instruction
            naming a step and choosing that step within which the instruction can
            prevent the latent deviation planned there: just-in-time guidance, heard
            as the previous step finishes (the ``step_finishing`` cue), not a reminder
            recited while the person is busy with something else.
        refusal_reply: Probability that the person says why they turn a message down
            ("I think it's fine." to a false alarm, "I already did that." to a message
            naming a step they believe done); otherwise they turn it down in silence,
            as they do a correction they ignore. At 1 (every library profile) silence
            after a correction means it was ignored, not disputed; lower values test an
            assistant's reliance on that.
    """

    name: str = "default"
    error_proneness: float = 1.0
    compliance: float = 0.9
    reaction_delay: Duration = Duration(1.0, 0.3, 0.2)
    patience: int = 5
    trust_floor: float = 0.1
    ask_when_stuck: float = 0.3
    self_correction: float = 0.1
    rationality: float = 3.0
    speed: float = 1.0
    listen_base: float = 0.3
    listen_per_word: float = 0.06
    dispute_time: float = 1.0
    redundancy_window: float = 6.0
    trust_gain: float = 0.1
    redundant_cost: float = 0.5
    irrelevant_cost: float = 0.5
    stop_trust: float = 0.4
    tune_out: float = 30.0
    prevention: float = 0.7
    guidance_window: float = 4.0
    prevention_window: float = 1.0
    refusal_reply: float = 1.0


@dataclass(frozen=True)
class ScriptedDeviation:
    """A deviation the scenario forces: ``kind`` at ``step`` (optionally at ``time``)."""

    kind: str
    step: str
    time: float | None = None
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class DeviationSpec:
    """Which deviations happen.

    Attributes:
        scripted: Deviations that happen for sure.
        rates: Per-kind probability that a random deviation of that kind happens
            at a step where the kind applies (before the profile's
            ``error_proneness`` multiplier).
        max_random: Upper bound on the latent random deviations of an episode (the
            first ``max_random`` in canonical step order are kept); ``None`` (``null``
            in YAML): no cap. The library's tasks use 2 (at most two random
            deviations per episode, as in the published tables); the env argument
            ``max_random_deviations`` overrides it.
    """

    scripted: tuple[ScriptedDeviation, ...] = ()
    rates: dict[str, float] = field(default_factory=dict, hash=False, compare=False)
    max_random: int | None = 3


@dataclass(frozen=True)
class Scenario:
    """Everything one run needs: procedure, layout, person and deviations."""

    name: str
    procedure: Procedure
    layout: Layout
    person: PersonProfile = PersonProfile()
    deviations: DeviationSpec = DeviationSpec()
    max_duration: float = 600.0
    source: str = ""

    @property
    def domain(self) -> str:
        """The procedure's domain (kitchen, assembly, maintenance)."""
        return self.procedure.domain


#: The most steps a procedure may have (fixes the size of the action space).
MAX_STEPS: int = 32
