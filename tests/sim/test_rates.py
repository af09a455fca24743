"""Random deviation frequencies match the configured rates (chi-square at fixed seeds)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sim_testkit import TASKS, of_type, run, scenario

from proassist.sim.engine import Simulation

EPISODES = 300


def _counts(kind: str, rate: float, error_proneness: float = 1.0) -> tuple[int, int, int]:
    """Opportunities, occurrences and logged deviations over short episodes."""
    opp = occ = logged = 0
    for seed in range(EPISODES):
        sc = scenario(TASKS[seed % len(TASKS)])
        sc = dataclasses.replace(
            sc, deviations=dataclasses.replace(sc.deviations, max_random=10**6)
        )
        person = dataclasses.replace(sc.person, error_proneness=error_proneness)
        sim = Simulation(
            sc,
            rng=np.random.default_rng(seed),
            deviation_rates={kind: rate},
            script=[],
            profile=person,
            max_duration=90.0,
        )
        events = run(sim)
        opp += sim.deviations.opportunities[kind]
        occ += sim.deviations.occurrences[kind]
        logged += len(of_type(events, "deviation"))
        assert {e["kind"] for e in of_type(events, "deviation")} <= {kind}
    return opp, occ, logged


def _pvalue(opp: int, occ: int, p: float) -> float:
    from scipy.stats import chisquare

    return float(chisquare([occ, opp - occ], [opp * p, opp * (1 - p)]).pvalue)


@pytest.mark.parametrize("kind", ["omission", "repetition", "hesitation", "measurement"])
def test_random_frequency_matches_rate(kind: str) -> None:
    opp, occ, logged = _counts(kind, 0.1)
    assert opp >= 200, f"too few {kind} opportunities ({opp}) for a meaningful test"
    assert _pvalue(opp, occ, 0.1) > 1e-3, (opp, occ)
    assert _pvalue(opp, occ, 0.2) < 1e-3  # the test can tell rates apart
    assert 0 < logged <= occ  # an onset may fall after the 90 s limit


def test_error_proneness_multiplies_the_rate() -> None:
    opp, occ, _ = _counts("repetition", 0.05, error_proneness=2.0)
    assert _pvalue(opp, occ, 0.1) > 1e-3
    assert _pvalue(opp, occ, 0.05) < 1e-3


def test_deviation_kinds_restricts_random_kinds() -> None:
    sc = scenario("kitchen_tea")
    for seed in range(10):
        sim = Simulation(
            sc,
            rng=np.random.default_rng(seed),
            deviation_rates=dict.fromkeys(sc.deviations.rates, 0.5),
            deviation_kinds=["timing", "setting"],
            script=[],
        )
        events = run(sim)
        assert {e["kind"] for e in of_type(events, "deviation")} <= {"timing", "setting"}
        assert sum(sim.deviations.opportunities.values()) == sum(
            sim.deviations.opportunities[k] for k in ("timing", "setting")
        )
