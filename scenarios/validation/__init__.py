"""Strict validation of task, layout and profile files.

Reading YAML with line numbers (:mod:`.yaml_source`), declarative type checking
(:mod:`.typecheck`) against the file formats (:mod:`.file_formats`), semantic checks of
ids and references (:mod:`.semantics`) and of predicates and reachability
(:mod:`.reachability`); :mod:`.validate` runs them all and returns every problem as
``FILE:LINE: field: message``.
"""

from __future__ import annotations
