"""`$rows`: the related rows of an `index:` source (only as the list of `$each`) (docs/mapping-language.md, Directives)."""
from __future__ import annotations

from typing import Any

from fhiradapter.mapping.compiler import Compiled, Env, _const
from fhiradapter.mapping.directives.spec import Directive


def compile_directive(spec: dict[str, Any], env: Env, where: str, element: str) -> Compiled:
    env.problem(where, "$rows is only allowed as the list of $each")
    return _const(None)


DIRECTIVE = Directive(
    name="$rows",
    compile=compile_directive,
    summary="the related rows of an `index:` source (only as the list of `$each`)",
    argument={"$ref": "#/$defs/name"},
    options={"match": {"$ref": "#/$defs/expr"}},
    required=("match",),
)
