"""Build docs/renderers.png: the same states drawn by the pybullet and the gl renderer.

Usage: python docs/make_renderer_sheet.py docs/renderers.png

One silent episode per domain task (seed 0); the frame at 40 % of the episode is drawn
by both renderers from the same body state and world (rows: pybullet, gl; columns:
tasks), rgb and segmentation (random colours per id).
"""

from __future__ import annotations

import sys

import gymnasium as gym
import numpy as np
from PIL import Image

import proassist.envs  # noqa: F401  (registers the ids)
from proassist.policies import make_policy
from proassist.sim.render.scene import Scene

TASKS = ("kitchen_tea", "assembly_stool", "maintenance_bike_tyre")
SIZE = 224


def _state(task: str) -> tuple[object, object, frozenset]:
    """(scenario, body state, predicates) at 40 % of a silent episode."""
    env = gym.make("ProAssist-v0", task=task, render=False)
    obs, _ = env.reset(seed=0)
    policy, states = make_policy("silent"), []
    done = False
    while not done:
        sim = env.unwrapped.simulation
        states.append((sim.body(), frozenset(sim.world.predicates)))
        obs, _, term, trunc, _ = env.step(policy.act(obs))
        done = term or trunc
    scenario = env.unwrapped.scenario
    env.close()
    body, preds = states[int(0.4 * len(states))]
    return scenario, body, preds


def _segmentation_colours(seg: np.ndarray) -> np.ndarray:
    palette = np.random.default_rng(0).integers(40, 255, size=(4096, 3), dtype=np.uint8)
    out = palette[np.clip(seg, 0, 4095)]
    out[seg < 0] = 0
    return out


def main(out: str) -> None:
    """Render every task with both renderers and paste the tiles into one sheet."""
    rows = []
    for renderer in ("pybullet", "gl"):
        tiles = []
        for task in TASKS:
            scenario, body, preds = _state(task)
            scene = Scene(SIZE, SIZE, modes=("rgb", "segmentation"), renderer=renderer)
            p = scenario.procedure
            scene.load(scenario.layout, p.objects, p.steps)
            frames = scene.render(body, preds)
            scene.close()
            tiles.append(
                np.concatenate([frames["rgb"], _segmentation_colours(frames["segmentation"])], 1)
            )
        rows.append(np.concatenate(tiles, 1))
    Image.fromarray(np.concatenate(rows, 0)).save(out, optimize=True)
    print(out, rows[0].shape)


if __name__ == "__main__":
    main(sys.argv[1])
