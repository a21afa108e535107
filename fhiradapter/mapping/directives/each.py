"""`$each`: a list: one item per element of a list, split column or related rows (docs/mapping-language.md, Directives)."""
from __future__ import annotations

from typing import Any

from fhiradapter.mapping.errors import FieldError, FieldErrors
from fhiradapter.mapping.values import as_text
from fhiradapter.mapping.compiler import Compiled, Ctx, Env, RelatedItem, Use, _const, compile_value
from fhiradapter.mapping.directives.spec import Directive


def compile_directive(spec: dict[str, Any], env: Env, where: str, element: str) -> Compiled:
    if "do" not in spec:
        env.problem(where, "$each needs do:")
        return _const(None)
    lst = spec["$each"]
    split = spec.get("split")
    related: str | None = None
    if isinstance(lst, dict) and "$rows" in lst:
        related = lst["$rows"]
        src = env.sources.get(related)
        if src is None:
            env.problem(f"{where}.$each", f"source '{related}' is not defined")
            return _const(None)
        if not src.get("index"):
            env.problem(f"{where}.$each", f"source '{related}' has no index: column, so $rows cannot use it")
            return _const(None)
        if "match" not in lst:
            env.problem(f"{where}.$each", "$rows needs match:")
            return _const(None)
        start = len(env.uses)
        match = compile_value(lst["match"], env, f"{where}.$each.match", element)
        del env.uses[start:]
        list_fn = match.fn
        list_columns = match.columns
        env.uses.append(Use(env.template, tuple(f"{env.source}.{c}" for c in match.columns) +
                            (f"{related}.{src['index']}",), element, f"rows of {related}", rows_of=related))
    else:
        source = compile_value(lst, env, f"{where}.$each", element)
        list_fn = source.fn
        list_columns = source.columns
    env.each_kinds.append(f"rows:{related}" if related else "value:" + ", ".join(list_columns))
    body = compile_value(spec["do"], env, f"{where}.do", f"{element}[*]")
    env.each_kinds.pop()
    do = body.fn
    splice_holder = Compiled(lambda ctx: None)   # filled below; splice set by the enclosing list
    related_file = str(env.sources.get(related, {}).get("file", related)) if related else None

    def items_of(ctx: Ctx) -> list[Any]:
        value = list_fn(ctx)
        if value is None:
            return []
        if related is not None:
            key = value if isinstance(value, str) else as_text(value)
            group = ctx.related[related].groups.get(key, ())
            return [RelatedItem(related, related_file or related, idx, line, data) for idx, line, data in group]
        if isinstance(value, list):
            return value
        if isinstance(value, str):
            if split:
                return [p.strip() for p in value.split(split) if p.strip()]
            return [value]
        return [value]

    def fn(ctx: Ctx) -> Any:
        base = ctx.base if splice_holder.splice else 0
        out: list[Any] = []
        errors: list[FieldError] | None = None
        items = ctx.items
        for item in items_of(ctx):
            items.append(item)
            if related is not None:
                ctx.used.append((item.source, item.index))
            try:
                value = do(ctx)
            except (FieldError, FieldErrors) as exc:
                batch = exc.errors if isinstance(exc, FieldErrors) else [exc]
                for error in batch:
                    if related is not None and error.file is None:
                        error.file, error.line = item.file, item.line
                    error.add(f"[{base + len(out)}]")
                errors = errors or []
                errors.extend(batch)
                continue
            finally:
                items.pop()
            if value is not None and value != "" and value != {} and value != []:
                out.append(value)
        if errors:
            raise FieldErrors(errors)
        return out or None

    splice_holder.fn = fn
    splice_holder.columns = list_columns + body.columns
    return splice_holder


DIRECTIVE = Directive(
    name="$each",
    compile=compile_directive,
    summary="a list: one item per element of a list, split column or related rows",
    argument={"anyOf": [{"$ref": "#/$defs/rows"}, {"$ref": "#/$defs/expr"}]},
    options={"split": {"type": "string", "minLength": 1}, "do": {"$ref": "#/$defs/tmpl"}},
    required=("do",),
)
