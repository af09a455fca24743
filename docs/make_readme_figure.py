"""Build docs/demo.png (README picture) from a `proassist demo` output folder.

Usage: python docs/make_readme_figure.py demo_out docs/demo.png
"""

from __future__ import annotations

import sys

import imageio.v3 as iio
import numpy as np
from PIL import Image


def main(demo_dir: str, out: str) -> None:
    """Put one annotated video frame beside the timeline."""
    frames = iio.imread(f"{demo_dir}/episode.mp4")
    frame = Image.fromarray(frames[int(len(frames) * 0.22)])
    timeline = Image.open(f"{demo_dir}/timeline.png").convert("RGB")
    h = timeline.height
    frame = frame.resize((int(frame.width * h / frame.height), h))
    canvas = Image.new("RGB", (frame.width + timeline.width, h), (255, 255, 255))
    canvas.paste(frame, (0, 0))
    canvas.paste(timeline, (frame.width, 0))
    canvas.thumbnail((1600, 800))
    canvas.save(out, optimize=True)
    print(out, canvas.size, np.asarray(canvas).shape)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
