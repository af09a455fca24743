"""One voice for the step watchers' rules: which rule speaks at a decision point.

``step-oracle`` and ``stepwatch`` (:mod:`proassist.policies.stepwatch`) run the same
rules over a :class:`~proassist.policies.stepwatch.DependencyWatch`, which holds what
they share (the steps worked on, the step recognised as under way, the last step
named, what the person said). :func:`respond` is one decision point:

1. the person's reply is heard (:meth:`DependencyWatch.hear`), and the steps whose
   effect :class:`~proassist.policies.placewatch.PlacementWatch` sees (its ``credit``)
   count as worked on;
2. the dependency rule (a missing ``after`` step, a passed-over safety step, a
   repetition) speaks first; then, if on, the grasp rule
   (:class:`~proassist.policies.graspwatch.GraspWatch`: a step's own object in the
   hands before a step it needs);
3. else the placement rule (:class:`~proassist.policies.placewatch.PlacementWatch`;
   with it, the repetition rule: the object the step under way carries is taken up
   again after it was put down);
4. else the attention rule (:class:`~proassist.policies.attendwatch.AttentionWatch`),
   which sees every frame (its stillness test compares consecutive points) but keeps
   quiet within :data:`REPLY_S` seconds of any message and while the person asked for
   quiet. After a re-engagement, replies for :data:`REPLY_S` seconds answer it, not the
   last correction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from proassist.policies.attendwatch import AttentionWatch, next_step
from proassist.policies.base import make_action, observation_time, silent_action
from proassist.policies.duplex.components import utterance_for
from proassist.policies.placewatch import PlacementWatch

if TYPE_CHECKING:
    from proassist.policies.graspwatch import GraspWatch
    from proassist.policies.learned.steps import Counts
    from proassist.policies.stepwatch import DependencyWatch

__all__ = [
    "REPLY_S",
    "credit_effects",
    "frame_rules",
    "naming",
    "respond",
    "resume_step",
    "watch_attention",
    "watch_places",
]

#: Seconds after a message in which the attention rule keeps quiet and a reply is
#: taken to answer it (the person answers about 1 s after a message).
REPLY_S: float = 2.0


def frame_rules(
    plan: list[dict[str, Any]],
    env_info: dict[str, Any],
    place: bool,
    attend: bool,
    regrasp: bool = True,
    credit: bool = False,
) -> tuple[PlacementWatch | None, AttentionWatch | None]:
    """A new episode's placement (with ``regrasp``, its repetition rule; with ``credit``,
    the steps whose effect is seen) and attention rules (None where off)."""
    places = PlacementWatch(plan, env_info, regrasp=regrasp, credit=credit) if place else None
    return places, AttentionWatch(env_info) if attend else None


def naming(plan: list[dict[str, Any]], k: int, intent: str = "correct_deviation") -> dict[str, Any]:
    """The ``intent`` action (a correction by default) naming plan step ``k`` with its
    instruction."""
    text = utterance_for(intent, str(plan[k].get("instruction", plan[k]["id"])))
    return make_action(intent, k, text)


def resume_step(watch: DependencyWatch) -> int | None:
    """The plan step to get a person back to by what ``watch`` counts as worked on,
    counted from :meth:`DependencyWatch.resume_after`
    (:func:`~proassist.policies.attendwatch.next_step`); None when all were."""
    return next_step(watch.plan, watch.worked_on(), watch.resume_after())


def watch_places(
    places: PlacementWatch | None, watch: DependencyWatch, observation: dict[str, Any]
) -> int | None:
    """The plan step to name for a misplaced object (:class:`PlacementWatch`), or None."""
    if places is None:
        return None
    seg, depth = _frames(observation)
    k = places.observe(seg, depth, watch.current, watch.worked_on())
    if k is not None:
        watch.named = None  # a reply to it is not about a missing step
    return k


def credit_effects(
    places: PlacementWatch | None, watch: DependencyWatch, observation: dict[str, Any]
) -> None:
    """Count as worked on the plan steps whose effect :class:`PlacementWatch` sees now
    (its ``credit``; nothing when off)."""
    if places is not None and places.effects:
        for k in places.credits(*_frames(observation)):
            watch.credit(k)


def _frames(observation: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The segmentation and depth frames the placement rule reads."""
    if "segmentation" not in observation or "depth" not in observation:
        raise ValueError(
            "the placement rule reads segmentation and depth: make the env with obs_modes "
            "including 'segmentation' and 'depth'"
        )
    return observation["segmentation"], observation["depth"]


def watch_attention(
    attention: AttentionWatch | None,
    watch: DependencyWatch,
    observation: dict[str, Any],
    quiet: bool = False,
) -> int | None:
    """The plan step to re-engage the person with (:class:`AttentionWatch`), or None.

    Args:
        attention: The attention rule (None: off).
        watch: The shared watch (steps worked on, current step, last message, quiet).
        observation: This point's observation (``segmentation``, ``time``).
        quiet: Another rule speaks at this point: only let the rule see the frame.

    Raises:
        ValueError: Without a ``segmentation`` frame.
    """
    if attention is None:
        return None
    if "segmentation" not in observation:
        raise ValueError(
            "the attention rule reads segmentation: make the env with obs_modes "
            "including 'segmentation'"
        )
    now = watch.t
    quiet = quiet or now < watch.mute_until - 1e-9 or now - watch.spoke_at < REPLY_S - 1e-9
    seg, t = observation["segmentation"], observation_time(observation)
    worked, after = watch.worked_on(), watch.resume_after()
    k = attention.observe(seg, t, worked, watch.plan, watch.current, quiet=quiet, after=after)
    if k is not None:
        watch.named = None  # a reply to it is not about a missing step
        watch.deaf_until = now + REPLY_S
    return k


def respond(
    watch: DependencyWatch,
    places: PlacementWatch | None,
    attention: AttentionWatch | None,
    probs: np.ndarray,
    observation: dict[str, Any],
    grasp: tuple[GraspWatch, Counts] | None = None,
    worked: np.ndarray | None = None,
) -> dict[str, Any]:
    """One decision point of a step watcher (module docstring): its action.

    Args:
        watch: The dependency rule and the state the rules share.
        places: The placement rule (None: off).
        attention: The attention rule (None: off).
        probs: This point's candidate probabilities (plan steps, then *none*).
        observation: This point's observation.
        grasp: The grasp rule and this frame's pixel counts (None: off); it speaks
            after the dependency rule, before the placement rule.
        worked: The probabilities time worked on accrues from
            (:meth:`DependencyWatch.observe`; None: ``probs``).
    """
    watch.hear(str(observation.get("utterance", "") or ""))
    credit_effects(places, watch, observation)
    k = watch.observe(probs, worked)
    intent = watch.intent if k is not None else "correct_deviation"
    if grasp is not None:  # every point: its streaks count frames in a row
        named = grasp[0].observe(grasp[1], probs, watch, quiet=k is not None)
        k = named if k is None else k
    if k is None:
        k = watch_places(places, watch, observation)
    again = watch_attention(attention, watch, observation, quiet=k is not None)
    if k is None and again is not None:
        k, intent = again, "re_engage"
    if k is None:
        return silent_action()
    watch.spoke_at = watch.t
    return naming(watch.plan, k, intent)
