"""Stable import path of :func:`~proassist.sim.render.export.export_scene` (lives in
:mod:`proassist.sim.render.export`)."""

from __future__ import annotations

from proassist.sim.render.export import export_scene

__all__ = ["export_scene"]
