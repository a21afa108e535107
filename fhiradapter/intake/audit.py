"""One AuditEvent-shaped JSON line per request on the `fhiradapter.intake.audit` logger.

Who (client id, organization, network address), what kind of interaction, when, the outcome and the
submission id / X-Request-Id. Never resource contents, ids of records or identifier values (PHI).
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

log = logging.getLogger("fhiradapter.intake.audit")

_INTERACTION = "http://hl7.org/fhir/restful-interaction"
_ACTION = {"transaction": "C", "batch": "C", "operation": "E", "read": "R", "search-type": "R",
           "capabilities": "R"}


def outcome_code(status: int) -> str:
    """AuditEvent.outcome: 0 success, 4 minor failure (client error), 8 serious failure (server)."""
    return "0" if status < 400 else "4" if status < 500 else "8"


def audit_event(*, interaction: str, status: int, subject: str, organization: str, address: str,
                request_id: str, submission: str | None, millis: float, detail: str = "") -> dict[str, Any]:
    agent: dict[str, Any] = {"type": {"text": "client"}, "requestor": True,
                             "who": {"identifier": {"value": subject}},
                             "network": {"address": address, "type": "2"}}
    if organization:
        agent["who"]["display"] = organization
    entities: list[dict[str, Any]] = []
    if request_id:
        entities.append({"what": {"identifier": {"system": "urn:x-request-id", "value": request_id}}})
    if submission:
        entities.append({"what": {"reference": f"Submission/{submission}"}})
    return {
        "resourceType": "AuditEvent",
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
        "subtype": [{"system": _INTERACTION, "code": interaction}],
        "action": _ACTION.get(interaction, "E"),
        "recorded": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "outcome": outcome_code(status),
        "outcomeDesc": f"HTTP {status}{' ' + detail if detail else ''} in {millis:.1f} ms",
        "agent": [agent],
        "source": {"observer": {"display": "fhiradapter-intake"}},
        "entity": entities,
    }


def write(event: dict[str, Any]) -> None:
    if log.isEnabledFor(logging.INFO):
        log.info(orjson.dumps(event).decode())
