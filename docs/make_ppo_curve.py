"""Plot the PPO learning curve (README figure) from a ``proassist train --algo ppo`` run.

Usage: python docs/make_ppo_curve.py RUN_DIR docs/ppo_learning_curve.png

Three panels against the global step, each a rolling mean over ``WINDOW`` updates of
the training episodes that ended in them: the shaped return (the env's reward minus
the time term), the task success rate and the interruptions per minute. The dashed
line is the silent assistant in the same env on ``SILENT_EPISODES`` training seeds per
domain (a reference for the return and the success rate).
"""

from __future__ import annotations

import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from proassist.policies.learned.rl_env import (  # noqa: E402
    DOMAIN_ENVS,
    TRAIN_SEED_BASE,
    ProAssistSpeakEnv,
)

WINDOW = 25
SILENT_EPISODES = 300
PANELS = (
    ("episode_return", "shaped return"),
    ("success_rate", "task success"),
    ("interruptions_per_min", "interruptions / min"),
)


def silent_reference() -> dict[str, float]:
    """The silent assistant's mean return and success in the speak env."""
    rows = []
    for env_id in DOMAIN_ENVS:
        env = ProAssistSpeakEnv(env_id)
        for seed in range(TRAIN_SEED_BASE, TRAIN_SEED_BASE + SILENT_EPISODES):
            env.reset(seed=seed)
            done = False
            while not done:
                _, _, term, trunc, info = env.step(0)
                done = term or trunc
            rows.append((info["episode_return"], info["episode_success"]))
    ret, success = np.mean(rows, axis=0)
    return {"episode_return": float(ret), "success_rate": float(success)}


def _rolling(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Episode-weighted rolling mean over ``WINDOW`` updates (NaN rows skipped)."""
    ok = ~np.isnan(values)
    num = np.convolve(np.where(ok, values * weights, 0.0), np.ones(WINDOW), "valid")
    den = np.convolve(np.where(ok, weights, 0.0), np.ones(WINDOW), "valid")
    return num / np.maximum(den, 1e-9)


def main(run_dir: str, out: str) -> None:
    """Draw the three panels and save ``out``."""
    with open(f"{run_dir}/progress.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    steps = np.array([float(r["global_step"]) for r in rows])
    weights = np.array([float(r["episodes"] or 0) for r in rows])
    reference = silent_reference()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    for ax, (key, label) in zip(axes, PANELS, strict=True):
        values = np.array([float(r[key]) if r[key] else np.nan for r in rows])
        ax.plot(steps[WINDOW - 1 :] / 1e6, _rolling(values, weights), color="C0")
        ax.axhline(reference.get(key, 0.0), color="0.4", ls="--", lw=1, label="silent")
        ax.set_xlabel("env steps (millions)")
        ax.set_title(label)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right")
    fig.suptitle("PPO on the when-to-speak decision (training episodes, seeds >= 1,000,000)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(out, {k: round(v, 3) for k, v in reference.items()})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
