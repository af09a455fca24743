"""The wait rule: a timed step left before its wait was up."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proassist.policies.stepwatch import DependencyWatch, one_hot
from proassist.policies.waitwatch import WAIT_FLOOR, WaitWatch

DT = 0.5
PLAN = [
    {"id": "a", "duration_mean": 4.0},
    {"id": "b", "after": ["a"], "duration_mean": 10.0, "min_time": 10.0},
    {"id": "c", "after": ["b"], "duration_mean": 4.0},
]


def _left(seq: list[int | None], wait: float) -> list[tuple[int, int]]:
    """Reference: (point, step) where the recognised steps first move on from a timed
    step worked on (one point = ``DT`` s) for a share of its wait in [floor, wait)."""
    min_time = [float(s.get("min_time") or 0.0) for s in PLAN]
    out, done, worked, prev = [], set(), [0.0] * len(PLAN), None
    for i, cur in enumerate(seq):
        if cur is not None:
            worked[cur] += DT
        if cur is None or cur == prev:
            continue
        k, prev = prev, cur
        if k is None or k in done or not min_time[k]:
            continue
        done.add(k)
        if WAIT_FLOOR <= worked[k] / min_time[k] < wait:
            out.append((i, k))
    return out


def _push(watch: WaitWatch, seq: list[int | None]) -> list[tuple[int, int]]:
    worked, got = np.zeros(len(PLAN)), []
    for i, cur in enumerate(seq):
        if cur is not None:
            worked[cur] += DT
        k = watch.push(cur, worked)
        if k is not None:
            got.append((i, k))
    return got


def test_a_wait_cut_short_is_named_when_the_next_step_starts() -> None:
    seq = [0] * 8 + [1] * 10 + [None] * 2 + [2]  # 5 s of a 10 s wait, then step c
    assert _push(WaitWatch(PLAN, wait=0.8), seq) == [(20, 1)]


@pytest.mark.parametrize(
    "seq",
    [
        [0] * 8 + [1] * 18 + [2],  # 9 s of 10: long enough at wait 0.8
        [0] * 8 + [1] * 4 + [2],  # 2 s: under the floor, a flicker
        [0] * 8 + [1] * 10 + [None] * 6,  # never moved on to another step
        [0] * 4 + [2],  # an untimed step left early
    ],
)
def test_what_is_not_a_wait_cut_short(seq: list[int | None]) -> None:
    assert _push(WaitWatch(PLAN, wait=0.8), seq) == []


def test_only_the_first_time_a_step_is_left_counts() -> None:
    seq = [1] * 18 + [2] + [1] + [0]  # left after 9 s, back for a point, left again
    assert _push(WaitWatch(PLAN, wait=0.8), seq) == []


def test_off_and_bad_arguments() -> None:
    assert _push(WaitWatch(PLAN, wait=0.0), [1] * 10 + [2]) == []
    with pytest.raises(ValueError, match="wait >= 0"):
        WaitWatch(PLAN, wait=-0.1)
    with pytest.raises(ValueError, match="wait >= 0"):
        DependencyWatch(PLAN, wait=-0.5)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([None, 0, 1, 2]), min_size=1, max_size=60),
    st.sampled_from([0.5, 0.8, 1.0]),
)
def test_fires_match_the_reference(seq: list[int | None], wait: float) -> None:
    assert _push(WaitWatch(PLAN, wait), seq) == _left(seq, wait)


@pytest.mark.parametrize("wait", [0.0, 0.8])
def test_dependency_watch_names_a_wait_cut_short(wait: float) -> None:
    watch = DependencyWatch(PLAN, DT, sustain=2, worked=0.5, wait=wait)
    stream = [0] * 8 + [1] * 12 + [2] * 4  # 6 s of b: worked on (half of 10 s)
    said = [(i, watch.observe(one_hot(3, s))) for i, s in enumerate(stream)]
    named = [(i, k) for i, k in said if k is not None]
    if wait == 0.0:
        assert named == []
    else:  # c recognised at its second point (sustain 2): b had 6 s of its 10 s wait
        assert named == [(21, 1)] and watch.intent == "correct_deviation"


def test_the_plan_given_to_assistants_has_each_steps_wait() -> None:
    from proassist.envs.records import plan_entries
    from proassist.scenarios.loader import load_scenario

    plan = plan_entries(load_scenario("kitchen_tea"))
    waits = {s["id"]: s["min_time"] for s in plan}
    assert waits["boil_water"] == 15.0 and waits["get_mug"] == 0.0
    assert all(isinstance(v, float) for v in waits.values())
