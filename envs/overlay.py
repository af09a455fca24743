"""Drawing captions and a progress bar under a frame (for videos)."""

from __future__ import annotations

import textwrap

import numpy as np

_COLORS = {"person": (255, 230, 120), "assistant": (120, 220, 255)}


def annotate_frame(
    frame: np.ndarray,
    captions: list[tuple[str, str]],
    done: int,
    total: int,
    time: float,
    title: str,
    scale: int = 3,
) -> np.ndarray:
    """Upscale ``frame`` and draw a caption panel and a step progress bar under it.

    Args:
        frame: H×W×3 uint8 RGB.
        captions: ``(speaker, text)`` pairs, speaker ``"person"`` or ``"assistant"``.
        done: Plan steps completed.
        total: Plan steps in all.
        time: Simulated seconds (drawn in the corner).
        title: The task title.
        scale: Integer upscaling of the frame.

    Returns:
        The annotated RGB uint8 image; width and height are multiples of 2.
    """
    from PIL import Image, ImageDraw

    big = np.repeat(np.repeat(frame, scale, axis=0), scale, axis=1)
    h, w = big.shape[:2]
    panel_h = 22 + 14 * 6
    canvas = Image.new("RGB", (w, h + panel_h), (20, 20, 24))
    canvas.paste(Image.fromarray(big), (0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.text((4, 4), f"{title}  t={time:5.1f}s", fill=(255, 255, 255))
    bar_y = h + 4
    draw.rectangle([4, bar_y, w - 4, bar_y + 10], outline=(200, 200, 200))
    if total:
        fill_w = int((w - 8) * done / total)
        draw.rectangle([4, bar_y, 4 + fill_w, bar_y + 10], fill=(90, 200, 110))
    draw.text((w - 60, bar_y - 1), f"{done}/{total}", fill=(255, 255, 255))
    y = bar_y + 16
    for who, text in captions[-3:]:
        prefix = "Person: " if who == "person" else "Assistant: "
        for line in textwrap.wrap(prefix + text, width=max(20, w // 7))[:2]:
            draw.text((6, y), line, fill=_COLORS.get(who, (255, 255, 255)))
            y += 14
    out = np.asarray(canvas)
    return out[: out.shape[0] // 2 * 2, : out.shape[1] // 2 * 2]
