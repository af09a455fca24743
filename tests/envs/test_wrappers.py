"""Recording, video, clip buffer and privileged-info wrappers."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np

import proassist.envs  # noqa: F401
from proassist.envs.spaces import NO_STEP
from proassist.envs.wrappers import ClipBuffer, PrivilegedInfo, RecordEpisode, VideoRecorder

SILENT = {"decision": 0, "intent": 0, "step": NO_STEP, "text": ""}


def test_record_episode_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "ep.jsonl"
    env = RecordEpisode(
        gym.make("ProAssist-Kitchen-v0", render=False, max_duration=15.0), path, "silent"
    )
    env.reset(seed=0)
    done, n = False, 0
    while not done:
        _, _, term, trunc, _ = env.step(SILENT)
        done, n = term or trunc, n + 1
    env.close()
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["kind"] for x in lines].count("step") == n
    assert lines[-1]["kind"] == "episode"
    assert lines[-1]["record"]["events"][-1]["type"] == "task_end"


def test_video_has_frames_and_captions(tmp_path: Path) -> None:
    import imageio.v3 as iio

    path = tmp_path / "ep.mp4"
    env = VideoRecorder(
        gym.make("ProAssist-Kitchen-v0", render_mode="rgb_array", max_duration=6.0), path
    )
    env.reset(seed=0)
    speak = {"decision": 1, "intent": 0, "step": 0, "text": "Fill the kettle first."}
    done, n = False, 0
    while not done:
        _, _, term, trunc, _ = env.step(speak if n == 2 else SILENT)
        done, n = term or trunc, n + 1
    env.close()
    frames = iio.imread(path)
    assert frames.shape[0] == n + 1
    assert frames.shape[1] > 128 * 3 and frames.shape[2] == 128 * 3
    # the caption panel under the frame shows text right after the assistant spoke,
    # and nothing before anyone spoke
    assert frames[3, 128 * 3 + 20 :, :, :].max() > 100
    assert frames[0, 128 * 3 + 20 :, :, :].max() < 60


def test_clip_buffer_shifts_frames() -> None:
    env = ClipBuffer(gym.make("ProAssist-Kitchen-v0", max_duration=10.0), k=3)
    obs, _ = env.reset(seed=0)
    assert obs["clip"].shape == (3, 128, 128, 3)
    assert env.observation_space.contains(obs)
    first = obs["rgb"]
    obs, *_ = env.step(SILENT)
    assert np.array_equal(obs["clip"][1], first) and np.array_equal(obs["clip"][2], obs["rgb"])
    env.close()


def test_privileged_info_wrapper() -> None:
    env = PrivilegedInfo(gym.make("ProAssist-Kitchen-v0", render=False))
    _, info = env.reset(seed=0)
    assert "active_deviations" in info and "events_new" in info
    plain = gym.make("ProAssist-Kitchen-v0", render=False)
    _, info2 = plain.reset(seed=0)
    assert "active_deviations" not in info2
