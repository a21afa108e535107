"""Every shipped mapping loads (schema + semantics) and reads only columns its example export has."""
from __future__ import annotations

from pathlib import Path

import pytest

from fhiradapter.canonical import PROGRAMS
from fhiradapter.mapping.check import lint
from fhiradapter.mapping.loader import load_mapping

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "mappings").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_mapping_loads_and_matches_its_example_headers(path):
    mapping = load_mapping(path)
    program = path.stem if path.stem in PROGRAMS else None
    folder = REPO / "examples" / (program or "casemgmt-json")
    assert folder.is_dir(), f"no example export {folder.name}"
    errors = [f for f in lint(mapping, folder) if f.severity == "error"]
    assert errors == []
    if program:
        assert mapping.program == program     # `run --program P` validates as the mapping says
