"""What a deviation kind may read and do in the simulation: a small typed interface.

A :class:`~proassist.sim.deviations.base.DeviationKind` receives a :class:`KindSim`
(the running :class:`~proassist.sim.engine.Simulation` satisfies it), never the whole
engine typed as ``Any``. Everything a built-in kind uses is listed here; a plugin kind
written against this interface keeps working when the engine's internals change.

- read: the procedure, its layout and index (steps, dependencies, expected costs), the
  person's profile, the symbolic world, the deviation engine's generators (``rng``
  for behaviour, ``param_rng(kind, step)`` for a deviation's parameters);
- do: change the world (:meth:`KindWorld.apply_effects`), make the person act
  (:class:`KindPerson`: start a step, believe/forget a step done, say something, end a
  special activity, begin a recovery), schedule a timed callback, log an event, end
  the episode as failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np

from proassist.scenarios.model import Layout, PersonProfile, Procedure, Step


class KindWorld(Protocol):
    """The symbolic world, as a kind may change it."""

    predicates: set[str]

    def apply_effects(self, adds: Iterable[str] = (), removes: Iterable[str] = ()) -> None:
        """Add and remove predicates."""


class KindIndex(Protocol):
    """Per-procedure lookup tables (:class:`proassist.sim.world.ProcedureIndex`)."""

    steps: dict[str, Step]
    info: dict[str, Any]
    ancestors: dict[str, Any]


class KindPerson(Protocol):
    """What a kind may make the simulated person do."""

    pending_onsets: list[Any]
    done_times: dict[str, float]
    botched: set[str]

    def believe(self, step_id: str) -> None:
        """The person believes ``step_id`` is done."""

    def forget(self, step_id: str) -> None:
        """The person no longer believes ``step_id`` is done."""

    def decide(self, t: float, nested: bool = False) -> None:
        """The person chooses what to do next at time ``t``."""

    def start_step(self, step: Step, t: float, **how: Any) -> Any:
        """Start acting out ``step`` (``dev``, ``kind``, ``swap``, ``dest``, ``wait_scale``)."""

    def say(self, text: str, act: str, t: float) -> None:
        """The person says ``text`` (an utterance of type ``act``)."""

    def end_special(self, dev: Any, t: float) -> None:
        """End an open-ended activity (distraction, hesitation)."""

    def begin_recovery(self, dev: Any, t: float, by: str) -> None:
        """Start the recovery steps of ``dev`` (``by``: ``assistant`` or ``self``)."""


class KindRandom(Protocol):
    """The deviation engine as a kind sees it: its random generators."""

    rng: np.random.Generator

    def param_rng(self, kind: str, step_id: str) -> np.random.Generator:
        """A generator for the parameters of ``kind`` at ``step_id`` (seed-derived)."""


class KindSim(Protocol):
    """The simulation as a deviation kind sees it."""

    procedure: Procedure
    layout: Layout
    profile: PersonProfile
    index: KindIndex
    world: KindWorld
    person: KindPerson
    deviations: KindRandom
    done: bool

    def schedule(self, t: float, name: str, payload: Any) -> None:
        """Call the handler ``name`` with ``payload`` at sim time ``t``."""

    def log(self, type: str, t: float, **fields: Any) -> dict[str, Any]:
        """Append a ground-truth event; returns it."""

    def fail(self, t: float, reason: str) -> None:
        """End the episode as failed."""

    def expected_window(self, step_id: str, dependents: int = 1) -> float:
        """Seconds until the ``dependents``-th step needing ``step_id`` is expected to end."""
