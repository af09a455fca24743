"""ProAssist analysis package."""

from __future__ import annotations
