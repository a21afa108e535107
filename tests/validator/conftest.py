"""Fixtures for the validator tests: one compiled Validator per session, small resource builders."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import pytest

from fhiradapter.outcome import Issue
from fhiradapter.validator import Validator

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


@pytest.fixture(scope="session")
def validator() -> Validator:
    return Validator(rules=False)


@pytest.fixture()
def encounter() -> dict[str, Any]:
    return copy.deepcopy(ENCOUNTER)


@pytest.fixture(scope="session")
def load() -> Callable[[str], dict]:
    def _load(name: str) -> dict:
        for folder in (EXAMPLES, INVALID):
            p = folder / name
            if p.exists():
                return json.loads(p.read_text())
        raise FileNotFoundError(name)
    return _load


def errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.is_error]


def at(issues: list[Issue], expression: str, severity: str = "error") -> list[Issue]:
    """Issues of a severity located exactly at an expression."""
    return [i for i in issues if i.expression == expression and i.severity == severity]


@pytest.fixture(scope="session")
def node_free_rules() -> None:
    """Skip when the program rules package is not installed (the validator then only notes it)."""
    try:
        import fhiradapter.rules  # noqa: F401
    except ImportError:
        pytest.skip("fhiradapter.rules not installed")
