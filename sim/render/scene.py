"""The egocentric scene: what the simulated person's head-mounted camera sees.

Usage::

    from proassist.sim.render.scene import Scene
    scene = Scene(width=128, height=128, modes=("rgb", "depth", "segmentation"))
    scene.load(layout, objects, steps)     # no-op when layout, objects and steps are unchanged
    frames = scene.render(body, predicates)
    frames["rgb"]           # uint8 (H, W, 3)
    frames["depth"]         # float32 (H, W), metres along the optical axis; far where empty
    frames["segmentation"]  # int32 (H, W), ids of scene.segmentation_ids, -1 where empty
    scene.close()

The camera sits at ``body.head`` and looks at ``body.look_at`` (z up), with a vertical
field of view ``fov``. Two hands with forearms reaching from below the camera are drawn
at ``body.hands``. Objects sit at ``body.object_poses``, turned by
``body.object_rotations`` (upright or lying; an object absent from them rests on its
``start`` fixture, or is hidden if it has none). Object state is drawn from the
predicates: ``filled`` liquid, ``heated`` steam, ``switched_on`` glow (burner discs glow
orange), ``cut`` pieces, ``attached`` parts joined on top of their base, ``open`` lid
lifted (see :mod:`proassist.sim.render.objects`). Given the procedure's ``steps``, the
faults that only add a predicate are drawn too (see :mod:`proassist.sim.render.indicators`):
``fault_measurement`` a wrong fill level, ``fault_setting`` a knob turned wrong and a
wrong flame size, ``fault_timing`` an unfinished state.

Segmentation ids: ``floor`` 0, ``walls`` 1, ``hand_left`` 2, ``hand_right`` 3, then the
layout's fixtures in order, then the objects in order, then the indicator parts in
order: ``<object>_fill`` (the content of an amount target, its liquid included),
``<entity>_knob`` (the knob of a setting target) and ``<fixture>_flame`` (a heat
fixture's flame). Steam reads -1.

Renderers are registered with :func:`register_renderer`: ``pybullet`` (the reference and
the default of :class:`Scene`; headless TinyRenderer on CPU, ``egl=True`` tries the EGL
plugin), ``gl`` (moderngl on a headless EGL context, several times faster, with lighting,
shadows and textures; see :mod:`proassist.sim.render.gl_backend`), ``auto`` (``gl`` when
an EGL context can be created, otherwise ``pybullet``, with one log line saying which and
why; the env's default) and ``habitat`` (needs ``habitat-sim``; see
:mod:`proassist.sim.render.habitat_backend`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from proassist.scenarios.model import Layout, ObjectSpec, Step
from proassist.scenarios.registry import Registry
from proassist.sim.body import BodyState

#: Frame kinds a scene can return.
MODES: tuple[str, ...] = ("rgb", "depth", "segmentation")

LOG = logging.getLogger("proassist.sim.render")

RendererFactory = Callable[..., Any]
#: Renderer backend factories, by name (``@register_renderer`` adds to it).
RENDERERS: Registry[RendererFactory] = Registry("renderer")


def register_renderer(name: str) -> Callable[[RendererFactory], RendererFactory]:
    """Register a renderer backend factory under ``name``.

    The factory is called with ``width, height, modes, fov, near, far, egl`` and returns
    an object with ``build(layout, objects, steps=()) -> dict[str, int]``,
    ``render(body, predicates) -> dict[str, ndarray]`` and ``close()``.

    Raises:
        proassist.scenarios.registry.RegistryError: If ``name`` is taken.
    """
    return RENDERERS.register(name)


def renderer_names() -> list[str]:
    """Sorted names of the registered renderers."""
    return sorted(RENDERERS.names())


def get_renderer(name: str) -> RendererFactory:
    """Return the renderer factory registered as ``name``.

    Raises:
        proassist.scenarios.registry.RegistryError: A ``ValueError`` naming the known
            renderers (with close matches) if ``name`` is unknown.
    """
    return RENDERERS.get(name)


@register_renderer("pybullet")
def _pybullet(**kwargs: Any) -> Any:
    from proassist.sim.render.pybullet_backend import PybulletRenderer

    return PybulletRenderer(**kwargs)


@register_renderer("gl")
def _gl(**kwargs: Any) -> Any:
    from proassist.sim.render.gl_backend import GLRenderer

    return GLRenderer(**kwargs)


#: Why ``auto`` could not use ``gl`` in this process (probed once), or ``None``.
_GL_UNAVAILABLE: list[str] = []
_LOGGED: set[str] = set()


def _log_once(level: int, message: str) -> None:
    if message not in _LOGGED:
        _LOGGED.add(message)
        LOG.log(level, message)


@register_renderer("auto")
def _auto(**kwargs: Any) -> Any:
    """``gl`` when an EGL context can be created, otherwise ``pybullet`` (logged once)."""
    if not _GL_UNAVAILABLE:
        try:
            backend = _gl(**{**kwargs, "egl": True})
        except (ImportError, RuntimeError) as exc:
            _GL_UNAVAILABLE.append(str(exc))
        else:
            _log_once(logging.INFO, f"renderer auto: gl (EGL context on {backend.info})")
            return backend
    why = _GL_UNAVAILABLE[0]
    _log_once(logging.WARNING, f"renderer auto: pybullet (gl unavailable: {why})")
    return _pybullet(**kwargs)


@register_renderer("habitat")
def _habitat(**kwargs: Any) -> Any:
    from proassist.sim.render.habitat_backend import HabitatRenderer

    return HabitatRenderer(**kwargs)


def _check_modes(modes: Iterable[str]) -> tuple[str, ...]:
    if isinstance(modes, str):
        modes = (modes,)
    modes = tuple(modes)
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise ValueError(f"modes must be a non-empty subset of {MODES}, got {modes!r}")
    return tuple(m for m in MODES if m in modes)


def _check_size(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer number of pixels, got {value!r}")
    return int(value)


class Scene:
    """A scene rendered from the person's eyes.

    Args:
        width: Image width in pixels.
        height: Image height in pixels.
        modes: Which frames :meth:`render` returns, a subset of :data:`MODES`
            (segmentation is not computed unless asked for).
        renderer: Registered renderer name (``pybullet``, ``gl``, ``auto`` or ``habitat``).
        egl: pybullet only: try the EGL hardware renderer (warns and falls back).
        fov: Vertical field of view in degrees.
        near: Near clipping plane in metres.
        far: Far clipping plane in metres (empty pixels read this depth).

    Raises:
        ValueError: On a bad size, mode, field of view or renderer name.
        ImportError: ``renderer="habitat"`` without ``habitat-sim`` installed, or
            ``renderer="gl"`` without moderngl.
        RuntimeError: ``renderer="gl"`` and no EGL context can be created.
    """

    def __init__(
        self,
        width: int = 128,
        height: int = 128,
        modes: Sequence[str] = ("rgb", "depth", "segmentation"),
        renderer: str = "pybullet",
        egl: bool = False,
        fov: float = 75.0,
        near: float = 0.05,
        far: float = 10.0,
    ) -> None:
        self.width = _check_size("width", width)
        self.height = _check_size("height", height)
        self.modes = _check_modes(modes)
        if not 1.0 <= float(fov) <= 170.0:
            raise ValueError(f"fov must be in degrees within [1, 170], got {fov!r}")
        if not 0 < near < far:
            raise ValueError(f"need 0 < near < far (metres), got near={near!r}, far={far!r}")
        self.renderer_name = renderer
        self.fov, self.near, self.far = float(fov), float(near), float(far)
        self.backend = get_renderer(renderer)(
            width=self.width,
            height=self.height,
            modes=self.modes,
            fov=self.fov,
            near=self.near,
            far=self.far,
            egl=egl,
        )
        #: The backend actually drawing (``auto`` resolves to ``gl`` or ``pybullet``).
        self.backend_name: str = getattr(self.backend, "name", renderer)
        self._key: tuple | None = None
        self.segmentation_ids: dict[str, int] = {}

    def load(
        self, layout: Layout, objects: Iterable[ObjectSpec], steps: Iterable[Step] = ()
    ) -> bool:
        """Build the scene for ``layout``, ``objects`` and the fault indicators of ``steps``.

        Args:
            layout: The room and its fixtures.
            objects: The task objects, in order.
            steps: The procedure's steps; without them no fault indicators are drawn
                (wrong amounts, settings and cut-short waits stay invisible).

        Returns:
            ``True`` if bodies were (re)built, ``False`` if the same layout and objects
            were already loaded (the cheap reset path).
        """
        objects, steps = tuple(objects), tuple(steps)
        key = (layout, objects, steps)
        if key == self._key:
            return False
        self._key = None
        if steps:
            self.segmentation_ids = dict(self.backend.build(layout, objects, steps))
        else:
            self.segmentation_ids = dict(self.backend.build(layout, objects))
        self._key = key
        return True

    def render(
        self, body: BodyState, predicates: Iterable[str] = frozenset()
    ) -> dict[str, np.ndarray]:
        """Render one egocentric frame.

        Args:
            body: Head, gaze, hands and object poses (see :class:`BodyState`).
            predicates: The true predicates (strings ``name(args)``); unknown names are ignored.

        Returns:
            A dict with the keys of :attr:`modes`: ``rgb`` uint8 (H, W, 3), ``depth``
            float32 (H, W) in metres, ``segmentation`` int32 (H, W).

        Raises:
            RuntimeError: If :meth:`load` was not called first.
        """
        if self._key is None:
            raise RuntimeError("Scene.render called before Scene.load(layout, objects)")
        return self.backend.render(body, predicates)

    def close(self) -> None:
        """Release the renderer (idempotent)."""
        self.backend.close()
        self._key = None

    def __enter__(self) -> Scene:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        backend = self.__dict__.get("backend")
        if backend is not None:
            backend.close()
