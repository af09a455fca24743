"""Where the committed learned interaction model lives.

``policies/checkpoints/model.pt`` (+ ``model.json`` beside it) is a checkpoint written
by ``proassist train``; its ``README.md`` gives the exact commands and seeds that
reproduce it. :func:`default_checkpoint` lets ``proassist demo`` (and users) pick it up.
Its inference settings are chosen by :func:`proassist.analysis.calibration.calibrate`
(``proassist train --calibrate``).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CHECKPOINT_DIR", "default_checkpoint"]

#: The folder holding the committed checkpoint.
CHECKPOINT_DIR: Path = Path(__file__).resolve().parents[1] / "checkpoints"


def default_checkpoint() -> Path | None:
    """The committed ``model.pt`` when it and its ``model.json`` are present, else None."""
    model = CHECKPOINT_DIR / "model.pt"
    if model.is_file() and model.with_suffix(".json").is_file():
        return model
    return None
