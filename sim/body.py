"""The simulated person's body as the renderer sees it."""

from __future__ import annotations

from dataclasses import dataclass, field

Vec3 = tuple[float, float, float]

#: Primitive actions the person's body performs.
PRIMITIVES: tuple[str, ...] = (
    "look",
    "reach",
    "grasp",
    "carry",
    "place",
    "operate",
    "wait",
    "idle",
)


@dataclass(frozen=True)
class BodyState:
    """Head, gaze and hands of the person at one instant (world frame, metres).

    Attributes:
        head: Eye position.
        look_at: The point the head looks at.
        hands: Left and right hand positions.
        held: Object id held in the left and right hand (``None`` when empty).
        object_poses: Centre of every task object now (carried ones follow the hand).
        primitive: The primitive being executed (one of :data:`PRIMITIVES`).
    """

    head: Vec3
    look_at: Vec3
    hands: tuple[Vec3, Vec3]
    held: tuple[str | None, str | None] = (None, None)
    object_poses: dict[str, Vec3] = field(default_factory=dict, hash=False, compare=True)
    primitive: str = "idle"
