"""ProAssist scenarios package."""

from __future__ import annotations
