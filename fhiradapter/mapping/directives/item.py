"""`$item`: the current `$each` item (`{$item: .}` the item itself) (docs/mapping-language.md, Directives)."""
from __future__ import annotations

from typing import Any

from fhiradapter.mapping.compiler import Compiled, Env, _field_node
from fhiradapter.mapping.directives.spec import Directive


def compile_directive(spec: dict[str, Any], env: Env, where: str, element: str) -> Compiled:
    return _field_node(spec, env, where, element, "$item")


DIRECTIVE = Directive(
    name="$item",
    compile=compile_directive,
    summary="the current `$each` item (`{$item: .}` the item itself)",
    argument={"type": "string", "minLength": 1},
    options={"required": {"type": "boolean"}, "as": {"enum": ["string", "integer", "decimal", "boolean"]}, "default": True},
    required=(),
)
