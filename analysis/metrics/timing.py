"""Time-matched metrics (ProAssist) and step timeliness STS (Pro²Assist).

Re-exported by :mod:`proassist.analysis.metrics.scores`.

**Matching** (after ProAssist's bipartite evaluation): the episode's
``assistant_message`` events are matched one-to-one to its gold moments by a
minimum-cost bipartite matching (``scipy.optimize.linear_sum_assignment``). A message
at time ``t`` may match moment ``m`` only if

- ``m.lo <= t <= m.hi`` (the asymmetric window: a little early is fine, never later
  than ``hi``), and
- a structured message names the *right step* (the moment's step or one of the
  deviation's recovery steps; no step for a moment without one) **and** has the moment's
  *intent family* (correcting: ``correct_deviation, warn, re_engage``; instructing:
  ``instruct_next, answer_question``; :mod:`.understanding`), and its content score
  ``g`` (:func:`.content.content_score`, 1 or 0.5) is at least
  ``GoldConfig.match_min_structured``; a free-text message has ``g = max(0, cos)`` with
  the gold utterance (which names the step and says what to do) at least
  ``GoldConfig.match_text_threshold``.

``strict=False`` gives the former, content-lenient rule (a structured message with
``g >= match_min_structured``, i.e. the right intent *or* the right step, may match);
no registered score uses it.

Cost of an allowed pair: ``|t - m.t| + w · (1 - g)`` with ``w = match_content_weight``.
Among the matchings of maximum size, the one of minimum total cost is taken. Then with
``M`` matched pairs, ``P`` messages and ``G`` moments:

- precision = M / P, recall = M / G, F1 = 2·M / (P + G) (0 when the denominator is 0)
- redundant rate = (P - M) / P, missed rate = (G - M) / G
- mean time difference = mean over pairs of ``t - m.t`` (negative = early);
  the absolute variant averages ``|t - m.t|``.

**STS** (Pro²Assist): for each gold moment with window ``[s, e]``, let ``t̂`` be the
first *right-step trigger* inside ``[s, e]``: a structured message whose step is the
moment's step (or one of its recovery steps) and whose intent family is the moment's
(``strict=False``: any intent), or a free-text message with content score
``>= match_text_threshold``. ``STS = exp(-(t̂ - s) / (e - s))`` (1 at ``s``, ``e^-1`` at
``e``), and 0 if there is none. The episode's STS is the mean over its moments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from proassist.analysis.metrics.content import content_score, is_free_text, step_right
from proassist.analysis.metrics.text_similarity import TextSim
from proassist.analysis.metrics.understanding import intent_family
from proassist.sim.gold import GoldConfig, GoldMoment

_FORBIDDEN = 1e9


@dataclass(frozen=True)
class MatchResult:
    """The outcome of matching messages to gold moments.

    Attributes:
        pairs: ``(message index, moment index, t_message - t_moment)`` per match.
        n_pred: Number of messages.
        n_gold: Number of gold moments.
    """

    pairs: tuple[tuple[int, int, float], ...]
    n_pred: int
    n_gold: int

    @property
    def n_matched(self) -> int:
        """Number of matched pairs."""
        return len(self.pairs)


def right_content(msg: Mapping[str, Any], m: GoldMoment) -> bool:
    """A structured message names the right step and has the moment's intent family."""
    family = intent_family(msg.get("intent"))
    return family is not None and family == intent_family(m.intent) and step_right(msg, m)


def _allowed_score(
    msg: Mapping[str, Any],
    m: GoldMoment,
    cfg: GoldConfig,
    text_sim: TextSim | None,
    strict: bool = True,
) -> float | None:
    """The content score if the pair is allowed, else None."""
    if not m.contains(float(msg["t"])):
        return None
    if not msg.get("intent") and not is_free_text(msg):
        return None
    if strict and msg.get("intent") and not right_content(msg, m):
        return None
    g = content_score(msg, m, text_sim)
    threshold = cfg.match_text_threshold if is_free_text(msg) else cfg.match_min_structured
    return g if g >= threshold else None


def match_messages(
    messages: Sequence[Mapping[str, Any]],
    moments: Sequence[GoldMoment],
    config: GoldConfig | None = None,
    text_sim: TextSim | None = None,
    strict: bool = True,
) -> MatchResult:
    """One-to-one minimum-cost matching of messages to gold moments (module docstring).

    Args:
        messages: ``assistant_message`` events (``t``, ``intent``, ``step``, ``text``).
        moments: Gold moments of the same episode.
        config: Windows and thresholds.
        text_sim: Free-text similarity; MiniLM when None.
        strict: Require the right step and intent family (False: the former rule).
    """
    cfg = config or GoldConfig()
    if not messages or not moments:
        return MatchResult((), len(messages), len(moments))
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    cost = np.full((len(messages), len(moments)), _FORBIDDEN)
    for i, msg in enumerate(messages):
        for j, m in enumerate(moments):
            g = _allowed_score(msg, m, cfg, text_sim, strict)
            if g is not None:
                dt = abs(float(msg["t"]) - m.t)
                cost[i, j] = dt + cfg.match_content_weight * (1.0 - g)
    rows, cols = linear_sum_assignment(cost)
    pairs = tuple(
        (int(i), int(j), float(messages[i]["t"]) - moments[j].t)
        for i, j in zip(rows, cols, strict=True)
        if cost[i, j] < _FORBIDDEN
    )
    return MatchResult(pairs, len(messages), len(moments))


def match_scores(result: MatchResult) -> dict[str, float]:
    """Precision, recall, F1, redundant/missed rates and time differences of a matching."""
    m, p, g = result.n_matched, result.n_pred, result.n_gold
    dts = [d for _, _, d in result.pairs]
    return {
        "match_precision": m / p if p else 0.0,
        "match_recall": m / g if g else 0.0,
        "match_f1": 2 * m / (p + g) if p + g else 0.0,
        "match_redundant_rate": (p - m) / p if p else 0.0,
        "match_missed_rate": (g - m) / g if g else 0.0,
        "match_time_diff": sum(dts) / len(dts) if dts else math.nan,
        "match_abs_time_diff": sum(abs(d) for d in dts) / len(dts) if dts else math.nan,
    }


def sts_value(t_hat: float | None, s: float, e: float) -> float:
    """``exp(-(t̂ - s) / (e - s))`` for a trigger in ``[s, e]``; 0 when there is none.

    Raises:
        ValueError: If ``e <= s``.
    """
    if e <= s:
        raise ValueError(f"STS needs a window with e > s, got [{s}, {e}]")
    if t_hat is None or not s - 1e-9 <= t_hat <= e + 1e-9:
        return 0.0
    return math.exp(-(max(t_hat, s) - s) / (e - s))


def _right_step(
    msg: Mapping[str, Any], m: GoldMoment, cfg: GoldConfig, text_sim, strict: bool
) -> bool:
    if msg.get("intent"):
        return right_content(msg, m) if strict else m.is_step(msg.get("step"))
    if is_free_text(msg):
        return content_score(msg, m, text_sim) >= cfg.match_text_threshold
    return False


def sts_scores(
    messages: Sequence[Mapping[str, Any]],
    moments: Sequence[GoldMoment],
    config: GoldConfig | None = None,
    text_sim: TextSim | None = None,
    strict: bool = True,
) -> list[float]:
    """STS per gold moment (module docstring), in the moments' order; ``strict=False``
    accepts a right-step trigger of any intent."""
    cfg = config or GoldConfig()
    out = []
    for m in moments:
        inside = [x for x in messages if m.contains(float(x["t"]))]
        hits = [float(x["t"]) for x in inside if _right_step(x, m, cfg, text_sim, strict)]
        out.append(sts_value(min(hits) if hits else None, m.lo, m.hi))
    return out
