"""Inputs the fuzz test once found crashing the validator: each must give findings, never an internal error."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhiradapter.validator import Validator

EXAMPLE = Path(__file__).resolve().parents[2] / "profiles" / "examples" / "CarePlan-dc-cs-careplan-example.json"


@pytest.mark.parametrize("meta", [True, [], "x", 3])
def test_non_object_meta_in_a_bundle_entry_is_a_finding_not_a_crash(meta):
    resource = json.loads(EXAMPLE.read_text())
    resource["meta"] = meta
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000000", "resource": resource}]}
    issues = Validator().validate_resource(bundle)
    assert not [i for i in issues if i.rule == "internal"]
    assert any(i.is_error and i.expression == "Bundle.entry[0].resource.meta" for i in issues)


STAY = {"resourceType": "Encounter", "id": "s1", "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "type": [{"coding": [{"system": "https://fhiradapter.org/fhir/CodeSystem/bh-stay-type",
                              "code": "inpatient-psychiatric"}]}],
        "subject": {"reference": "Patient/p1"}, "period": {"start": "2026-01-02", "end": "2026-01-09"}}


def test_program_option_leaves_stays_and_other_programs_contacts_alone():
    from fhiradapter.validator import validate_issues
    assert validate_issues(STAY, program="pa-tcm", rules=False) == []
    act = {k: v for k, v in STAY.items() if k != "type"}
    act["class"] = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}
    act["serviceType"] = {"coding": [{"system": "https://fhiradapter.org/fhir/CodeSystem/bh-program", "code": "dc-act"}]}
    assert validate_issues(act, program="dc-cs", rules=False) == []
    # a contact with no program coding is the program's: the forced profile applies and finds what is missing
    bare = {k: v for k, v in act.items() if k != "serviceType"}
    assert [i for i in validate_issues(bare, program="dc-cs", rules=False) if i.is_error]


@pytest.mark.parametrize("code", [["mt-cmp"], {"code": "mt-cmp"}, 7])
def test_ill_typed_program_code_with_program_option_is_a_finding_not_a_crash(code):
    """--program looks at the program coding to decide whether to force its profile; a code that is not a
    string is reported by the structure check and the program's profile still applies."""
    from fhiradapter.validator import validate_issues
    contact = {k: v for k, v in STAY.items() if k != "type"}
    contact["class"] = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}
    contact["serviceType"] = {"coding": [{"system": "https://fhiradapter.org/fhir/CodeSystem/bh-program",
                                          "code": code}]}
    issues = validate_issues(contact, program="mt-cmp", rules=False)
    assert not [i for i in issues if i.rule == "internal"]
    assert any(i.is_error and i.expression == "Encounter.serviceType.coding[0].code" for i in issues)
    assert any("mt-cmp-encounter" in i.message for i in issues)


def test_ndjson_member_grouping_ignores_the_version_of_the_subject_reference(tmp_path):
    """validate and rules check group members alike: Patient/p1/_history/3 is member Patient/p1."""
    import json as _json

    from fhiradapter.validator import Validator
    from fhiradapter.validator.runner import Groups, check_path
    lines = [{"resourceType": "Patient", "id": "p1"},
             dict(STAY, subject={"reference": "Patient/p1/_history/3"})]
    path = tmp_path / "member.ndjson"
    path.write_text("".join(_json.dumps(r) + "\n" for r in lines))
    groups = Groups()
    check_path(Validator(rules=True), str(path), rules=True, groups=groups)
    assert [(member, len(items)) for _, member, items in groups.records()] == [("Patient/p1", 2)]


@pytest.mark.parametrize("claimed", ["Patient/ZZPHIVALUE", "urn:uuid:ZZPHIVALUE", "ZZPHIVALUE"])
def test_a_claimed_profile_that_is_not_a_canonical_is_not_echoed(claimed):
    """meta.profile of hostile input can hold anything: only an http(s) canonical is named in the message."""
    from fhiradapter.validator import validate_issues
    patient = {"resourceType": "Patient", "id": "p1", "meta": {"profile": [claimed]}}
    issues = [i for i in validate_issues(patient, rules=False) if i.rule == "profile-unknown"]
    assert issues and all("ZZPHIVALUE" not in i.message for i in issues)
    shown = [i for i in validate_issues(patient, rules=False, show_values=True) if i.rule == "profile-unknown"]
    assert shown and all(claimed in i.message for i in shown)
    canonical = {"resourceType": "Patient", "id": "p1",
                 "meta": {"profile": ["https://example.org/fhir/StructureDefinition/other"]}}
    assert any("https://example.org/fhir/StructureDefinition/other" in i.message
               for i in validate_issues(canonical, rules=False))


def test_a_list_valued_program_code_with_program_option_is_a_finding_not_a_crash():
    """The differential corpus of issue 12 found it: serviceType.coding[].code mutated into a list."""
    contact = json.loads((EXAMPLE.parent / "Encounter-mt-cmp-encounter-example.json").read_text())
    contact["serviceType"]["coding"][0]["code"] = ["mt-cmp"]
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000000", "resource": contact}]}
    issues = Validator().validate_bundle(bundle, program="mt-cmp")
    assert not [i for i in issues if i.rule == "internal"]
    assert any(i.is_error for i in issues)


def test_a_list_valued_id_in_a_bundle_entry_keeps_the_program_rules():
    contact = json.loads((EXAMPLE.parent / "Encounter-mt-cmp-encounter-example.json").read_text())
    contact["id"] = ["x"]
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000000", "resource": contact}]}
    issues = Validator().validate_bundle(bundle)
    assert not [i for i in issues if i.code == "exception" and "program rules failed" in i.message]
