"""`$const`: `VALUE` verbatim (even if it looks like a directive) (docs/mapping-language.md, Directives)."""
from __future__ import annotations

from typing import Any

from fhiradapter.mapping.compiler import Compiled, Env, _const
from fhiradapter.mapping.directives.spec import Directive


def compile_directive(spec: dict[str, Any], env: Env, where: str, element: str) -> Compiled:
    return _const(spec["$const"])


DIRECTIVE = Directive(
    name="$const",
    compile=compile_directive,
    summary="`VALUE` verbatim (even if it looks like a directive)",
    argument=True,
    options={},
    required=(),
)
