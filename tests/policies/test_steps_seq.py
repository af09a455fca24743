"""The step recogniser's sequence companion (policies/learned/steps_seq.py), its mixing
in StepRecognizer (steps_train.py) and ``proassist train-sequence``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from proassist.analysis.cli import main
from proassist.policies import make_policy
from proassist.policies.learned.steps import StepTracker

pytest.importorskip("torch")

import torch  # noqa: E402
from step_streams import FIXTURES, PLAN, synthetic_stream  # noqa: E402

from proassist.policies.learned.steps_seq import (  # noqa: E402
    SEQUENCE_FILE,
    SequenceState,
    _batch,
    sequence_accuracy,
    stream_arrays,
    train_sequence,
)
from proassist.policies.learned.steps_train import (  # noqa: E402
    StepRecognizer,
    copy_weights,
    load_recognizer,
    recogniser_accuracy,
    save_recognizer,
    train_recognizer,
)

_stream = synthetic_stream


def test_the_sequence_companion_learns_from_evidence_alone_and_runs_as_trained() -> None:
    rng = np.random.default_rng(3)
    train = [_stream([0, 1, 2], rng) for _ in range(6)] + [_stream([1, 0, 2], rng)]
    val = [_stream([0, 2, 1], rng) for _ in range(2)]
    logs: list[str] = []
    net, history = train_sequence(train, val, epochs=100, hidden=16, log=logs.append)
    assert [h["epoch"] for h in history] == list(range(100)) and len(logs) == 100
    arrays = [stream_arrays(s, gaze=True) for s in val]
    best = max(h["val_acc"] for h in history)
    assert sequence_accuracy(net, arrays) == pytest.approx(best, abs=1e-4) and best > 0.9
    x, _, after, mask = _batch(arrays, [0])
    with torch.no_grad():
        whole = torch.log_softmax(net(x, after, mask)[0][0], -1)
    state = SequenceState(net, PLAN)
    tracker = StepTracker(PLAN, FIXTURES, gaze=True)
    for t, (px, _) in enumerate(val[0]["rows"]):  # point by point, as deployed
        assert torch.allclose(state.log_probs(tracker.features(px)), whole[t], atol=1e-5)


def _checkpoint_with_companion(folder, streams: list, weight: float) -> tuple:
    """A tiny recogniser and companion saved in ``folder`` (companion off in deploy)."""
    net = train_recognizer(streams, rounds=0, epochs=2, hidden=8, log=lambda s: None)[0]
    seq = train_sequence(streams, (), epochs=2, hidden=8, log=lambda s: None)[0]
    save_recognizer(net, folder, {"gaze": True, "sequence": {"hidden": 8, "weight": weight}})
    return net, seq


def test_a_checkpoint_with_a_companion_mixes_the_two_distributions(tmp_path) -> None:
    rng = np.random.default_rng(4)
    streams = [_stream([0, 1, 2], rng) for _ in range(3)]
    net, seq = _checkpoint_with_companion(tmp_path, streams, 0.25)
    with pytest.raises(FileNotFoundError, match=SEQUENCE_FILE):
        StepRecognizer(tmp_path, companion=True)
    torch.save(seq.state_dict(), tmp_path / SEQUENCE_FILE)
    assert json.loads((tmp_path / "steps.json").read_text())["sequence"]["weight"] == 0.25
    assert StepRecognizer(tmp_path).companion is None  # its deploy does not turn it on
    mixed = StepRecognizer(tmp_path, companion=True)
    mixed.reset({"plan": PLAN, "fixtures": sorted(FIXTURES)})
    tracker, ref, right = StepTracker(PLAN, FIXTURES, gaze=True), SequenceState(seq, PLAN), 0
    for px, label in streams[0]["rows"]:
        f = tracker.features(px)
        with torch.no_grad():
            mlp = torch.log_softmax(net(torch.from_numpy(f)).squeeze(-1), 0)
            want = torch.softmax(0.75 * mlp + 0.25 * ref.log_probs(f), 0).numpy()
        got = mixed.update_counts(px)
        assert np.allclose(got, want, atol=1e-6)
        tracker.advance(int(got.argmax()))  # the MLP's history follows the mixture
        right += int(got.argmax()) == label
    rows = len(streams[0]["rows"])
    assert recogniser_accuracy(tmp_path, streams[:1], companion=True) == right / rows
    save_recognizer(net, tmp_path / "plain", {"gaze": True})
    with pytest.raises(ValueError, match="no sequence companion"):
        StepRecognizer(tmp_path / "plain", companion=True)


def test_each_episode_starts_the_companion_afresh_and_off_stops_it_at_once(tmp_path) -> None:
    rng = np.random.default_rng(5)
    streams = [_stream([0, 1, 2], rng), _stream([2, 1, 0], rng)]
    _, seq = _checkpoint_with_companion(tmp_path, streams, 0.5)
    copy_weights(tmp_path, tmp_path / "copy")  # no companion yet: steps.pt only
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == ["steps.pt"]
    torch.save(seq.state_dict(), tmp_path / SEQUENCE_FILE)
    copy_weights(tmp_path / "steps.pt", tmp_path / "copy")  # a folder or its steps.pt
    copied = (tmp_path / "copy" / SEQUENCE_FILE).read_bytes()
    assert copied == (tmp_path / SEQUENCE_FILE).read_bytes()
    info = {"plan": PLAN, "fixtures": sorted(FIXTURES)}
    used, fresh = StepRecognizer(tmp_path, companion=True), StepRecognizer(tmp_path, companion=True)
    for s in streams:  # the second episode of `used` equals a fresh recogniser's
        used.reset(info)
        out = [used.update_counts(px) for px, _ in s["rows"]]
    fresh.reset(info)
    rows = streams[1]["rows"]
    assert all(
        np.array_equal(a, fresh.update_counts(px)) for a, (px, _) in zip(out, rows, strict=True)
    )
    fresh.use_companion(False)
    assert fresh.sequence is None and fresh.companion is None


def test_padded_batches_score_each_stream_as_alone() -> None:
    rng = np.random.default_rng(6)
    short = _stream([0, 1], rng)
    longer = _stream([0, 1, 2, 0], rng) | {"plan": [*PLAN, {"id": "d", "after": ["c"]}]}
    arrays = [stream_arrays(short, gaze=True), stream_arrays(longer, gaze=True)]
    net = train_sequence([short], (), epochs=1, hidden=8, log=lambda s: None)[0]
    x, _, after, mask = _batch(arrays, [0, 1])
    x0, _, after0, mask0 = _batch(arrays, [0])
    with torch.no_grad():
        both, alone = net(x, after, mask)[0], net(x0, after0, mask0)[0]
    t, c = len(arrays[0][1]), arrays[0][0].shape[1]
    assert both.shape[1:] == (len(arrays[1][1]), arrays[1][0].shape[1]) and c == len(PLAN) + 1
    assert torch.allclose(both[0, :t, :c], alone[0], atol=1e-5)
    assert (both[0, :, c:] == -1e9).all()  # the longer plan's extra candidate is masked


def test_train_sequence_cli_adds_a_companion_to_a_checkpoint(
    tiny_checkpoint, tmp_path, capsys
) -> None:
    out = tmp_path / "s"
    argv = ["train-sequence", "--out", str(out), "--checkpoint", tiny_checkpoint, "--seed", "5"]
    small = ["--episodes", "1", "--val-episodes", "1", "--epochs", "1", "--hidden", "8"]
    assert main([*argv, *small, "--weight", "0.4"]) == 0
    assert "with the companion" in capsys.readouterr().out
    meta = json.loads((out / "steps.json").read_text())
    assert meta["sequence"]["weight"] == 0.4 and meta["sequence"]["train"]["seed"] == 5
    assert meta["deploy"] == {**load_recognizer(tiny_checkpoint)[1]["deploy"], "companion": True}
    assert make_policy("stepwatch", checkpoint=str(out)).recognizer.companion is not None
    off = make_policy("stepwatch", checkpoint=str(out), companion=False)
    assert off.recognizer.companion is None
    assert main([*argv, *small, "--off", "--out", str(tmp_path / "o")]) == 0
    assert make_policy("stepwatch", checkpoint=str(tmp_path / "o")).recognizer.companion is None
    with pytest.raises(ValueError, match="no sequence companion"):
        make_policy("stepwatch", checkpoint=tiny_checkpoint, companion=True)
    assert main([*argv, *small, "--weight", "0"]) == 2
    assert "--weight must be in (0, 1]" in capsys.readouterr().err
    assert main(["train-sequence", "--out", tiny_checkpoint, "--checkpoint", tiny_checkpoint]) == 2
    assert "is the recogniser's folder" in capsys.readouterr().err
    assert main(["train-gate", "--out", str(tmp_path / "g"), "--checkpoint", str(out)]) == 2
    assert "gate a copy made with train-sequence --off" in capsys.readouterr().err


def test_a_tuned_copy_keeps_the_companion(tmp_path) -> None:
    from proassist.analysis.watch_tuning import write_tuned

    rng = np.random.default_rng(7)
    _, seq = _checkpoint_with_companion(tmp_path / "src", [_stream([0, 1, 2], rng)], 0.5)
    torch.save(seq.state_dict(), tmp_path / "src" / SEQUENCE_FILE)
    write_tuned(tmp_path / "src", tmp_path / "tuned", {"deploy": {"companion": True}})
    assert StepRecognizer(tmp_path / "tuned").companion is not None  # deployed and found


def test_the_committed_checkpoint_has_a_sequence_companion_that_is_off_by_default() -> None:
    from proassist.policies.learned.steps_seq import SequenceScorer

    assert make_policy("stepwatch").recognizer.companion is None
    on = make_policy("stepwatch", companion=True).recognizer
    assert isinstance(on.companion, SequenceScorer) and on.meta["sequence"]["weight"] == 0.5
    assert max(h["val_acc"] for h in on.meta["sequence"]["history"]) > 0.85


def test_lookahead_labels_each_point_with_the_step_some_points_before() -> None:
    stream = _stream([0, 1, 2], np.random.default_rng(5))
    x0, y0, a0 = stream_arrays(stream, gaze=True)
    x2, y2, a2 = stream_arrays(stream, gaze=True, lookahead=2)
    assert np.array_equal(x0, x2) and np.array_equal(a0, a2)
    assert list(y2[:2]) == [-100, -100] and np.array_equal(y2[2:], y0[:-2])


def test_onset_points_count_from_the_latest_deviation_that_opened() -> None:
    from proassist.policies.learned.steps_seq import onset_points

    opened = [[], [], [1], [1], [1], [], [2, 3], [2], [2, 4], [2, 4]]
    assert onset_points(opened, 3) == {2: 0, 3: 1, 4: 2, 6: 0, 7: 1, 8: 0, 9: 1}
    assert onset_points(opened[:3], 3) == {2: 0}  # cut at the stream's end
    assert onset_points([[], []], 3) == {}
    assert onset_points([[1], [], [1]], 2) == {0: 0, 1: 1, 2: 0}  # gone, then back


class _FixedNet:
    """Stands in for a companion: scores that put the given candidate first."""

    def __init__(self, named: list[int], candidates: int) -> None:
        self.scores = torch.nn.functional.one_hot(torch.tensor(named), candidates).float()

    def __call__(self, x, after, mask):
        return self.scores[None], None


def test_onset_accuracy_counts_each_point_in_its_bins_at_its_lookahead() -> None:
    from proassist.policies.learned.steps_seq import onset_accuracy

    stream = _stream([0, 1, 2], np.random.default_rng(5))
    truth = [label for _, label in stream["rows"]]
    n = len(truth)
    stream["open"] = [[1] if t >= 1 else [] for t in range(n)]  # an onset at point 1
    for d in (0, 2):
        named = [(truth[t - d] if t >= d else 0) for t in range(n)]  # right at t + d ...
        wrong = {1, 2, 5, 7}  # ... but for these points (1 s in, 2 s in, 3 s in)
        for t in wrong:
            named[t + d] = (truth[t] + 1) % (len(PLAN) + 1)
        acc = onset_accuracy(_FixedNet(named, len(PLAN) + 1), [stream], lookahead=d)
        assert acc["all"] == (pytest.approx((n - d - 4) / (n - d)), n - d)
        assert acc["first 3 s"] == (pytest.approx(3 / 6), 6)  # points 1-6: 1, 2, 5 wrong
        assert acc["0-1 s"] == (0.0, 2) and acc["1-2 s"] == (1.0, 2)
        assert acc["2-3 s"] == (0.5, 2) and acc["3-5 s"] == (0.75, 4)  # points 7-10


def test_onset_accuracy_reads_each_point_at_its_lookahead() -> None:
    from proassist.policies.learned.steps_seq import ONSET_BINS, onset_accuracy

    rng = np.random.default_rng(4)
    train = [_stream([0, 1, 2], rng) for _ in range(4)]
    val = [_stream([0, 2, 1], rng) for _ in range(2)]
    for stream in val:  # a deviation opens where the person takes step c early
        labels = [label for _, label in stream["rows"]]
        first_c = labels.index(2)
        stream["open"] = [[1] if t >= first_c else [] for t in range(len(labels))]
    for d in (0, 2):
        net = train_sequence(train, (), epochs=3, hidden=8, log=lambda s: None, lookahead=d)[0]
        acc = onset_accuracy(net, val, lookahead=d)
        assert len(acc) == 2 + len(ONSET_BINS) and set(acc) >= {"all", "first 3 s", "0-1 s"}
        arrays = [stream_arrays(s, gaze=True, lookahead=d) for s in val]
        assert acc["all"][0] == pytest.approx(sequence_accuracy(net, arrays))
        assert all(0.0 <= v <= 1.0 for v, _ in acc.values())
    with pytest.raises(ValueError, match="lookahead must be >= 0"):
        stream_arrays(val[0], gaze=True, lookahead=-1)


def test_arrays_computed_once_train_and_score_as_from_the_streams() -> None:
    """``fit_sequence`` on ``with_lookahead`` arrays trains the network ``train_sequence``
    trains from the streams, and ``onset_accuracy`` scores the same from given arrays."""
    from proassist.policies.learned.steps_seq import fit_sequence, onset_accuracy, with_lookahead

    rng = np.random.default_rng(6)
    train = [_stream([0, 1, 2], rng) for _ in range(3)]
    val = [_stream([0, 2, 1], rng) for _ in range(2)]
    for stream in val:
        stream["open"] = [[1] if t >= 4 else [] for t in range(len(stream["rows"]))]
    base = [stream_arrays(s, gaze=True) for s in train], [stream_arrays(s, gaze=True) for s in val]
    quiet = {"epochs": 2, "hidden": 8, "log": lambda s: None}
    for d in (0, 3):
        ours, hist = fit_sequence(*([with_lookahead(a, d) for a in part] for part in base), **quiet)
        theirs, hist2 = train_sequence(train, val, lookahead=d, **quiet)
        assert hist == hist2
        for name, value in ours.state_dict().items():
            assert torch.equal(value, theirs.state_dict()[name])
        given = [with_lookahead(a, d) for a in base[1]]  # any lookahead's arrays: inputs read
        assert onset_accuracy(ours, val, lookahead=d, arrays=given) == onset_accuracy(
            theirs, val, lookahead=d
        )
    with pytest.raises(ValueError, match="lookahead must be >= 0"):
        with_lookahead(base[0][0], -1)
