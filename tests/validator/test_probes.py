"""The probes from issue 3's Done-when: each with a passing and a failing case."""
from __future__ import annotations

import copy

from validator_support import at, errors

EXT_URL = "https://fhiradapter.org/fhir/StructureDefinition/"


def test_valid_encounter_has_no_errors(validator, encounter):
    assert errors(validator.validate_resource(encounter)) == []


def test_bad_status_code(validator, encounter):
    encounter["status"] = "bogus"
    found = at(validator.validate_resource(encounter), "Encounter.status")
    assert found and "encounter-status" in found[0].message
    assert "bogus" not in found[0].message          # no record values by default


def test_bad_status_code_shown_with_show_values(encounter):
    from fhiradapter.validator import Validator
    encounter["status"] = "bogus"
    issues = Validator(rules=False, show_values=True).validate_resource(encounter)
    assert any("bogus" in i.message for i in at(issues, "Encounter.status"))


def test_missing_status(validator, encounter):
    del encounter["status"]
    found = at(validator.validate_resource(encounter), "Encounter.status")
    assert found and found[0].code == "required"


def test_unknown_element(validator, encounter):
    encounter["colour"] = "blue"
    assert at(validator.validate_resource(encounter), "Encounter.colour")


def test_bad_instant(validator, encounter):
    encounter["meta"] = {"lastUpdated": "2024-03-01T10:00:00"}   # an instant needs a zone
    found = at(validator.validate_resource(encounter), "Encounter.meta.lastUpdated")
    assert found and "instant" in found[0].message
    encounter["meta"] = {"lastUpdated": "2024-03-01T10:00:00Z"}
    assert errors(validator.validate_resource(encounter)) == []


def test_object_where_array_belongs(validator, encounter):
    encounter["identifier"] = {"system": "urn:x", "value": "1"}
    found = at(validator.validate_resource(encounter), "Encounter.identifier")
    assert found and "array" in found[0].message
    encounter["identifier"] = [{"system": "urn:x", "value": "1"}]
    assert errors(validator.validate_resource(encounter)) == []


def test_broken_base_invariant_per_1(validator, encounter):
    encounter["period"] = {"start": "2024-03-02", "end": "2024-03-01"}
    found = at(validator.validate_resource(encounter), "Encounter.period")
    assert [i.rule for i in found] == ["per-1"]


def test_per_1_compares_instants_across_zones(validator, encounter):
    # 10:00-07:00 is 17:00Z, which is after 16:00Z: broken even though the local hours read earlier
    encounter["period"] = {"start": "2024-03-01T10:00:00-07:00", "end": "2024-03-01T16:00:00Z"}
    assert [i.rule for i in at(validator.validate_resource(encounter), "Encounter.period")] == ["per-1"]
    encounter["period"] = {"start": "2024-02-29", "end": "2024-03-01T16:00:00Z"}   # an earlier day: fine
    assert errors(validator.validate_resource(encounter)) == []
    # the same day at two precisions: FHIRPath's start <= end is empty, so per-1 fails (as in the
    # HL7 validator's encounter-period case)
    encounter["period"] = {"start": "2024-03-01", "end": "2024-03-01T16:00:00Z"}
    assert [i.rule for i in at(validator.validate_resource(encounter), "Encounter.period")] == ["per-1"]


def test_broken_slice(validator, load):
    good = load("Encounter-mt-cmp-encounter-example.json")
    assert errors(validator.validate_resource(good)) == []
    bad = copy.deepcopy(good)
    bad["type"] = [t for t in bad["type"]
                   if not any(c.get("system", "").endswith("bh-contact-mode") for c in t.get("coding", []))]
    found = errors(validator.validate_resource(bad))
    assert any(i.rule == "slice-cardinality" and "contactMode" in i.message for i in found)


def test_unresolvable_bundle_reference(validator, encounter):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
         "resource": {"resourceType": "Patient", "id": "p1"}},
        {"fullUrl": "urn:uuid:22222222-2222-4222-8222-222222222222", "resource": encounter},
    ]}
    encounter["subject"] = {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"}
    assert errors(validator.validate_bundle(bundle)) == []
    encounter["subject"] = {"reference": "urn:uuid:99999999-9999-4999-8999-999999999999"}
    # a collection may hold part of a record: a warning, as in the HL7 validator
    found = [i for i in validator.validate_bundle(bundle) if i.expression == "Bundle.entry[1].resource.subject.reference"]
    assert [(i.rule, i.severity, i.entry) for i in found] == [("bundle-reference", "warning", 1)]
    bundle["type"] = "transaction"   # a transaction's urn:uuid references must resolve: an error
    for e in bundle["entry"]:
        e["request"] = {"method": "POST", "url": e["resource"]["resourceType"]}
    found = at(validator.validate_bundle(bundle), "Bundle.entry[1].resource.subject.reference")
    assert found and found[0].rule == "bundle-reference" and found[0].entry == 1
