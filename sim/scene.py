"""Stable import path of :class:`~proassist.sim.render.scene.Scene` (lives in
:mod:`proassist.sim.render.scene`)."""

from __future__ import annotations

from proassist.sim.render.scene import MODES, Scene, get_renderer, register_renderer

__all__ = ["MODES", "Scene", "get_renderer", "register_renderer"]
