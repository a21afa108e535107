"""Template element names and shapes checked against R4 and the claimed profile, at load."""
from __future__ import annotations

import json

import pytest

from fhiradapter.mapping import fhircheck
from fhiradapter.mapping.errors import MappingLoadError
from fhiradapter.mapping.loader import load_mapping

SOURCES = """\
sources:
  members: {file: members.csv}
  feed: {file: feed.json, format: json, record_path: clients}
lookups:
  sex: {map: {M: male, F: female}}
resources:
"""


def problems(write_mapping, template: str, source: str = "members") -> list[str]:
    path = write_mapping(SOURCES + f"""\
  - name: p
    source: {source}
    key: {{$col: id}}
    template:
{template}""")
    try:
        load_mapping(path)
    except MappingLoadError as exc:
        return [str(p).split("mapping.yaml", 1)[1] for p in exc.problems]
    return []


@pytest.mark.parametrize(("template", "expected"), [
    # unknown element, at the top and nested, with the closest names
    ("      resourceType: Patient\n      gendr: {$lookup: sex, col: sex}",
     ":17: resources[0].template.gendr: Patient has no element 'gendr' (did you mean 'gender'?)"),
    ("      resourceType: Patient\n      telecom:\n        - sytem: phone",
     ":18: resources[0].template.telecom[0].sytem: ContactPoint has no element 'sytem' (did you mean 'system'?)"),
    ("      resourceType: Encounter\n      status: finished\n      period: {strat: x}",
     ":18: resources[0].template.period.strat: Period has no element 'strat' (did you mean 'start'?)"),
    # wrong type
    ("      resourceType: Patient\n      birthDate: {$ref: p, key: {$col: id}}",
     ":17: resources[0].template.birthDate: Patient.birthDate is a date, not a Reference"),
    ("      resourceType: Patient\n      birthDate: {$datetime: {$col: dob}, format: iso}",
     ":17: resources[0].template.birthDate: Patient.birthDate is a date, not a dateTime (use $date)"),
    ("      resourceType: Patient\n      active: \"true\"",
     ":17: resources[0].template.active: Patient.active is a boolean; this constant is text"),
    ("      resourceType: Patient\n      managingOrganization: {$col: org}",
     ":17: resources[0].template.managingOrganization: Patient.managingOrganization is a Reference (an object), "
     "not text"),
    ("      resourceType: Patient\n      maritalStatus: S",
     ":17: resources[0].template.maritalStatus: Patient.maritalStatus is a CodeableConcept (an object), not a "
     "single value"),
    ("      resourceType: Patient\n      gender: {code: male}",
     ":17: resources[0].template.gender: Patient.gender is a code (one value), not an object"),
    # one value vs a list, both ways; $if branches and $each bodies are checked too
    ("      resourceType: Patient\n      name: {family: {$col: last}}",
     ":17: resources[0].template.name: Patient.name is a list in FHIR (0..*): write the value as a list item (- ...)"),
    ("      resourceType: Patient\n      birthDate: [x]",
     ":17: resources[0].template.birthDate: Patient.birthDate takes one value, not a list"),
    ("      resourceType: Patient\n      gender:\n        $if: {present: {$col: sex}}\n        then: {coding: x}",
     ":19: resources[0].template.gender.then: Patient.gender is a code (one value), not an object"),
    ("      resourceType: Patient\n      telecom:\n        - $each: {$col: phones}\n          split: ';'\n"
     "          do: {valeu: {$item: .}}",
     ":20: resources[0].template.telecom[0].do.valeu: ContactPoint has no element 'valeu' (did you mean 'value'?)"),
    ("      resourceType: Patiant",
     ":16: resources[0].template.resourceType: 'Patiant' is not an R4 resource type (did you mean 'Patient'?)"),
])
def test_template_problems_name_line_path_and_a_close_name(write_mapping, template, expected):
    assert problems(write_mapping, template + "\n") == [expected]


@pytest.mark.parametrize("template", [
    "      resourceType: Patient\n      name: {$col: names}",          # a JSON field may hold the whole list
    "      resourceType: Patient\n      managingOrganization: {$col: org}",   # ... or a whole Reference
    "      resourceType: Patient\n      extension:\n        - url: http://x\n          valueString: {$const: {a: 1}}",
    "      resourceType: Patient\n      _birthDate: {extension: [{url: http://x, valueBoolean: true}]}",
    "      resourceType: Patient\n      deceasedBoolean: {$col: dead, as: boolean}\n      multipleBirthInteger: 2",
])
def test_what_fhir_allows_loads(write_mapping, template):
    found = problems(write_mapping, template + "\n", source="feed")
    assert [p for p in found if "no resource template maps this source" not in p] == []   # (members unused)


def test_shipped_and_walkthrough_mappings_pass():
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    for path in [*sorted((root / "mappings").glob("*.yaml")), root / "examples" / "walkthrough" / "mapping.yaml"]:
        load_mapping(path)


def test_an_element_the_claimed_profile_forbids(write_mapping, tmp_path, monkeypatch):
    from fhiradapter.conformance.registry import Registry
    from fhiradapter.validator.compile import Compiler
    package = tmp_path / "pkg"
    package.mkdir()
    url = "https://example.org/fhir/StructureDefinition/no-gender-patient"
    (package / "StructureDefinition-no-gender-patient.json").write_text(json.dumps({
        "resourceType": "StructureDefinition", "id": "no-gender-patient", "url": url, "name": "NoGenderPatient",
        "status": "active", "kind": "resource", "abstract": False, "type": "Patient", "derivation": "constraint",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "fhirVersion": "4.0.1",
        "differential": {"element": [{"id": "Patient.gender", "path": "Patient.gender", "max": "0"}]}}),
        encoding="utf-8")
    registry = Registry.default().copy()
    registry.add_package(package)
    monkeypatch.setattr(fhircheck, "_compiler", lambda: Compiler(registry))
    found = problems(write_mapping, f"      resourceType: Patient\n      meta: {{profile: [\"{url}\"]}}\n"
                                    "      gender: {$lookup: sex, col: sex}\n")
    assert found == [f":18: resources[0].template.gender: Patient.gender is not allowed by the claimed profile {url} "
                     "(max 0)"]
