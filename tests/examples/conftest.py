"""Fixtures for the example-data tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from .support import EXAMPLES, map_all, run_cli


@pytest.fixture(scope="session")
def mapped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`fhiradapter map` of each program's example export (and the JSON export) into a temp folder."""
    return map_all(tmp_path_factory.mktemp("mapped"))


@pytest.fixture(scope="session")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`fhiradapter run --program all examples/` (map + validate + rules): out/{program}/."""
    out = tmp_path_factory.mktemp("run")
    code, output = run_cli(["run", "--program", "all", str(EXAMPLES), "--out", str(out), "--no-progress",
                            "--no-bundles"])
    assert code in (0, 1), f"run failed with exit {code}:\n{output}"
    return out
