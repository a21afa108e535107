"""`$lookup`: a code translated through a lookup table (docs/mapping-language.md, Directives)."""
from __future__ import annotations

from typing import Any

from fhiradapter.mapping.errors import FieldError
from fhiradapter.mapping.values import as_text
from fhiradapter.mapping.compiler import (
    NOWHERE, Compiled, Ctx, Env, FastSource, Use, _column_label, _const, _field_node, _has_reference, _pure,
    compile_value,
)
from fhiradapter.mapping.directives.spec import Directive


def compile_directive(spec: dict[str, Any], env: Env, where: str, element: str) -> Compiled:
    name = spec["$lookup"]
    lookup = env.lookups.get(name)
    if lookup is None:
        env.problem(where, f"lookup '{name}' is not defined")
        return _const(None)
    if "col" in spec:
        source = _field_node({"$col": spec["col"]}, env, f"{where}.col", element, "$col")
    elif "from" in spec:
        source = compile_value(spec["from"], env, f"{where}.from", element)
    else:
        env.problem(where, "$lookup needs col: or from:")
        return _const(None)
    required = bool(spec.get("required", False))
    has_default = "default" in spec
    default = spec.get("default")
    table, ignore_case = lookup.table, lookup.ignore_case
    get = source.fn
    column = _column_label(source.columns)
    for use in env.uses[::-1]:
        if use.element == element and use.via == "value":
            use.via, use.lookup, use.lookups = f"lookup {name}", name, (name,)
            break
    else:
        if source.columns:
            env.uses.append(Use(env.template, tuple(f"{env.source}.{c}" for c in source.columns), element,
                                f"lookup {name}", lookup=name, lookups=(name,)))

    def fn(ctx: Ctx) -> Any:
        value = get(ctx)
        if value is None:
            if required:
                raise FieldError("required", "required value is missing", column=column)
            return None
        key = value if isinstance(value, str) else as_text(value)
        if ignore_case and isinstance(key, str):
            key = key.lower()
        try:
            return table[key]
        except (KeyError, TypeError):
            if has_default:
                return default
            raise FieldError("code-invalid", f"code not in lookup '{name}'", column=column, value=value) from None

    node = Compiled(fn, source.columns)
    if not _has_reference(default) and not any(_has_reference(v) for v in table.values()):
        node.refs = NOWHERE   # what the table (or default) gives holds no reference
    if _pure(source) and not ignore_case:
        def inline_lookup(src: FastSource) -> str:
            value, v, t, f = src.emit(source), src.var(), src.bind(table), src.bind(fn)
            src.line(f"{v} = {t}.get({value}, ABSENT) if {value}.__class__ is str else ABSENT")
            src.line(f"if {v} is ABSENT: {v} = {f}(ctx)")   # missing, unmapped, default: the closure decides
            return v
        node.inline = inline_lookup
    return node


DIRECTIVE = Directive(
    name="$lookup",
    compile=compile_directive,
    summary="a code translated through a lookup table",
    argument={"$ref": "#/$defs/name"},
    options={"col": {"type": "string", "minLength": 1}, "from": {"$ref": "#/$defs/expr"}, "default": True, "required": {"type": "boolean"}},
    required=(),
    extra={"oneOf": [{"required": ["col"]}, {"required": ["from"]}]},
)
