"""Shared helpers of the simulation tests (imported as ``sim_testkit``): scenarios, runner."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from proassist.scenarios import list_scenarios, load_scenario
from proassist.scenarios.model import Duration, Scenario, ScriptedDeviation
from proassist.sim.engine import Simulation
from proassist.sim.messages import Message

_CACHE: dict[str, Scenario] = {}


def scenario(name: str) -> Scenario:
    """A library scenario, loaded once per test session."""
    if name not in _CACHE:
        _CACHE[name] = load_scenario(name)
    return _CACHE[name]


#: Every task of the library (the property tests run over all of them).
TASKS: list[str] = list_scenarios()


def profile(sc: Scenario, **changes: Any) -> Any:
    """The scenario's person with ``changes`` (fixed 1 s reaction delay by default)."""
    changes.setdefault("reaction_delay", Duration(1.0, 0.0, 0.1))
    return dataclasses.replace(sc.person, **changes)


Policy = Callable[[Simulation, list[dict[str, Any]]], "Message | None"]


def run(
    sim: Simulation, policy: Policy | None = None, max_steps: int = 100_000
) -> list[dict[str, Any]]:
    """Reset and run ``sim`` to the end; ``policy(sim, new_events)`` may return a message."""
    new = sim.reset()
    for _ in range(max_steps):
        if sim.done:
            break
        msg = policy(sim, new) if policy is not None else None
        new = sim.step(msg)
    assert sim.done
    return sim.events.to_list()


def correct_at_onset(intent: str = "correct_deviation") -> Policy:
    """A policy that names the affected step of each deviation as soon as it is visible."""

    def policy(sim: Simulation, new: list[dict[str, Any]]) -> Message | None:
        for e in new:
            if e["type"] == "deviation":
                return Message(intent, e["step"])
        return None

    return policy


def scripted(name: str, kind: str, step: str, seed: int = 0, **profile_changes: Any) -> Simulation:
    """A simulation of task ``name`` with one scripted deviation and no random ones."""
    sc = scenario(name)
    return Simulation(
        sc,
        rng=np.random.default_rng(seed),
        deviation_rates={},
        script=[ScriptedDeviation(kind, step)],
        profile=profile(sc, **profile_changes),
    )


def of_type(events: list[dict[str, Any]], *types: str) -> list[dict[str, Any]]:
    """The events of the given types."""
    return [e for e in events if e["type"] in types]
