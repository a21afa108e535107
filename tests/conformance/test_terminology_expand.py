"""Local ValueSet expansion: base R4 required sets, our package, compose features, external systems."""
from __future__ import annotations

from typing import Any

from fhiradapter import canonical
from fhiradapter.conformance import Registry

from conformance_helpers import BASE


def test_base_required_value_set() -> None:
    exp = Registry.default().expand("http://hl7.org/fhir/ValueSet/encounter-status|4.0.1")
    assert exp is not None
    assert exp.contains("http://hl7.org/fhir/encounter-status", "finished")
    assert exp.contains(None, "finished")
    assert not exp.contains(None, "bogus")
    assert not exp.contains("http://other", "finished")
    assert exp.external_systems == frozenset()


def test_base_value_set_with_unenumerable_system_is_none() -> None:
    reg = Registry.default()
    assert reg.expand("http://hl7.org/fhir/ValueSet/mimetypes") is None     # BCP-13
    assert reg.expand("http://example.org/unknown-vs") is None


def test_our_package_value_sets() -> None:
    reg = Registry.default()
    program = reg.expand(canonical.vs_url("bh-program"))
    assert program is not None and program.contains(canonical.PROGRAM_SYSTEM, "mt-cmp")
    assert not program.contains(canonical.PROGRAM_SYSTEM, "xx-none")
    classes = reg.expand(canonical.vs_url("bh-encounter-class"))
    assert {c for _, c in classes} == {"AMB", "HH", "FLD", "VR"}
    modes = reg.expand(canonical.vs_url("mt-cmp-contact-mode"))
    assert modes.contains(canonical.CONTACT_MODE_SYSTEM, "telehealth")
    # CMP teams also phone members and collaterals (issue 12): the profile accepts all four modes
    assert {c for _, c in modes} == {"face-to-face", "telehealth", "phone", "collateral"}
    assert not modes.contains(canonical.CONTACT_MODE_SYSTEM, "carrier-pigeon")


def _cs(cs_id: str, concepts: list[dict[str, Any]], content: str = "complete") -> dict[str, Any]:
    return {"resourceType": "CodeSystem", "id": cs_id, "url": f"{BASE}/CodeSystem/{cs_id}", "status": "active",
            "content": content, "concept": concepts}


def _vs(vs_id: str, compose: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "id": vs_id, "url": f"{BASE}/ValueSet/{vs_id}", "status": "active",
            "compose": compose}


TREE = _cs("tree", [
    {"code": "a", "concept": [{"code": "a1", "concept": [{"code": "a1x"}]}, {"code": "a2"}]},
    {"code": "b", "property": [{"code": "status", "valueCode": "retired"}]},
])


def _codes(reg: Registry, vs_id: str) -> set[str]:
    exp = reg.expand(f"{BASE}/ValueSet/{vs_id}")
    assert exp is not None
    return {c for _, c in exp}


def test_filters_exclude_and_imports(make_registry) -> None:
    sys_url = TREE["url"]
    reg = make_registry(
        TREE,
        _vs("is-a", {"include": [{"system": sys_url, "filter": [{"property": "concept", "op": "is-a", "value": "a1"}]}]}),
        _vs("desc", {"include": [{"system": sys_url, "filter": [{"property": "concept", "op": "descendent-of",
                                                                 "value": "a"}]}]}),
        _vs("prop", {"include": [{"system": sys_url, "filter": [{"property": "status", "op": "=", "value": "retired"}]}]}),
        _vs("excl", {"include": [{"system": sys_url}], "exclude": [{"system": sys_url, "concept": [{"code": "a2"}]}]}),
        _vs("import", {"include": [{"valueSet": [f"{BASE}/ValueSet/is-a",
                                                 "http://hl7.org/fhir/ValueSet/encounter-status"]}]}),
        _vs("both", {"include": [{"valueSet": [f"{BASE}/ValueSet/desc"]}],
                     "exclude": [{"valueSet": [f"{BASE}/ValueSet/is-a"]}]}),
    )
    assert _codes(reg, "is-a") == {"a1", "a1x"}
    assert _codes(reg, "desc") == {"a1", "a1x", "a2"}
    assert _codes(reg, "prop") == {"b"}
    assert _codes(reg, "excl") == {"a", "a1", "a1x", "b"}
    assert _codes(reg, "both") == {"a2"}
    # two imports in one include = intersection (FHIR rule): a1 ∩ encounter-status is empty
    assert _codes(reg, "import") == set()


def test_external_systems_are_reported(make_registry) -> None:
    reg = make_registry(
        TREE,
        _cs("frag", [{"code": "x"}], content="fragment"),
        _vs("mixed", {"include": [{"system": TREE["url"], "concept": [{"code": "a"}]},
                                  {"system": "http://snomed.info/sct"},
                                  {"system": "http://loinc.org", "filter": [{"property": "CLASS", "op": "=",
                                                                            "value": "X"}]}]}),
        _vs("listed-loinc", {"include": [{"system": "http://loinc.org", "concept": [{"code": "59284-0"}]}]}),
        _vs("only-external", {"include": [{"system": canonical.HCPCS_SYSTEM}]}),
        _vs("fragment", {"include": [{"system": f"{BASE}/CodeSystem/frag"}]}),
        _vs("cycle", {"include": [{"valueSet": [f"{BASE}/ValueSet/cycle"]}]}),
    )
    mixed = reg.expand(f"{BASE}/ValueSet/mixed")
    assert mixed is not None and mixed.contains(TREE["url"], "a")
    assert mixed.external_systems == {"http://snomed.info/sct", "http://loinc.org"}
    listed = reg.expand(f"{BASE}/ValueSet/listed-loinc")
    assert listed.contains("http://loinc.org", "59284-0") and not listed.external_systems
    assert reg.expand(f"{BASE}/ValueSet/only-external") is None
    frag = reg.expand(f"{BASE}/ValueSet/fragment")
    assert frag.contains(None, "x") and frag.external_systems == {f"{BASE}/CodeSystem/frag"}
    assert reg.expand(f"{BASE}/ValueSet/cycle") is None
    assert any("imports itself" in i.message for i in reg.issues)
