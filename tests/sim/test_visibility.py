"""Every deviation kind is visible in rgb and segmentation between its onset and deadline.

Per registered kind: the same seed of a library task runs once with the kind scripted on
a step where it applies and once without deviations, under the silent policy. Inside
the deviation's window (onset to deadline, from the privileged event log) some frame
must differ from the same decision point of the run without it, in rgb and in
segmentation. Kinds that only add a fault predicate (measurement, setting, timing) must
also differ *because of the state drawing*: the same body pose rendered with and
without the fault predicate differs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from proassist.envs.proassist_env import ProAssistEnv
from proassist.scenarios.loader import load_scenario
from proassist.scenarios.model import DEVIATION_KINDS
from proassist.sim.deviations.base import applicable_steps
from proassist.sim.render.scene import Scene

TASK = "kitchen_tea"
SEED = 0
SIZE = 64
MODES = ("rgb", "segmentation")
SILENT = {"decision": 0, "intent": 0, "step": 0, "text": ""}
#: Kinds whose only world change is a fault predicate the renderer must draw.
DRAWN_KINDS = ("measurement", "setting", "timing")


def _env(script: list[dict[str, Any]]) -> ProAssistEnv:
    return ProAssistEnv(
        task=TASK,
        deviation_script=script,
        deviation_rates={},
        privileged=True,
        render=True,
        obs_modes=MODES,
        width=SIZE,
        height=SIZE,
    )


def _run(script: list[dict[str, Any]], until: float | None = None) -> dict[str, Any]:
    """Frames, times, events and (body, predicates) per decision point of one episode.

    Runs until the episode ends, or past ``until`` seconds, or (``until`` None and a
    script given) past the scripted deviation's deadline.
    """
    env = _env(script)
    obs, info = env.reset(seed=SEED)
    out: dict[str, Any] = {"frames": [], "times": [], "states": [], "events": []}
    done = False
    while True:
        out["frames"].append({m: obs[m].copy() for m in MODES})
        out["times"].append(float(obs["time"][0]))
        sim = env.unwrapped._sim
        out["states"].append((sim.body(), frozenset(sim.world.predicates)))
        out["events"] += info.get("events_new", [])
        dev = [e for e in out["events"] if e["type"] == "deviation"]
        limit = until if until is not None else (dev[0]["deadline"] if dev else None)
        if done or (limit is not None and out["times"][-1] > limit):
            break
        obs, _, term, trunc, info = env.step(SILENT)
        done = term or trunc
    env.close()
    return out


def _step_for(kind: str) -> str:
    steps = applicable_steps(kind, load_scenario(TASK).procedure)
    assert steps, f"{kind} applies to no step of {TASK}"
    return steps[0]


@pytest.fixture(scope="module")
def baseline() -> dict[str, Any]:
    return _run([], until=1e9)


@pytest.mark.parametrize("kind", list(DEVIATION_KINDS))
def test_kind_visible_between_onset_and_deadline(kind: str, baseline: dict[str, Any]) -> None:
    step = _step_for(kind)
    run = _run([{"kind": kind, "step": step}])
    devs = [e for e in run["events"] if e["type"] == "deviation"]
    assert devs, f"scripted {kind} on {step} never happened"
    onset, deadline = devs[0]["onset"], devs[0]["deadline"]
    window = [i for i, t in enumerate(run["times"]) if onset <= t <= deadline]
    window = [i for i in window if i < len(baseline["frames"])]
    assert window, f"{kind}: no decision point inside [{onset}, {deadline}]"
    for mode in MODES:
        diff = [i for i in window if _differs(run["frames"][i][mode], baseline["frames"][i][mode])]
        assert diff, f"{kind} on {step}: {mode} identical to the run without it in the window"
    if kind in DRAWN_KINDS:
        _assert_drawn(kind, step, run, window)


def _differs(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.any(a != b))


def _assert_drawn(kind: str, step: str, run: dict[str, Any], window: list[int]) -> None:
    """The same pose with and without ``fault_<kind>(<step>)`` renders differently."""
    sc = load_scenario(TASK)
    fault = f"fault_{kind}({step})"
    with Scene(SIZE, SIZE, modes=MODES) as scene:
        scene.load(sc.layout, sc.procedure.objects, sc.procedure.steps)
        hits = {m: 0 for m in MODES}
        for i in window:
            body, preds = run["states"][i]
            if fault not in preds:
                continue
            with_fault = scene.render(body, preds)
            without = scene.render(body, preds - {fault})
            for m in MODES:
                hits[m] += _differs(with_fault[m], without[m])
    for m in MODES:
        assert hits[m], f"{kind}: the fault predicate changes no {m} pixel in the window"


def test_indicator_ids_registered() -> None:
    sc = load_scenario(TASK)
    with Scene(SIZE, SIZE, modes=MODES) as scene:
        scene.load(sc.layout, sc.procedure.objects, sc.procedure.steps)
        ids = scene.segmentation_ids
    for name in ("kettle_fill", "mug_fill", "burner_knob", "burner_flame"):
        assert name in ids
    assert sorted(ids.values()) == list(range(len(ids)))


def test_scene_without_steps_keeps_ids() -> None:
    sc = load_scenario(TASK)
    with Scene(SIZE, SIZE, modes=MODES) as scene:
        scene.load(sc.layout, sc.procedure.objects)
        plain = dict(scene.segmentation_ids)
        scene.load(sc.layout, sc.procedure.objects, sc.procedure.steps)
        full = scene.segmentation_ids
    assert {k: full[k] for k in plain} == plain
