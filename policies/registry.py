"""Re-export of the one project registry (:mod:`proassist.scenarios.registry`)."""

from __future__ import annotations

from proassist.scenarios.registry import Registry, RegistryError, describe_kwargs

__all__ = ["Registry", "RegistryError", "describe_kwargs"]
