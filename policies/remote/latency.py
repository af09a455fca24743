"""How a served model's latency counts in simulated time (``latency=``).

* ``"paused"``: the simulation waits for the model. A decision takes effect at the
  decision point whose observation it answered, whatever the wall-clock latency; the
  results do not depend on the server's speed (nor on ``--concurrency``).
* ``"charged"``: the measured wall-clock latency of each request (retries and waits
  included) is charged in simulated time.
* a number ``s >= 0``: ``s`` simulated seconds are charged for every request, whatever
  the wall clock says (reproducible, like the duplex's ``planner_latency``).

What a charge means depends on the component: an interaction model's decision takes
effect at the first decision point at or after ``t + charge`` and the model is busy
(silent) until then (:class:`~proassist.policies.remote.interaction.RemoteInteractionModel`);
a planner's revised plan arrives ``charge`` later (added to the duplex's
``planner_latency``).
"""

from __future__ import annotations

import math
import numbers

__all__ = ["LATENCY_MODES", "charged_seconds", "check_latency"]

#: The named latency settings (a number of seconds is accepted too).
LATENCY_MODES: tuple[str, ...] = ("paused", "charged")


def check_latency(latency: str | float) -> str | float:
    """``latency`` when valid: ``"paused"``, ``"charged"`` or a finite number >= 0.

    Raises:
        ValueError: Naming the accepted values.
    """
    if isinstance(latency, str) and latency in LATENCY_MODES:
        return latency
    is_number = isinstance(latency, numbers.Real) and not isinstance(latency, bool)
    if is_number and math.isfinite(float(latency)) and float(latency) >= 0:
        return float(latency)
    raise ValueError(
        f"latency must be 'paused', 'charged' or a number of seconds >= 0, got {latency!r}"
    )


def charged_seconds(latency: str | float, measured_s: float) -> float:
    """Simulated seconds charged for a request that took ``measured_s`` wall-clock seconds."""
    if latency == "paused":
        return 0.0
    if latency == "charged":
        return max(0.0, float(measured_s))
    return float(latency)
