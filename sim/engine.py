"""The simulation of one episode: world + person + deviations on a sim clock.

See CONTRACTS.md §2. Every :meth:`Simulation.step` advances exactly ``dt`` seconds;
inside a step, things happen at their own (continuous) times: step starts and ends,
deviation onsets, reactions to messages, deadlines. The ground-truth event log
(:mod:`proassist.sim.events`) records them in the order they happen.

The episode ends when the person believes they are done (after a short wrap-up): it
succeeds when the goal predicates hold and no deviation with consequence ``fail`` or
``redo`` is left unresolved. It also ends, failed, when a ``fail`` deadline passes
(reason ``hazard`` for safety, when its hazard clock runs out, else
``deviation_unrecovered``), or at ``max_duration`` (reason ``time_limit``). Past its
deadline a deviation can no longer be recovered; before it, recovery grows with the
work built on the error (see :mod:`proassist.sim.deviations.base`).

Randomness: ``reset`` draws a seed from the given generator and derives independent
streams for the person's behaviour, the deviations, the kinematics and the person's
reactions to messages, and the latent plan of random deviations (drawn once at reset,
see :mod:`proassist.sim.deviations.manager`), so the same generator state gives the
same person and the same latent deviations whatever the assistant says (its messages
only change what the person does, hence whether and when a latent deviation manifests).
"""

from __future__ import annotations

import copy
import heapq
import math
from typing import Any

import numpy as np

from proassist.scenarios.model import DEVIATION_KINDS, PersonProfile, Scenario, ScriptedDeviation
from proassist.sim.body import BodyState
from proassist.sim.deviations.base import get_deviation
from proassist.sim.deviations.manager import DeviationManager
from proassist.sim.events import EventLog
from proassist.sim.messages import Message
from proassist.sim.person.kinematics import Kinematics
from proassist.sim.person.person import WRAPUP, Person
from proassist.sim.world import ProcedureIndex, WorldState

#: Safety valve: most things that may happen within one decision step.
MAX_EVENTS_PER_STEP: int = 10_000


def _max_random(value: int | str | None, scenario_value: int | None) -> int | None:
    """The cap on latent random deviations (``"scenario"``: the scenario's value).

    Raises:
        ValueError: If ``value`` is not ``"scenario"``, ``None`` or an integer >= 0.
    """
    if isinstance(value, str) and value == "scenario":
        return scenario_value
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"max_random must be 'scenario', None or an integer >= 0, got {value!r}")
    return int(value)


class Simulation:
    """One episode of a scenario (see module docstring and CONTRACTS.md §2).

    Args:
        scenario: The scenario to run.
        rng: A ``numpy.random.Generator``; all randomness flows from it.
        dt: Seconds per decision step.
        deviation_rates: Kind -> probability per opportunity; replaces the scenario's rates.
        deviation_kinds: Restrict random deviations to these kinds.
        script: Scripted deviations; replaces the scenario's.
        profile: Person profile; replaces the scenario's.
        max_duration: Time limit in seconds (default: the scenario's).
        max_random: Cap on latent random deviations per episode; ``None``: no cap;
            ``"scenario"`` (default): the scenario's ``deviations.max_random``.

    Raises:
        ValueError: On a bad ``dt``, an unknown kind (with "did you mean"), or a
            scripted deviation naming an unknown step or a step where its kind never
            applies.
    """

    def __init__(
        self,
        scenario: Scenario,
        rng: np.random.Generator | None = None,
        dt: float = 0.5,
        deviation_rates: dict[str, float] | None = None,
        deviation_kinds: list[str] | tuple[str, ...] | None = None,
        script: list[ScriptedDeviation] | None = None,
        profile: PersonProfile | None = None,
        max_duration: float | None = None,
        max_random: int | str | None = "scenario",
    ) -> None:
        if not dt > 0:
            raise ValueError(f"dt must be a positive number of seconds, got {dt!r}")
        self.scenario = scenario
        self.procedure = scenario.procedure
        self.layout = scenario.layout
        self.index = ProcedureIndex(self.procedure)
        self.rng = rng if rng is not None else np.random.default_rng()
        self.dt = float(dt)
        self.profile = profile if profile is not None else scenario.person
        self.max_duration = float(
            max_duration if max_duration is not None else scenario.max_duration
        )
        self.rates = self._rates(deviation_rates, deviation_kinds)
        self.max_random = _max_random(max_random, scenario.deviations.max_random)
        self.script = list(scenario.deviations.scripted if script is None else script)
        self._check_script()
        self.seed: int | None = None
        self.deviations: DeviationManager | None = None  # built by reset()
        self.kinematics: Kinematics | None = None  # built by reset()
        self._reset_state()

    # ------------------------------------------------------------------ setup
    def _rates(self, rates: dict[str, float] | None, kinds: Any) -> dict[str, float]:
        base = dict(self.scenario.deviations.rates if rates is None else rates)
        for k in list(base) + list(kinds or []):
            if k not in DEVIATION_KINDS:
                get_deviation(k)  # raises with "did you mean"
        if kinds is not None:
            base = {k: p for k, p in base.items() if k in set(kinds)}
        return {k: float(p) * float(self.profile.error_proneness) for k, p in base.items()}

    def _check_script(self) -> None:
        for sd in self.script:
            kind = get_deviation(sd.kind)
            if not sd.step:
                continue
            if sd.step not in self.index.steps:
                raise ValueError(
                    f"scripted {sd.kind} deviation names unknown step {sd.step!r}; "
                    f"expected one of {list(self.index.order)}"
                )
            if not kind.applies(self.index.steps[sd.step], self.procedure):
                raise ValueError(
                    f"scripted deviation kind {sd.kind!r} does not apply to step {sd.step!r}"
                )

    def _reset_state(self) -> None:
        self.events = EventLog()
        self.world = WorldState(self.procedure, index=self.index)
        self.time = 0.0
        self.now = 0.0
        self.done = False
        self.success: bool | None = None
        self.failure_reason: str | None = None
        self.person_utterance = ""
        self.utterances: list[str] = []
        self._k = 0
        self._heap: list[tuple[float, int, str, Any]] = []
        self._seq = 0
        self.person: Person | None = None

    def reset(self) -> list[dict[str, Any]]:
        """Start the episode at time 0 (logs ``task_start``); returns the new events."""
        self._reset_state()
        self.seed = int(self.rng.integers(0, 2**63 - 1))
        streams = [np.random.default_rng([self.seed, i]) for i in range(4)]
        self.deviations = DeviationManager(
            self, streams[1], self.rates, self.script, self.max_random, seed=self.seed
        )
        self.person = Person(self, self.profile, streams[0], streams[3])
        self.kinematics = Kinematics(self, streams[2])
        self.log(
            "task_start",
            0.0,
            task=self.scenario.name,
            domain=self.procedure.domain,
            goal=self.procedure.goal,
            plan=list(self.index.order),
            seed=self.seed,
        )
        self.deviations.plan()
        self.person.decide(0.0)
        self.person_utterance = " ".join(self.utterances)
        return self.events.since(0)

    # ------------------------------------------------------------------ stepping
    def step(self, message: Message | None = None) -> list[dict[str, Any]]:
        """Advance exactly ``dt`` seconds; ``message`` is heard at the current time.

        Returns:
            The events logged during this step.

        Raises:
            RuntimeError: Before :meth:`reset` or after the episode ended.
        """
        if self.person is None:
            raise RuntimeError("call reset() before step()")
        if self.done:
            raise RuntimeError("the episode has ended; call reset()")
        start = len(self.events)
        self.utterances = []
        t0 = self.time
        self.now = t0
        if message is not None:
            self._hear(message, t0)
        self._k += 1
        t1 = round(self._k * self.dt, 9)
        self._advance(t1)
        self.time = t1
        self.now = t1
        if not self.done and t1 >= self.max_duration - 1e-9:
            self._end(t1, False, "time_limit")
        self.person_utterance = " ".join(self.utterances)
        return self.events.since(start)

    def _hear(self, message: Message, t: float) -> None:
        if not isinstance(message, Message):
            raise TypeError(
                f"expected a proassist.sim.messages.Message, got {type(message).__name__}"
            )
        step = message.step
        index = self.index.info[step].position if step in self.index.info else -1
        self.log(
            "assistant_message", t, intent=message.intent, step=step, text=message.text, index=index
        )
        self.person.hear(message, t)

    def _advance(self, t1: float) -> None:
        for _ in range(MAX_EVENTS_PER_STEP):
            if self.done:
                return
            act = self.person.activity
            ta = act.next_time() if act is not None else math.inf
            te = self._heap[0][0] if self._heap else math.inf
            if min(ta, te) > t1:
                return
            if te < ta:
                t, _, name, payload = heapq.heappop(self._heap)
                self.now = t
                self._handle(name, payload, t)
            else:
                self.now = ta
                if act.triggers and act.triggers[0][0] <= act.end:
                    self.person.fire_trigger(ta)
                else:
                    self.person.finish_activity(ta)
        raise RuntimeError(f"more than {MAX_EVENTS_PER_STEP} things happened in one step (bug)")

    def _handle(self, name: str, payload: Any, t: float) -> None:
        if name == "reaction":
            message, heard, delay = payload
            self.person.react(message, heard, delay, t)
        elif name == "deadline":
            self.deviations.deadline(payload, t)
        elif name == "selffix":
            self.deviations.self_fix(payload, t)
        elif name == "ask":
            self.person.ask(payload, t)

    def schedule(self, t: float, name: str, payload: Any) -> None:
        """Schedule ``name`` (reaction, deadline, selffix, ask) at time ``t``."""
        self._seq += 1
        heapq.heappush(self._heap, (float(t), self._seq, name, payload))

    def log(self, type: str, t: float, **fields: Any) -> dict[str, Any]:
        """Append an event at time ``t`` (see :mod:`proassist.sim.events`)."""
        return self.events.add(t, type, **fields)

    # ------------------------------------------------------------------ ending
    def finish(self, t: float) -> None:
        """The person believes they are done: judge success and end the episode."""
        hazards = [d for d in self.deviations.unresolved() if d.kind == "safety"]
        if hazards:
            self._end(t, False, "hazard")
        elif self.deviations.unresolved():
            self._end(t, False, "deviation_unrecovered")
        elif not self.world.goal_reached():
            self._end(t, False, "goal_not_met")
        else:
            self._end(t, True, "completed")

    def fail(self, t: float, reason: str) -> None:
        """End the episode as failed for ``reason``."""
        self._end(t, False, reason)

    def _end(self, t: float, success: bool, reason: str) -> None:
        if self.done:
            return
        self.done, self.success = True, success
        self.failure_reason = None if success else reason
        self.log("task_end", t, success=success, reason=reason, duration=t)

    # ------------------------------------------------------------------ queries
    def expected_window(self, step_id: str, dependents: int = 1) -> float:
        """Expected seconds from now until the ``dependents``-th step needing ``step_id`` ends.

        Counts the rest of the current activity, then the remaining non-optional steps
        in canonical order; with fewer dependents left, until the task's expected end.
        """
        p, idx = self.person, self.index
        act = p.activity
        rem = act.end - self.now if act is not None and math.isfinite(act.end) else 0.0
        rem = max(0.0, rem)
        deps = idx.dependents[step_id]
        current = act.step if act is not None and act.kind in ("step", "repeat") else None
        left = max(1, int(dependents)) - (current in deps)
        total = rem
        for sid in idx.required:
            if left <= 0:
                return total
            if sid in p.believed or sid == current:
                continue
            total += idx.info[sid].cost * self.profile.speed
            left -= sid in deps
        return total if left <= 0 else total + sum(WRAPUP) / 2

    def body(self) -> BodyState:
        """The person's body now (head, gaze, hands, held objects, object poses)."""
        if self.person is None:
            raise RuntimeError("call reset() before body()")
        return self.kinematics.body(self.time)

    def active_deviations(self) -> list[dict[str, Any]]:
        """Copies of the ``deviation`` events not yet resolved (privileged), each with its
        ``status``: ``"active"``, or ``"recovering"`` once the person is putting it right."""
        if self.person is None:
            return []
        return [
            copy.deepcopy(d.event) | {"status": d.status}
            for d in self.deviations.open()
            if d.event is not None
        ]

    def current_step(self) -> str | None:
        """The plan or recovery step being executed (privileged)."""
        act = self.person.activity if self.person is not None else None
        return act.step if act is not None else None

    def current_plan_step(self) -> str | None:
        """The plan step the person works on (privileged): the step being executed, or
        for a recovery step the plan step its deviation affected; ``None`` while idle,
        distracted, hesitating or wrapping up. What a perfect step recogniser reports."""
        act = self.person.activity if self.person is not None else None
        if act is None or act.kind not in ("step", "repeat", "recovery"):
            return None
        if act.kind == "recovery":
            return act.dev.step if act.dev is not None else None
        return act.step

    def completed_steps(self) -> list[str]:
        """Plan steps completed so far, in completion order (privileged)."""
        return list(self.world.done)

    @property
    def trust(self) -> float:
        """The person's current trust in the assistant (1 = full)."""
        return self.person.trust if self.person is not None else 1.0
