"""Out-of-Plan deviations: the kind interface and registry (:mod:`.base`), the
deviation engine of an episode (:mod:`.manager`) and the built-in kinds
(:mod:`.step_kinds`, :mod:`.attention_kinds`).

Add a kind from your own module with :func:`register_deviation` (see the README).
"""

from __future__ import annotations

import importlib

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

#: The modules of the built-in kinds, imported in this order: random deviations are
#: drawn in registration order (the taxonomy order of DESIGN.md).
BUILTIN_MODULES: tuple[str, ...] = (
    "proassist.sim.deviations.step_kinds",
    "proassist.sim.deviations.attention_kinds",
    "proassist.sim.deviations.hazard_kinds",
)
for _module in BUILTIN_MODULES:
    importlib.import_module(_module)

__all__ = [
    "BUILTIN_MODULES",
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
