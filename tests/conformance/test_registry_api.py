"""Registry: resolving base R4 and our package by URL, version, type name; profiles per program."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhiradapter import canonical
from fhiradapter.conformance import PackageError, Registry

R4 = "http://hl7.org/fhir/StructureDefinition/"


@pytest.fixture(scope="module")
def reg() -> Registry:
    return Registry.default()


def test_default_is_shared_per_process(reg: Registry) -> None:
    assert Registry.default() is reg


@pytest.mark.parametrize("key", ["Encounter", R4 + "Encounter", R4 + "Encounter|4.0.1"])
def test_base_resource_by_name_url_and_version(reg: Registry, key: str) -> None:
    sd = reg.structure_definition(key)
    assert sd is not None and sd["url"] == R4 + "Encounter" and sd["kind"] == "resource"
    status = next(e for e in sd["snapshot"]["element"] if e["id"] == "Encounter.status")
    assert status["min"] == 1 and status["binding"]["strength"] == "required"


def test_datatypes_primitives_and_core_extensions(reg: Registry) -> None:
    name = reg.structure_definition("HumanName")
    assert name is not None and name["kind"] == "complex-type"
    assert "HumanName.family" in {e["id"] for e in name["snapshot"]["element"]}
    string = reg.structure_definition("string")
    assert string is not None and string["kind"] == "primitive-type"
    value = next(e for e in string["snapshot"]["element"] if e["id"] == "string.value")
    # the regex type extension survives the prose stripping (the validator uses it)
    assert any("regex" in x["url"] for t in value["type"] for x in t.get("extension", []))
    ext = reg.structure_definition(R4 + "patient-birthPlace")
    assert ext is not None and ext["type"] == "Extension"
    assert reg.base_definition("Period")["url"] == R4 + "Period"
    with pytest.raises(KeyError):
        reg.base_definition("NoSuchType")


def test_prose_is_not_in_the_base_model(reg: Registry) -> None:
    sd = reg.structure_definition("Patient")
    assert "text" not in sd and "description" not in sd
    for el in sd["snapshot"]["element"]:
        assert not {"definition", "comment", "requirements", "alias", "mapping", "example"} & set(el)


def test_unknown_and_wrong_version_give_none(reg: Registry) -> None:
    assert reg.structure_definition("NoSuchType") is None
    assert reg.structure_definition("https://nowhere.example/StructureDefinition/x") is None
    assert reg.structure_definition(R4 + "Encounter|3.0.2") is None
    assert reg.structure_definition("") is None


def test_our_profiles_resolve_with_snapshot(reg: Registry) -> None:
    url = canonical.profile_url("mt-cmp", "Encounter")
    for key in (url, f"{url}|0.1.0", "mt-cmp-encounter"):
        sd = reg.structure_definition(key)
        assert sd is not None and sd["url"] == url
        assert sd["snapshot"]["element"][0]["id"] == "Encounter"
    assert reg.structure_definition(f"{url}|9.9.9") is None
    assert reg.issues == []


def test_profiles_for_and_program_profile(reg: Registry) -> None:
    all_enc = reg.profiles_for("Encounter")
    assert canonical.sd_url("bh-encounter") in all_enc
    assert {canonical.profile_url(p, "Encounter") for p in canonical.PROGRAMS} <= set(all_enc)
    assert reg.profiles_for("Encounter", program="dc-cs") == [canonical.profile_url("dc-cs", "Encounter")]
    assert reg.profiles_for("Patient") == []
    assert reg.program_profile("pa-tcm", "ServiceRequest") == canonical.profile_url("pa-tcm", "ServiceRequest")
    assert reg.program_profile("pa-tcm", "Patient") is None
    assert reg.program_profile("nope", "Encounter") is None


def test_every_program_profile_has_a_snapshot(reg: Registry) -> None:
    for program in canonical.PROGRAMS:
        for rtype in canonical.PROFILED_RESOURCES:
            url = reg.program_profile(program, rtype)
            assert url is not None, (program, rtype)
            sd = reg.structure_definition(url)
            assert sd is not None and sd["snapshot"]["element"], url
    assert reg.issues == []


def test_resource_and_code_system_lookup(reg: Registry) -> None:
    cs = reg.code_system(canonical.PROGRAM_SYSTEM)
    assert cs is not None and {c["code"] for c in cs["concept"]} >= set(canonical.PROGRAMS)
    assert reg.code_system("http://hl7.org/fhir/encounter-status")["resourceType"] == "CodeSystem"
    assert reg.resource(canonical.vs_url("bh-program"))["resourceType"] == "ValueSet"
    assert reg.resource(R4 + "Encounter")["snapshot"]
    assert "snapshot" in reg.resource(canonical.EXT_BILLING)
    assert reg.resource("http://nowhere.example/x") is None


def test_added_package_wins_and_copy_isolates(tmp_path: Path) -> None:
    folder = tmp_path / "ig"
    folder.mkdir()
    vs = {"resourceType": "ValueSet", "id": "bh-program", "url": canonical.vs_url("bh-program"),
          "status": "active", "compose": {"include": [{"system": canonical.PROGRAM_SYSTEM,
                                                       "concept": [{"code": "mt-cmp"}]}]}}
    (folder / "ValueSet-bh-program.json").write_text(json.dumps(vs))
    base = Registry.default()
    mine = base.copy()
    mine.add_package(folder)
    assert not mine.expand(canonical.vs_url("bh-program")).contains(None, "dc-cs")
    assert base.expand(canonical.vs_url("bh-program")).contains(None, "dc-cs")


def test_bad_files_are_reported_not_raised(tmp_path: Path) -> None:
    folder = tmp_path / "ig"
    folder.mkdir()
    (folder / "broken.json").write_text("{not json")
    (folder / "array.json").write_text("[1, 2]")
    reg = Registry()
    reg.add_package(folder)
    messages = " ".join(i.message for i in reg.issues)
    assert "broken.json" in messages and "not valid JSON" in messages
    assert "array.json" in messages and "no resourceType" in messages
    with pytest.raises(PackageError, match="no such file"):
        reg.add_package(tmp_path / "missing")
    not_tar = tmp_path / "x.tgz"
    not_tar.write_bytes(b"plain text")
    with pytest.raises(PackageError, match="x.tgz"):
        reg.add_package(not_tar)
