"""The committed FHIR package: manifest, the 31 profiles and their chain, citations, examples, fixtures."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from fhiradapter.canonical import PROFILED_RESOURCES, PROGRAMS, SHARED_PROFILES, sd_url
from fhiradapter.citations import BY_PROGRAM, INTERNAL_REFERENCE

from .conftest import EXAMPLES, INVALID, PROFILES, REPO, read

# Program -> the public citation of its policy (fhiradapter.citations, one table for the project).
PROGRAM_SEED = {program: policy.citation for program, policy in BY_PROGRAM.items()}
POLICY_CITED = re.compile("|".join(re.escape(c) for c in PROGRAM_SEED.values()))
PROGRAM_PROFILES = [f"{p}-{r.lower()}" for p in PROGRAMS for r in PROFILED_RESOURCES]
BASES = [f"bh-{r.lower()}" for r in PROFILED_RESOURCES]
LOCAL = "https://fhiradapter.org/fhir/"


def test_no_internal_references_in_the_package() -> None:
    """Outside readers cannot follow seed file names, issue numbers or design.md (issue 16)."""
    for path in sorted(PROFILES.glob("*.json")) + sorted(EXAMPLES.glob("*.json")):
        hits = INTERNAL_REFERENCE.findall(path.read_text(encoding="utf-8"))
        assert not hits, f"{path.name}: internal references {sorted(set(hits))}"


def test_package_manifest() -> None:
    manifest = read(PROFILES / "package.json")
    assert manifest["name"] == "fhiradapter.bh"
    assert manifest["version"] == "0.1.0"
    assert manifest["fhirVersions"] == ["4.0.1"]
    assert manifest["canonical"] == "https://fhiradapter.org/fhir"
    assert manifest["dependencies"] == {"hl7.fhir.r4.core": "4.0.1"}


def test_exactly_the_expected_profiles(structure_definitions: dict[str, Any]) -> None:
    profiles = {i for i, sd in structure_definitions.items() if sd["type"] != "Extension"}
    assert profiles == set(PROGRAM_PROFILES) | set(BASES) | set(SHARED_PROFILES)
    assert len(PROGRAM_PROFILES) == 25


@pytest.mark.parametrize("profile_id", PROGRAM_PROFILES)
def test_program_profile_derives_from_its_base(structure_definitions: dict[str, Any], profile_id: str) -> None:
    sd = structure_definitions[profile_id]
    resource = next(r for r in PROFILED_RESOURCES if profile_id.endswith("-" + r.lower()))
    base = structure_definitions[f"bh-{resource.lower()}"]
    assert sd["url"] == sd_url(profile_id)
    assert sd["type"] == resource and sd["derivation"] == "constraint" and sd["fhirVersion"] == "4.0.1"
    assert sd["baseDefinition"] == base["url"] == sd_url(base["id"])
    assert base["baseDefinition"] == f"http://hl7.org/fhir/StructureDefinition/{resource}"
    assert "snapshot" not in sd, "the package ships differentials; snapshots are generated on export"


@pytest.mark.parametrize("profile_id", PROGRAM_PROFILES)
def test_program_profile_fixes_its_program_code(structure_definitions: dict[str, Any], profile_id: str) -> None:
    sd = structure_definitions[profile_id]
    program = profile_id.rsplit("-", 1)[0]
    slice_id = {"Encounter": "Encounter.serviceType.coding:program",
                "EpisodeOfCare": "EpisodeOfCare.type:program"}.get(sd["type"], f"{sd['type']}.category:program")
    element = next(e for e in sd["differential"]["element"] if e["id"] == slice_id)
    pattern = element.get("patternCoding") or element["patternCodeableConcept"]["coding"][0]
    assert pattern == {"system": LOCAL + "CodeSystem/bh-program", "code": program} | (
        {"display": pattern["display"]} if "display" in pattern else {})


def _constrained(element: dict[str, Any]) -> bool:
    return (any(k in element for k in ("min", "max", "binding", "slicing"))
            or any(k.startswith(("pattern", "fixed")) for k in element))


@pytest.mark.parametrize("profile_id", PROGRAM_PROFILES + BASES + list(SHARED_PROFILES))
def test_every_constrained_element_cites_its_source(structure_definitions: dict[str, Any], profile_id: str) -> None:
    """Program constraints cite their policy by public title + section; shared-base ones cite the shared
    base / US Core / SDOHCC / the design."""
    sd = structure_definitions[profile_id]
    is_base = profile_id in BASES or profile_id in SHARED_PROFILES
    missing = []
    for element in sd["differential"]["element"]:
        texts = [element.get("short", "") + " " + element.get("definition", "")] if _constrained(element) else []
        texts += [c["human"] for c in element.get("constraint", [])]
        for text in texts:
            cited = POLICY_CITED.search(text) or (is_base and re.search(r"shared base|US Core|SDOHCC|fhiradapter design", text))
            if not cited:
                missing.append(element["id"])
    assert not missing, f"{profile_id}: no citation on {missing}"
    if not is_base:
        program = profile_id.rsplit("-", 1)[0]
        assert PROGRAM_SEED[program] in json.dumps(sd["differential"]), "cites its own program's policy"


@pytest.mark.parametrize("program", PROGRAMS)
def test_service_components_come_from_the_programs_seed(code_systems: dict[str, Any], value_sets: dict[str, Any],
                                                        program: str) -> None:
    cs = code_systems[f"{LOCAL}CodeSystem/{program}-service-component"]
    assert len(cs["concept"]) >= 5
    for concept in cs["concept"]:
        assert PROGRAM_SEED[program] in concept["definition"], concept["code"]
    vs = value_sets[f"{LOCAL}ValueSet/{program}-service-component"]
    assert vs["compose"]["include"] == [{"system": cs["url"]}]


def test_value_sets_only_use_defined_codes(code_systems: dict[str, Any], value_sets: dict[str, Any]) -> None:
    for vs in value_sets.values():
        for include in vs["compose"]["include"]:
            if not include.get("system", "").startswith(LOCAL):   # imports of other value sets have no system
                continue
            defined = {c["code"] for c in code_systems[include["system"]]["concept"]}
            listed = {c["code"] for c in include.get("concept", [])}
            assert listed <= defined, (vs["id"], listed - defined)


def test_bindings_and_extensions_resolve_inside_the_package(structure_definitions: dict[str, Any],
                                                            value_sets: dict[str, Any]) -> None:
    urls = {sd["url"] for sd in structure_definitions.values()}
    for sd in structure_definitions.values():
        for element in sd["differential"]["element"]:
            vs = element.get("binding", {}).get("valueSet", "")
            if vs.startswith(LOCAL):
                assert vs in value_sets, (sd["id"], element["id"], vs)
            for t in element.get("type", []):
                for url in t.get("profile", []):
                    if url.startswith(LOCAL):
                        assert url in urls, (sd["id"], element["id"], url)


def _examples() -> list[Path]:
    return sorted(EXAMPLES.glob("*.json"))


def _codings(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "system" in node and "code" in node:
            yield node
        for value in node.values():
            yield from _codings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _codings(value)


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node["reference"]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


@pytest.mark.parametrize("profile_id", PROGRAM_PROFILES + list(SHARED_PROFILES))
def test_each_profile_has_a_valid_example_and_an_invalid_fixture(profile_id: str) -> None:
    url = sd_url(profile_id)

    def claims(folder: Path) -> list[str]:
        return [p.name for p in folder.glob("*.json") if url in read(p).get("meta", {}).get("profile", [])]

    assert claims(EXAMPLES), f"no example claims {profile_id}"
    assert claims(INVALID), f"no invalid fixture claims {profile_id}"


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.name)
def test_example_codes_and_references_resolve(path: Path, code_systems: dict[str, Any]) -> None:
    resource = read(path)
    assert path.name == f"{resource['resourceType']}-{resource['id']}.json"
    for coding in _codings(resource):
        if coding["system"].startswith(LOCAL + "CodeSystem/"):
            defined = {c["code"] for c in code_systems[coding["system"]]["concept"]}
            assert coding["code"] in defined, (coding["system"], coding["code"])
    for reference in _references(resource):
        kind, _, ident = reference.partition("/")
        assert (EXAMPLES / f"{kind}-{ident}.json").is_file(), f"{path.name}: {reference} not in examples/"


def test_invalid_fixtures_are_documented_single_edits() -> None:
    spec = yaml.safe_load((PROFILES / "fsh" / "invalid-fixtures.yaml").read_text(encoding="utf-8"))["fixtures"]
    readme = (INVALID / "README.md").read_text(encoding="utf-8")
    files = {p.name for p in INVALID.glob("*.json")}
    assert files == {f"{f['name']}.json" for f in spec}
    for fixture in spec:
        broken = read(INVALID / f"{fixture['name']}.json")
        source = read(EXAMPLES / fixture["from"])
        assert broken["meta"] == source["meta"], "a fixture keeps its example's profile claim"
        assert {k: v for k, v in broken.items() if k != "id"} != {k: v for k, v in source.items() if k != "id"}
        assert f"| {fixture['name']}.json |" in readme and fixture["note"] in readme


@pytest.mark.node
def test_committed_package_equals_a_fresh_sushi_build(node_tools: Path) -> None:
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "build_profiles.py"), "--check"],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
