"""``step-oracle``: the dependency rule fed the true plan step, perfect or degraded.

:class:`StepOraclePolicy` gives :class:`~proassist.policies.stepwatch.DependencyWatch`
(and the frame rules of ``stepwatch``) the privileged ``info["current_plan_step"]``
instead of a learned recogniser's guess: its score is what perfect step recognition is
worth behind these rules (the sanity row ``step-oracle+learned``).

Degraded, it is a **yardstick for step recognisers**: ``lag`` reports the true step of
``lag`` seconds ago (a recogniser that switches late), ``noise`` replaces the true step
at that share of the decision points by another candidate drawn uniformly (a plan step
or *none*: a recogniser wrong at that rate), in runs of ``noise_run`` seconds (one
point: errors independent in time; longer: a recogniser that holds a wrong step for a
while, as a learned one does). With ``during="deviations"`` both apply only while a
deviation is open (``info["active_deviations"]``, privileged), the truth elsewhere:
a recogniser that is late or wrong exactly where the person leaves the plan, as the
learned one is (its errors cluster there). ``expect`` makes it **plan-biased**: for
that many seconds after an omission or order error starts it reports the step the
plan expected there (the skipped step; the predecessor skipped ahead of) instead of
the one the person does, as a recogniser leaning on the plan does; the rules then
count that step as worked on. Reading a learned recogniser's score against this curve
says which kind of error it would have to lose (the measured curve is in
``policies/checkpoints/steps/README.md``, twenty-first and twenty-second rounds). The
draws come from the policy's own generator, seeded by :meth:`StepOraclePolicy.reset`:
same seed, same reports.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from proassist.policies.attendwatch import AttentionWatch
from proassist.policies.base import PolicyBase, register_policy
from proassist.policies.placewatch import PlacementWatch
from proassist.policies.stepwatch import DependencyWatch, one_hot
from proassist.policies.watchers import frame_rules, respond

__all__ = ["DURING", "StepOraclePolicy"]

#: Where a degraded step-oracle's ``lag`` and ``noise`` apply.
DURING: tuple[str, ...] = ("always", "deviations")


@register_policy("step-oracle")
class StepOraclePolicy(PolicyBase):
    """:class:`DependencyWatch` fed the true plan step (privileged step recognition).

    Its only privileged input is ``info["current_plan_step"]``: it never reads the
    deviations, the completed steps or the outcome. Its score is what a perfect step
    recogniser is worth with this rule; a learned recogniser behind the same rule
    (or any assistant) can be read against it.

    Args:
        worked: :class:`DependencyWatch`'s fraction of a step's expected duration that
            counts as worked on (0: one point).
        repeat: :class:`DependencyWatch`'s repetition threshold (0: off).
        remind: :class:`DependencyWatch`'s reminder delay in seconds (0: never).
        listen: :class:`DependencyWatch` ``listen`` (a correction refused as done
            counts as worked on; one called fine is held back).
        quiet: :class:`DependencyWatch` ``quiet``.
        ready: :class:`DependencyWatch` ``ready``.
        hold: :class:`DependencyWatch` ``hold``.
        hazard: :class:`DependencyWatch` ``hazard``.
        insist: :class:`DependencyWatch` ``insist`` (3 s, as ``stepwatch`` deploys it).
        skip: :class:`DependencyWatch` ``skip`` (a step passed over; the true step gives
            a step never begun no time worked on, so any value > 0 acts alike).
        place: Also correct misplaced objects and a step's object taken up again (a
            repetition) (:class:`PlacementWatch`, which reads segmentation and depth
            frames: the env renders them).
        attend: Also re-engage a distracted person (:class:`AttentionWatch`, which reads
            the segmentation).
        regrasp: With ``place``, also the repetition rule (a step's object taken up
            again, :meth:`PlacementWatch.regrasp`).
        lag: Seconds by which the reported step lags the true one (rounded to decision
            points; before the episode has run that long: *none*). 0: no lag.
        noise: Share of the decision points at which another candidate is reported
            instead of the (lagged) true step: drawn uniformly from the plan's steps
            and *none*, the reported step excluded, at the start of each error run and
            kept for the run. 0: never.
        noise_run: Seconds of each error run (rounded to decision points, at least
            one). Runs start at a point outside a run with the probability that makes
            ``noise`` the long-run share of wrong points.
        sustain: :class:`DependencyWatch`'s points in a row a step must be reported
            before it is the current step (1: at once; ``stepwatch`` uses 2).
        expect: Seconds after an omission's or order error's onset during which the
            step the plan expected there is reported (privileged: the open
            deviations; 0: never). Applied before ``lag`` and ``noise``.
        during: Where ``lag`` and ``noise`` apply: ``"always"``, or ``"deviations"``
            (only at points where a deviation is open; error runs start only there).

    Raises:
        ValueError: A negative ``lag``, ``noise_run`` or ``expect``, ``noise`` outside
            [0, 1], or ``during`` not one of :data:`DURING`.

    The defaults (``repeat=1.9``, ``remind=4``) were chosen on validation seeds
    900000-900019 of the three domain envs (60 pairs): net assistance 0.304 with
    neither, 0.367 with the repetition rule, 0.435 with both (a grid of 1.6-2.2 and
    2-8 s in ``policies/checkpoints/steps/README.md``).
    """

    privileged = True
    needs_pixels = False
    obs_modes: tuple[str, ...] = ()

    def __init__(
        self,
        worked: float = 0.0,
        repeat: float = 1.9,
        remind: float = 4.0,
        listen: bool = True,
        quiet: float = 0.0,
        ready: bool = True,
        hold: float = 10.0,
        hazard: bool = True,
        insist: float = 3.0,
        skip: float = 0.0,
        place: bool = True,
        attend: bool = True,
        regrasp: bool = True,
        lag: float = 0.0,
        noise: float = 0.0,
        noise_run: float = 0.0,
        sustain: int = 1,
        during: str = "always",
        expect: float = 0.0,
    ) -> None:
        super().__init__()
        if min(lag, noise_run, expect) < 0 or not 0.0 <= noise <= 1.0 or during not in DURING:
            raise ValueError(
                "step-oracle: need lag >= 0, noise_run >= 0, expect >= 0, 0 <= noise <= 1 "
                f"and during in {DURING}, got {lag}, {noise_run}, {expect}, {noise}, {during!r}"
            )
        self.during, self.expect = during, float(expect)
        self.lag, self.noise, self.noise_run = float(lag), float(noise), float(noise_run)
        self.place, self.attend, self.regrasp = bool(place), bool(attend), bool(regrasp)
        if self.place or self.attend:
            self.needs_pixels = True
            self.obs_modes = ("segmentation", "depth") if self.place else ("segmentation",)
        self.places: PlacementWatch | None = None
        self.attention: AttentionWatch | None = None
        self.settings = {
            "sustain": int(sustain),
            "worked": float(worked),
            "repeat": float(repeat),
            "remind": float(remind),
            "listen": bool(listen),
            "quiet": float(quiet),
            "ready": bool(ready),
            "hold": float(hold),
            "hazard": bool(hazard),
            "insist": float(insist),
            "skip": float(skip),
        }
        self.name = "step-oracle"
        self.watch: DependencyWatch | None = None
        self.rng = np.random.default_rng(0)
        self.past: deque[int | None] = deque()
        self.run_points, self.start_p = 1, 0.0
        self.error: tuple[int | None, int] = (None, 0)  # (reported instead, points left)

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Start a new watch over this episode's plan (and seed the noise draws)."""
        super().reset(env_info=env_info, seed=seed)
        dt = float(env_info.get("dt", 0.5))
        self.watch = DependencyWatch(self.plan, dt, **self.settings)
        self.places, self.attention = frame_rules(
            self.plan, env_info, self.place, self.attend, self.regrasp
        )
        self.rng = np.random.default_rng(seed)
        lagged = int(round(self.lag / dt))
        self.past = deque([None] * lagged, maxlen=lagged + 1)
        k = self.run_points = max(1, int(round(self.noise_run / dt)))
        # a run starts with probability q at a point outside one: k q / (k q + 1 - q) = noise
        self.start_p = self.noise / (k * (1.0 - self.noise) + self.noise) if self.noise else 0.0
        self.error = (None, 0)

    def reported(self, true_step: int | None, degrade: bool = True) -> int | None:
        """The step reported at this point: the true one of ``lag`` seconds ago, or
        within an error run (``noise``, ``noise_run``) another candidate (``None``:
        *none*); with ``degrade`` False (``during="deviations"``, none open), the true
        step (an error run neither starts nor goes on)."""
        self.past.append(true_step)
        if not degrade:
            self.error = (None, 0)
            return true_step
        step = self.past[0]
        wrong, left = self.error
        if not left and self.start_p and self.rng.random() < self.start_p:
            others = [i for i in [*range(len(self.plan)), None] if i != step]
            wrong, left = others[int(self.rng.integers(len(others)))], self.run_points
        if not left:
            return step
        self.error = (wrong, left - 1)
        return wrong

    def expected(self, info: dict[str, Any]) -> str | None:
        """The step the plan expected where an omission or order error opened less than
        ``expect`` seconds ago (the skipped step; the predecessor), or None."""
        t = float(info.get("time", 0.0))
        for dev in info.get("active_deviations") or ():
            if t - float(dev.get("onset", -np.inf)) >= self.expect - 1e-9:
                continue
            if dev.get("kind") == "omission":
                return str(dev.get("step"))
            if dev.get("kind") == "order" and dev.get("related_steps"):
                return str(dev["related_steps"][0])
        return None

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Correct when the person's (reported) step needs a step never worked on (or,
        with ``place``, an object rests where the plan does not put it; with
        ``attend``, re-engage a person whose view settled away from the task)."""
        if self.watch is None:
            raise RuntimeError("step-oracle: call reset() before act()")
        if not info or "current_plan_step" not in info:
            raise ValueError("step-oracle needs a privileged env (info['current_plan_step'])")
        degrade = self.during == "always" or bool(info.get("active_deviations"))
        planned = self.expected(info) if self.expect else None
        true_step = info["current_plan_step"] if planned is None else planned
        step = self.reported(self.watch.index.get(str(true_step)), degrade)
        probs = one_hot(len(self.plan), step)
        return respond(self.watch, self.places, self.attention, probs, observation)
