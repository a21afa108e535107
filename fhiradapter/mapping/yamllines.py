"""Line numbers of YAML paths (`resources[2].template.status`) in a mapping file's text.

Composed only when a line is wanted (a problem to report, a constant resource's meta.source), so a
mapping that loads cleanly pays nothing.
"""
from __future__ import annotations

import re
from functools import lru_cache

import yaml

from fhiradapter.mapping.yamlload import MappingYamlLoader

_STEP = re.compile(r"([^.\[\]]+)|\[([0-9]+)\]")


@lru_cache(maxsize=16)
def _root(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=MappingYamlLoader)   # noqa: S506 - SafeLoader subclass, composes only
    except yaml.YAMLError:
        return None


def line_of(text: str, where: str) -> int | None:
    """1-based line of the deepest node of `where` found in the text (None when not even the first)."""
    node = _root(text)
    line: int | None = None
    for match in _STEP.finditer(where.split(" ", 1)[0]):
        if node is None:
            break
        key, index = match.group(1), match.group(2)
        found: yaml.Node | None = None
        if index is not None and isinstance(node, yaml.SequenceNode):
            i = int(index)
            found = node.value[i] if i < len(node.value) else None
        elif key is not None and isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == key:
                    line = k.start_mark.line + 1
                    found = v
                    break
        if found is None:
            break
        node = found
        if not isinstance(node, yaml.ScalarNode) or line is None:
            line = node.start_mark.line + 1
    return line
