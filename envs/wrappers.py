"""Wrappers: episode recording (JSONL), annotated video (MP4), clip buffer, privileged info."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from proassist.envs.overlay import annotate_frame


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 16 else f"<array {value.shape} {value.dtype}>"
    if isinstance(value, np.generic):
        return value.item()
    return value


class RecordEpisode(gym.Wrapper):
    """Append every step (action, reward, info) and each finished episode to JSONL.

    ``path`` gets one line per step ``{"kind": "step", ...}`` and, when an episode
    ends (or on ``close``/``reset`` of an unfinished one), one line
    ``{"kind": "episode", "record": <episode record>}`` with the full event log.
    """

    def __init__(self, env: gym.Env, path: str | Path, policy: str = "") -> None:
        super().__init__(env)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.policy = policy
        self._open = False

    def _write(self, line: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(_jsonable(line)) + "\n")

    def _flush_episode(self) -> None:
        if self._open:
            self._write(
                {"kind": "episode", "record": self.env.unwrapped.episode_record(self.policy)}
            )
            self._open = False

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Close the previous episode's record and start a new one."""
        self._flush_episode()
        obs, info = self.env.reset(**kwargs)
        self._open = True
        self._write({"kind": "reset", "seed": kwargs.get("seed"), "info": info})
        return obs, info

    def step(self, action: dict[str, Any]) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Step and record the action, reward and info."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._write(
            {
                "kind": "step",
                "action": action,
                "reward": reward,
                "terminated": terminated,
                "truncated": truncated,
                "info": info,
            }
        )
        if terminated or truncated:
            self._flush_episode()
        return obs, reward, terminated, truncated, info

    def close(self) -> None:
        """Write the unfinished episode, then close."""
        self._flush_episode()
        super().close()


class VideoRecorder(gym.Wrapper):
    """Write each episode as an MP4 (imageio) with utterances and a step progress bar.

    Frames come from ``env.render()`` (make the env with ``render_mode="rgb_array"``),
    upscaled by ``scale``; the person's utterances and the assistant's messages are
    drawn under the frame for ``hold`` seconds, with a bar of completed plan steps.
    """

    def __init__(
        self,
        env: gym.Env,
        path: str | Path,
        fps: int | None = None,
        scale: int = 3,
        hold: float = 3.0,
    ) -> None:
        super().__init__(env)
        if env.render_mode != "rgb_array":
            raise ValueError("VideoRecorder needs an env made with render_mode='rgb_array'")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fps = fps or int(round(1.0 / env.unwrapped.decision_dt))
        self.scale, self.hold = scale, hold
        self._writer: Any = None
        self._episode = 0
        self._captions: list[tuple[float, str, str]] = []

    def _episode_path(self) -> Path:
        if self._episode == 0:
            return self.path
        return self.path.with_name(f"{self.path.stem}-{self._episode}{self.path.suffix}")

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Finish the previous video and start a new one."""
        self._finish()
        obs, info = self.env.reset(**kwargs)
        import imageio.v2 as imageio

        self._writer = imageio.get_writer(
            self._episode_path(), fps=self.fps, codec="libx264", quality=7, macro_block_size=1
        )
        self._captions = []
        self._frame(obs)
        return obs, info

    def step(self, action: dict[str, Any]) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Step and append the annotated frame."""
        sim = self.env.unwrapped.simulation
        before = len(sim.events)
        out = self.env.step(action)
        for e in sim.events.since(before):
            if e["type"] == "assistant_message":
                self._captions.append((e["t"], "assistant", e.get("text") or e.get("intent", "")))
            elif e["type"] == "person_utterance":
                self._captions.append((e["t"], "person", e.get("text", "")))
        self._frame(out[0])
        if out[2] or out[3]:
            self._finish()
        return out

    def _frame(self, obs: Any) -> None:
        env = self.env.unwrapped
        sim = env.simulation
        now = sim.time
        captions = [(who, text) for t, who, text in self._captions if now - t <= self.hold]
        done, total = len(sim.completed_steps()), len(env.scenario.procedure.steps)
        frame = annotate_frame(
            self.env.render(), captions, done, total, now, env.scenario.procedure.title, self.scale
        )
        self._writer.append_data(frame)

    def _finish(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self._episode += 1

    def close(self) -> None:
        """Finish the video, then close."""
        self._finish()
        super().close()


class ClipBuffer(gym.ObservationWrapper):
    """Add ``clip``: the last ``k`` RGB frames (oldest first), k×H×W×3 uint8.

    At reset the clip is filled with copies of the first frame.
    """

    def __init__(self, env: gym.Env, k: int = 4) -> None:
        super().__init__(env)
        if "rgb" not in env.observation_space.spaces:
            raise ValueError("ClipBuffer needs 'rgb' in the env's obs_modes")
        if k < 1:
            raise ValueError(f"k must be >= 1; got {k}")
        self.k = k
        rgb = env.observation_space["rgb"]
        self.observation_space = spaces.Dict(
            {**env.observation_space.spaces, "clip": spaces.Box(0, 255, (k, *rgb.shape), np.uint8)}
        )
        self._frames: deque[np.ndarray] = deque(maxlen=k)

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset and fill the clip with the first frame."""
        obs, info = self.env.reset(**kwargs)
        self._frames.clear()
        for _ in range(self.k):
            self._frames.append(obs["rgb"])
        return self.observation(obs, append=False), info

    def observation(self, observation: dict[str, Any], append: bool = True) -> dict[str, Any]:
        """Append the new frame and return the observation with ``clip``."""
        if append:
            self._frames.append(observation["rgb"])
        return {**observation, "clip": np.stack(list(self._frames))}


class PrivilegedInfo(gym.Wrapper):
    """Turn on ground truth in ``info`` (``events_new``, ``active_deviations``...)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        env.unwrapped.privileged = True
