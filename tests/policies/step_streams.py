"""Synthetic recorded streams for the step recogniser's tests (not a test module)."""

from __future__ import annotations

import numpy as np

PLAN = [
    {"id": "a", "location": "sink", "objects": ["cup"], "after": [], "duration_mean": 3.0},
    {"id": "b", "location": "stove", "objects": ["pan"], "after": ["a"], "duration_mean": 3.0},
    {"id": "c", "location": "table", "objects": ["plate"], "after": ["b"], "duration_mean": 3.0},
]
FIXTURES = frozenset({"sink", "stove", "table"})


def synthetic_stream(order: list[int], rng: np.random.Generator) -> dict:
    """A synthetic stream over :data:`PLAN`: the person works at each step's fixture
    with its object, in ``order``, with a *none* point between steps."""
    rows = []
    for step in order:
        for _ in range(int(rng.integers(4, 9))):
            s = PLAN[step]
            px = {
                s["location"]: (400, 200, 0),
                s["objects"][0]: (30, 10, 5),
                "hand_left": (50, 20, 0),
            }
            rows.append((px, step))
        rows.append(({"walls": (1000, 256, 0)}, len(PLAN)))  # between steps: none
    return {"plan": PLAN, "fixtures": sorted(FIXTURES), "rows": rows}
