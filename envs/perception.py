"""Perception noise on the segmentation channel, and the perception label of a result.

The ``segmentation`` observation is a perfect object-identity sensor: every object has
its own id, even a look-alike substitute (the task's ``alternatives``) that the rgb
frame barely tells apart. A policy that reads it has *privileged perception*, and its
results say so (``record["perception"] == "privileged"``). ``perception_noise`` makes
the sensor honest (issue 10, item 7):

``{"confuse": p, "miss": q}`` (both in ``[0, 1]``, each optional, default 0): per
rendered frame and per visible *object* (fixtures are large and never confused),

- with probability ``q`` the object is **missed**: its pixels read ``-1`` (nothing);
- otherwise, when it has look-alikes, with probability ``p`` it is **confused**: its
  pixels carry the id of one of its look-alikes, chosen uniformly.

Look-alikes are symmetric: ``a`` lists ``b`` in ``alternatives`` makes each the other's
look-alike. The draws come from a generator spawned from the env's ``np_random`` at
reset, only when noise is on, so a noiseless env draws exactly as before and the same
seed gives the same noisy frames. rgb and depth are never changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "PERCEPTION_KEYS",
    "check_perception_noise",
    "lookalikes",
    "perception_label",
    "perturb_segmentation",
]

#: Keys of ``perception_noise``.
PERCEPTION_KEYS: tuple[str, ...] = ("confuse", "miss")


def check_perception_noise(value: Any) -> list[tuple[tuple[Any, ...], str]]:
    """Problems of a ``perception_noise`` value (``None`` or a mapping of probabilities)."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [((), f"must be null or a mapping with keys {list(PERCEPTION_KEYS)}, got {value!r}")]
    out: list[tuple[tuple[Any, ...], str]] = []
    for key, p in value.items():
        if key not in PERCEPTION_KEYS:
            out.append(((key,), f"unknown key {key!r}; expected {list(PERCEPTION_KEYS)}"))
        elif isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            out.append(((key,), f"must be a probability in [0, 1], got {p!r}"))
    return out


def perception_label(noise: Mapping[str, float] | None) -> str:
    """``"privileged"`` without noise, else ``"noisy(confuse=p, miss=q)"``."""
    conf, miss = (float((noise or {}).get(k, 0.0)) for k in PERCEPTION_KEYS)
    if conf == 0.0 and miss == 0.0:
        return "privileged"
    return f"noisy(confuse={conf:g}, miss={miss:g})"


def lookalikes(objects: Iterable[Any], seg_ids: Mapping[str, int]) -> dict[int, tuple[int, ...]]:
    """Segmentation id -> ids of its look-alikes (symmetric ``alternatives``)."""
    pairs: dict[int, set[int]] = {}
    for obj in objects:
        for alt in getattr(obj, "alternatives", ()) or ():
            a, b = seg_ids.get(obj.id), seg_ids.get(alt)
            if a is None or b is None or a == b:
                continue
            pairs.setdefault(a, set()).add(b)
            pairs.setdefault(b, set()).add(a)
    return {k: tuple(sorted(v)) for k, v in pairs.items()}


def perturb_segmentation(
    seg: np.ndarray,
    object_ids: frozenset[int],
    alikes: Mapping[int, tuple[int, ...]],
    noise: Mapping[str, float],
    rng: np.random.Generator,
) -> np.ndarray:
    """A noisy copy of ``seg`` (module docstring); three draws per visible object."""
    confuse, miss = (float(noise.get(k, 0.0)) for k in PERCEPTION_KEYS)
    out = seg.copy()
    for oid in np.unique(seg).tolist():
        if oid not in object_ids:
            continue
        u_miss, u_conf, u_pick = rng.random(3)
        mask = seg == oid
        if u_miss < miss:
            out[mask] = -1
        elif oid in alikes and u_conf < confuse:
            choices = alikes[oid]
            out[mask] = choices[min(len(choices) - 1, int(u_pick * len(choices)))]
    return out
