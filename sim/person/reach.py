"""The person's arms: two-bone inverse kinematics, and keeping them out of the view.

Each arm is a two-bone chain: a shoulder fixed to the torso (below and beside the
eyes), an upper arm of :data:`UPPER_ARM` metres and a forearm of :data:`FOREARM`
metres from the elbow to the middle of the palm. :func:`arms` solves the elbow for a
given hand position (the elbow bent down and outward); a hand out of reach pulls its
shoulder along (the person leans in), so the forearm always has its true length.

A hand close in front of the eyes (a worktop just below eye level, a shelf right in
front of the face, a reach across the body up to the other side) would put the
sleeve so near the head camera that it fills the frame. :func:`clear_view` keeps the
arms out of the camera's near view, the way a person keeps their arms out of their
line of sight: it estimates the share of the frame the arms cover (:func:`arm_cover`,
rays through a coarse grid of the picture against capsules around hand, forearm and
upper arm) and, above :data:`MAX_ARM_COVER`, draws both hands back toward their rest
positions just enough.
"""

from __future__ import annotations

import math

import numpy as np

from proassist.sim.body import Vec3

#: Elbow to the centre of the palm (metres).
FOREARM: float = 0.3
#: Shoulder to elbow (metres).
UPPER_ARM: float = 0.3
#: Shoulder offset from the eyes: (forward, to the side, up), metres.
SHOULDER: Vec3 = (-0.08, 0.18, -0.25)
#: Preferred bend direction of the elbow in the torso frame (forward, outward, up).
ELBOW_POLE: Vec3 = (-0.25, 0.6, -1.0)
#: Largest estimated share of the frame the arms may cover (:func:`arm_cover`).
MAX_ARM_COVER: float = 0.25
#: Vertical field of view (degrees) and rays per side of the coverage estimate.
VIEW_FOV: float = 75.0
VIEW_RAYS: int = 16
#: Capsules of one arm along the elbow-to-hand axis ``u`` (from, to, radius): palm and
#: fingers, forearm with its sleeve (see :func:`proassist.sim.render.arms.hand_parts`).
_HAND_CAPSULES: tuple[tuple[float, float, float], ...] = ((-0.01, 0.08, 0.045),)
_FOREARM_CAPSULE: tuple[float, float, float] = (-0.31, -0.06, 0.036)
_UPPER_RADIUS: float = 0.045


def _sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _axpy(k: float, x: Vec3, y: Vec3) -> Vec3:
    return (y[0] + k * x[0], y[1] + k * x[1], y[2] + k * x[2])


def _dot(a: Vec3, b: Vec3) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _unit(v: Vec3) -> Vec3:
    n = math.sqrt(_dot(v, v))
    return (v[0] / n, v[1] / n, v[2] / n) if n > 1e-9 else (1.0, 0.0, 0.0)


def _lerp(a: Vec3, b: Vec3, k: float) -> Vec3:
    return (a[0] + (b[0] - a[0]) * k, a[1] + (b[1] - a[1]) * k, a[2] + (b[2] - a[2]) * k)


def torso_forward(head: Vec3, look_at: Vec3, hands: tuple[Vec3, Vec3]) -> tuple[float, float]:
    """Horizontal unit vector the torso faces: toward the hands, else toward the gaze."""
    mx = (hands[0][0] + hands[1][0]) / 2 - head[0]
    my = (hands[0][1] + hands[1][1]) / 2 - head[1]
    if math.hypot(mx, my) < 0.12:
        mx, my = look_at[0] - head[0], look_at[1] - head[1]
    n = math.hypot(mx, my)
    return (mx / n, my / n) if n > 1e-9 else (1.0, 0.0)


def _solve(shoulder: Vec3, hand: Vec3, pole: Vec3) -> tuple[Vec3, Vec3]:
    """Two-bone IK: (shoulder, elbow), the shoulder pulled toward an unreachable hand."""
    reach = UPPER_ARM + FOREARM - 1e-3
    d = _sub(hand, shoulder)
    dist = math.sqrt(_dot(d, d))
    u = _unit(d)
    if dist > reach:
        shoulder, dist = _axpy(-reach, u, hand), reach
    dist = max(dist, abs(UPPER_ARM - FOREARM) + 1e-3)
    a = (UPPER_ARM**2 - FOREARM**2 + dist * dist) / (2 * dist)
    h = math.sqrt(max(0.0, UPPER_ARM**2 - a * a))
    n = _sub(pole, (u[0] * _dot(pole, u), u[1] * _dot(pole, u), u[2] * _dot(pole, u)))
    if _dot(n, n) < 1e-12:
        n = (0.0, 0.0, -1.0)
    return shoulder, _axpy(h, _unit(n), _axpy(a, u, shoulder))


def arms(
    head: Vec3, look_at: Vec3, hands: tuple[Vec3, Vec3]
) -> tuple[tuple[Vec3, Vec3], tuple[Vec3, Vec3]]:
    """(shoulder, elbow) of the left and the right arm for hands at ``hands``."""
    fx, fy = torso_forward(head, look_at, hands)
    out = []
    for side, hand in zip((1.0, -1.0), hands, strict=True):
        lx, ly = -fy * side, fx * side  # outward: left of forward for the left arm
        f, s, z = SHOULDER
        shoulder = (head[0] + f * fx + s * lx, head[1] + f * fy + s * ly, head[2] + z)
        pf, ps, pz = ELBOW_POLE
        pole = (pf * fx + ps * lx, pf * fy + ps * ly, pz)
        out.append(_solve(shoulder, hand, pole))
    return out[0], out[1]


def _capsules(head: Vec3, look_at: Vec3, hands: tuple[Vec3, Vec3]) -> np.ndarray:
    """(n, 7) rows ``a, b, radius`` of the capsules around both arms."""
    rows = []
    for (shoulder, elbow), hand in zip(arms(head, look_at, hands), hands, strict=True):
        u = _unit(_sub(hand, elbow))
        for k0, k1, r in (*_HAND_CAPSULES, _FOREARM_CAPSULE):
            rows.append((*_axpy(k0, u, hand), *_axpy(k1, u, hand), r))
        rows.append((*elbow, *shoulder, _UPPER_RADIUS))
    return np.asarray(rows, dtype=np.float64)


def _grid() -> tuple[np.ndarray, np.ndarray]:
    """The picture-plane offsets (n, 1) of the :data:`VIEW_RAYS` square grid of rays."""
    k = math.tan(math.radians(VIEW_FOV) / 2)
    g = (np.arange(VIEW_RAYS) + 0.5) / VIEW_RAYS * 2 - 1
    gx, gy = np.meshgrid(g * k, g * k)
    return gx.reshape(-1, 1), gy.reshape(-1, 1)


_GRID_X, _GRID_Y = _grid()


def _cross(a: Vec3, b: Vec3) -> Vec3:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _rays(head: Vec3, look_at: Vec3) -> np.ndarray:
    """(n, 3) unit directions through a :data:`VIEW_RAYS` square grid of the picture."""
    f = np.subtract(look_at, head, dtype=np.float64)
    f /= np.linalg.norm(f) or 1.0
    up = (1.0, 0.0, 0.0) if f[0] ** 2 + f[1] ** 2 < 1e-10 else (0.0, 0.0, 1.0)
    s = np.array(_cross(f.tolist(), up))
    s /= np.linalg.norm(s) or 1.0
    u = np.array(_cross(s.tolist(), f.tolist()))
    d = f + _GRID_X * s + _GRID_Y * u
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def arm_cover(head: Vec3, look_at: Vec3, hands: tuple[Vec3, Vec3]) -> float:
    """Estimated share of the head camera's frame covered by the arms (0 to 1).

    Rays from the eyes through a grid of the picture (field of view :data:`VIEW_FOV`)
    against capsules around each hand, forearm and upper arm: a ray hits a capsule when
    its closest approach to the capsule's axis is within the radius. Computed per
    coordinate on (rays, capsules) arrays, in the order of the plain vector formula.
    """
    d = _rays(head, look_at)
    caps = _capsules(head, look_at, hands)
    a, r = caps[:, 0:3], caps[:, 6]
    e = caps[:, 3:6] - a
    w = np.asarray(head, dtype=np.float64) - a
    dx, dy, dz = d[:, 0:1], d[:, 1:2], d[:, 2:3]  # (rays, 1)
    ex, ey, ez = e[:, 0], e[:, 1], e[:, 2]  # (capsules,)
    wx, wy, wz = w[:, 0], w[:, 1], w[:, 2]
    de, ee = dx * ex + dy * ey + dz * ez, ex * ex + ey * ey + ez * ez
    dw, ew = dx * wx + dy * wy + dz * wz, ex * wx + ey * wy + ez * wz
    denom = np.maximum(ee - de * de, 1e-12)
    s = np.clip((ew - dw * de) / denom, 0.0, 1.0)
    t = np.maximum(s * de - dw, 0.0)
    s = np.clip((ew + t * de) / np.maximum(ee, 1e-12), 0.0, 1.0)
    gx, gy, gz = wx + t * dx - s * ex, wy + t * dy - s * ey, wz + t * dz - s * ez
    hit = (gx * gx + gy * gy + gz * gz <= r * r).any(axis=1)
    return float(hit.mean())


def clear_view(
    head: Vec3, look_at: Vec3, hands: tuple[Vec3, Vec3], rest: tuple[Vec3, Vec3]
) -> tuple[Vec3, Vec3]:
    """``hands``, drawn back toward ``rest`` until the arms cover at most
    :data:`MAX_ARM_COVER` of the view from ``head`` toward ``look_at``.

    Unchanged when they already do; otherwise the largest fraction (to 1/64) of the way
    from ``rest`` to ``hands`` that does (``rest`` itself if none).
    """
    if arm_cover(head, look_at, hands) <= MAX_ARM_COVER:
        return hands
    lo, hi = 0.0, 1.0
    for _ in range(6):
        k = (lo + hi) / 2
        pair = (_lerp(rest[0], hands[0], k), _lerp(rest[1], hands[1], k))
        if arm_cover(head, look_at, pair) <= MAX_ARM_COVER:
            lo = k
        else:
            hi = k
    return (_lerp(rest[0], hands[0], lo), _lerp(rest[1], hands[1], lo))
