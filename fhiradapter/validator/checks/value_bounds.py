"""ElementDefinition.minValue[x] / maxValue[x] / maxLength (R4 §2.26.0.3, profiles): compiled once per
element, checked only on elements that declare them. Quantities compare in the same unit or through a
small UCUM table of metric prefixes and time units; a Duration bound on a date means "from now"."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .base import Reporter

_METRIC = {"k": 1e3, "": 1.0, "d": 1e-1, "c": 1e-2, "m": 1e-3, "u": 1e-6, "n": 1e-9}
_BASE_UNITS = ("g", "m", "L", "l", "s")
_TIME_S = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "wk": 604800.0, "mo": 2629800.0, "a": 31557600.0}


@dataclass(frozen=True, slots=True)
class Bounds:
    min_value: Any = None
    max_value: Any = None
    min_key: str = ""
    max_key: str = ""
    max_length: int | None = None


def compile_bounds(raw: dict[str, Any]) -> Bounds | None:
    lo = hi = None
    lo_key = hi_key = ""
    for k, v in raw.items():
        if k.startswith("minValue"):
            lo, lo_key = v, k[len("minValue"):]
        elif k.startswith("maxValue"):
            hi, hi_key = v, k[len("maxValue"):]
    length = raw.get("maxLength")
    length = length if length.__class__ is int else None
    if lo is None and hi is None and length is None:
        return None
    return Bounds(lo, hi, lo_key, hi_key, length)


def _to_base(q: dict[str, Any]) -> tuple[str, float] | None:
    """(dimension, value in the base unit) of a UCUM quantity we can convert."""
    value, code = q.get("value"), q.get("code") or q.get("unit")
    if value.__class__ not in (int, float) or code.__class__ is not str:
        return None
    if code in _TIME_S:
        return "s", value * _TIME_S[code]
    for base in _BASE_UNITS:
        if code.endswith(base) and code[: -len(base)] in _METRIC:
            return base.lower(), value * _METRIC[code[: -len(base)]]
    return None


def _cmp_quantity(a: dict[str, Any], b: dict[str, Any]) -> int | None:
    va, vb = a.get("value"), b.get("value")
    if va.__class__ not in (int, float) or vb.__class__ not in (int, float):
        return None
    if a.get("code") == b.get("code") and a.get("system") == b.get("system"):
        return (va > vb) - (va < vb)
    ca, cb = _to_base(a), _to_base(b)
    if ca is None or cb is None or ca[0] != cb[0]:
        return None
    return (ca[1] > cb[1]) - (ca[1] < cb[1])


def _from_now(duration: dict[str, Any], sign: int) -> str | None:
    base = _to_base(duration)
    if base is None or base[0] != "s":
        return None
    when = datetime.now(UTC) + sign * timedelta(seconds=base[1])
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def _cmp(value: Any, bound: Any, bound_key: str, sign: int) -> int | None:
    """value <=> bound, None when they cannot be compared here."""
    if bound_key in ("Quantity", "Duration", "Age", "Distance", "Count") and value.__class__ is dict \
            and bound.__class__ is dict:
        return _cmp_quantity(value, bound)
    if value.__class__ is str:
        if bound_key in ("Duration", "Quantity") and bound.__class__ is dict:
            bound = _from_now(bound, sign)
        if bound.__class__ is not str:
            return None
        n = min(len(value), len(bound))
        a, b = value[:n], bound[:n]
        return (a > b) - (a < b)
    if value.__class__ in (int, float) and bound.__class__ in (int, float):
        return (value > bound) - (value < bound)
    return None


def check_bounds(value: Any, bounds: Bounds, path: str, expr: str, report: Reporter) -> None:
    if bounds.max_length is not None and value.__class__ is str and len(value) > bounds.max_length:
        report("error", "too-long", expr, f"{path} is longer than its maxLength of {bounds.max_length}",
               "value-max-length")
    if bounds.min_value is not None:
        c = _cmp(value, bounds.min_value, bounds.min_key, -1)
        if c is not None and c < 0:
            report("error", "value", expr, f"{path} is less than the minimum value of its profile", "value-min")
    if bounds.max_value is not None:
        c = _cmp(value, bounds.max_value, bounds.max_key, 1)
        if c is not None and c > 0:
            report("error", "value", expr, f"{path} is more than the maximum value of its profile", "value-max")
