"""A YAML loader that keeps agency codes as written.

PyYAML follows YAML 1.1: `NO` becomes False, `007` becomes 7, `2025-03-09` a date object. In a mapping
those are codes and formats, so only true/false are booleans, only plain decimal numbers are numbers,
and nothing becomes a date (docs/mapping-language.md, YAML details).
"""
from __future__ import annotations

import re
from typing import Any

import yaml


class MappingYamlLoader(yaml.SafeLoader):
    pass


# libyaml's parser when PyYAML was built with it: ~7x faster on the shipped mappings. The constructor
# and resolvers are the same Python classes; syntax errors are re-read by the Python parser, whose
# messages say more ("expected ',' or ']', but got '<stream end>'").
class _FastMappingYamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


# Drop all implicit resolvers, then add back the YAML 1.2 core ones we want.
MappingYamlLoader.yaml_implicit_resolvers = {}
MappingYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
MappingYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))
MappingYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:(?:0|[1-9][0-9]*)\.[0-9]+(?:[eE][-+]?[0-9]+)?|(?:0|[1-9][0-9]*)[eE][-+]?[0-9]+)$"),
    list("-+0123456789"))
MappingYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_FastMappingYamlLoader.yaml_implicit_resolvers = MappingYamlLoader.yaml_implicit_resolvers


# Bounds on a mapping document (docs/limits.md): aliases may share a node many times ("billion
# laughs"); every reader after the constructor walks the expanded tree, so its size is what counts.
MAX_NODES = 200_000     # nodes of the document with every alias expanded (shipped mappings: < 5,000)
MAX_DEPTH = 64          # nesting levels (shipped mappings: < 20)


class YamlLimitError(yaml.YAMLError):
    """The document is over MAX_NODES (expanded) or MAX_DEPTH."""


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_bounds(root: yaml.Node) -> None:
    """Expanded size and depth of the composed node graph, in time linear in its distinct nodes."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            open_nodes.discard(key)
            if size[key] > MAX_NODES:
                raise YamlLimitError(f"the document expands to more than {MAX_NODES:,} nodes (aliases?)")
            if depth[key] > MAX_DEPTH:
                raise YamlLimitError(f"the document is nested more than {MAX_DEPTH} levels deep")
            continue
        if key in size:
            continue
        if key in open_nodes:   # an alias to a node that contains it
            raise YamlLimitError("an alias refers to a node that contains it")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((kid, False) for kid in _children(node) if id(kid) not in size)


def _load(text: str, loader_class: type) -> Any:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_bounds(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


# Parsing itself recurses once per nesting level, and libyaml's composer does so in C, where a deep
# enough document overflows the C stack (a segfault, not a RecursionError). So the text is scanned first:
# more open brackets, or a deeper indentation (spaces and "- " markers), than any mapping needs is
# refused before the parser sees it.
MAX_OPEN_BRACKETS = 4 * MAX_DEPTH
MAX_INDENT = 8 * MAX_DEPTH
_BRACKETS = re.compile(r"[\[\]{}]")
_INDENT = re.compile(r"^[ -]*", re.MULTILINE)


def check_nesting_text(text: str) -> None:
    """Refuse a text nested too deeply to parse safely (a bound above any real mapping's nesting)."""
    open_brackets = deepest = 0
    for match in _BRACKETS.finditer(text):
        if match.group() in "[{":
            open_brackets += 1
            if open_brackets > deepest:
                deepest = open_brackets
                if deepest > MAX_OPEN_BRACKETS:
                    raise YamlLimitError(f"the document is nested more than {MAX_DEPTH} levels deep")
        elif open_brackets:
            open_brackets -= 1
    if max((len(m.group()) for m in _INDENT.finditer(text)), default=0) > MAX_INDENT:
        raise YamlLimitError(f"the document is nested more than {MAX_DEPTH} levels deep "
                             f"(indentation past {MAX_INDENT} columns)")


def load_yaml(text: str) -> Any:
    check_nesting_text(text)
    try:
        return _load(text, _FastMappingYamlLoader)
    except YamlLimitError:
        raise
    except yaml.YAMLError:
        return _load(text, MappingYamlLoader)   # raises with the clearer message
