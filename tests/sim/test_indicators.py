"""Fault indicators show a wrong amount or a cut-short wait by its *look*, never by being
there at all: a dry target's right amount and a run-out timer are drawn too, from the
same moments as the faulty ones (twenty-fifth round; before, a dry ``<object>_fill``
segment or a timer dial in view was a perfectly precise fault detector)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import pytest

import proassist.envs  # noqa: F401  (registers the ids)
from proassist.policies.base import silent_action
from proassist.scenarios import load_scenario
from proassist.scenarios.model import parse_predicate
from proassist.sim.render.indicators import IndicatorView, fault_targets


def _view(task: str) -> IndicatorView:
    sc = load_scenario(task)
    p = sc.procedure
    return IndicatorView(fault_targets(p.steps, sc.layout, p.objects), sc.layout)


def _on(view: IndicatorView, *preds: str) -> frozenset[tuple[str, str]]:
    objs = [*view.targets.amount.values(), *(t[0] for t in view.targets.timing.values())]
    shown: dict[str, set[str]] = {o: set() for o in objs}
    view.update([parse_predicate(p) for p in sorted(preds)], shown)
    return view.on


def test_a_dry_amount_done_right_shows_its_fill_and_a_wrong_one_another() -> None:
    view = _view("assembly_stool")  # count_screws: screws_4mm, a dry target
    assert ("screws_4mm", "fill_ok") not in _on(view)
    assert ("screws_4mm", "fill_ok") in _on(view, "done(count_screws)")
    wrong = _on(view, "done(count_screws)", "fault_measurement(count_screws)")
    assert ("screws_4mm", "fill_low") in wrong and ("screws_4mm", "fill_ok") not in wrong
    again = _on(view, "done(count_screws)", "fault_repetition(count_screws)")
    assert ("screws_4mm", "fill_high") in again and ("screws_4mm", "fill_ok") not in again


def test_the_right_amount_shows_while_the_step_is_worked_as_a_wrong_one_does() -> None:
    view = _view("assembly_stool")
    _on(view)
    assert ("screws_4mm", "fill_ok") in view.looks("count_screws")
    assert ("screws_4mm", "fill_ok") not in view.looks("tighten_screws")
    assert view.looks(None) == view.on
    _on(view, "fault_measurement(count_screws)")  # the onset: operating with a wrong amount
    assert ("screws_4mm", "fill_ok") not in view.looks("count_screws")


def test_a_liquid_amount_is_its_liquid_not_a_second_fill() -> None:
    view = _view("kitchen_tea")
    assert not any(look == "fill_ok" for _, look in _on(view, "done(fill_kettle)"))
    assert view.looks("fill_kettle") == view.on


def test_a_wait_run_out_shows_a_timer_and_a_cut_short_one_its_other_hand() -> None:
    view = _view("assembly_stool")  # tighten_screws: a wait on the seat with no steam or tea
    assert not any(obj == "seat" for obj, _ in _on(view))
    assert ("seat", "timer_done") in _on(view, "done(tighten_screws)")
    short = _on(view, "done(tighten_screws)", "fault_timing(tighten_screws)")
    assert ("seat", "timer") in short and ("seat", "timer_done") not in short


def _fill_frames(task: str, script: list[dict[str, Any]], obj: str) -> dict[float, bool]:
    """Per decision time of a silent episode: whether ``<obj>_fill`` pixels are in view."""
    env = gym.make("ProAssist-v0", task=task, deviation_rates={}, deviation_script=script,
                   privileged=True, obs_modes=("segmentation",), width=64, height=64)  # fmt: skip
    obs, info = env.reset(seed=0)
    fill = env.unwrapped._scene.segmentation_ids[f"{obj}_fill"]
    out, done = {}, False
    while not done:
        out[round(float(obs["time"][0]), 3)] = bool((obs["segmentation"] == fill).any())
        obs, _, term, trunc, info = env.step(silent_action())
        done = term or trunc
    env.close()
    return out


@pytest.mark.parametrize(
    ("task", "step", "obj"),
    [("assembly_stool", "count_screws", "screws_4mm"), ("kitchen_salad", "dress_salad", "bowl")],
)
def test_a_dry_fill_comes_into_view_no_later_right_than_wrong(
    task: str, step: str, obj: str
) -> None:
    right = _fill_frames(task, [], obj)
    wrong = _fill_frames(task, [{"kind": "measurement", "step": step}], obj)
    first = [min((t for t, seen in run.items() if seen), default=None) for run in (right, wrong)]
    # the wrong amount's smaller disc may hide a frame longer under the hand: its size
    # tells, its presence does not
    assert first[0] is not None and first[1] is not None and first[0] <= first[1]
    assert sum(right.values()) >= 4  # more than a glimpse: the content stays on the target
