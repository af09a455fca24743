"""Out-of-Plan deviations: the kind interface and registry (:mod:`.base`), the
deviation engine of an episode (:mod:`.manager`) and the built-in kinds
(:mod:`.step_kinds`, :mod:`.attention_kinds`).

Add a kind from your own module with :func:`register_deviation` (see the README).
"""

from __future__ import annotations

from proassist.sim.deviations.base import (
    CONSEQUENCES,
    MIN_WINDOW,
    STATUSES,
    Deviation,
    DeviationKind,
    RecoveryStep,
    applicable_steps,
    fault,
    get_deviation,
    redo_step,
    register_deviation,
    registered_kinds,
)

__all__ = [
    "CONSEQUENCES",
    "MIN_WINDOW",
    "STATUSES",
    "Deviation",
    "DeviationKind",
    "RecoveryStep",
    "applicable_steps",
    "fault",
    "get_deviation",
    "redo_step",
    "register_deviation",
    "registered_kinds",
]
