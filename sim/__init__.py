"""ProAssist sim package."""

from __future__ import annotations
