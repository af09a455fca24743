"""How the simulated person received the assistant's messages (closed-loop diagnostics).

Every message the person hears gets one ``reaction`` event with a *verdict*
(:mod:`proassist.sim.person.reactions`: ``helpful``, ``wrong``, ``redundant``,
``irrelevant``, ``neutral``, or ``tuned_out`` once the person has said "Please stop.")
and the person's trust just before it (``trust_before``). Useless verdicts cost trust,
and a person low on trust ignores right messages too: an assistant can name more
deviations in time (OOP recall) and still rescue fewer episodes. These metrics show
that mechanism; each is a ratio over the reactions (NaN without any):

- ``helpful_share``: reactions judged ``helpful`` (the message addressed an active
  deviation, or guided a stuck person);
- ``useless_share``: reactions judged useless (``wrong``, ``redundant``,
  ``irrelevant``: the verdicts that cost trust);
- ``tuned_out_share``: messages the person did not listen to (tuned out after
  "Please stop.");
- ``trust_at_message``: the person's mean trust when a message arrived (1 at the
  start of an episode; it falls with every useless verdict).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from proassist.sim.person.reactions import HELPFUL, TUNED_OUT, USELESS

__all__ = ["RECEPTION_METRICS", "reception_counts"]


def reception_counts(record: Mapping[str, Any]) -> dict[str, float]:
    """Additive counts of one record's ``reaction`` events: ``rx_n`` (reactions),
    ``rx_helpful``, ``rx_useless``, ``rx_tuned_out`` and ``rx_trust_sum`` (summed trust
    before each; NaN for a record whose reactions do not log ``trust_before``)."""
    rx = [e for e in record.get("events") or () if e.get("type") == "reaction"]
    verdicts = [str(e.get("verdict")) for e in rx]
    return {
        "rx_n": float(len(rx)),
        "rx_helpful": float(verdicts.count(HELPFUL)),
        "rx_useless": float(sum(v in USELESS for v in verdicts)),
        "rx_tuned_out": float(verdicts.count(TUNED_OUT)),
        "rx_trust_sum": float(sum(float(e.get("trust_before", math.nan)) for e in rx)),
    }


#: Metric name -> the count it divides by ``rx_n`` (registered in :mod:`.scores`).
RECEPTION_METRICS: dict[str, str] = {
    "helpful_share": "rx_helpful",
    "useless_share": "rx_useless",
    "tuned_out_share": "rx_tuned_out",
    "trust_at_message": "rx_trust_sum",
}
