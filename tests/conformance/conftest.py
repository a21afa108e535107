"""Fixtures for the conformance tests: write synthetic packages to disk and load them in a fresh Registry."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest

from fhiradapter.conformance import Registry

if TYPE_CHECKING:
    from reference_support import ReferenceValidator


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


@pytest.fixture(scope="session")
def exported_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our package as users ship it: `fhiradapter profiles export --out pkg.tgz`."""
    from reference_support import export_package
    return export_package(tmp_path_factory.mktemp("pkg") / "fhiradapter.bh.tgz")


@pytest.fixture(scope="session")
def reference(reference_validator_jar: Path, exported_package: Path) -> Iterator["ReferenceValidator"]:
    """One HL7 reference validator process (HAPI, batch mode) with our package loaded, for the whole session."""
    from reference_support import ReferenceValidator
    with ReferenceValidator(packages=[exported_package]) as ref:
        yield ref
