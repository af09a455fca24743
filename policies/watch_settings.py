"""The settings of the step watchers (:mod:`proassist.policies.stepwatch`): one list,
imported by the policy and by the commands that tune or train it."""

from __future__ import annotations

__all__ = ["WATCH_DEFAULTS", "WATCH_SETTINGS"]

#: The settings of a :class:`~proassist.policies.stepwatch.DependencyWatch` (its keyword
#: arguments but ``gate``).
WATCH_SETTINGS: tuple[str, ...] = (
    "confidence",
    "sustain",
    "worked",
    "repeat",
    "remind",
    "listen",
    "quiet",
    "ready",
    "hold",
    "hazard",
    "floor",
    "again",
    "wait",
    "insist",
    "skip",
    "recent",
)

#: :class:`~proassist.policies.stepwatch.DependencyWatch` settings of ``stepwatch`` when its
#: checkpoint names none (and its frame rules' switches).
WATCH_DEFAULTS: dict[str, float] = {
    "confidence": 0.6,
    "sustain": 2,
    "worked": 0.5,
    "repeat": 0.0,
    "remind": 4.0,
    "listen": True,
    "quiet": 0.0,
    "ready": True,
    "hold": 10.0,
    "hazard": True,
    "floor": 0.0,
    "again": 1.0,
    "wait": 0.0,
    "insist": 3.0,
    "skip": 0.0,
    "recent": False,
    "place": True,
    "effects": False,
    "attend": True,
    "regrasp": True,
    "grasp": True,
    "grasp_theta": 0.1,
    "unseen_bias": 0.75,
    "gate": False,
    "companion": False,
}
