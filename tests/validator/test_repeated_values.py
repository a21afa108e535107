"""The walker remembers coded values that passed every check (speed); the same value must still be
judged afresh wherever the verdict depends on more than its content."""
from __future__ import annotations

import copy

from validator_support import ENCOUNTER, at, errors
from fhiradapter.validator import Validator

TYPE = {"coding": [{"system": "http://snomed.info/sct", "code": "185347001"}], "text": "visit"}


def _encounter(type_value: dict, contained: list | None = None) -> dict:
    enc = copy.deepcopy(ENCOUNTER)
    enc["type"] = [copy.deepcopy(type_value)]
    if contained is not None:
        enc["contained"] = contained
    return enc


def test_same_coding_with_a_non_string_flag_is_checked_again() -> None:
    v = Validator(rules=False)
    good = {"coding": [{"system": "http://snomed.info/sct", "code": "185347001", "userSelected": True}]}
    bad = {"coding": [{"system": "http://snomed.info/sct", "code": "185347001", "userSelected": 1}]}
    assert not errors(v.validate_resource(_encounter(good)))
    assert at(v.validate_resource(_encounter(bad)), "Encounter.type[0].coding[0].userSelected")
    assert not errors(v.validate_resource(_encounter(good)))


def test_same_codeable_concept_with_a_local_reference_depends_on_contained() -> None:
    v = Validator(rules=False)
    # a urn: extension url draws no "unknown extension" note, so only the reference makes it context-bound
    ext = {"url": "urn:example:performer", "valueReference": {"reference": "#pr1"}}
    cc = dict(TYPE, extension=[ext])
    contained = [{"resourceType": "Practitioner", "id": "pr1"}]
    assert not errors(v.validate_resource(_encounter(cc, contained)))
    found = v.validate_resource(_encounter(cc))   # same value, nothing contained: ref-1 still fires
    assert [i.rule for i in errors(found)] == ["ref-1"]


def test_repeated_clean_value_then_broken_copy() -> None:
    v = Validator(rules=False)
    for _ in range(3):
        assert not errors(v.validate_resource(_encounter(TYPE)))
    broken = copy.deepcopy(TYPE)
    broken["coding"][0]["code"] = " bad code"
    assert at(v.validate_resource(_encounter(broken)), "Encounter.type[0].coding[0].code")
    assert not errors(v.validate_resource(_encounter(TYPE)))


def test_same_extension_with_a_number_for_a_boolean_is_checked_again() -> None:
    v = Validator(rules=False)
    enc = copy.deepcopy(ENCOUNTER)
    enc["extension"] = [{"url": "urn:example:flag", "valueBoolean": True}]   # urn: no "unknown" note
    assert not v.validate_resource(enc)
    enc["extension"][0]["valueBoolean"] = 1          # equal to True in Python, not in JSON
    assert at(v.validate_resource(enc), "Encounter.extension[0].value.ofType(Boolean)")
    enc["extension"][0]["valueBoolean"] = 1.0
    assert at(v.validate_resource(enc), "Encounter.extension[0].value.ofType(Boolean)")
