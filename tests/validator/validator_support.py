"""Shared constants and helpers of the validator tests (imported by name; conftest.py holds the fixtures)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fhiradapter.outcome import Issue

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "profiles" / "examples"
INVALID = REPO / "profiles" / "invalid"

ENCOUNTER: dict[str, Any] = {
    "resourceType": "Encounter",
    "id": "e1",
    "status": "finished",
    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
    "subject": {"reference": "Patient/p1"},
    "period": {"start": "2024-03-01T10:00:00-07:00", "end": "2024-03-01T11:00:00-07:00"},
}


def errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.is_error]


def at(issues: list[Issue], expression: str, severity: str = "error") -> list[Issue]:
    """Issues of a severity located exactly at an expression."""
    return [i for i in issues if i.expression == expression and i.severity == severity]
