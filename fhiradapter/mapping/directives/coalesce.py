"""`$coalesce`: the first expression that is not missing (docs/mapping-language.md, Directives)."""
from __future__ import annotations

from typing import Any

from fhiradapter.mapping.errors import FieldError
from fhiradapter.mapping.values import is_empty
from fhiradapter.mapping.compiler import Compiled, Ctx, Env, _column_label, _const, compile_value
from fhiradapter.mapping.directives.spec import Directive


def compile_directive(spec: dict[str, Any], env: Env, where: str, element: str) -> Compiled:
    raw = spec["$coalesce"]
    if not isinstance(raw, list):
        env.problem(where, "$coalesce takes a list")
        return _const(None)
    parts = [compile_value(v, env, f"{where}.$coalesce[{i}]", element) for i, v in enumerate(raw)]
    required = bool(spec.get("required", False))
    columns = tuple(c for p in parts for c in p.columns)
    fns = [p.fn for p in parts]

    def fn(ctx: Ctx) -> Any:
        for sub in fns:
            value = sub(ctx)
            if not is_empty(value):
                return value
        if required:
            raise FieldError("required", "required value is missing", column=_column_label(columns))
        return None

    return Compiled(fn, columns)


DIRECTIVE = Directive(
    name="$coalesce",
    compile=compile_directive,
    summary="the first expression that is not missing",
    argument={"type": "array", "items": {"$ref": "#/$defs/expr"}, "minItems": 1},
    options={"required": {"type": "boolean"}},
    required=(),
)
