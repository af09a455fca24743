"""ProAssist: a testbed for proactive procedural assistants.

The top-level folders of the repository (``scenarios/``, ``sim/``, ``envs/``,
``policies/``, ``analysis/``) are the subpackages of this namespace; see
``pyproject.toml`` for the mapping.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
