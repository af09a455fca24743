"""Benign variations (issue 10, item 6): a reordering of independent steps is not a
deviation, and an assistant that "corrects" it raises a false alarm."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sim_testkit import of_type, profile, run, scenario

from proassist.sim.engine import Simulation
from proassist.sim.messages import Message

TASKS = ("kitchen_tea", "kitchen_sandwich", "assembly_stool", "maintenance_bike_tyre")


def _sim(name: str, seed: int) -> Simulation:
    sc = scenario(name)
    # A low rationality makes non-canonical (but allowed) orders frequent.
    return Simulation(
        sc,
        rng=np.random.default_rng(seed),
        deviation_rates={},
        profile=profile(sc, rationality=0.2),
    )


def _variations() -> list[tuple[str, int, list[dict[str, Any]]]]:
    out = []
    for name in TASKS:
        for seed in range(8):
            events = run(_sim(name, seed), None)
            out += [(name, seed, events)] if of_type(events, "variation") else []
    return out


def test_reorderings_happen_are_allowed_and_are_not_deviations() -> None:
    found = _variations()
    assert len(found) >= 5
    for _, _, events in found:
        assert not of_type(events, "deviation")
        assert of_type(events, "task_end")[0]["success"]
        starts = [e for e in of_type(events, "step_start") if not e["recovery"]]
        for v in of_type(events, "variation"):
            assert v["kind"] == "reorder" and v["step"] != v["canonical"]
            first = next(e for e in starts if e["step"] == v["step"])
            assert first["t"] == v["t"]
            assert all(e["step"] != v["canonical"] or e["t"] > v["t"] for e in starts)


@pytest.mark.parametrize("case", range(3))
def test_correcting_a_reordering_is_a_false_alarm(case: int) -> None:
    name, seed, events = _variations()[case]
    v = of_type(events, "variation")[0]

    def policy(sim: Simulation, new: list[dict[str, Any]]) -> Message | None:
        if any(e["type"] == "variation" for e in new):
            return Message("correct_deviation", v["step"], "Wait, that is not right.")
        return None

    again = run(_sim(name, seed), policy)
    said = of_type(again, "assistant_message")
    assert said and said[0]["step"] == v["step"]
    reaction = next(r for r in of_type(again, "reaction") if r["message_t"] == said[0]["t"])
    assert reaction["verdict"] == "wrong" and reaction["trust"] < reaction["trust_before"]
