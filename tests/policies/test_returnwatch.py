"""The return rule: a step recognised again right after it ran its course."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proassist.policies.returnwatch import RETURN_GAP, ReturnWatch
from proassist.policies.stepwatch import DependencyWatch, one_hot

DT = 0.5


def _returns(seq: list[int | None], duration: list[float], again: float) -> list[tuple[int, int]]:
    """Reference: (point, step) where a run of ``step`` starts that is a return, from
    the run-length encoding of ``seq`` (the offline analysis the rule came from)."""
    runs, i = [], 0
    for v, g in itertools.groupby(seq):
        n = len(list(g))
        runs.append((v, i, n))
        i += n
    out = []
    for b, (v, start, _) in enumerate(runs):
        before = [(j, r) for j, r in enumerate(runs[:b]) if r[0] == v]
        if v is None or not before:
            continue
        j, (_, s0, n0) = before[-1]
        away = (start - (s0 + n0)) * DT
        lo, hi = RETURN_GAP
        if n0 * DT >= again * duration[v] and lo <= away <= hi:
            out.append((start, v))
    return out


def test_a_step_taken_up_again_after_its_duration_is_a_return() -> None:
    watch = ReturnWatch(np.array([2.0, 3.0]), DT, again=1.0)
    for cur in [0] * 4 + [None, None] + [0]:  # 2 s of step 0, 1 s away, step 0 again
        watch.push(cur)
    assert watch.returned(0) and not watch.returned(1)
    watch.push(0)
    assert watch.returned(0), "the whole run of the return counts"
    watch.push(1)
    assert not watch.returned(0)


@pytest.mark.parametrize(
    "seq",
    [
        [0] * 3 + [None, None] + [0],  # first run too short (1.5 s of 2 s)
        [0] * 4 + [None] + [0],  # away 0.5 s: flicker inside the step
        [0] * 4 + [1] * 7 + [0],  # away 3.5 s: a later step back at it
        [1] * 4 + [None, None] + [0],  # step 0 never ran before
    ],
)
def test_what_is_not_a_return(seq: list[int | None]) -> None:
    watch = ReturnWatch(np.array([2.0, 2.0]), DT, again=1.0)
    for cur in seq:
        watch.push(cur)
    assert not watch.returned(seq[-1])


def test_off_and_bad_arguments() -> None:
    watch = ReturnWatch(np.array([2.0]), DT, again=0.0)
    for cur in [0] * 8 + [None, None] + [0]:
        watch.push(cur)
    assert not watch.returned(0)
    with pytest.raises(ValueError, match="again >= 0"):
        ReturnWatch(np.array([2.0]), DT, again=-1.0)
    with pytest.raises(ValueError, match="again >= 0"):
        DependencyWatch([{"id": "a", "duration_mean": 2.0}], again=-0.5)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([None, 0, 1, 2]), min_size=1, max_size=60),
    st.sampled_from([0.5, 1.0, 1.5]),
)
def test_returns_match_the_run_length_reference(seq: list[int | None], again: float) -> None:
    duration = [1.0, 2.0, 3.0]
    watch = ReturnWatch(np.array(duration), DT, again)
    got = []
    for i, cur in enumerate(seq):
        watch.push(cur)
        if cur is not None and watch.run[1] == 1 and watch.returned(cur):
            got.append((i, cur))
    assert got == _returns(seq, duration, again)


def _plan() -> list[dict]:
    return [
        {"id": "a", "duration_mean": 2.0},
        {"id": "b", "after": ["a"], "duration_mean": 2.0},
    ]


@pytest.mark.parametrize("again", [0.0, 1.0])
def test_dependency_watch_names_a_returned_step_once(again: float) -> None:
    watch = DependencyWatch(_plan(), DT, sustain=2, worked=0.5, again=again)
    stream = [0] * 6 + [None] * 2 + [0] * 4 + [None] * 2 + [0] * 4
    said = [watch.observe(one_hot(2, s)) for s in stream]
    named = [(i, k) for i, k in enumerate(said) if k is not None]
    if again == 0.0:
        assert named == []
    else:  # recognised from the second point of the new run (sustain 2)
        assert named == [(9, 0)] and watch.intent == "correct_deviation"
