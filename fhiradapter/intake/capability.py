"""The CapabilityStatement of the gateway: what it really does, built from the loaded definitions."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fhiradapter.canonical import BASE, PROGRAMS

from .config import IntakeConfig

VALIDATE_OPERATION = "http://hl7.org/fhir/OperationDefinition/Resource-validate"


def _profiles(registry: Any) -> dict[str, list[str]]:
    """Resource type -> profile URLs loaded (our programs' and any --ig packages')."""
    types: set[str] = set()
    for package in registry.packages:
        for resource in package.resources:
            if resource.get("resourceType") == "StructureDefinition" and resource.get("kind") == "resource" \
                    and resource.get("derivation") == "constraint" and isinstance(resource.get("type"), str):
                types.add(resource["type"])
    return {t: registry.profiles_for(t) for t in sorted(types)}


def capability_statement(config: IntakeConfig, registry: Any) -> dict[str, Any]:
    profiles = _profiles(registry)
    write = [{"code": "create"}, {"code": "update"}]
    resources = [{
        "type": rtype,
        "supportedProfile": urls,
        "interaction": write,
        "operation": [{"name": "validate", "definition": VALIDATE_OPERATION}],
        "documentation": "Accepted in transaction/batch Bundles posted to the base (create/update entries "
                         "only: PUT Type/id or conditional create); no read or search here.",
    } for rtype, urls in profiles.items()]
    security: dict[str, Any] = {"cors": False}
    if config.auth.enabled:
        security["service"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                            "code": "SMART-on-FHIR"}]}]
        security["description"] = (
            f"Bearer JWT access tokens from {config.auth.issuer} (audience {config.auth.audience}); system scopes "
            f"per resource type (system/Type.write to submit, .read or .write to $validate); the sending "
            f"organization is the token's '{config.auth.org_claim}' claim. /metadata is open.")
    else:
        security["description"] = "No authentication (loopback-only local use)."
    programs = ", ".join(PROGRAMS)
    return {
        "resourceType": "CapabilityStatement",
        "url": f"{BASE}/CapabilityStatement/intake",
        "name": "FhiradapterIntake",
        "title": "fhiradapter payer intake gateway",
        "status": "active",
        "date": datetime.now(UTC).date().isoformat(),
        "kind": "instance",
        "software": {"name": "fhiradapter intake"},
        "implementation": {"description": "Validates agency submissions against the program profiles and "
                                          f"program rules ({programs}) and forwards accepted ones to the payer's "
                                          "FHIR server exactly once", "url": config.public_base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [{
            "mode": "server",
            "documentation": "POST / with a transaction or batch Bundle: validated whole (profiles, program "
                             "rules with the member's earlier accepted submissions); rejected whole with an "
                             "OperationOutcome (422/403), or accepted and forwarded (200 when the payer's "
                             "server answered in time, 202 while queued). X-Request-Id makes a submission "
                             "idempotent. GET /submissions/{id} shows the verdict and delivery state.",
            "security": security,
            "resource": resources,
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
            "operation": [{"name": "validate", "definition": VALIDATE_OPERATION}],
        }],
    }
