"""Resumable sweeps: files (:mod:`.spec`, :mod:`.checks`), expansion into units
(:mod:`.expand`), execution on local processes or Ray (:mod:`.backends`,
:mod:`.units`), crash-safe storage (:mod:`.store`), summaries (:mod:`.summary`) and the
runner (:mod:`.runner`). Example sweep files live in ``examples/``."""

from __future__ import annotations
