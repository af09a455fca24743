"""EgoProactive challenge export and scorer."""

from __future__ import annotations

import json
import math

import pytest
from test_metrics_records import deviation, ev, make_record

from proassist.analysis.challenge import (
    export_session,
    is_interrupt,
    read_jsonl,
    score_challenge,
)
from proassist.analysis.cli import main

INT, SIL = "$interrupt$Do it", "$silent$"


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


GOLD = [
    {"video_path": "a.mp4", "query": "q", "task": "t1", "answers": [INT, SIL, INT, SIL]},
    {"video_path": "b.mp4", "query": "q", "task": "t2", "answers": [SIL, INT]},
]
PRED = [  # reversed order: paired by (video_path, query)
    {"video_path": "b.mp4", "query": "q", "answers": ["$interrupt$", "$interrupt$ hi"]},
    {"video_path": "a.mp4", "query": "q", "answers": ["  $interrupt$x", "$silent$", "$silent$"]},
]


def test_is_interrupt() -> None:
    assert is_interrupt("\n $interrupt$go") and is_interrupt("$interrupt$")
    assert not is_interrupt("$silent$") and not is_interrupt("x $interrupt$")
    assert not is_interrupt("$Interrupt$go")


def test_scorer_by_hand_with_length_mismatch_and_whitespace(tmp_path, capsys) -> None:
    # a.mp4: 3 of 4 chunks count -> tp 1, tn 1, fn 1; b.mp4: fp 1, tp 1
    code = main(
        ["score-challenge", _write(tmp_path / "g.jsonl", GOLD), _write(tmp_path / "p.jsonl", PRED)]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["tp"], out["fp"], out["tn"], out["fn"]) == (2, 1, 1, 1)
    assert out["if1"] == pytest.approx(2 / 3) and out["sf1"] == pytest.approx(0.5)
    assert out["macro_f1"] == pytest.approx(7 / 12)
    assert out["g_mean"] == pytest.approx(math.sqrt(1 / 3))
    assert out["per_task"]["t1"]["if1"] == pytest.approx(2 / 3)
    assert out["per_task"]["t2"]["sf1"] == 0.0 and out["per_task"]["t2"]["n_chunks"] == 2
    assert out["n_chunks"] == 5 and out["missing_sessions"] == []


def test_scorer_pairs_by_order_without_keys_and_reports_missing() -> None:
    pred = [{"answers": [INT, SIL, INT, SIL]}]
    out = score_challenge(GOLD, pred)
    assert out["if1"] == 1.0 and out["n_chunks"] == 4
    assert out["missing_sessions"] == ["b.mp4"]


def test_scorer_rejects_duplicates_and_bad_lines(tmp_path) -> None:
    with pytest.raises(ValueError, match="share"):
        score_challenge(GOLD, [PRED[0], PRED[0]])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"answers": []}\nnot json\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        read_jsonl(bad)


def _record(policy_follows_gold: bool):
    events = [
        ev(9.0, "step_end", step="a", index=0, recovery=False, deviation=None, duration=9.0),
        ev(12.0, "person_utterance", text="what now?", act="question"),
        deviation(21.0),
    ]
    rec = make_record(events, duration=30.0, dt=0.5)
    if policy_follows_gold:
        from proassist.sim.gold import gold_content

        for d, m in zip(rec["decisions"], gold_content(rec), strict=True):
            if m is not None:
                d.update(decision=1, intent=m.intent, step=m.step)
    return rec


def test_export_session_fields() -> None:
    s = export_session(_record(False))
    assert s["video_intervals"] == [[0.0, 8.0], [8.0, 16.0], [16.0, 24.0], [24.0, 30.0]]
    assert s["answers"][0] == "$interrupt$Fill the kettle with water"
    # gold: opening [0,1.5]; step_done [6,10.5]; question [12,15]; deviation [19,23]
    assert [is_interrupt(a) for a in s["answers"]] == [True, True, True, False]
    assert s["dialog"][0] == []
    assert [u["role"] for u in s["dialog"][2]] == ["assistant", "assistant", "user"]
    assert s["query"] == "Make a cup of tea" and s["task"] == "kitchen_tea"
    extra = s["proassist"]
    assert extra["deviations"][0]["onset"] == 21.0 and len(extra["plan"]) == 3
    assert extra["deviations"][0]["recovery_steps"][0]["id"] == "fix_b"
    silent_policy = export_session(_record(False), source="policy")
    assert silent_policy["answers"] == ["$silent$"] * 4
    with pytest.raises(ValueError, match="source"):
        export_session(_record(False), source="oracle")


def test_export_then_score_gold_against_itself_and_policy(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    run.mkdir()
    _write(run / "episodes.jsonl", [_record(True), _record(True) | {"seed": 1}])
    gold, pred = str(tmp_path / "gold.jsonl"), str(tmp_path / "pred.jsonl")
    # hand-made records have no env to replay: the JSONL alone (--no-video)
    assert main(["export-challenge", str(run), gold, "--no-video"]) == 0
    assert main(["export-challenge", str(run), pred, "--source", "policy", "--no-video"]) == 0
    assert not list(tmp_path.rglob("*.mp4"))
    capsys.readouterr()
    for other in (gold, pred):
        assert main(["score-challenge", gold, other]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["if1"] == out["sf1"] == out["macro_f1"] == out["g_mean"] == 1.0


def test_a_record_that_does_not_replay_gets_no_video(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    run.mkdir()
    _write(run / "episodes.jsonl", [_record(False)])
    assert main(["export-challenge", str(run), str(tmp_path / "g.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "video of kitchen_tea seed 0" in err and "--no-video" in err
    assert not list(tmp_path.rglob("*.mp4")) and not (tmp_path / "g.jsonl").exists()


def test_cli_errors_exit_2(tmp_path, capsys) -> None:
    assert main(["export-challenge", str(tmp_path / "nope"), str(tmp_path / "o.jsonl")]) == 2
    assert "episodes.jsonl" in capsys.readouterr().err
    assert main(["score-challenge", str(tmp_path / "x.jsonl"), str(tmp_path / "y.jsonl")]) == 2
