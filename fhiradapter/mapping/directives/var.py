"""`$var`: a mapping variable (`vars:`) (docs/mapping-language.md, Directives)."""
from __future__ import annotations

from typing import Any

from fhiradapter.mapping.compiler import Compiled, Env, _const
from fhiradapter.mapping.directives.spec import Directive


def compile_directive(spec: dict[str, Any], env: Env, where: str, element: str) -> Compiled:
    name = spec["$var"]
    if name not in env.vars:
        env.problem(where, f"var '{name}' is not defined (vars: {', '.join(sorted(env.vars)) or 'none'})")
        return _const(None)
    return _const(env.vars[name])


DIRECTIVE = Directive(
    name="$var",
    compile=compile_directive,
    summary="a mapping variable (`vars:`)",
    argument={"$ref": "#/$defs/name"},
    options={},
    required=(),
)
