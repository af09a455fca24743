"""Window-collapsed decision counting (the headline IF1/SF1)."""

from __future__ import annotations

import pytest

from proassist.analysis.metrics.scores import collapse_windows, decision_counts, decision_scores
from proassist.sim.gold import GoldMoment


def _m(t: float) -> GoldMoment:
    return GoldMoment(
        t=t, window=(t - 1, t + 1), intent="instruct_next", step="a", kind="step_done", text=""
    )


def test_one_utterance_per_window_is_perfect() -> None:
    a, b = _m(2.0), _m(6.0)
    content = [None, a, a, a, None, None, b, b, b, None]
    pred = [False, False, True, False, False, False, True, False, False, False]
    gold, p = collapse_windows(content, pred)
    assert decision_scores(gold, p)["if1"] == 1.0
    assert decision_scores(gold, p)["sf1"] == 1.0


def test_hand_counted_case() -> None:
    a, b = _m(2.0), _m(6.0)
    #           TN    win a: 2 interrupts     FP    win b: none        TN
    content = [None, a, a, a, None, b, b, None]
    pred = [False, True, True, False, True, False, False, False]
    c = decision_counts(*collapse_windows(content, pred))
    # window a: 1 TP + 1 extra FP; outside: 1 FP, 2 TN; window b: 1 FN
    assert c == {"tp": 1, "fp": 2, "tn": 2, "fn": 1}
    s = decision_scores(*collapse_windows(content, pred))
    assert s["if1"] == pytest.approx(2 * 1 / (2 * 1 + 2 + 1))
    assert s["sf1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 2))
