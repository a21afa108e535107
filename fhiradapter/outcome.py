"""The one issue model every part reports in, and its FHIR OperationOutcome form.

Validator, rules, mapper and exchange all produce `Issue`s; formatters (text, json, junit) and the
exchange journal consume them. Messages name elements and expected value sets, never record values
(PHI), unless a caller opted in with --show-values.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, NamedTuple

Severity = Literal["fatal", "error", "warning", "information"]

RULE_SYSTEM = "https://fhiradapter.org/fhir/CodeSystem/bh-rule"
CHECK_SYSTEM = "https://fhiradapter.org/fhir/CodeSystem/validator-check"   # catalogue: fhiradapter/validator/checks/catalogue.json


class Target(NamedTuple):
    """The resource an issue is about, as data: a program rule names a member's resource by type and id
    (its expression reads `Type.where(id='…').path`), so readers never parse that text back."""
    type: str
    id: str
    path: str   # below the resource ('' for the resource itself)


@dataclass(slots=True)
class Issue:
    severity: Severity
    code: str                      # FHIR IssueType
    message: str                   # human text; no patient values by default
    expression: str | None = None  # FHIRPath location, rooted at the resource or Bundle
    rule: str | None = None        # program rule id (issue 4) or validator check id (e.g. "ele-1")
    rule_system: str = CHECK_SYSTEM
    source: str | None = None      # input file name
    line: int | None = None        # 1-based line in the input (NDJSON line, CSV row)
    entry: int | None = None       # Bundle entry index
    extra_expressions: list[str] = field(default_factory=list)
    target: Target | None = None   # set by the program rules: the resource `expression` names by id

    @property
    def is_error(self) -> bool:
        return self.severity in ("fatal", "error")

    def to_fhir(self) -> dict[str, Any]:
        issue: dict[str, Any] = {"severity": self.severity, "code": self.code}
        details: dict[str, Any] = {"text": self.message}
        if self.rule:
            details["coding"] = [{"system": self.rule_system, "code": self.rule}]
        issue["details"] = details
        expressions = ([self.expression] if self.expression else []) + list(self.extra_expressions)
        if expressions:
            issue["expression"] = expressions
        location = self.location_text()
        if location:
            issue["diagnostics"] = location
        return issue

    def location_text(self) -> str:
        """`FILE[:LINE or #entry]` as printed in text reports."""
        if not self.source:
            return ""
        if self.line is not None:
            return f"{self.source}:{self.line}"
        if self.entry is not None:
            return f"{self.source}#{self.entry}"
        return self.source


def operation_outcome(issues: Iterable[Issue], *, resource_id: str | None = None) -> dict[str, Any]:
    """A FHIR R4 OperationOutcome. An empty list yields the conventional 'all ok' information issue."""
    fhir_issues = [i.to_fhir() for i in issues]
    if not fhir_issues:
        fhir_issues = [{"severity": "information", "code": "informational",
                        "details": {"text": "No issues found"}}]
    outcome: dict[str, Any] = {"resourceType": "OperationOutcome", "issue": fhir_issues}
    if resource_id:
        outcome["id"] = resource_id
    return outcome


def has_errors(issues: Iterable[Issue]) -> bool:
    return any(i.is_error for i in issues)
