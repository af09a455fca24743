"""Deviation kind mixes: category frequencies of real error datasets as ``deviation_rates``.

A *mix* says how often each error category occurs (counts or shares); a *mapping*
says which deviation kind(s) stand for each category. :func:`rates_from_mix` turns
the two into per-kind rates that sum to a chosen per-step error probability, ready
for ``gym.make(..., deviation_rates=...)`` or a task's ``deviations.rates``::

    from proassist.scenarios.mixes import captaincook4d_rates

    env = gym.make("ProAssist-Kitchen-v0", deviation_rates=captaincook4d_rates(0.15),
                   max_random_deviations=None)

A rate is the probability of a kind at each step where the kind applies (times the
person's ``error_proneness``), so the realised mix also depends on how many steps of a
task each kind applies to; at most one random deviation is planned per step.

CaptainCook4D (Peddi et al., "CaptainCook4D: A Dataset for Understanding Errors in
Procedural Activities", NeurIPS 2024 Datasets and Benchmarks; arXiv 2312.14556):
:data:`CAPTAINCOOK4D_COUNTS` are the step segments labelled with each error category
in ``annotation_csv/error_annotations.csv`` of github.com/CaptainCook4D/annotations
(commit a8a920a): 5700 step segments of 384 recordings, 1964 with at least one error
(a segment may carry several categories). The recordings with errors were planned by
the participants, so the dataset's error share per step (0.34) is an upper bound, not
a natural rate; ``per_step`` sets the overall level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from proassist.scenarios.model import DEVIATION_KINDS

#: CaptainCook4D error category -> step segments labelled with it (see module docstring).
CAPTAINCOOK4D_COUNTS: dict[str, int] = {
    "Preparation Error": 394,
    "Measurement Error": 331,
    "Order Error": 794,
    "Timing Error": 177,
    "Technique Error": 498,
    "Temperature Error": 65,
    "Missing Step": 285,
    "Other": 8,
}

#: Step segments in the CaptainCook4D error annotations, and those with an error.
CAPTAINCOOK4D_STEPS, CAPTAINCOOK4D_STEPS_WITH_ERRORS = 5700, 1964

#: CaptainCook4D category -> the ProAssist kind(s) that stand for it ("Other" has none).
CAPTAINCOOK4D_KINDS: dict[str, tuple[str, ...]] = {
    "Preparation Error": ("substitution",),  # wrong ingredient or tool prepared
    "Measurement Error": ("measurement",),
    "Order Error": ("order",),
    "Timing Error": ("timing",),
    "Technique Error": ("placement",),  # technique/placement (DESIGN.md taxonomy)
    "Temperature Error": ("setting",),
    "Missing Step": ("omission",),
}


def rates_from_mix(
    frequencies: Mapping[str, float],
    kinds: Mapping[str, str | tuple[str, ...] | list[str]],
    per_step: float = 0.1,
) -> dict[str, float]:
    """Per-kind rates whose shares follow ``frequencies`` and that sum to ``per_step``.

    ``rate[kind] = per_step * sum(f[c] / n_kinds(c) for categories c mapped to kind)
    / sum(f[c] for mapped categories c)``; a category mapped to several kinds is split
    evenly among them; categories without a mapping are left out.

    Args:
        frequencies: Category -> count or share (>= 0).
        kinds: Category -> a registered deviation kind or a sequence of them.
        per_step: Total probability per step, in [0, 1].

    Returns:
        Kind -> rate (kinds in registration order), usable as ``deviation_rates``.

    Raises:
        ValueError: On a negative or non-finite frequency, ``per_step`` outside [0, 1],
            an unknown kind, or no mapped category with a positive frequency.
    """
    if not 0.0 <= float(per_step) <= 1.0:
        raise ValueError(f"per_step must be in [0, 1], got {per_step!r}")
    weights: dict[str, float] = {}
    for cat, f in frequencies.items():
        if not math.isfinite(float(f)) or float(f) < 0:
            raise ValueError(f"frequency of {cat!r} must be a finite number >= 0, got {f!r}")
        targets = (kinds[cat],) if isinstance(kinds.get(cat), str) else tuple(kinds.get(cat, ()))
        for kind in targets:
            if kind not in DEVIATION_KINDS:
                raise ValueError(f"category {cat!r} maps to unknown deviation kind {kind!r}")
            weights[kind] = weights.get(kind, 0.0) + float(f) / len(targets)
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("no mapped category has a positive frequency")
    return {k: per_step * weights[k] / total for k in DEVIATION_KINDS if k in weights}


def captaincook4d_rates(per_step: float = 0.1) -> dict[str, float]:
    """Rates with CaptainCook4D's error category mix (``Other`` left out).

    Args:
        per_step: Total probability of an execution error per step, in [0, 1].

    Returns:
        Kind -> rate for substitution, measurement, order, timing, placement, setting
        and omission.
    """
    return rates_from_mix(CAPTAINCOOK4D_COUNTS, CAPTAINCOOK4D_KINDS, per_step)
