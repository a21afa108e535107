"""FHIR R4 primitive types: JSON shape and lexical form (regexes from the R4 spec's type definitions).

Data-driven: one table row per primitive; `check_primitive` returns an error message naming the type
(never the value) or None.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Callable

_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_TZ = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"

REGEX: dict[str, str] = {
    "base64Binary": r"(\s*([0-9a-zA-Z\+/=]){4}\s*)+",
    "canonical": r"\S*",
    "code": r"[^\s]+(\s[^\s]+)*",
    "date": _YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?",
    "dateTime": _YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T" + _TIME + _TZ + r")?)?)?",
    "id": r"[A-Za-z0-9\-\.]{1,64}",
    "instant": _YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T" + _TIME + _TZ,
    "markdown": r"[ \r\n\t\S]+",
    "oid": r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+",
    "string": r"[ \r\n\t\S]+",
    "time": _TIME,
    "uri": r"\S*",
    "url": r"\S*",
    "uuid": r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
}
# ASCII semantics like the spec's (Java/XML Schema) regexes: \s and \S are ASCII classes, so a no-break
# space inside a string is content, not whitespace
_COMPILED = {name: re.compile(rx, re.ASCII).fullmatch for name, rx in REGEX.items()}

STRING_TYPES = frozenset(REGEX) | {"xhtml"}
NUMBER_TYPES = frozenset({"integer", "positiveInt", "unsignedInt", "decimal", "integer64"})
PRIMITIVE_TYPES = STRING_TYPES | NUMBER_TYPES | {"boolean"}
_INT_MIN, _INT_MAX = -2147483648, 2147483647
_MAX_STRING = 1024 * 1024
_DATE_TYPES = frozenset({"date", "dateTime", "instant"})
# R4 string (§2.24.0.1, made an error by the project): no characters below U+0020 except tab, CR, LF
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]").search


def _real_calendar_date(value: str) -> bool:
    """The regexes allow 2023-02-31; the calendar does not."""
    if len(value) < 10:
        return True
    try:
        date(int(value[0:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        return False
    return True


def _fast_string(type_code: str) -> "Callable[[Any], str | None]":
    """Common case first: a non-empty str matching the regex; anything unusual takes the full path."""
    matcher = _COMPILED.get(type_code)
    dates = type_code in _DATE_TYPES

    seen_good: set[str] = set()   # values repeat (systems, codes, statuses): remember good ones, bounded

    def check(value: Any) -> str | None:
        if value.__class__ is str:
            if value in seen_good:
                return None
            if value and matcher is not None and len(value) < 4096 and matcher(value) is not None \
                    and (value.isprintable() or _CONTROL(value) is None) \
                    and (not dates or _real_calendar_date(value)):
                if len(seen_good) < 20000:
                    seen_good.add(value)
                return None
        return check_primitive(type_code, value)
    return check


def check_primitive(type_code: str, value: Any) -> str | None:
    """None when `value` is a valid JSON representation of the FHIR primitive `type_code`."""
    if type_code == "boolean":
        return None if value is True or value is False else "must be a JSON boolean (true/false)"
    if type_code in NUMBER_TYPES:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a JSON number ({type_code})"
        if type_code == "decimal":
            return None if value == value and value not in (float("inf"), float("-inf")) else \
                "must be a finite decimal"
        if isinstance(value, float):
            if not value.is_integer():
                return f"must be a whole number ({type_code})"
            value = int(value)
        if not _INT_MIN <= value <= _INT_MAX:
            return f"is out of the 32-bit range of {type_code}"
        if type_code == "positiveInt" and value < 1:
            return "must be a positive integer (1 or more)"
        if type_code == "unsignedInt" and value < 0:
            return "must be zero or a positive integer"
        return None
    if not isinstance(value, str):
        return f"must be a JSON string ({type_code})"
    if type_code == "xhtml":   # the narrative rules are checks/narrative.py's (they parse the XHTML)
        return None if value.strip() else "must be an XHTML <div> element"
    if len(value) > _MAX_STRING:
        return f"is longer than the 1 MB limit of {type_code}"
    if value == "":
        return "must not be empty (an empty string is not a FHIR value; omit the element)"
    matcher = _COMPILED.get(type_code)
    if matcher is not None and matcher(value) is None:
        return f"is not a valid {type_code}"
    if type_code in _DATE_TYPES and not _real_calendar_date(value):
        return f"is not a valid {type_code} (no such calendar date)"
    # whitespace-only strings match R4's regex ([ \r\n\t\S]+): allowed, as the reference allows them
    if _CONTROL(value) is not None:
        return "contains a control character (below U+0020 other than tab, CR and LF), which FHIR strings do not allow"
    return None


def primitive_check_id(type_code: str | None, value: Any) -> str:
    """The catalogue id of a primitive finding (asked only once a value failed)."""
    if value.__class__ is str and type_code != "xhtml" and _CONTROL(value) is not None \
            and (type_code not in _COMPILED or _COMPILED[type_code](value) is not None):
        return "string-control-char"
    return "primitive-format"


CheckFn = Callable[[Any], "str | None"]


def checker(type_code: str) -> CheckFn:
    """A one-argument checker bound to a type (saves work per value in the hot loop)."""
    if type_code in REGEX:
        return _fast_string(type_code)
    return lambda value: check_primitive(type_code, value)


CHECKERS: dict[str, CheckFn] = {t: checker(t) for t in PRIMITIVE_TYPES}
