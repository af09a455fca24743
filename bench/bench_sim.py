"""Simulated decision steps per second of person + deviations, without rendering.

Runs whole episodes of a few library tasks with random deviations at the scenarios'
rates times a multiplier (so that deviations, recoveries and reactions do happen), an
assistant that corrects every deviation at onset, and reports steps per second and
the ratio to real time (steps/s × dt: how many times faster than the clock).
"""

from __future__ import annotations

import time

import numpy as np

TASKS: tuple[str, ...] = ("kitchen_tea", "assembly_stool", "maintenance_bike_tyre")


def _episode(scenario: object, seed: int, body: bool) -> int:
    from proassist.sim.engine import Simulation
    from proassist.sim.messages import Message

    rates = {k: 3.0 * p for k, p in scenario.deviations.rates.items()}
    sim = Simulation(scenario, rng=np.random.default_rng(seed), deviation_rates=rates)
    new, steps = sim.reset(), 0
    while not sim.done:
        dev = next((e for e in new if e["type"] == "deviation"), None)
        msg = Message("correct_deviation", dev["step"]) if dev is not None and seed % 2 else None
        new = sim.step(msg)
        if body:
            sim.body()
        steps += 1
    return steps


def _measure(quick: bool, body: bool) -> tuple[float, int]:
    from proassist.scenarios import load_scenario

    scenarios = [load_scenario(t) for t in TASKS]
    _episode(scenarios[0], 0, body)  # warm-up (imports, caches)
    episodes = 6 if quick else 40
    steps, t0 = 0, time.perf_counter()
    for i in range(episodes):
        steps += _episode(scenarios[i % len(scenarios)], i, body)
    return steps / (time.perf_counter() - t0), steps


def run(quick: bool = False) -> list[dict]:
    """Measure simulation throughput (see module docstring)."""
    dt = 0.5
    rate, steps = _measure(quick, body=False)
    rate_body, _ = _measure(quick, body=True)
    return [
        {
            "name": f"sim steps/s (person+deviations, {steps} steps, no render)",
            "value": f"{rate:,.0f} steps/s",
            "reference": f"real time: {1 / dt:.0f} steps/s",
            "ratio": f"{rate * dt:,.0f}x real time",
            "goal": ">= 1,000 steps/s",
        },
        {
            "name": "sim steps/s incl. BodyState every step",
            "value": f"{rate_body:,.0f} steps/s",
            "reference": f"{rate:,.0f} steps/s without body()",
            "ratio": f"{rate_body / rate:.2f}",
            "goal": ">= 1,000 steps/s",
        },
    ]
