"""`$datetime`: a FHIR `dateTime` with the right UTC offset for the mapping's time zone (docs/mapping-language.md, Directives)."""
from __future__ import annotations

from typing import Any

from fhiradapter.mapping.errors import FieldError
from fhiradapter.mapping.values import as_text
from fhiradapter.mapping.timefmt import TimeValueError, format_has_time, to_fhir_datetime
from fhiradapter.mapping.compiler import (
    Compiled, Ctx, Env, _INFINITY, _column_label, _converting, _formats, _mark_use, _optional_expr, compile_value,
)
from fhiradapter.mapping.directives.spec import Directive


def compile_directive(spec: dict[str, Any], env: Env, where: str, element: str) -> Compiled:
    start = len(env.uses)
    source = compile_value(spec["$datetime"], env, f"{where}.$datetime", element)
    formats = _formats(spec, env, where)
    ambiguous = spec.get("ambiguous", "earlier")
    required = bool(spec.get("required", False))
    tz_expr = _optional_expr(spec, "timezone", env, where, element)
    add_expr = _optional_expr(spec, "add_minutes", env, where, element)
    if tz_expr is not None and tz_expr.const:
        from fhiradapter.mapping.timefmt import zone
        try:
            zone(str(tz_expr.value))
        except TimeValueError as exc:
            env.problem(f"{where}.timezone", str(exc))
    if add_expr is not None and not any(format_has_time(f) for f in formats):
        env.problem(f"{where}.add_minutes", "add_minutes needs a format with a time of day")
    columns = source.columns + (add_expr.columns if add_expr else ()) + (tz_expr.columns if tz_expr else ())
    _mark_use(env, columns, element, f"datetime {' | '.join(formats)}", start)
    column = _column_label(source.columns)
    get_tz = tz_expr.fn if tz_expr else None
    get_add = add_expr.fn if add_expr else None
    add_column = _column_label(add_expr.columns) if add_expr else None

    def convert_datetime(ctx: Ctx, value: Any) -> Any:
        if value is None:
            if required:
                raise FieldError("required", "required value is missing", column=column)
            return None
        tz = ctx.timezone
        if get_tz is not None:
            tz = get_tz(ctx) or tz
        minutes = None
        if get_add is not None:
            raw = get_add(ctx)
            if raw is not None:
                try:
                    minutes = float(raw)
                except (TypeError, ValueError):
                    raise FieldError("value", "add_minutes is not a number", column=add_column, value=raw) from None
                if not 0 <= minutes < _INFINITY:   # NaN fails every comparison
                    raise FieldError("value", "add_minutes must be a finite number >= 0", column=add_column, value=raw)
        try:
            return to_fhir_datetime(value if value.__class__ is str else str(as_text(value)), formats,
                                    tz if tz.__class__ is str else str(tz), ambiguous, minutes)
        except TimeValueError as exc:
            raise FieldError("value", str(exc), column=column, value=value) from None

    return _converting(source, convert_datetime, columns)


DIRECTIVE = Directive(
    name='$datetime',
    compile=compile_directive,
    summary="a FHIR `dateTime` with the right UTC offset for the mapping's time zone",
    argument={'$ref': '#/$defs/expr'},
    options={'format': {'$ref': '#/$defs/formats'}, 'timezone': {'$ref': '#/$defs/expr'}, 'ambiguous': {'enum': ['earlier', 'later', 'error']}, 'add_minutes': {'$ref': '#/$defs/expr'}, 'required': {'type': 'boolean'}},
    required=('format',),
)
