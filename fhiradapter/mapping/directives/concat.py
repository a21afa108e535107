"""`$concat`: joined strings (docs/mapping-language.md, Directives)."""
from __future__ import annotations

from typing import Any

from fhiradapter.mapping.errors import FieldError
from fhiradapter.mapping.values import as_text
from fhiradapter.mapping.compiler import (
    Compiled, Ctx, Env, FastSource, _column_label, _const, _mark_use, _pure, compile_value,
)
from fhiradapter.mapping.directives.spec import Directive


def compile_directive(spec: dict[str, Any], env: Env, where: str, element: str) -> Compiled:
    start = len(env.uses)
    raw = spec["$concat"]
    if not isinstance(raw, list):
        env.problem(where, "$concat takes a list")
        return _const(None)
    parts = [compile_value(v, env, f"{where}.$concat[{i}]", element) for i, v in enumerate(raw)]
    sep = str(spec.get("sep", ""))
    required = bool(spec.get("required", False))
    columns = tuple(c for p in parts for c in p.columns)
    fns = [p.fn for p in parts]
    _mark_use(env, columns, element, "concat", start)

    def fn(ctx: Ctx) -> Any:
        texts = []
        for sub in fns:
            value = sub(ctx)
            if value is not None and value != "":
                texts.append(value if isinstance(value, str) else str(as_text(value)))
        if not texts:
            if required:
                raise FieldError("required", "required value is missing", column=_column_label(columns))
            return None
        return sep.join(texts)

    node = Compiled(fn, columns)
    node.refs = None   # a text (compiler.NOWHERE)
    if parts and all(_pure(p) for p in parts):
        def inline_concat(src: FastSource) -> str:
            values = [src.emit(p) for p in parts]
            v, f = src.var(), src.bind(fn)
            texts = " and ".join(f"{x}.__class__ is str and {x}" for x in values)
            src.line(f"{v} = {src.bind(sep)}.join(({', '.join(values)},)) if {texts} else {f}(ctx)")
            return v
        node.inline = inline_concat
    return node


DIRECTIVE = Directive(
    name="$concat",
    compile=compile_directive,
    summary="joined strings",
    argument={"type": "array", "items": {"$ref": "#/$defs/expr"}, "minItems": 1},
    options={"sep": {"type": "string"}, "required": {"type": "boolean"}},
    required=(),
)
