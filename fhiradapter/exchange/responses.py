"""Tolerant parsing of what FHIR servers answer.

Servers differ: `entry.response.status` is "201", "201 Created" or "201 Created " ; `location` is
relative ("Patient/1/_history/2") or absolute ("https://x/fhir/Patient/1/_history/2"); `$validate`
answers 200 with issues, or 400/412/422 with an OperationOutcome. Everything here takes what came and
returns plain values, never raising on an odd shape.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_STATUS = re.compile(r"^\s*(\d{3})\b")
_LOCATION = re.compile(
    r"(?:^|/)(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/(?P<version>[^/?#]+))?/?(?:[?#].*)?$")

VALIDATE_ANSWER_CODES = frozenset({200, 400, 412, 422})


def parse_status(value: Any) -> int | None:
    """The numeric HTTP status from "201", "201 Created", 201; None if there is none."""
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        return None
    match = _STATUS.match(value)
    return int(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class Location:
    resource_type: str
    id: str
    version: str | None = None

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.id}"


def parse_location(value: Any) -> Location | None:
    """`Type/id[/_history/v]`, relative or absolute; None if it names no resource."""
    if not isinstance(value, str) or not value.strip():
        return None
    match = _LOCATION.search(value.strip())
    if not match:
        return None
    return Location(match.group("type"), match.group("id"), match.group("version"))


@dataclass(slots=True)
class EntryResult:
    index: int
    status: int | None
    location: Location | None
    outcome: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(slots=True)
class BundleResult:
    """A transaction/batch response reduced to what the journal keeps (no resource bodies: PHI)."""
    entries: list[EntryResult] = field(default_factory=list)
    problem: str | None = None  # set when the body was not a usable response Bundle


def parse_bundle_response(body: Any, expected_entries: int) -> BundleResult:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        return BundleResult(problem="response is not a Bundle")
    if body.get("type") not in ("transaction-response", "batch-response"):
        return BundleResult(problem=f"response Bundle type is {body.get('type')!r}")
    entries = body.get("entry") or []
    result = BundleResult()
    for index, entry in enumerate(entries):
        response = entry.get("response") if isinstance(entry, dict) else None
        response = response if isinstance(response, dict) else {}
        outcome = response.get("outcome")
        result.entries.append(EntryResult(
            index=index,
            status=parse_status(response.get("status")),
            location=parse_location(response.get("location")),
            outcome=outcome if isinstance(outcome, dict) else None,
        ))
    if len(entries) != expected_entries:
        result.problem = f"response has {len(entries)} entries for {expected_entries} sent"
    return result


def outcome_issues(body: Any) -> list[dict[str, Any]]:
    """The issues of an OperationOutcome body (empty for anything else)."""
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        return [i for i in body.get("issue") or [] if isinstance(i, dict)]
    return []


def outcome_has_errors(body: Any) -> bool:
    return any(i.get("severity") in ("error", "fatal") for i in outcome_issues(body))


def slim_outcome(body: Any) -> dict[str, Any] | None:
    """An OperationOutcome with only severity, code, details, diagnostics, expression kept."""
    issues = outcome_issues(body)
    if not issues:
        return None
    keep = ("severity", "code", "details", "diagnostics", "expression", "location")
    return {"resourceType": "OperationOutcome",
            "issue": [{k: i[k] for k in keep if k in i} for i in issues]}
