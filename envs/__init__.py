"""ProAssist envs package."""

from __future__ import annotations
