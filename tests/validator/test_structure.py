"""Base R4 structure: primitives, choice types, cardinality, ele-1, extensions, references, contained."""
from __future__ import annotations

import pytest

from validator_support import at, errors
from fhiradapter.validator.primitives import check_primitive


@pytest.mark.parametrize("type_code,value", [
    ("date", "2024"), ("date", "2024-02-29"), ("dateTime", "2024-03-01T10:00:00.123+05:30"),
    ("instant", "2024-03-01T10:00:00Z"), ("time", "23:59:59"), ("id", "a-B.9"), ("code", "x y"),
    ("boolean", True), ("integer", -3), ("positiveInt", 1), ("unsignedInt", 0), ("decimal", 1.5),
    ("uri", "urn:x"), ("oid", "urn:oid:1.2.3"), ("uuid", "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e"),
    ("base64Binary", "aGVsbG8="), ("string", "ok"),
])
def test_valid_primitives(type_code, value):
    assert check_primitive(type_code, value) is None


@pytest.mark.parametrize("type_code,value", [
    ("date", "2023-02-29"), ("date", "24-01-01"), ("dateTime", "2024-03-01T10:00"),
    ("dateTime", "2024-03-01T10:00:00"), ("instant", "2024-03-01"), ("time", "24:00:00"),
    ("id", "a" * 65), ("id", "a_b"), ("code", " x"), ("boolean", "true"), ("integer", True),
    ("integer", 2 ** 31), ("positiveInt", 0), ("unsignedInt", -1), ("decimal", "1.5"),
    ("string", ""), ("string", "a\x01b"), ("code", "a\x1fb"), ("string", 5), ("oid", "1.2.3"), ("uuid", "urn:uuid:XYZ"),
])
def test_invalid_primitives(type_code, value):
    assert check_primitive(type_code, value) is not None


def test_choice_type_only_one(validator):
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
           "valueString": "a", "valueBoolean": True}
    assert at(validator.validate_resource(obs), "Observation.value")
    del obs["valueBoolean"]
    assert errors(validator.validate_resource(obs)) == []


def test_choice_type_not_allowed(validator):
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueFoo": "a"}
    assert at(validator.validate_resource(obs), "Observation.valueFoo")


def test_max_cardinality_and_single_value(validator, encounter):
    encounter["status"] = ["finished"]
    assert at(validator.validate_resource(encounter), "Encounter.status")


def test_empty_object_and_array_break_ele_1(validator, encounter):
    encounter["class"] = {}
    encounter["identifier"] = []
    issues = validator.validate_resource(encounter)
    assert [i.rule for i in at(issues, "Encounter.class")] == ["ele-1"]
    assert at(issues, "Encounter.identifier")


def test_null_is_not_a_value(validator, encounter):
    encounter["serviceProvider"] = None
    assert at(validator.validate_resource(encounter), "Encounter.serviceProvider")


def test_primitive_extension_element(validator, encounter):
    encounter["_status"] = {"extension": [{"url": "http://example.org/x", "valueString": "y"}]}
    assert errors(validator.validate_resource(encounter)) == []
    encounter["_status"] = {"extension": [{"url": "http://example.org/x"}]}   # no value: ext-1
    assert any(i.rule == "ext-1" for i in errors(validator.validate_resource(encounter)))
    encounter["_nothing"] = {"id": "x"}
    assert at(validator.validate_resource(encounter), "Encounter._nothing")


def test_extension_value_and_children_breaks_ext_1(validator, encounter):
    encounter["extension"] = [{"url": "http://example.org/x", "valueString": "a",
                               "extension": [{"url": "y", "valueString": "b"}]}]
    found = at(validator.validate_resource(encounter), "Encounter.extension[0]")
    assert [i.rule for i in found] == ["ext-1"]


def test_unknown_extension_is_reported_not_rejected(validator, encounter):
    encounter["extension"] = [{"url": "http://example.org/unknown", "valueString": "a"}]
    issues = validator.validate_resource(encounter)
    assert errors(issues) == []
    assert any(i.rule == "extension-unknown" for i in issues)


def test_known_extension_checked_against_its_definition(validator, encounter):
    ext = "https://fhiradapter.org/fhir/StructureDefinition/ext-termination-kind"   # context: CarePlan
    plan = {"resourceType": "CarePlan", "status": "active", "intent": "plan",
            "subject": {"reference": "Patient/p1"}, "extension": [{"url": ext, "valueCode": "planned"}]}
    assert errors(validator.validate_resource(plan)) == []
    plan["extension"] = [{"url": ext, "valueString": "planned"}]   # wrong value type
    assert errors(validator.validate_resource(plan))
    encounter["extension"] = [{"url": ext, "valueCode": "planned"}]   # outside its context
    assert [i.rule for i in errors(validator.validate_resource(encounter))] == ["extension-context"]


def test_reference_target_type(validator, encounter):
    from fhiradapter.validator import Validator
    encounter["subject"] = {"reference": "Practitioner/x"}     # subject: Patient | Group
    # unresolved: a warning by default (the HL7 validator checks target types only of what it resolves),
    # an error under --strict
    found = at(validator.validate_resource(encounter), "Encounter.subject.reference", "warning")
    assert found and "Patient" in found[0].message and found[0].rule == "reference-target"
    found = at(Validator(rules=False, strict=True).validate_resource(encounter), "Encounter.subject.reference")
    assert found and "Patient" in found[0].message
    # resolved (a contained resource): an error in both readings
    encounter["subject"] = {"reference": "#pr"}
    encounter["contained"] = [{"resourceType": "Practitioner", "id": "pr"}]
    found = at(validator.validate_resource(encounter), "Encounter.subject.reference")
    assert [i.rule for i in found] == ["contained-reference-type"] and "Practitioner" in found[0].message
    encounter["contained"] = [{"resourceType": "Patient", "id": "pr"}]
    assert errors(validator.validate_resource(encounter)) == []


def test_malformed_reference(validator, encounter):
    from fhiradapter.validator import Validator
    strict = Validator(rules=False, strict=True)
    encounter["subject"] = {"reference": "not a reference"}    # whitespace: an error in both readings
    assert [i.rule for i in at(validator.validate_resource(encounter), "Encounter.subject.reference")] \
        == ["reference-whitespace"]
    encounter["subject"] = {"reference": "Patient/"}           # no id: the HL7 validator lets it pass offline
    assert at(validator.validate_resource(encounter), "Encounter.subject.reference", "warning")
    assert at(strict.validate_resource(encounter), "Encounter.subject.reference")
    encounter["subject"] = {"reference": "https://ehr.example.org/fhir/Patient/123"}
    assert errors(strict.validate_resource(encounter)) == []
    encounter["subject"] = {"reference": "Patient?identifier=https://sid.example.org|42"}   # conditional
    assert errors(strict.validate_resource(encounter)) == []
    encounter["subject"] = {"reference": "Practitioner?identifier=x"}
    assert at(strict.validate_resource(encounter), "Encounter.subject.reference")


def test_contained_reference_ref_1_and_dom_3(validator, encounter):
    encounter["contained"] = [{"resourceType": "Patient", "id": "pt"}]
    encounter["subject"] = {"reference": "#pt"}
    assert errors(validator.validate_resource(encounter)) == []
    encounter["subject"] = {"reference": "#other"}
    issues = validator.validate_resource(encounter)
    assert {i.rule for i in errors(issues)} == {"ref-1", "dom-3"}


def test_contained_resource_rules_dom_2_4_5(validator, encounter):
    encounter["contained"] = [{"resourceType": "Patient", "id": "pt", "meta": {"versionId": "1",
                               "security": [{"code": "R"}]},
                               "contained": [{"resourceType": "Patient", "id": "inner"}]}]
    encounter["subject"] = {"reference": "#pt"}
    rules = {i.rule for i in errors(validator.validate_resource(encounter))}
    assert {"dom-2", "dom-4", "dom-5"} <= rules


def test_resource_invariant_through_fhirpath(validator):
    # ppc-1 (Consent): either a policy or a policyRule
    consent = {"resourceType": "Consent", "status": "active", "scope": {"text": "x"},
               "category": [{"text": "x"}]}
    assert [i.rule for i in errors(validator.validate_resource(consent))] == ["ppc-1"]
    consent["policyRule"] = {"text": "HIPAA"}
    assert errors(validator.validate_resource(consent)) == []


def test_unknown_resource_type_and_missing_resource_type(validator):
    assert errors(validator.validate_resource({"resourceType": "Encountr"}))
    assert errors(validator.validate_resource({"status": "finished"}))
    assert errors(validator.validate_resource([1, 2]))


def test_required_binding_on_coding(validator, encounter):
    encounter["class"] = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}
    assert errors(validator.validate_resource(encounter)) == []
    # Encounter.class is extensible to v3-ActEncounterCode: a foreign code is a warning, not an error
    encounter["class"] = {"system": "http://example.org/cls", "code": "zzz"}
    issues = validator.validate_resource(encounter)
    assert errors(issues) == []
    assert at(issues, "Encounter.class", "warning") or any(
        i.rule == "binding-not-checked" for i in issues)


def test_unexpandable_value_set_is_information_once(validator):
    # Attachment.contentType is bound (required) to BCP-13 mime types: no offline expansion
    doc = {"resourceType": "DocumentReference", "status": "current",
           "content": [{"attachment": {"contentType": "text/plain"}},
                       {"attachment": {"contentType": "application/pdf"}}]}
    issues = validator.validate_resource(doc)
    assert errors(issues) == []
    infos = [i for i in issues if i.rule == "binding-not-checked"]
    assert len(infos) == 1 and infos[0].severity == "information" and "mimetypes" in infos[0].message


def test_contained_resources_may_reference_each_other(validator, encounter):
    encounter["contained"] = [
        {"resourceType": "Organization", "id": "org", "name": "Clinic"},
        {"resourceType": "Practitioner", "id": "pr"},
        {"resourceType": "PractitionerRole", "id": "role", "practitioner": {"reference": "#pr"},
         "organization": {"reference": "#org"}},
    ]
    encounter["participant"] = [{"individual": {"reference": "#role"}}]
    assert errors(validator.validate_resource(encounter)) == []
    encounter["contained"][2]["organization"] = {"reference": "#nowhere"}
    found = errors(validator.validate_resource(encounter))
    # the broken reference, and the organization is now referenced by nobody
    assert sorted((i.rule, i.expression) for i in found) == [
        ("dom-3", "Encounter.contained[0]"), ("ref-1", "Encounter.contained[2].organization.reference")]
