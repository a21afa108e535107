"""`$if`: a conditional template (docs/mapping-language.md, Directives)."""
from __future__ import annotations

from typing import Any

from fhiradapter.mapping.compiler import (
    Compiled, Ctx, Env, FastSource, Use, _pure, compile_condition, compile_value,
)
from fhiradapter.mapping.directives.spec import Directive


def compile_directive(spec: dict[str, Any], env: Env, where: str, element: str) -> Compiled:
    start = len(env.uses)
    test, cond_columns = compile_condition(spec["$if"], env, f"{where}.$if", element)
    # the row's columns the condition reads ($col; not an $each item's fields), listed once below as 'condition'
    read = tuple(dict.fromkeys(c for use in env.uses[start:] for c in use.columns))
    del env.uses[start:]
    if "then" not in spec:
        env.problem(where, "$if needs then:")
    then = compile_value(spec.get("then"), env, f"{where}.then", element)
    other = compile_value(spec.get("else"), env, f"{where}.else", element)
    then_fn, else_fn = then.fn, other.fn
    if read:
        env.uses.append(Use(env.template, read, element, "condition"))

    def fn(ctx: Ctx) -> Any:
        return then_fn(ctx) if test(ctx) else else_fn(ctx)

    node = Compiled(fn, cond_columns + then.columns + other.columns)
    if _pure(then) and _pure(other):
        def inline_if(src: FastSource) -> str:
            v = src.var()
            src.line(f"if {src.bind(test)}(ctx):")
            with src.block():
                src.line(f"{v} = {src.emit(then)}")
            src.line("else:")
            with src.block():
                src.line(f"{v} = {src.emit(other)}")
            return v
        node.inline = inline_if
    return node


DIRECTIVE = Directive(
    name="$if",
    compile=compile_directive,
    summary="a conditional template",
    argument={"$ref": "#/$defs/condition"},
    options={"then": {"$ref": "#/$defs/tmpl"}, "else": {"$ref": "#/$defs/tmpl"}},
    required=("then",),
)
