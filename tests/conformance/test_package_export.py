"""export_package writes a loadable FHIR NPM tarball; add_package reads it back."""
from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from fhiradapter import canonical
from fhiradapter.conformance import Registry, export_package, load_package


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_package(tmp_path_factory.mktemp("export") / "out" / "fhiradapter.bh.tgz")


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_tarball_layout_and_manifest(tarball: Path) -> None:
    members = _members(tarball)
    manifest = json.loads(members["package/package.json"])
    assert manifest["name"] == canonical.PACKAGE_NAME and manifest["fhirVersions"] == ["4.0.1"]
    assert manifest["dependencies"] == {"hl7.fhir.r4.core": "4.0.1"}
    names = set(members)
    for program in canonical.PROGRAMS:
        for rtype in canonical.PROFILED_RESOURCES:
            assert f"package/StructureDefinition-{program}-{rtype.lower()}.json" in names
    assert "package/StructureDefinition-ext-billing.json" in names
    assert "package/CodeSystem-bh-program.json" in names and "package/ValueSet-bh-program.json" in names
    assert any(n.startswith("package/examples/") for n in names)
    assert not any("/invalid/" in n or "/fsh/" in n for n in names)


def test_every_structure_definition_has_a_snapshot(tarball: Path) -> None:
    members = _members(tarball)
    sds = [json.loads(v) for k, v in members.items()
           if k.startswith("package/StructureDefinition-") and "/examples/" not in k]
    assert len(sds) >= 28
    for sd in sds:
        assert sd["snapshot"]["element"][0]["id"] == sd["type"], sd["id"]
        assert sd["differential"]["element"], sd["id"]


def test_index_lists_every_resource_file(tarball: Path) -> None:
    members = _members(tarball)
    index = json.loads(members["package/.index.json"])
    assert index["index-version"] == 1
    listed = {f["filename"]: f for f in index["files"]}
    top = {k[len("package/"):] for k in members if k.count("/") == 1} - {"package.json", ".index.json"}
    assert set(listed) == top
    enc = listed["StructureDefinition-mt-cmp-encounter.json"]
    assert enc == {"filename": "StructureDefinition-mt-cmp-encounter.json", "resourceType": "StructureDefinition",
                   "id": "mt-cmp-encounter", "url": canonical.profile_url("mt-cmp", "Encounter"),
                   "version": "0.1.0", "kind": "resource", "type": "Encounter"}


def test_round_trip_through_add_package(tarball: Path) -> None:
    pkg = load_package(tarball)
    assert pkg.name == canonical.PACKAGE_NAME and pkg.examples and not pkg.issues
    reg = Registry()
    reg.add_package(tarball)
    url = canonical.profile_url("dc-cs", "Encounter")
    ours = reg.structure_definition(url)
    fresh = Registry.default().structure_definition(url)
    assert [e["id"] for e in ours["snapshot"]["element"]] == [e["id"] for e in fresh["snapshot"]["element"]]
    assert reg.program_profile("dc-cs", "Encounter") == url
    assert reg.expand(canonical.vs_url("bh-contact-mode")).contains(canonical.CONTACT_MODE_SYSTEM, "phone")
    assert reg.issues == []
