"""How many torch threads the learned interaction model's inference uses.

One decision is a tiny forward pass (the newest frame through the frame encoder, a
short clip through the temporal model): splitting such small ops across threads costs
more in wake-ups and contention than it saves, and an env (pybullet) or other workers
usually share the cores. ``python -m bench threads`` measures it: on the 2-core
development machine, quiet, ``policy.act`` of the learned duplex took a median 1.48 ms
with torch's default (2 threads) vs 1.34 ms with one; shared with other jobs (load ~5)
107 ms vs 1.6 ms, and ``act`` + ``env.step`` 117 ms vs 9.9 ms (OpenMP workers wait on
a descheduled thread). So inference uses :data:`DEFAULT_INFERENCE_THREADS` per process
(sweeps get their parallelism from processes) unless the user chose:

* ``num_threads=`` of :class:`~proassist.policies.learned.interaction.LearnedInteractionModel`;
* else the ``PROASSIST_TORCH_THREADS`` environment variable;
* else ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS``, which torch already follows (left alone).

A count of ``0`` leaves torch's setting as it is (e.g. after ``torch.set_num_threads``).
numpy only until :func:`apply_inference_threads` runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = [
    "DEFAULT_INFERENCE_THREADS",
    "THREADS_ENV",
    "apply_inference_threads",
    "inference_threads",
]

#: Torch intra-op threads of learned inference when the user chose none.
DEFAULT_INFERENCE_THREADS: int = 1
#: Environment variable that sets them (``0``: leave torch's setting alone).
THREADS_ENV: str = "PROASSIST_TORCH_THREADS"
#: Variables through which the user already set torch's threads.
USER_THREAD_VARS: tuple[str, ...] = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _count(value: int | str, source: str) -> int:
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{source} must be a thread count >= 0, got {value!r}") from None
    if count < 0:
        raise ValueError(f"{source} must be a thread count >= 0, got {value!r}")
    return count


def inference_threads(
    requested: int | None = None, environ: Mapping[str, str] | None = None
) -> int | None:
    """The thread count learned inference should set, or ``None`` to leave torch alone.

    Args:
        requested: The caller's choice (``0``: leave alone); ``None`` looks further.
        environ: The environment to read (default ``os.environ``).

    Returns:
        ``requested``, else ``PROASSIST_TORCH_THREADS``, else ``None`` when
        ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` is set, else
        :data:`DEFAULT_INFERENCE_THREADS`; a count of 0 gives ``None``.

    Raises:
        ValueError: On a negative or non-integer count.
    """
    env = os.environ if environ is None else environ
    if requested is not None:
        count = _count(requested, "num_threads")
    elif env.get(THREADS_ENV, "").strip():
        count = _count(env[THREADS_ENV].strip(), THREADS_ENV)
    elif any(env.get(var, "").strip() for var in USER_THREAD_VARS):
        return None
    else:
        count = DEFAULT_INFERENCE_THREADS
    return count or None


def apply_inference_threads(requested: int | None = None) -> int:
    """Set torch's intra-op threads as :func:`inference_threads` says.

    Args:
        requested: As for :func:`inference_threads`.

    Returns:
        The number of threads torch uses now.
    """
    from proassist.policies.learned import require_torch

    torch = require_torch()
    count = inference_threads(requested)
    if count is not None and torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return int(torch.get_num_threads())
