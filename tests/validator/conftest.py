"""Fixtures for the validator tests: one compiled Validator per session, small resource builders."""
from __future__ import annotations

import copy
import json
from typing import Any, Callable

import pytest

from fhiradapter.validator import Validator
from validator_support import ENCOUNTER, EXAMPLES, INVALID


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


@pytest.fixture(scope="session")
def node_free_rules() -> None:
    """The program rules are part of the package: importing them must work."""
    import fhiradapter.rules  # noqa: F401
