"""Value conversions shared by directives: JSON scalars to text, `as:` types, emptiness."""
from __future__ import annotations

import re
from typing import Any

from fhiradapter.mapping.errors import FieldError

_INT = re.compile(r"^[-+]?[0-9]+$")
_DEC = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})


def is_empty(value: Any) -> bool:
    """Missing in the FHIR sense: None, '', {} or [] (the element is left out)."""
    return value is None or value == "" or value == {} or value == []


def as_text(value: Any) -> Any:
    """JSON scalars as the text a CSV would hold; containers unchanged; blank text -> None."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return value


def convert(value: Any, kind: str, column: str | None) -> Any:
    """`as:` conversion of a present value; FieldError (code 'value') when it does not fit."""
    if kind == "string":
        return value
    text = value if isinstance(value, str) else as_text(value)
    if not isinstance(text, str):
        raise FieldError("value", f"not a single value (cannot read as {kind})", column=column, value=value)
    if kind == "integer":
        if _INT.match(text):
            return int(text)
        raise FieldError("value", "not an integer", column=column, value=value)
    if kind == "decimal":
        if _DEC.match(text):
            number = float(text)
            return int(number) if ("." not in text and "e" not in text.lower()) else number
        raise FieldError("value", "not a decimal number", column=column, value=value)
    if kind == "boolean":
        word = text.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise FieldError("value", "not a boolean (expected true/false, yes/no, y/n, t/f or 1/0)",
                         column=column, value=value)
    raise AssertionError(kind)


def same(a: Any, b: Any) -> bool:
    """`equals:` compares as text, so true == "true" and 1 == "1"."""
    return bool(as_text(a) == as_text(b))
