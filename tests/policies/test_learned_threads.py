"""Learned inference chooses torch's thread count unless the user did."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from proassist.policies.learned.threads import (
    DEFAULT_INFERENCE_THREADS,
    THREADS_ENV,
    inference_threads,
)


@pytest.mark.parametrize(
    ("requested", "environ", "expected"),
    [
        (None, {}, DEFAULT_INFERENCE_THREADS),
        (3, {}, 3),
        (0, {}, None),
        (2, {THREADS_ENV: "5", "OMP_NUM_THREADS": "4"}, 2),
        (None, {THREADS_ENV: " 4 "}, 4),
        (None, {THREADS_ENV: "0"}, None),
        (None, {THREADS_ENV: "3", "OMP_NUM_THREADS": "8"}, 3),
        (None, {"OMP_NUM_THREADS": "8"}, None),
        (None, {"MKL_NUM_THREADS": "2"}, None),
        (None, {THREADS_ENV: "", "OMP_NUM_THREADS": ""}, DEFAULT_INFERENCE_THREADS),
    ],
)
def test_inference_threads(requested: int | None, environ: dict, expected: int | None) -> None:
    assert inference_threads(requested, environ) == expected


@pytest.mark.parametrize(
    ("requested", "environ", "match"),
    [(-1, {}, "num_threads"), (None, {THREADS_ENV: "two"}, THREADS_ENV)],
)
def test_bad_thread_counts(requested: int | None, environ: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        inference_threads(requested, environ)


@pytest.fixture
def torch_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """torch, with no thread variable set and its thread count restored afterwards."""
    torch = pytest.importorskip("torch")
    for var in (THREADS_ENV, "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    before = torch.get_num_threads()
    yield torch
    torch.set_num_threads(before)


def _model(**kwargs: Any) -> Any:
    from proassist.policies.learned.assets import default_checkpoint
    from proassist.policies.learned.interaction import LearnedInteractionModel

    ckpt = default_checkpoint()
    if ckpt is None:
        pytest.skip("no committed checkpoint")
    return LearnedInteractionModel(ckpt, **kwargs)


def test_model_sets_one_thread_by_default(torch_threads: Any) -> None:
    torch_threads.set_num_threads(3)
    model = _model()
    assert torch_threads.get_num_threads() == model.num_threads == DEFAULT_INFERENCE_THREADS


def test_model_respects_the_users_choice(
    torch_threads: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _model(num_threads=2).num_threads == torch_threads.get_num_threads() == 2
    torch_threads.set_num_threads(3)
    assert _model(num_threads=0).num_threads == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert _model().num_threads == 3
    monkeypatch.setenv(THREADS_ENV, "2")
    assert _model().num_threads == 2


def test_step_recognizer_sets_one_thread_by_default(torch_threads: Any) -> None:
    from proassist.policies.learned.steps_train import StepRecognizer
    from proassist.policies.stepwatch import STEPS_CHECKPOINT

    torch_threads.set_num_threads(3)
    recognizer = StepRecognizer(STEPS_CHECKPOINT)
    assert torch_threads.get_num_threads() == recognizer.num_threads == DEFAULT_INFERENCE_THREADS
    assert StepRecognizer(STEPS_CHECKPOINT, num_threads=2).num_threads == 2
