"""The degraded step-oracle: ``lag`` and ``noise`` (policies/step_oracle.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proassist.policies import make_policy
from proassist.policies.step_oracle import StepOraclePolicy

PLAN = [
    {"id": "a", "after": [], "optional": False},
    {"id": "b", "after": ["a"], "optional": False},
    {"id": "c", "after": ["b"], "optional": False},
]
TRUE = [None, 0, 0, 1, 1, 1, 2, None, 2, 2]


def _reports(
    lag: float = 0.0, noise: float = 0.0, seed: int = 0, truth=TRUE, run: float = 0.0
) -> list:
    policy = StepOraclePolicy(place=False, attend=False, lag=lag, noise=noise, noise_run=run)
    policy.reset(env_info={"plan": PLAN, "dt": 0.5}, seed=seed)
    return [policy.reported(s) for s in truth]


def test_without_lag_or_noise_it_reports_the_true_step() -> None:
    assert _reports() == TRUE


@pytest.mark.parametrize("lag, points", [(0.5, 1), (1.0, 2), (2.0, 4), (0.7, 1)])
def test_lag_reports_the_true_step_of_lag_seconds_ago(lag: float, points: int) -> None:
    assert _reports(lag=lag) == [None] * points + TRUE[: len(TRUE) - points]


def test_noise_one_never_reports_the_true_step_and_always_a_candidate() -> None:
    truth = TRUE * 30
    got = _reports(noise=1.0, truth=truth)
    assert all(g != t for g, t in zip(got, truth, strict=True))
    assert set(got) == {None, 0, 1, 2}


@given(st.integers(0, 2**31), st.floats(0.05, 0.5))
@settings(max_examples=20, deadline=None)
def test_noise_is_seeded_and_wrong_at_about_its_rate(seed: int, noise: float) -> None:
    truth = TRUE * 200
    got = _reports(noise=noise, seed=seed, truth=truth)
    assert got == _reports(noise=noise, seed=seed, truth=truth)  # same seed, same reports
    wrong = np.mean([g != t for g, t in zip(got, truth, strict=True)])
    assert abs(wrong - noise) < 5 * np.sqrt(noise * (1 - noise) / len(truth))


@pytest.mark.parametrize("run, points", [(1.5, 3), (2.0, 4)])
def test_errors_come_in_runs_of_noise_run_seconds_at_the_noise_share(
    run: float, points: int
) -> None:
    shares, lengths = [], []
    for seed in range(5):
        wrong = np.array(
            [g != 0 for g in _reports(noise=0.2, seed=seed, truth=[0] * 4000, run=run)]
        )
        shares.append(wrong.mean())
        edges = np.flatnonzero(np.diff(np.r_[0, wrong.astype(int), 0]))
        lengths += list((edges[1::2] - edges[::2])[:-1])  # wrong runs (back to back: merged)
    assert abs(np.mean(shares) - 0.2) < 0.025  # about 3 standard errors
    assert len(lengths) > 500 and all(n % points == 0 for n in lengths)


def test_another_seed_gives_other_errors() -> None:
    truth = TRUE * 20
    assert _reports(noise=0.3, seed=1, truth=truth) != _reports(noise=0.3, seed=2, truth=truth)


def test_a_late_report_delays_the_dependency_correction() -> None:
    obs = {"time": np.zeros(1), "utterance": ""}
    said = {}
    for lag in (0.0, 1.0):
        policy = make_policy("step-oracle", place=False, attend=False, remind=0.0, lag=lag)
        policy.reset(env_info={"plan": PLAN, "dt": 0.5}, seed=0)
        decisions = [policy.act(obs, {"current_plan_step": s})["decision"] for s in "bbbbb"]
        said[lag] = decisions.index(1)  # b started before a: "do a first"
    assert said == {0.0: 0, 1.0: 2}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lag": -1.0},
        {"noise": 1.5},
        {"noise": -0.1},
        {"noise_run": -1.0},
        {"during": "sometimes"},
        {"expect": -1.0},
    ],
)
def test_bad_lag_or_noise_is_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="lag >= 0, noise_run >= 0, expect >= 0, 0 <= noise <= 1"):
        StepOraclePolicy(**kwargs)


def test_sustain_ignores_a_single_wrong_report() -> None:
    obs = {"time": np.zeros(1), "utterance": ""}
    spoke = {}
    for sustain in (1, 2):
        policy = make_policy("step-oracle", place=False, attend=False, sustain=sustain)
        policy.reset(env_info={"plan": PLAN, "dt": 0.5}, seed=0)
        spoke[sustain] = [policy.act(obs, {"current_plan_step": s})["decision"] for s in "baa"]
    assert spoke == {1: [1, 0, 0], 2: [0, 0, 0]}  # b (needs a) seen once: said only at once
    with pytest.raises(ValueError, match="sustain >= 1"):
        StepOraclePolicy(sustain=0).reset(env_info={"plan": PLAN, "dt": 0.5}, seed=0)


def test_during_deviations_degrades_only_while_one_is_open() -> None:
    """``during="deviations"``: the true step wherever no deviation is open; there, the
    step of ``lag`` seconds ago (or an error run) as with ``during="always"``."""
    policy = StepOraclePolicy(place=False, attend=False, lag=1.0, during="deviations")
    policy.reset(env_info={"plan": PLAN, "dt": 0.5}, seed=0)
    opened = [False, False, False, True, True, False, True, True, False, False]
    got = [policy.reported(s, degrade) for s, degrade in zip(TRUE, opened, strict=True)]
    late = [None, None, *TRUE[:-2]]  # the true step of 1 s ago
    assert got == [late[i] if o else TRUE[i] for i, o in enumerate(opened)]
    noisy = StepOraclePolicy(place=False, attend=False, noise=1.0, during="deviations")
    noisy.reset(env_info={"plan": PLAN, "dt": 0.5}, seed=0)
    truth = TRUE * 20
    shut = [noisy.reported(s, False) for s in truth]
    assert shut == truth  # never wrong while none is open
    assert all(noisy.reported(s, True) != s for s in truth)  # always wrong while one is


def test_during_deviations_reads_the_open_deviations_in_act() -> None:
    obs = {"time": np.zeros(1), "utterance": ""}
    said = {}
    for opened in (False, True):
        policy = make_policy(
            "step-oracle", place=False, attend=False, remind=0.0, lag=1.0, during="deviations"
        )
        policy.reset(env_info={"plan": PLAN, "dt": 0.5}, seed=0)
        info = {"current_plan_step": "b", "active_deviations": [{"id": 1}] if opened else []}
        decisions = [policy.act(obs, info)["decision"] for _ in range(5)]
        said[opened] = decisions.index(1)  # b started before a: "do a first"
    assert said == {False: 0, True: 2}  # late only where the person left the plan


@pytest.mark.parametrize(
    "dev, planned",
    [
        ({"kind": "omission", "step": "a", "related_steps": []}, "a"),  # a skipped
        ({"kind": "order", "step": "b", "related_steps": ["a"]}, "a"),  # b before a
        ({"kind": "distraction", "step": "b", "related_steps": []}, None),  # not plan order
    ],
)
def test_expect_reports_the_planned_step_after_an_onset(dev: dict, planned: str | None) -> None:
    """``expect``: a plan-biased recogniser names the step the plan expected for
    ``expect`` seconds after an omission or order error opens, then the truth; the
    rule hears no violation meanwhile and counts the expected step as worked on."""
    obs = {"time": np.zeros(1), "utterance": ""}
    policy = make_policy("step-oracle", place=False, attend=False, remind=0.0, expect=1.0)
    policy.reset(env_info={"plan": PLAN, "dt": 0.5}, seed=0)
    opened = [{**dev, "onset": 2.0}]
    spoke, named = [], []
    for i in range(8):
        t = 2.0 + 0.5 * i
        info = {"current_plan_step": "b", "time": t, "active_deviations": opened}
        assert policy.expected(info) == (planned if i < 2 else None)
        spoke.append(policy.act(obs, info)["decision"])
        named.append(policy.watch.current)
    if planned is None:
        assert spoke[0] == 1  # b needs a, never worked on: at once
    else:
        assert named[:2] == [0, 0] and named[2] == 1  # a (planned), then b (done)
        assert not any(spoke)  # a counts as worked on: the order error is masked
    assert StepOraclePolicy().expect == 0.0  # off by default
