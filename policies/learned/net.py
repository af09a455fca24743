"""The learned interaction network (torch; import this module lazily).

Per frame, an encoder (a small CNN, or EfficientNet-Lite0 with the packaged ImageNet
weights, optionally frozen) gives an embedding; a temporal model (GRU or a small
transformer) runs over the clip's embeddings; an MLP encodes the plan state and, with
``percepts``, the segmentation percepts (:mod:`proassist.policies.learned.features`). Their concatenation feeds four heads:

* ``decision``: silent / interrupt (2 logits),
* ``intent``: one of the 6 INTENTS,
* ``offset``: the step referred to, relative to the plan's current step
  (``-MAX_OFFSET .. +MAX_OFFSET``),
* ``fix``: whether the step referred to needs a recovery (2 logits).
"""

from __future__ import annotations

from typing import Any

from proassist.policies.learned import require_torch
from proassist.policies.learned.features import FEATURE_DIM, MAX_OFFSET
from proassist.sim.messages import INTENTS

__all__ = ["DEFAULT_CONFIG", "MAX_OFFSET", "InteractionNet", "SmallCNN", "trainable_state"]

torch = require_torch("the learned interaction network")
nn = torch.nn


DEFAULT_CONFIG: dict[str, Any] = {
    "encoder": "cnn",  # "cnn" or "efficientnet-lite0"
    "freeze_encoder": False,
    "clip_len": 6,
    "frame_size": 64,
    "embed_dim": 64,
    "hidden": 64,
    "temporal": "gru",  # "gru" or "transformer"
    "feature_dim": FEATURE_DIM,
    "percepts": False,  # the input carries the percept features after the plan ones
    "offsets": "plan",  # what a step offset counts over (features.OFFSET_BASES)
}


class SmallCNN(nn.Module):
    """Four strided conv layers + global average pooling → ``out_dim``."""

    def __init__(self, out_dim: int = 64) -> None:
        super().__init__()
        chans = (3, 16, 32, 48, 64)
        layers: list[nn.Module] = []
        for c_in, c_out in zip(chans[:-1], chans[1:], strict=True):
            layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.BatchNorm2d(c_out)]
            layers.append(nn.ReLU(inplace=True))
        self.body = nn.Sequential(*layers)
        self.proj = nn.Linear(chans[-1], out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed images ``x`` (N, 3, H, W) in [-1, 1]."""
        return self.proj(self.body(x).mean(dim=(2, 3)))


class _EffNetEncoder(nn.Module):
    def __init__(self, out_dim: int, freeze: bool) -> None:
        super().__init__()
        from proassist.policies.learned.efficientnet_lite import load_pretrained_lite0

        self.backbone = load_pretrained_lite0()
        del self.backbone._fc
        self.frozen = freeze
        if freeze:
            self.backbone.requires_grad_(False)
        self.proj = nn.Linear(self.backbone.feature_dim, out_dim)

    def train(self, mode: bool = True) -> _EffNetEncoder:
        super().train(mode)
        if self.frozen:
            self.backbone.eval()  # keep BatchNorm statistics of the pretrained weights
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * (255.0 / 256.0)  # [-1,1] from (x/127.5 - 1) to (x-127)/128 scale
        if self.frozen:
            with torch.no_grad():
                feats = self.backbone.features(x)
        else:
            feats = self.backbone.features(x)
        return self.proj(feats)


class _Temporal(nn.Module):
    def __init__(self, kind: str, dim: int, hidden: int, clip_len: int) -> None:
        super().__init__()
        self.kind = kind
        if kind == "gru":
            self.gru = nn.GRU(dim, hidden, batch_first=True)
        elif kind == "transformer":
            self.inp = nn.Linear(dim, hidden)
            self.pos = nn.Parameter(torch.zeros(1, clip_len, hidden))
            layer = nn.TransformerEncoderLayer(hidden, 4, 2 * hidden, 0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        else:
            raise ValueError(f"temporal must be 'gru' or 'transformer', got {kind!r}")

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        if self.kind == "gru":
            return self.gru(seq)[1][-1]
        h = self.encoder(self.inp(seq) + self.pos[:, -seq.shape[1] :])
        return h[:, -1]


class InteractionNet(nn.Module):
    """Frames + plan state → decision, intent, step offset and fix logits.

    Args:
        config: Keys of :data:`DEFAULT_CONFIG` (missing keys take the defaults).
    """

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__()
        unknown = set(config or {}) - set(DEFAULT_CONFIG)
        if unknown:
            raise ValueError(
                f"unknown model config keys {sorted(unknown)}; expected {list(DEFAULT_CONFIG)}"
            )
        self.config = {**DEFAULT_CONFIG, **(config or {})}
        c = self.config
        if c["encoder"] == "cnn":
            self.encoder: nn.Module = SmallCNN(c["embed_dim"])
        elif c["encoder"] == "efficientnet-lite0":
            self.encoder = _EffNetEncoder(c["embed_dim"], bool(c["freeze_encoder"]))
        else:
            raise ValueError(f"encoder must be 'cnn' or 'efficientnet-lite0', got {c['encoder']!r}")
        self.temporal = _Temporal(c["temporal"], c["embed_dim"], c["hidden"], c["clip_len"])
        self.plan_mlp = nn.Sequential(nn.Linear(c["feature_dim"], c["hidden"]), nn.ReLU())
        self.trunk = nn.Sequential(nn.Linear(2 * c["hidden"], c["hidden"]), nn.ReLU())
        h = c["hidden"]
        self.heads = nn.ModuleDict(
            {
                "decision": nn.Linear(h, 2),
                "intent": nn.Linear(h, len(INTENTS)),
                "offset": nn.Linear(h, 2 * MAX_OFFSET + 1),
                "fix": nn.Linear(h, 2),
            }
        )

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """Embed uint8 frames ``(N, S, S, 3)`` → ``(N, embed_dim)``."""
        x = frames.permute(0, 3, 1, 2).float() / 127.5 - 1.0
        return self.encoder(x)

    def forward_embeddings(self, emb: torch.Tensor, feats: torch.Tensor) -> dict[str, torch.Tensor]:
        """Heads from frame embeddings ``(B, K, E)`` and plan features ``(B, F)``."""
        h = torch.cat([self.temporal(emb), self.plan_mlp(feats)], dim=1)
        h = self.trunk(h)
        return {name: head(h) for name, head in self.heads.items()}

    def forward(self, clips: torch.Tensor, feats: torch.Tensor) -> dict[str, torch.Tensor]:
        """Heads from uint8 clips ``(B, K, S, S, 3)`` and plan features ``(B, F)``."""
        b, k = clips.shape[:2]
        emb = self.encode_frames(clips.reshape(b * k, *clips.shape[2:])).reshape(b, k, -1)
        return self.forward_embeddings(emb, feats)


def trainable_state(model: InteractionNet) -> dict[str, torch.Tensor]:
    """The state dict without a frozen pretrained backbone (reloaded from its package)."""
    frozen = model.config["encoder"] == "efficientnet-lite0" and model.config["freeze_encoder"]
    return {
        k: v
        for k, v in model.state_dict().items()
        if not (frozen and k.startswith("encoder.backbone."))
    }
