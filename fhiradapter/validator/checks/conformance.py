"""Conformance-resource content (filled in below)."""
from __future__ import annotations

from .base import ResourceCheck

CONFORMANCE_CHECKS: dict[str, tuple[ResourceCheck, ...]] = {}
