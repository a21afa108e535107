"""tools/make_fhir_cache.py: the offline hl7.fhir.r4.core#4.0.1 cache SUSHI reads."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest


def _load_tool(tools: Path):
    spec = importlib.util.spec_from_file_location("make_fhir_cache", tools / "make_fhir_cache.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cache_pkg(node_tools: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    target = _load_tool(node_tools).make_cache(home)
    return target / "package"


def test_manifest_names_r4_core(cache_pkg: Path) -> None:
    manifest = json.loads((cache_pkg / "package.json").read_text())
    assert manifest["name"] == "hl7.fhir.r4.core"
    assert manifest["version"] == "4.0.1"
    assert manifest["fhirVersions"] == ["4.0.1"]


def test_one_file_per_resource_and_index_matches(cache_pkg: Path) -> None:
    index = json.loads((cache_pkg / ".index.json").read_text())
    assert index["index-version"] == 1
    names = {f["filename"] for f in index["files"]}
    on_disk = {p.name for p in cache_pkg.glob("*.json") if p.name not in ("package.json", ".index.json")}
    assert names == on_disk
    by_name = {f["filename"]: f for f in index["files"]}
    enc = by_name["StructureDefinition-Encounter.json"]
    assert enc["url"] == "http://hl7.org/fhir/StructureDefinition/Encounter"
    assert enc["kind"] == "resource" and enc["type"] == "Encounter"
    assert "ValueSet-encounter-status.json" in names
    assert "CodeSystem-encounter-status.json" in names
    # datatypes and core extensions are there too
    assert "StructureDefinition-HumanName.json" in names
    assert "StructureDefinition-patient-birthPlace.json" in names
    sd = json.loads((cache_pkg / "StructureDefinition-Encounter.json").read_text())
    assert sd["snapshot"]["element"][0]["id"] == "Encounter"


def test_existing_cache_is_kept_unless_forced(node_tools: Path, tmp_path: Path) -> None:
    tool = _load_tool(node_tools)
    pkg = tool.make_cache(tmp_path) / "package"
    marker = pkg / "StructureDefinition-Encounter.json"
    marker.write_text("{}")
    tool.make_cache(tmp_path)
    assert marker.read_text() == "{}"
    tool.make_cache(tmp_path, force=True)
    assert json.loads(marker.read_text())["id"] == "Encounter"
