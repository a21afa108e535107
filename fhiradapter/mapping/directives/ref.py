"""`$ref`: a Reference to the resource another template makes from a key (docs/mapping-language.md, Directives)."""
from __future__ import annotations

from typing import Any

from fhiradapter.ids import mapped_id
from fhiradapter.mapping.errors import FieldError
from fhiradapter.mapping.values import is_empty
from fhiradapter.mapping.compiler import (
    Compiled, Ctx, Env, FastSource, _REFERENCES_PER_NODE, _column_label, _const, _key_fns, _key_function_of, _mark_use, _optional_expr,
)
from fhiradapter.mapping.directives.spec import Directive


def compile_directive(spec: dict[str, Any], env: Env, where: str, element: str) -> Compiled:
    start = len(env.uses)
    target = spec["$ref"]
    if isinstance(target, dict):
        resource_type = target.get("type")
        kind = target.get("kind") or (resource_type or "").lower()
        arity = None
        if not isinstance(resource_type, str):
            env.problem(where, "$ref: {type, kind} needs type")
            return _const(None)
    else:
        info = env.targets.get(target)
        if info is None:
            env.problem(where, f"$ref to '{target}', which is not a resource template of this mapping")
            return _const(None)
        resource_type, kind, arity = info.resource_type, info.kind, info.key_arity
    if "key" not in spec:
        env.problem(where, "$ref needs key:")
        return _const(None)
    key_parts, key_arity = _key_fns(spec["key"], env, f"{where}.key", element)
    key_fn, columns = _key_function_of(key_parts)
    if arity is not None and key_arity != arity:
        env.problem(f"{where}.key", f"template '{target}' has a key of {arity} part(s), this $ref gives {key_arity}")
    display = _optional_expr(spec, "display", env, where, element)
    display_fn = display.fn if display else None
    required = bool(spec.get("required", False))
    agency = env.agency
    prefix = f"{resource_type}/"
    column = _column_label(columns)
    _mark_use(env, columns, element, f"reference {resource_type}", start)

    def fn(ctx: Ctx) -> Any:
        key = key_fn(ctx)
        if key is None:
            if required:
                raise FieldError("required", "reference key is missing", column=column)
            return None
        ref: dict[str, Any] = {"reference": prefix + mapped_id(agency, resource_type, kind, key)}
        if display_fn is not None:
            text = display_fn(ctx)
            if not is_empty(text):
                ref["display"] = text
        return ref

    node = Compiled(fn, columns)
    # {'reference': text} (orphans.py checks the text), and a display, which may be anything
    node.refs = (("reference", None),) if display is None else (("reference", None), ("display", True))
    key_node = key_parts[0] if len(key_parts) == 1 and key_parts[0].inline is not None else None
    if display is None and key_node is not None:
        # this reference's text per source key (the same member, staff, organization recur on
        # every row); bounded: emptied when full
        known: dict[str, str] = {}

        def reference_text(key: str) -> str:
            if len(known) >= _REFERENCES_PER_NODE:
                known.clear()
            text = known[key] = prefix + mapped_id(agency, resource_type, kind, key)
            return text

        def inline_ref(src: FastSource) -> str:
            key, v, f = src.emit(key_node), src.var(), src.bind(fn)
            src.line(f"if {key}.__class__ is str and {key}:")
            with src.block():
                src.line(f"{v} = {src.bind(known)}.get({key}) or {src.bind(reference_text)}({key})")
                src.line(f"{v} = {{'reference': {v}}}")
            src.line(f"else: {v} = {f}(ctx)")
            src.none_or_filled(v)   # the closure, too, returns a reference or None
            return v
        node.inline = inline_ref
    return node


DIRECTIVE = Directive(
    name="$ref",
    compile=compile_directive,
    summary="a Reference to the resource another template makes from a key",
    argument={"anyOf": [{"$ref": "#/$defs/name"}, {"type": "object", "required": ["type"], "additionalProperties": False, "properties": {"type": {"type": "string", "pattern": "^[A-Z][A-Za-z]+$"}, "kind": {"$ref": "#/$defs/name"}}}]},
    options={"key": {"anyOf": [{"$ref": "#/$defs/expr"}, {"type": "array", "items": {"$ref": "#/$defs/expr"}, "minItems": 1}]}, "display": {"$ref": "#/$defs/expr"}, "required": {"type": "boolean"}},
    required=("key",),
)
