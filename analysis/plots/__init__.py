"""Figures and the HTML report of a run folder, as pure functions of episode records:
:mod:`.figures` (every figure), :mod:`.timeline`, :mod:`.timing`, :mod:`.compare`,
:mod:`.data` (loading a run folder), :mod:`.style` and :mod:`.report`. matplotlib is
imported lazily."""

from __future__ import annotations
