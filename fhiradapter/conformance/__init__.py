"""The conformance layer: R4 base model, Registry, snapshots, terminology, package export.

    from fhiradapter.conformance import Registry, ValueSetExpansion
    reg = Registry.default()
"""
from __future__ import annotations

from .package import PackageError, export_package, load_package
from .registry import Registry
from .snapshot import SnapshotError, generate_snapshot
from .terminology import ValueSetExpansion

__all__ = ["Registry", "ValueSetExpansion", "PackageError", "SnapshotError", "export_package",
           "generate_snapshot", "load_package"]
