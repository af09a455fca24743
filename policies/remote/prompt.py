"""The chat request of a remote interaction model: frames as PNG data URLs, then text.

One decision point is one request with a single ``user`` message (no ``system``
message: some chat templates reject it)::

    {"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}},  # oldest
        ...                                                                         # newest
        {"type": "text", "text": <the prompt text>}]}

With ``n_frames=0`` (a text-only server) the content is the prompt text alone, as a
plain string. Frames are the latest ``n_frames`` ``rgb`` observations, oldest first,
encoded losslessly as PNG by :func:`encode_png` (standard library only).

The prompt text is a ``str.format`` template with the fields of
:data:`~proassist.policies.duplex.hf_vlm.VLM_FIELDS` (``{silent}``, ``{interrupt}``,
``{goal}``, ``{plan}``, ``{dialogue}``), filled by
:func:`~proassist.policies.duplex.hf_vlm.build_vlm_prompt` exactly as for the in-process
Hugging Face model: the plan in PWR's tagged format (``(no plan yet)`` without one),
the dialogue as ``assistant: ...`` / ``person: ...`` lines (``(nothing said yet)``).
Two built-in templates, by ``output``:

* ``"free"``: :data:`~proassist.policies.duplex.hf_vlm.DEFAULT_VLM_TEMPLATE`: answer
  ``$silent$`` or ``$interrupt$<what to say>``.
* ``"structured"``: :data:`STRUCTURED_TEMPLATE`: the same, and a spoken answer may
  start with ``[intent step_id]`` (an intent of
  :data:`~proassist.sim.messages.INTENTS`, a step id of the plan).

Either parser accepts both answers (:mod:`proassist.policies.remote.parse`).
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from proassist.policies.duplex.hf_vlm import DEFAULT_VLM_TEMPLATE
from proassist.sim.messages import INTENTS

__all__ = [
    "OUTPUT_FORMATS",
    "STRUCTURED_TEMPLATE",
    "chat_messages",
    "default_template",
    "encode_png",
    "png_data_url",
]

#: Answer formats a prompt may ask for (``output=``).
OUTPUT_FORMATS: tuple[str, ...] = ("free", "structured")

#: The built-in prompt asking for the structured answer.
STRUCTURED_TEMPLATE: str = (
    "You are a proactive assistant watching a person through a head-mounted camera. "
    "Answer {silent} to stay silent, or {interrupt}[intent step_id] <what to say> to speak, "
    f"where intent is one of {', '.join(INTENTS)} and step_id is the [id] of a plan step.\n"
    "Goal: {goal}\nPlan:\n{plan}\nDialogue:\n{dialogue}\nAnswer:"
)


def default_template(output: str) -> str:
    """The built-in prompt template for answer format ``output``.

    Raises:
        ValueError: When ``output`` is not one of :data:`OUTPUT_FORMATS`.
    """
    if output not in OUTPUT_FORMATS:
        raise ValueError(f"output must be one of {list(OUTPUT_FORMATS)}, got {output!r}")
    return DEFAULT_VLM_TEMPLATE if output == "free" else STRUCTURED_TEMPLATE


def encode_png(frame: np.ndarray, level: int = 1) -> bytes:
    """Lossless PNG of an ``HxW`` (grey) or ``HxWx3`` (RGB) ``uint8`` image.

    Args:
        frame: The image.
        level: zlib compression level (1: fast; the frames are small).

    Raises:
        ValueError: On another shape or dtype.
    """
    img = np.ascontiguousarray(frame)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError(f"expected an HxW or HxWx3 uint8 image, got {img.dtype} {img.shape}")
    height, width = img.shape[:2]
    color = 2 if img.ndim == 3 else 0
    rows = img.reshape(height, -1)
    raw = np.hstack([np.zeros((height, 1), dtype=np.uint8), rows]).tobytes()  # filter 0
    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return b"".join(
        [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(raw, level))]
        + [_chunk(b"IEND", b"")]
    )


def _chunk(tag: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(tag + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def png_data_url(frame: np.ndarray) -> str:
    """``data:image/png;base64,...`` of ``frame`` (:func:`encode_png`)."""
    return "data:image/png;base64," + base64.b64encode(encode_png(frame)).decode("ascii")


def chat_messages(frames: Sequence[np.ndarray], text: str) -> list[dict[str, Any]]:
    """The request's messages: one user message with ``frames`` (oldest first) and ``text``.

    Without frames the content is ``text`` itself (a plain string, for text-only servers).
    """
    if not frames:
        return [{"role": "user", "content": text}]
    parts: list[dict[str, Any]] = [
        {"type": "image_url", "image_url": {"url": png_data_url(np.asarray(f, dtype=np.uint8))}}
        for f in frames
    ]
    parts.append({"type": "text", "text": text})
    return [{"role": "user", "content": parts}]
