"""`$date`: a FHIR `date` (docs/mapping-language.md, Directives)."""
from __future__ import annotations

from typing import Any

from fhiradapter.mapping.errors import FieldError
from fhiradapter.mapping.values import as_text
from fhiradapter.mapping.timefmt import TimeValueError, to_fhir_date
from fhiradapter.mapping.compiler import (
    Compiled, Ctx, Env, _column_label, _converting, _formats, _mark_use, compile_value,
)
from fhiradapter.mapping.directives.spec import Directive


def compile_directive(spec: dict[str, Any], env: Env, where: str, element: str) -> Compiled:
    start = len(env.uses)
    source = compile_value(spec["$date"], env, f"{where}.$date", element)
    formats = _formats(spec, env, where)
    precision = spec.get("precision", "day")
    required = bool(spec.get("required", False))
    column = _column_label(source.columns)
    _mark_use(env, source.columns, element, f"date {' | '.join(formats)}", start)

    def convert_date(ctx: Ctx, value: Any) -> Any:
        if value is None:
            if required:
                raise FieldError("required", "required value is missing", column=column)
            return None
        try:
            return to_fhir_date(value if isinstance(value, str) else str(as_text(value)), formats, precision)
        except TimeValueError as exc:
            raise FieldError("value", str(exc), column=column, value=value) from None

    return _converting(source, convert_date, source.columns)


DIRECTIVE = Directive(
    name="$date",
    compile=compile_directive,
    summary="a FHIR `date`",
    argument={"$ref": "#/$defs/expr"},
    options={"format": {"$ref": "#/$defs/formats"}, "precision": {"enum": ["year", "month", "day"]}, "required": {"type": "boolean"}},
    required=("format",),
)
