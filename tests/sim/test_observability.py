"""Deviations a camera can see: paired silent episodes, same seed, with and without one
scripted deviation, must give identical frames before its onset and different frames
within the 2 s correction window after it (else no camera-based assistant could
correct it in time, and the oracle's score would be out of reach by construction)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import proassist.envs  # noqa: F401  (registers the ids)
from proassist.policies.base import silent_action
from proassist.scenarios import load_scenario
from proassist.sim.deviations.base import applicable_steps
from proassist.sim.gold import GoldConfig

WINDOW = GoldConfig().deviation_late  # the correction counts within this long after the onset


def _frames(task: str, script: list | None) -> tuple[dict[float, np.ndarray], float | None]:
    kwargs = {"task": task, "deviation_rates": {}, "width": 64, "height": 64}
    env = gym.make("ProAssist-v0", privileged=True, deviation_script=script, **kwargs)
    obs, info = env.reset(seed=0)
    frames, onset, done = {}, None, False
    while not done:
        frames[round(float(obs["time"][0]), 3)] = obs["rgb"].astype(np.int16)
        obs, _, term, trunc, info = env.step(silent_action())
        for event in info["events_new"]:
            if event["type"] == "deviation" and onset is None:
                onset = float(event.get("onset", event["t"]))
        done = term or trunc
    env.close()
    return frames, onset


@pytest.mark.parametrize(
    ("task", "kind"),
    [
        ("kitchen_tea", "setting"),  # burner knob and flame: shown from the onset
        ("kitchen_sandwich", "setting"),  # toaster knob
        ("kitchen_tea", "omission"),
        ("assembly_stool", "order"),
        ("maintenance_bike_tyre", "distraction"),
    ],
)
def test_a_deviation_changes_the_frames_within_its_window(task: str, kind: str) -> None:
    steps = applicable_steps(kind, load_scenario(task).procedure)
    base, _ = _frames(task, None)
    dev, onset = _frames(task, [{"kind": kind, "step": steps[len(steps) // 2]}])
    assert onset is not None
    shared = [t for t in dev if t in base]
    before = [t for t in shared if t < onset - 1e-6]
    window = [t for t in shared if onset - 1e-6 <= t <= onset + WINDOW]
    changed = [int((np.abs(dev[t] - base[t]).max(-1) > 40).sum()) for t in window]
    assert before and all(np.array_equal(dev[t], base[t]) for t in before)
    assert window and max(changed) >= 3, changed  # pixels of 64x64 that changed


def test_a_phone_distraction_turns_the_person_away_from_the_worktop() -> None:
    """Looking at a phone is not looking at the next fixture along the counter: the
    person turns from the worktop and the working hands leave the view."""
    from proassist.policies.duplex.cue_tracker import perceive
    from proassist.policies.rollout import env_info
    from proassist.sim.render.indicators import segment_owners

    script = [{"kind": "distraction", "step": "fill_kettle"}]
    env = gym.make("ProAssist-Kitchen-v0", task="kitchen_tea", deviation_rates={}, width=64,
                   height=64, obs_modes=("rgb", "segmentation"), privileged=True,
                   deviation_script=script)  # fmt: skip
    obs, info = env.reset(seed=1)
    info_ep = env_info(env)
    names, fixtures = segment_owners(info_ep["segmentation_ids"]), frozenset(info_ep["fixtures"])
    onset, hands, done = None, [], False
    while not done and (onset is None or float(obs["time"][0]) <= onset + WINDOW):
        obs, _, term, trunc, info = env.step(silent_action())
        done = term or trunc
        for event in info["events_new"]:
            if event["type"] == "deviation":
                assert event["params"]["target"] == "phone"
                onset = float(event["onset"])
        if onset is not None:
            hands.append(perceive(obs, names, fixtures).hands)
    env.close()
    assert onset is not None and len(hands) >= 4
    assert hands[0] or hands[1]  # still at work when it starts...
    assert not any(hands[-2:])  # ...turned away, hands out of view, within the window
