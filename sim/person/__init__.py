"""The simulated person: step choice (:mod:`.person`), timed activities
(:mod:`.activity`), head/hand kinematics (:mod:`.kinematics`), reactions to the
assistant (:mod:`.reactions`) and understanding of free text (:mod:`.language`)."""

from __future__ import annotations

from proassist.sim.person.person import Person

__all__ = ["Person"]
