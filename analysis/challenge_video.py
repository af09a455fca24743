"""The egocentric videos of challenge sessions: each episode's observations as an MP4.

:func:`render_session_video` rebuilds a recorded episode (its ``env_id``, ``seed`` and
every recorded env argument, :func:`proassist.analysis.replay.replay_kwargs`) with
pixels on, feeds it the record's ``decisions`` and writes the ``rgb`` observation of
every decision point, i.e. exactly the frames an assistant acting at those points saw
(frame ``k`` is the observation the record's ``decisions[k]`` answered, at sim time
``decisions[k].t``). Only the resolution may differ from the recorded run: the
renderer draws the same scene at any size, and the sim never depends on it. The
regenerated event log must equal the recorded one
(:func:`~proassist.analysis.replay.compare_replay`), otherwise :class:`ReplayError` and
no file is written.

Video format: H.264 (libx264, ``yuv420p``, so width and height must be even) through
imageio-ffmpeg, ``fps = 1 / dt`` (2 fps at the default 0.5 s decision step), one video
frame per decision point, no overlay. The quality (1-10, imageio's scale; default 7 =
constant rate factor 15, as :class:`~proassist.envs.wrappers.VideoRecorder`) keeps the
mean absolute error of a decoded frame against the observation at about 1.5 grey levels
(128x128; mostly the ``yuv420p`` chroma subsampling: lossless ``--quality 10`` gets 1.4).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from proassist.analysis.replay import ReplayError

__all__ = [
    "DEFAULT_QUALITY",
    "ReplayError",
    "check_resolution",
    "record_resolution",
    "render_session_video",
    "render_session_videos",
]

#: imageio's quality scale (1-10) for libx264: 7 is ``-crf 15``.
DEFAULT_QUALITY: int = 7
#: The env's default frame size, used for records without ``width``/``height``.
DEFAULT_SIZE: int = 128


def record_resolution(record: Mapping[str, Any]) -> tuple[int, int]:
    """``(width, height)`` of the record's observations (the env default when unrecorded)."""
    kw = record.get("env_kwargs") or {}
    return int(kw.get("width") or DEFAULT_SIZE), int(kw.get("height") or DEFAULT_SIZE)


def check_resolution(width: int, height: int) -> None:
    """Raise ``ValueError`` unless ``width x height`` is a valid, even frame size."""
    from proassist.envs.arguments import MAX_SIZE, MIN_SIZE

    for name, v in (("width", width), ("height", height)):
        if not MIN_SIZE <= v <= MAX_SIZE or v % 2:
            raise ValueError(
                f"video {name} must be an even integer in [{MIN_SIZE}, {MAX_SIZE}] "
                f"(H.264 yuv420p), got {v}"
            )


def _make_env(record: Mapping[str, Any], width: int, height: int) -> Any:
    import gymnasium as gym

    import proassist.envs  # noqa: F401  (registers the ids)
    from proassist.analysis.replay import replay_kwargs

    kwargs = replay_kwargs(record) | {"width": width, "height": height, "obs_modes": ["rgb"]}
    try:
        return gym.make(str(record["env_id"]), render=True, **kwargs)
    except (ValueError, TypeError, KeyError, gym.error.Error) as exc:
        why = " ".join(str(exc).split())
        raise ReplayError(f"cannot rebuild the recorded env {record['env_id']}: {why}") from exc


def _frame_writer(env: Any, writer: Any) -> Any:
    """``env`` wrapped so that every observation an assistant acts on goes to ``writer``.

    That is the reset observation and the observation after each step except the last
    (the episode is over there: nobody acts on it).
    """
    import gymnasium as gym

    class FrameWriter(gym.Wrapper):
        def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
            obs, info = self.env.reset(**kwargs)
            writer.append_data(obs["rgb"])
            return obs, info

        def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
            out = self.env.step(action)
            if not (out[2] or out[3]):
                writer.append_data(out[0]["rgb"])
            return out

    return FrameWriter(env)


def render_session_video(
    record: Mapping[str, Any],
    path: str | Path,
    resolution: tuple[int, int] | None = None,
    quality: int = DEFAULT_QUALITY,
) -> dict[str, Any]:
    """Replay ``record`` and write its observations to the MP4 ``path`` (module docstring).

    Args:
        record: An episode record (CONTRACTS.md §5).
        path: The MP4 to write (folders are created); written to a temporary file
            first and moved there only when the replay reproduces the record.
        resolution: ``(width, height)``; default the recorded observation size.
        quality: imageio's libx264 quality, 1-10.

    Returns:
        ``{"path", "n_frames", "fps", "resolution"}``.

    Raises:
        ReplayError: The episode cannot be rebuilt or the replay differs from it.
        ValueError: A resolution that is not even or out of range.
    """
    import imageio.v2 as imageio

    from proassist.analysis.replay import _check_record, _run_decisions, compare_replay

    _check_record(record)
    width, height = resolution or record_resolution(record)
    check_resolution(width, height)
    fps = 1.0 / float(record.get("dt") or 0.5)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.part{path.suffix or '.mp4'}")
    env = _make_env(record, width, height)
    try:
        writer = imageio.get_writer(
            tmp, format="FFMPEG", fps=fps, codec="libx264", quality=quality, macro_block_size=1
        )
        try:
            replayed = _run_decisions(_frame_writer(env, writer), record)
        finally:
            writer.close()
        compare_replay(record, replayed)
        os.replace(tmp, path)
    finally:
        env.close()
        tmp.unlink(missing_ok=True)
    n = len(record["decisions"])
    return {"path": str(path), "n_frames": n, "fps": fps, "resolution": [width, height]}


def _job(args: tuple[Mapping[str, Any], Path, tuple[int, int] | None, int]) -> dict[str, Any]:
    return render_session_video(*args)


def render_session_videos(
    records: Sequence[Mapping[str, Any]],
    paths: Sequence[str | Path],
    resolution: tuple[int, int] | None = None,
    quality: int = DEFAULT_QUALITY,
    workers: int = 1,
) -> Iterator[dict[str, Any]]:
    """Render ``records[i]`` to ``paths[i]`` (:func:`render_session_video`), in order.

    Args:
        records: Episode records.
        paths: One MP4 path per record.
        resolution: ``(width, height)`` for all; default each record's own.
        quality: imageio's libx264 quality, 1-10.
        workers: Worker processes (fork); 1 renders in this process.

    Yields:
        Each video's summary, in record order.
    """
    jobs = [(r, Path(p), resolution, quality) for r, p in zip(records, paths, strict=True)]
    if workers <= 1 or len(jobs) <= 1:
        yield from map(_job, jobs)
        return
    import multiprocessing as mp

    with mp.get_context("fork").Pool(min(workers, len(jobs))) as pool:
        yield from pool.imap(_job, jobs)
