"""Attention watching: catch the person drifting off-task the moment the view settles.

A **distraction** takes the person's eyes off the task: they turn to their phone or to
the window and stay there (15-40 s in this testbed). A head camera sees that plainly,
and sees it at once: the view holds still while neither hand nor any object is in its
central window. While working, the hands are in view, or an object is, or the head
moves. :class:`AttentionWatch` is that rule over the segmentation stream:

- a point is *idle* when the frame's entity pixel counts changed by less than
  ``change`` of the frame since the last point (the view holds still), the hands fill
  less of the central window than :func:`~proassist.policies.duplex.cue_tracker.perceive`
  counts as working there, and no object (a task's or any other) shows there;
- the first idle point of a run says ``re_engage`` naming the step the person should
  get back to (:func:`next_step`: the first non-optional step after the furthest one
  worked on, from a :class:`~proassist.policies.stepwatch.DependencyWatch`), the step
  a distraction interrupts in this testbed (the person turns away between steps);
  unless the step recognised as under way is done at the fixture the view settled on
  (scanning a wall, reading a gauge: some steps are done looking with the hands down);
- once per run: the watch says nothing more until the view moves or a hand or object
  comes back, then it is armed again; with ``remind``, it says it again every
  ``remind`` seconds of the same idle run (0: never);
- it sees nothing without segmentation ids (a blind assistant).

It never reads the deviations. A *hesitation* (the person looks around from fixture
to fixture, hands down) moves the view, so this rule leaves it to others: within the
2 s a detection has, it looks like walking to the next step. Measured on recorded
silent streams (seeds 900000-900059 of the three domain envs, 52 distractions; scratch
analysis in ``policies/checkpoints/steps/README.md``): it fires within 2 s of 96 % of
the distractions' onsets and 0.07 times a minute outside every attention deviation
(0.23 without the under-way condition, 0.05 with "no step under way" at all, which
misses a quarter of the distractions: a learned recogniser holds on to the last step);
it names the right step at 81 % with `stepwatch`'s recogniser (62 % with the first
step not worked on) and 88 % with the true steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from proassist.policies.duplex.cue_tracker import Percept, perceive, task_fixtures
from proassist.sim.render.indicators import segment_owners

__all__ = ["AttentionWatch", "next_step"]


def next_step(plan: list[dict[str, Any]], worked: set[int], after: int | None = None) -> int | None:
    """The step to get back to: the first non-optional plan step after the furthest one
    worked on (plan order; or after step ``after`` when given) that was not worked on;
    else the first non-optional step not worked on, else the first step not worked on;
    None when all were.

    Counting from the furthest step worked on skips a short step far behind that a
    learned recogniser never counted as worked on (turning a burner on), which the
    first step not worked on would name. Counting from the step recognised last
    (``after``) also gets past a step far ahead that a recogniser counted as worked on
    by mistake.
    """
    left = [i for i in range(len(plan)) if i not in worked]
    required = [i for i in left if not plan[i].get("optional")]
    furthest = max(worked, default=-1) if after is None else after
    ahead = [i for i in required if i > furthest]
    return (ahead or required or left or [None])[0]


def _works_here(plan: list[dict[str, Any]], current: int | None, focus: str | None) -> bool:
    """Whether step ``current`` (a plan index, or None) is done at fixture ``focus``."""
    if current is None or not 0 <= current < len(plan) or focus is None:
        return False
    return plan[current].get("location") == focus


class AttentionWatch:
    """The distraction rule over segmentation frames (module docstring).

    Args:
        env_info: What the policy's ``reset`` got (``plan``, ``segmentation_ids``,
            ``fixtures``).
        change: Largest change of the frame's entity pixel counts between two points,
            as a fraction of the frame, that counts as holding still.
        min_px: Fewest pixels of an object in the central window that count as in view.
        remind: Seconds of one idle run after which it is said again, and again (0: never).

    Raises:
        ValueError: When ``change`` is not in (0, 1], ``min_px`` < 1 or ``remind`` < 0.
    """

    def __init__(
        self, env_info: dict[str, Any], change: float = 0.03, min_px: int = 20, remind: float = 0.0
    ) -> None:
        if not 0.0 < change <= 1.0 or min_px < 1 or remind < 0:
            raise ValueError(
                f"need 0 < change <= 1, min_px >= 1, remind >= 0; got {change}, {min_px}, {remind}"
            )
        self.change, self.min_px, self.remind = float(change), int(min_px), float(remind)
        self.names = segment_owners(env_info.get("segmentation_ids") or {})
        self.known = np.array(sorted(self.names), np.int64)  # segmentation ids, sorted
        self.fixtures = task_fixtures(env_info)
        self.prev: np.ndarray | None = None
        self.shape: tuple[int, ...] | None = None
        self.said_at: float | None = None  # last time said in this idle run

    def histogram(self, seg: np.ndarray) -> np.ndarray:
        """Pixels per known segmentation id (sorted), then pixels of no known id."""
        ids, counts = np.unique(seg, return_counts=True)
        pos = np.minimum(np.searchsorted(self.known, ids), len(self.known) - 1)
        hit = self.known[pos] == ids
        hist = np.zeros(len(self.known) + 1, np.int64)
        np.add.at(hist, pos[hit], counts[hit])
        hist[-1] = seg.size - hist[:-1].sum()
        return hist

    def idle(self, segmentation: np.ndarray, t: float) -> Percept | None:
        """Whether this frame is an idle point (module docstring); remembers the frame.

        Args:
            segmentation: This point's segmentation frame.
            t: Its time (s).

        Returns:
            The frame's percept when it is idle, else None (also without segmentation
            ids: a blind watch sees nothing, and the first frame or one of another size
            has nothing to compare with).
        """
        if not self.names:
            return None
        seg = np.asarray(segmentation).astype(np.int64, copy=False)
        hist, shape = self.histogram(seg), seg.shape
        prev, self.prev = self.prev, hist
        same_size, self.shape = self.shape == shape, shape
        if prev is None or not same_size:
            return None
        if np.abs(hist - prev).sum() >= self.change * seg.size:
            return None
        p = perceive({"time": t, "segmentation": seg}, self.names, self.fixtures, self.min_px)
        return None if p.hands or p.objects else p

    def observe(
        self,
        segmentation: np.ndarray,
        t: float,
        worked: set[int],
        plan: list[dict[str, Any]],
        current: int | None = None,
        quiet: bool = False,
        after: int | None = None,
    ) -> int | None:
        """Take this point's segmentation; the plan index to re-engage with, or None.

        Args:
            segmentation: This point's segmentation frame.
            t: Its time (s).
            worked: Plan indices worked on so far.
            plan: The plan's step dicts.
            current: The plan step recognised as under way now (None: none): while
                the view settles on its fixture, the person is taken to be working
                (some steps are done looking at a fixture with the hands down).
            quiet: Only see the frame (another rule speaks, or it is too soon after a
                message): the idle run goes on unsaid.
            after: Count the step to get back to from this plan step (:func:`next_step`;
                None: from the furthest one worked on).
        """
        p = self.idle(segmentation, t)
        if p is None:
            self.said_at = None
            return None
        if quiet or _works_here(plan, current, p.focus):
            return None
        if self.said_at is not None and not (
            self.remind > 0 and t - self.said_at >= self.remind - 1e-9
        ):
            return None
        k = next_step(plan, worked, after)
        if k is not None:
            self.said_at = t
        return k
