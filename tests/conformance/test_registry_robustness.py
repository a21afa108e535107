"""Malformed definitions and arbitrary keys never raise out of the Registry."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fhiradapter.conformance import Registry

from conformance_helpers import BASE, sd

R4 = "http://hl7.org/fhir/StructureDefinition/"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.sampled_from(["Encounter|", "|", "a|b|c", R4, R4 + "|x", "http://"])))
def test_arbitrary_keys_never_raise(key: str) -> None:
    reg = Registry.default()
    sd_ = reg.structure_definition(key)
    assert sd_ is None or sd_["snapshot"]["element"]
    reg.resource(key)
    reg.expand(key)
    reg.code_system(key)
    reg.profiles_for(key)


def test_malformed_differential_and_compose_become_issues(make_registry) -> None:
    broken_sd = sd("broken", R4 + "Encounter", [{"id": "Encounter.subject", "path": "Encounter.subject",
                                                 "type": "Reference"}])
    broken_vs = {"resourceType": "ValueSet", "id": "broken", "url": f"{BASE}/ValueSet/broken",
                 "compose": {"include": [{"system": 42, "concept": "x"}]}}
    reg = make_registry(broken_sd, broken_vs)
    assert reg.structure_definition("broken") is None
    assert reg.expand(f"{BASE}/ValueSet/broken") is None
    messages = [i.message for i in reg.issues]
    assert any("StructureDefinition/broken" in m and "Encounter.subject" in m for m in messages)
    assert any("ValueSet/broken" in m and "malformed compose" in m for m in messages)
