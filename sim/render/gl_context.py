"""The headless OpenGL context of the ``gl`` renderer (moderngl on EGL), on a chosen device.

On a CPU-only machine the only EGL device (0) is Mesa's llvmpipe; on a GPU machine each
GPU is one device. ``PROASSIST_EGL_DEVICE`` (or ``create_context(device_index=...)``)
picks one, e.g. to spread a sweep's processes across the GPUs of a machine.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = [
    "EGL_DEVICE_VAR",
    "INSTALL_HINT",
    "create_context",
    "gpu_context_made",
    "note_gpu_context",
]

INSTALL_HINT = (
    "renderer='gl' needs moderngl (`pip install moderngl`) and the system's EGL and Mesa "
    "libraries (Debian/Ubuntu: `apt-get install -y libegl1 libgl1-mesa-dri`, or `make setup` "
    "as root); renderer='pybullet' works without them"
)

#: Environment variable naming the EGL device (GPU) index each process draws on.
EGL_DEVICE_VAR = "PROASSIST_EGL_DEVICE"

#: The renderers this process drew on that were, or may have been, a GPU driver.
_GPU_RENDERERS: set[str] = set()


def gpu_context_made() -> bool:
    """Whether this process drew on a GPU driver (not Mesa's llvmpipe), or may have
    (pybullet's EGL renderer plugin: :func:`note_gpu_context`).

    A process forked from such a one may hang in its own driver set-up (seen on an
    NVIDIA H200: fork-started vector envs in a process that had drawn did not finish in
    260 s; spawned, the same run took 100 s), so vector envs then spawn their workers.
    """
    return bool(_GPU_RENDERERS)


def note_gpu_context(renderer: str) -> None:
    """Record that this process drew on ``renderer``, a GPU driver or one that may be
    (pybullet's EGL renderer plugin does not report which driver it got), so that
    :func:`gpu_context_made` says so."""
    _GPU_RENDERERS.add(str(renderer))


def _device_index(device_index: int | None) -> int:
    """``device_index``, else :data:`EGL_DEVICE_VAR`'s value, else 0."""
    if device_index is not None:
        return int(device_index)
    told = os.environ.get(EGL_DEVICE_VAR, "").strip()
    if not told:
        return 0
    try:
        return int(told)
    except ValueError:
        raise ValueError(
            f"{EGL_DEVICE_VAR}={told!r}: expected a device index (0, 1, ...)"
        ) from None


def create_context(device_index: int | None = None) -> Any:
    """A standalone headless moderngl context on EGL.

    Unless ``LP_NUM_THREADS`` is set, sets it to 0 first: llvmpipe then rasterises in
    the drawing thread. With rasteriser threads, a process forked from one holding a
    context (``AsyncVectorEnv``'s default start method) hangs when it creates its own.
    Measured on 2 cores against 2 threads: 12 % faster at 64 px, 9 % at 128, 11 %
    slower at 224 (set ``LP_NUM_THREADS=2`` for large frames in a single process). A
    GPU driver ignores the variable.

    Args:
        device_index: The EGL device to draw on (one per GPU; on a CPU-only machine
            the only one, 0, is llvmpipe). ``None``: the ``PROASSIST_EGL_DEVICE``
            environment variable, else 0. Spread the processes of a sweep across the
            GPUs of a machine by giving each its own value.

    Raises:
        ImportError: moderngl is not installed (names what to install).
        ValueError: ``PROASSIST_EGL_DEVICE`` is not an integer.
        RuntimeError: No EGL context could be created on that device (names the system
            packages, and the device asked for when it is not 0).
    """
    try:
        import moderngl
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    index = _device_index(device_index)
    os.environ.setdefault("LP_NUM_THREADS", "0")
    try:
        ctx = moderngl.create_standalone_context(backend="egl", device_index=index)
    except Exception as exc:  # glcontext raises plain Exceptions
        which = f" on EGL device {index} ({EGL_DEVICE_VAR})" if index else ""
        raise RuntimeError(f"no EGL OpenGL context{which} ({exc}); {INSTALL_HINT}") from exc
    renderer = str(ctx.info.get("GL_RENDERER", ""))
    if "llvmpipe" not in renderer.lower():
        note_gpu_context(renderer)
    return ctx
