"""Builders for synthetic StructureDefinitions used by the conformance tests."""
from __future__ import annotations

from typing import Any


BASE = "https://example.org/fhir"


def sd(sd_id: str, base: str, elements: list[dict[str, Any]], *, type_: str | None = None,
       kind: str = "resource") -> dict[str, Any]:
    """A differential-only StructureDefinition like SUSHI writes."""
    type_name = type_ or elements[0]["path"].split(".")[0]
    return {"resourceType": "StructureDefinition", "id": sd_id, "url": f"{BASE}/StructureDefinition/{sd_id}",
            "version": "1.0.0", "name": sd_id.replace("-", "_"), "status": "active", "fhirVersion": "4.0.1",
            "kind": kind, "abstract": False, "type": type_name, "baseDefinition": base, "derivation": "constraint",
            "differential": {"element": elements}}
