"""Bundles (bdl-*, references, target types), profile choice, the shipped examples and invalid fixtures."""
from __future__ import annotations

import copy
import json

import pytest

from validator_support import EXAMPLES, INVALID, at, errors
from fhiradapter.canonical import profile_url
from fhiradapter.validator import Validator

P1 = "urn:uuid:11111111-1111-4111-8111-111111111111"
E1 = "urn:uuid:22222222-2222-4222-8222-222222222222"


def _bundle(encounter, btype="collection"):
    return {"resourceType": "Bundle", "type": btype, "entry": [
        {"fullUrl": P1, "resource": {"resourceType": "Patient", "id": "p1"}},
        {"fullUrl": E1, "resource": encounter},
    ]}


def test_duplicate_full_url(validator, encounter):
    b = _bundle(encounter)
    b["entry"][1]["fullUrl"] = P1
    found = at(validator.validate_bundle(b), "Bundle.entry[1].fullUrl")
    assert [i.rule for i in found] == ["bdl-7"]


def test_transaction_entries_need_request(validator, encounter):
    b = _bundle(encounter, "transaction")
    assert {i.rule for i in errors(validator.validate_bundle(b))} == {"bdl-3"}
    for e in b["entry"]:
        e["request"] = {"method": "POST", "url": e["resource"]["resourceType"]}
    assert errors(validator.validate_bundle(b)) == []


def test_reference_resolves_to_wrong_type(validator, encounter):
    encounter["subject"] = {"reference": E1}        # points at the Encounter itself
    found = at(validator.validate_bundle(_bundle(encounter)), "Bundle.entry[1].resource.subject.reference")
    assert found and found[0].rule == "bundle-reference-type"


def test_relative_reference_resolves_by_type_and_id(validator, encounter):
    encounter["subject"] = {"reference": "Patient/p1"}
    assert errors(validator.validate_bundle(_bundle(encounter))) == []
    encounter["subject"] = {"reference": "Patient/elsewhere"}   # a server reference: allowed
    assert errors(validator.validate_bundle(_bundle(encounter))) == []


def test_entry_issues_are_rooted_at_the_bundle(validator, encounter):
    encounter["status"] = "bogus"
    found = at(validator.validate_bundle(_bundle(encounter)), "Bundle.entry[1].resource.status")
    assert found and found[0].entry == 1


def test_unknown_claimed_profile_is_a_warning_and_an_error_when_strict(validator, encounter):
    # the HL7 validator warns; --strict-profiles is the stricter reading (docs/validator.md)
    encounter["meta"] = {"profile": ["https://example.org/StructureDefinition/nope"]}
    found = validator.validate_resource(encounter)
    assert errors(found) == []
    assert [(i.severity, i.rule) for i in found] == [("warning", "profile-unknown")]
    strict = Validator(rules=False, strict_profiles=True)
    assert [i.rule for i in errors(strict.validate_resource(encounter))] == ["profile-unknown"]


def test_forced_profile_and_program(validator, encounter):
    # a plain Encounter is valid R4 but not a valid mt-cmp contact
    assert errors(validator.validate_resource(encounter)) == []
    forced = errors(validator.validate_resource(encounter, profile=profile_url("mt-cmp", "Encounter")))
    by_program = errors(validator.validate_resource(encounter, program="mt-cmp"))
    assert forced and by_program
    assert {i.expression for i in forced} == {i.expression for i in by_program}


def test_profile_for_another_type(validator, encounter):
    found = errors(validator.validate_resource(encounter, profile=profile_url("mt-cmp", "CarePlan")))
    assert any(i.rule == "profile-type" for i in found)


def test_must_support_report_is_opt_in(encounter):
    from fhiradapter.validator import Validator
    url = profile_url("mt-cmp", "Encounter")
    plain = Validator(rules=False).validate_resource(encounter, profile=url)
    ms = Validator(rules=False, must_support=True).validate_resource(encounter, profile=url)
    assert not [i for i in plain if i.rule == "must-support"]
    reported = [i for i in ms if i.rule == "must-support"]
    assert reported and all(i.severity == "information" for i in reported)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_examples_are_valid(validator, path):
    assert [(i.expression, i.message) for i in errors(validator.validate_resource(json.loads(path.read_text())))] == []


# what each invalid fixture must be flagged for: (expression, rule or None) found among the errors
@pytest.mark.parametrize("path", sorted(INVALID.glob("*.json")), ids=lambda p: p.name)
def test_invalid_fixtures_are_invalid(validator, path):
    found = errors(validator.validate_resource(json.loads(path.read_text())))
    assert found, f"{path.name} was accepted"
    assert all(i.expression for i in found)


def test_fixed_value_in_slice_reports_the_element(validator, load):
    found = errors(validator.validate_resource(load("mt-cmp-encounter-wrong-program.json")))
    # either the program slice is missing or its fixed code is wrong: located at serviceType.coding
    assert found and all(i.expression.startswith("Encounter.serviceType.coding") for i in found)


def test_fixed_and_pattern_values(validator, load):
    good = load("Consent-mt-imr-consent-example.json")
    assert errors(validator.validate_resource(good)) == []
    found = errors(validator.validate_resource(load("mt-imr-consent-deny.json")))
    assert "Consent.provision.type" in [i.expression for i in found]


def test_profile_invariant(validator, load):
    found = errors(validator.validate_resource(load("pa-tcm-consent-no-policy.json")))
    assert [i.rule for i in found] == ["ppc-1"]
    found = errors(validator.validate_resource(load("ma-csp-careplan-crisis-plan-orphan.json")))
    assert [i.rule for i in found] == ["ma-csp-cp-1"]


def test_rules_run_on_bundles_and_are_rerooted(load):
    from fhiradapter.validator import Validator
    v = Validator(rules=True)
    enc = load("mt-cmp-encounter-phone-contact.json")
    b = {"resourceType": "Bundle", "type": "collection",
         "entry": [{"fullUrl": "urn:uuid:33333333-3333-4333-8333-333333333333", "resource": enc}]}
    rule_issues = [i for i in v.validate_bundle(b) if i.rule_system.endswith("bh-rule")]
    assert rule_issues
    located = [i for i in rule_issues if i.expression]
    assert located and all(i.expression.startswith("Bundle.entry[0].resource") for i in located)
    # a lone resource is not a member record: no rules unless asked
    assert not [i for i in v.validate_resource(copy.deepcopy(enc)) if i.rule_system.endswith("bh-rule")]


def test_extension_slice_checked_through_its_definition(validator, load):
    enc = load("Encounter-mt-cmp-encounter-example.json")
    billing = next(e for e in enc["extension"] if e["url"].endswith("ext-billing"))
    billing["extension"] = [x for x in billing["extension"] if x["url"] != "unitType"]
    billing["extension"].append({"url": "billable", "valueString": "yes"})
    found = errors(validator.validate_resource(enc))
    messages = " | ".join(i.message for i in found)
    assert "slice 'unitType' requires at least 1" in messages          # sub-extension cardinality
    assert "slice 'billable' allows at most 1" in messages
    assert any("type String is not allowed here (allowed: boolean)" in i.message for i in found)


def test_unsupported_invariant_is_an_information_note(tmp_path, encounter):
    from fhiradapter.validator import Validator
    sd = {"resourceType": "StructureDefinition", "id": "enc-odd", "url": "https://example.org/StructureDefinition/enc-odd",
          "name": "EncOdd", "status": "active", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
          "type": "Encounter", "derivation": "constraint",
          "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Encounter",
          "differential": {"element": [
              {"id": "Encounter", "path": "Encounter", "constraint": [
                  {"key": "odd-1", "severity": "error", "human": "class is from the value set",
                   "expression": "class.memberOf('http://hl7.org/fhir/ValueSet/v3-ActEncounterCode')"},
                  {"key": "odd-2", "severity": "error", "human": "finished encounters have an end",
                   "expression": "status = 'finished' implies period.end.exists()"}]}]}}
    (tmp_path / "StructureDefinition-enc-odd.json").write_text(json.dumps(sd))
    v = Validator(rules=False, igs=[tmp_path])
    issues = v.validate_resource(encounter, profile=sd["url"])
    assert [i.rule for i in issues if i.rule == "odd-1"] and all(
        i.severity == "information" for i in issues if i.rule == "odd-1")
    assert errors(issues) == []
    del encounter["period"]["end"]
    assert [i.rule for i in errors(v.validate_resource(encounter, profile=sd["url"]))] == ["odd-2"]


def test_ordered_slicing(tmp_path, encounter):
    from fhiradapter.validator import Validator
    sd = {"resourceType": "StructureDefinition", "id": "enc-ordered",
          "url": "https://example.org/StructureDefinition/enc-ordered", "name": "EncOrdered", "status": "active",
          "fhirVersion": "4.0.1", "kind": "resource", "abstract": False, "type": "Encounter",
          "derivation": "constraint", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Encounter",
          "differential": {"element": [
              {"id": "Encounter.identifier", "path": "Encounter.identifier", "slicing": {
                  "discriminator": [{"type": "value", "path": "system"}], "ordered": True, "rules": "open"}},
              {"id": "Encounter.identifier:a", "path": "Encounter.identifier", "sliceName": "a"},
              {"id": "Encounter.identifier:a.system", "path": "Encounter.identifier.system", "fixedUri": "urn:a"},
              {"id": "Encounter.identifier:b", "path": "Encounter.identifier", "sliceName": "b"},
              {"id": "Encounter.identifier:b.system", "path": "Encounter.identifier.system", "fixedUri": "urn:b"},
          ]}}
    (tmp_path / "StructureDefinition-enc-ordered.json").write_text(json.dumps(sd))
    v = Validator(rules=False, igs=[tmp_path])
    encounter["identifier"] = [{"system": "urn:a", "value": "1"}, {"system": "urn:b", "value": "2"}]
    assert errors(v.validate_resource(encounter, profile=sd["url"])) == []
    encounter["identifier"].reverse()
    found = errors(v.validate_resource(encounter, profile=sd["url"]))
    assert [i.expression for i in found] == ["Encounter.identifier[1]"] and "out of order" in found[0].message


def _custom_profile(tmp_path, sd_id: str, elements: list[dict]) -> str:
    sd = {"resourceType": "StructureDefinition", "id": sd_id, "url": f"https://example.org/StructureDefinition/{sd_id}",
          "name": sd_id.replace("-", ""), "status": "active", "fhirVersion": "4.0.1", "kind": "resource",
          "abstract": False, "type": "Encounter", "derivation": "constraint",
          "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Encounter",
          "differential": {"element": elements}}
    (tmp_path / f"StructureDefinition-{sd_id}.json").write_text(json.dumps(sd))
    return sd["url"]


def test_extensible_binding_is_a_warning_required_an_error(tmp_path, encounter):
    from fhiradapter.validator import Validator
    vs = "https://fhiradapter.org/fhir/ValueSet/bh-contact-mode"
    ext_url = _custom_profile(tmp_path, "enc-ext", [
        {"id": "Encounter.type", "path": "Encounter.type", "binding": {"strength": "extensible", "valueSet": vs}}])
    req_url = _custom_profile(tmp_path, "enc-req", [
        {"id": "Encounter.type", "path": "Encounter.type", "binding": {"strength": "required", "valueSet": vs}}])
    v = Validator(rules=False, igs=[tmp_path])
    mode = "https://fhiradapter.org/fhir/CodeSystem/bh-contact-mode"
    encounter["type"] = [{"coding": [{"system": mode, "code": "telehealth"}]}]
    assert [i for i in v.validate_resource(encounter, profile=ext_url) if i.rule == "binding"] == []
    encounter["type"] = [{"coding": [{"system": "http://example.org/local", "code": "zz"}]}]
    ext = [i for i in v.validate_resource(encounter, profile=ext_url) if i.rule == "binding"]
    req = [i for i in v.validate_resource(encounter, profile=req_url) if i.rule == "binding"]
    assert [i.severity for i in ext] == ["warning"] and [i.severity for i in req] == ["error"]
    assert ext[0].expression == "Encounter.type[0]"


def test_profile_target_profile_restricts_reference_types(tmp_path, encounter):
    from fhiradapter.validator import Validator
    url = _custom_profile(tmp_path, "enc-target", [
        {"id": "Encounter.participant.individual", "path": "Encounter.participant.individual",
         "type": [{"code": "Reference", "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Practitioner"]}]}])
    v = Validator(rules=False, igs=[tmp_path], strict=True)   # an unresolved target type: a --strict check
    encounter["participant"] = [{"individual": {"reference": "Practitioner/x"}}]
    assert errors(v.validate_resource(encounter, profile=url)) == []
    encounter["participant"] = [{"individual": {"reference": "RelatedPerson/x"}}]   # fine in base R4
    assert errors(v.validate_resource(encounter)) == []
    found = errors(v.validate_resource(encounter, profile=url))
    assert [i.expression for i in found] == ["Encounter.participant[0].individual.reference"]


def test_document_and_message_bundles(validator):
    doc = {"resourceType": "Bundle", "type": "document", "entry": [
        {"fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
         "resource": {"resourceType": "Patient", "id": "p"}}]}
    assert {i.rule for i in errors(validator.validate_bundle(doc))} == {"bdl-9", "bdl-10", "bdl-11"}
    msg = dict(doc, type="message")
    assert {i.rule for i in errors(validator.validate_bundle(msg))} == {"bdl-12"}
    ok = dict(doc, type="collection")
    assert errors(validator.validate_bundle(ok)) == []
