"""ProAssist policies package."""

from __future__ import annotations
