"""fhiradapter: FHIR R4 profiles, mappings, validator and exchange for behavioral-health programs."""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["validate", "__version__"]


def validate(resource_or_bundle: Any, **options: Any) -> dict[str, Any]:
    """Validate a resource or Bundle (dict, JSON text or bytes); returns a FHIR OperationOutcome.

    See fhiradapter.validator.validate for the options (profile, program, rules, show_values...).
    """
    from fhiradapter.validator import validate as _validate

    return _validate(resource_or_bundle, **options)
