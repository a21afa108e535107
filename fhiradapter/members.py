"""Which member (Patient) a resource belongs to: shared by `validate` and `rules check`, which both
group NDJSON resources into member records."""
from __future__ import annotations

from typing import Any

SUBJECT_ELEMENTS = ("subject", "patient", "beneficiary")


def member_key(resource: dict[str, Any]) -> str | None:
    """`Patient/{id}` for a Patient, else its subject/patient/beneficiary reference (version stripped)."""
    if resource.get("resourceType") == "Patient" and isinstance(resource.get("id"), str):
        return f"Patient/{resource['id']}"
    for name in SUBJECT_ELEMENTS:
        ref = resource.get(name)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            reference: str = ref["reference"]
            return reference.split("/_history")[0]
    return None
