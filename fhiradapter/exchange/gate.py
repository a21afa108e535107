"""Local validation before sending: nothing that fails it leaves the machine.

Uses `fhiradapter.validator.Validator(rules=False).validate_bundle(bundle, source=...)` (the
validator helper's API). While that module is not importable, a minimal structural check stands in
and every result says so, so nobody mistakes it for full validation.
"""
from __future__ import annotations

from typing import Any, Callable

from fhiradapter.outcome import Issue

Checker = Callable[[dict[str, Any], str], list[Issue]]

MINIMAL_NOTE = ("full local validation unavailable (fhiradapter.validator not importable): only the "
                "minimal structural check ran")


def load_checker() -> tuple[Checker, bool]:
    """(check function, is_full_validator)."""
    try:
        from fhiradapter.validator import Validator  # type: ignore[attr-defined]
    except ImportError:
        return minimal_check, False
    validator = Validator(rules=False)

    def check(bundle: dict[str, Any], source: str) -> list[Issue]:
        return list(validator.validate_bundle(bundle, source=source))

    return check, True


def minimal_check(bundle: dict[str, Any], source: str) -> list[Issue]:
    """Stand-in: each entry's resource has a resourceType and, where given, a well-formed id."""
    issues: list[Issue] = []
    for index, entry in enumerate(bundle.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        where = f"Bundle.entry[{index}].resource"
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            issues.append(Issue("error", "structure", "entry resource missing or without resourceType",
                                expression=where, source=source, entry=index))
            continue
        rid = resource.get("id")
        if rid is not None and (not isinstance(rid, str) or not 0 < len(rid) <= 64):
            issues.append(Issue("error", "value", "resource id must be 1-64 characters [A-Za-z0-9-.]",
                                expression=f"{where}.id", source=source, entry=index))
    return issues
