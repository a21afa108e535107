"""Local validation before sending: nothing that fails it leaves the machine.

The check is `fhiradapter.validator.Validator(rules=False, strict=True).validate_bundle`: base R4 (its stricter reading), profiles and
Bundle references, without program rules (their findings never block a release).
"""
from __future__ import annotations

from typing import Any, Callable

from fhiradapter.outcome import Issue

Checker = Callable[[dict[str, Any], str], list[Issue]]


def load_checker() -> Checker:
    """The local validation of one Bundle (source = its file, for the issues)."""
    from fhiradapter.validator import Validator   # imported here: `status` never loads definitions
    validator = Validator(rules=False, strict=True)   # what goes to a payer meets R4's stricter reading

    def check(bundle: dict[str, Any], source: str) -> list[Issue]:
        return list(validator.validate_bundle(bundle, source=source))

    return check
