"""The validator: base R4 structure, primitives, bindings, invariants, profiles, slicing, Bundles.

    from fhiradapter.validator import validate, validate_issues, Validator
    outcome = validate(resource_or_bundle, program="mt-cmp")      # a FHIR OperationOutcome dict

`Validator` compiles definitions once; reuse one for many resources.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from ..outcome import Issue, operation_outcome
from .engine import Validator

__all__ = ["validate", "validate_issues", "Validator"]

_cache: dict[tuple[Any, ...], Validator] = {}


def _validator(igs: Iterable[str | Path], show_values: bool, must_support: bool, rules: bool,
               timezone: str | None, strict: bool = False) -> Validator:
    key = (tuple(str(i) for i in igs), show_values, must_support, rules, timezone, strict)
    v = _cache.get(key)
    if v is None:
        v = _cache[key] = Validator(igs=key[0], show_values=show_values, must_support=must_support,
                                    rules=rules, timezone=timezone, strict=strict)
    return v


def validate_issues(resource_or_bundle: Any, *, profile: str | None = None, program: str | None = None,
                    rules: bool = True, show_values: bool = False, igs: Iterable[str | Path] = (),
                    must_support: bool = False, timezone: str | None = None, strict: bool = False) -> list[Issue]:
    """strict: R4 rules the HL7 validator does not apply offline are errors (default: warnings)."""
    v = _validator(igs, show_values, must_support, rules, timezone, strict)
    return v.validate_resource(resource_or_bundle, profile=profile, program=program)


def validate(resource_or_bundle: Any, **kwargs: Any) -> dict[str, Any]:
    """The same checks as `fhiradapter validate`, returned as an OperationOutcome dict."""
    return operation_outcome(validate_issues(resource_or_bundle, **kwargs))
