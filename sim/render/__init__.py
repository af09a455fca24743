"""Rendering the egocentric view: the backend-free scene description
(:mod:`.shapes`, :mod:`.objects`, :mod:`.arms`, :mod:`.state`), the :class:`Scene`
front end (:mod:`.scene`) and its backends (:mod:`.pybullet_backend`,
:mod:`.habitat_backend`), and GLB + JSON export (:mod:`.export`). The backends import
their libraries lazily."""

from __future__ import annotations

from proassist.sim.render.scene import Scene

__all__ = ["Scene"]
