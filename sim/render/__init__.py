"""Rendering the egocentric view: the backend-free scene description
(:mod:`.shapes`, :mod:`.objects`, :mod:`.arms`, :mod:`.state`), the :class:`Scene`
front end (:mod:`.scene`) and its backends (:mod:`.pybullet_backend`,
:mod:`.habitat_backend`), and GLB + JSON export (:mod:`.export`). The backends import
their libraries lazily."""

from __future__ import annotations

from proassist.sim.render.scene import Scene

__all__ = ["FRAME_ARGUMENTS", "Scene"]

#: Env arguments that change only the frames an assistant sees, never the episode (the
#: person, the deviations and the event log are the same for the same seed): a silent
#: run without pixels pairs with a pixel assistant's run of the same seed (a subset of
#: :data:`proassist.envs.arguments.ENV_ARGUMENTS`, tested).
FRAME_ARGUMENTS: frozenset[str] = frozenset(
    {"render_mode", "obs_modes", "width", "height", "render", "egl", "renderer"}
)
