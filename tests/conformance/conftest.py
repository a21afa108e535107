"""Fixtures for the conformance tests: write synthetic packages to disk and load them in a fresh Registry."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from fhiradapter.conformance import Registry


@pytest.fixture
def make_registry(tmp_path: Path) -> Callable[..., Registry]:
    """make_registry(*resources) -> a Registry with base R4 + a package folder holding those resources."""
    def make(*resources: dict[str, Any], name: str = "example.pkg") -> Registry:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "package.json").write_text(json.dumps({"name": name, "version": "1.0.0",
                                                         "fhirVersions": ["4.0.1"]}))
        for r in resources:
            (folder / f"{r['resourceType']}-{r['id']}.json").write_text(json.dumps(r))
        reg = Registry()
        reg.add_package(folder)
        return reg
    return make
