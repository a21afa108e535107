"""The mapping language and engine (docs/mapping-language.md).

    from fhiradapter.mapping import load_mapping, map_input
    mapping = load_mapping("mappings/mt-cmp.yaml")          # MappingLoadError on a broken mapping
    summary = map_input(mapping, "examples/mt-cmp", "out/mt-cmp")
"""
from __future__ import annotations

from typing import Any

__all__ = ["MappingLoadError", "load_mapping", "map_input"]

_LAZY = {
    "MappingLoadError": ("fhiradapter.mapping.errors", "MappingLoadError"),
    "load_mapping": ("fhiradapter.mapping.loader", "load_mapping"),
    "map_input": ("fhiradapter.mapping.run", "map_input"),
}


def __getattr__(name: str) -> Any:  # imports stay lazy: the CLI only pays for what it uses
    if name not in _LAZY:
        raise AttributeError(name)
    import importlib
    module, attr = _LAZY[name]
    return getattr(importlib.import_module(module), attr)
