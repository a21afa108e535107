"""Fixtures for the example-data tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from .support import map_all


@pytest.fixture(scope="session")
def mapped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`fhiradapter map` of each program's example export (and the JSON export) into a temp folder."""
    return map_all(tmp_path_factory.mktemp("mapped"))
