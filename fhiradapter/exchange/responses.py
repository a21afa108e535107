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
    version: str | None = None      # the version the server stored (ETag, location _history, meta.versionId)

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
        location = parse_location(response.get("location"))
        resource = entry.get("resource") if isinstance(entry, dict) else None
        result.entries.append(EntryResult(
            index=index,
            status=parse_status(response.get("status")),
            location=location,
            outcome=outcome if isinstance(outcome, dict) else None,
            version=parse_etag(response.get("etag")) or (location.version if location else None)
            or resource_version(resource),
        ))
    if len(entries) != expected_entries:
        result.problem = f"response has {len(entries)} entries for {expected_entries} sent"
    return result


def parse_etag(value: Any) -> str | None:
    """`W/"3"` or `"3"` -> "3"; None when absent or not an entity tag."""
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r'\s*(?:W/)?"([^"]{1,64})"\s*', value)
    return match.group(1) if match else None


def resource_version(resource: Any) -> str | None:
    """meta.versionId of a resource a server returned (only the version is kept, never the resource)."""
    if isinstance(resource, dict) and isinstance(resource.get("meta"), dict):
        version = resource["meta"].get("versionId")
        if isinstance(version, str) and 0 < len(version) <= 64:
            return version
    return None


def outcome_issues(body: Any) -> list[dict[str, Any]]:
    """The issues of an OperationOutcome body (empty for anything else)."""
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        return [i for i in body.get("issue") or [] if isinstance(i, dict)]
    return []


def outcome_has_errors(body: Any) -> bool:
    return any(i.get("severity") in ("error", "fatal") for i in outcome_issues(body))


def slim_outcome(body: Any) -> dict[str, Any] | None:
    """A server's OperationOutcome reduced to what may be stored: severity, code, expression, location, the
    codes of `details`, and its text with anything that may echo a record redacted (see `redact`)."""
    issues = outcome_issues(body)
    if not issues:
        return None
    out = []
    for issue in issues[:200]:
        kept: dict[str, Any] = {k: issue[k] for k in ("severity", "code") if isinstance(issue.get(k), str)}
        for key in ("expression", "location"):
            paths = [redact_path(p) for p in issue.get(key) or [] if isinstance(p, str)][:10]
            if paths:
                kept[key] = paths
        raw_details = issue.get("details")
        details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
        codings = [{k: c[k] for k in ("system", "code") if isinstance(c.get(k), str)}
                   for c in details.get("coding") or [] if isinstance(c, dict)]
        text = details.get("text") if isinstance(details.get("text"), str) else issue.get("diagnostics")
        slim_details: dict[str, Any] = {}
        if codings:
            slim_details["coding"] = codings[:5]
        if isinstance(text, str) and text.strip():
            slim_details["text"] = redact(text)
        if slim_details:
            kept["details"] = slim_details
        out.append(kept)
    return {"resourceType": "OperationOutcome", "issue": out}


_REDACT = [
    re.compile(r"(?i)\b(authorization|proxy-authorization|cookie)\b\s*[:=]\s*.*"),  # a header echoed back
    re.compile(r"(?i)\bbearer\s+\S+"),
    re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`|“[^”]*”"),              # quoted values: what the record held
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),                             # e-mail addresses
    re.compile(r"(?<![\[\d])(?:\d[\d:./T+\-]*\d|\d)"),   # numbers, dates, phones (not `entry[3]` indexes)
    re.compile(r"(?i)\b(value|found|got|name|named|for)\s*[:=]\s*\S+"),  # `value: x`, `found x`
]
_PATH_INDEX = re.compile(r"\[\d+\]")


def redact(text: str) -> str:
    """A server's message without what may echo a record (names in quotes, dates, numbers, addresses,
    tokens): those become `…`. What is left is the server's own wording ("Missing required property")."""
    for pattern in _REDACT:
        text = pattern.sub("…", text)
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    return text[:300]


def redact_path(path: str) -> str:
    """A FHIRPath location as stored: element names and indexes only (no values, no filters' literals)."""
    if len(path) > 200 or "'" in path or '"' in path or "=" in path:
        return _PATH_INDEX.sub("[…]", re.sub(r"\(.*", "(…)", path))[:200]
    return path
