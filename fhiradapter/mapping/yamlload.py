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


def load_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_FastMappingYamlLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError:
        return yaml.load(text, Loader=MappingYamlLoader)  # noqa: S506 - raises with the clearer message
