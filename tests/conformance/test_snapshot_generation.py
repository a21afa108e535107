"""Snapshot generation from hand-written differentials, one feature per test."""
from __future__ import annotations

from typing import Any

import pytest

from fhiradapter.conformance import SnapshotError, generate_snapshot

from conformance_helpers import BASE, sd

R4 = "http://hl7.org/fhir/StructureDefinition/"


def by_id(snapshot_sd: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in snapshot_sd["snapshot"]["element"]}


def ids(snapshot_sd: dict[str, Any]) -> list[str]:
    return [e["id"] for e in snapshot_sd["snapshot"]["element"]]


def test_cardinality_must_support_and_untouched_elements(make_registry) -> None:
    reg = make_registry(sd("enc", R4 + "Encounter", [
        {"id": "Encounter.subject", "path": "Encounter.subject", "min": 1, "mustSupport": True},
        {"id": "Encounter.partOf", "path": "Encounter.partOf", "max": "0"},
    ]))
    snap = reg.structure_definition(f"{BASE}/StructureDefinition/enc")
    els = by_id(snap)
    assert els["Encounter.subject"]["min"] == 1 and els["Encounter.subject"]["mustSupport"] is True
    assert els["Encounter.partOf"]["max"] == "0"
    # untouched elements keep the base facts, and the order is the base order
    assert els["Encounter.status"]["min"] == 1 and els["Encounter.status"]["binding"]["strength"] == "required"
    base_ids = ids(reg.base_definition("Encounter"))
    assert ids(snap) == base_ids


def test_fixed_pattern_binding_type_and_target_profile(make_registry) -> None:
    reg = make_registry(sd("enc", R4 + "Encounter", [
        {"id": "Encounter.status", "path": "Encounter.status", "fixedCode": "finished"},
        {"id": "Encounter.class", "path": "Encounter.class",
         "binding": {"strength": "required", "valueSet": f"{BASE}/ValueSet/classes"}},
        {"id": "Encounter.subject", "path": "Encounter.subject",
         "type": [{"code": "Reference", "targetProfile": [R4 + "Patient"]}]},
        {"id": "Encounter.priority", "path": "Encounter.priority",
         "patternCodeableConcept": {"coding": [{"system": "http://x", "code": "a"}]}},
    ]))
    els = by_id(reg.structure_definition(f"{BASE}/StructureDefinition/enc"))
    assert els["Encounter.status"]["fixedCode"] == "finished"
    assert els["Encounter.class"]["binding"] == {"strength": "required", "valueSet": f"{BASE}/ValueSet/classes"}
    assert els["Encounter.subject"]["type"] == [{"code": "Reference", "targetProfile": [R4 + "Patient"]}]
    assert els["Encounter.priority"]["patternCodeableConcept"]["coding"][0]["code"] == "a"


def test_constraints_are_added_to_base_ones(make_registry) -> None:
    reg = make_registry(sd("enc", R4 + "Encounter", [
        {"id": "Encounter", "path": "Encounter",
         "constraint": [{"key": "x-1", "severity": "error", "human": "h", "expression": "status.exists()"}]},
    ]))
    keys = [c["key"] for c in by_id(reg.structure_definition("enc"))["Encounter"]["constraint"]]
    assert "x-1" in keys and "dom-2" in keys


def test_datatype_children_are_unfolded(make_registry) -> None:
    reg = make_registry(sd("enc", R4 + "Encounter", [
        {"id": "Encounter.period.start", "path": "Encounter.period.start", "min": 1},
    ]))
    snap = reg.structure_definition("enc")
    order = ids(snap)
    at = order.index("Encounter.period")
    assert order[at + 1:at + 5] == ["Encounter.period.id", "Encounter.period.extension",
                                    "Encounter.period.start", "Encounter.period.end"]
    start = by_id(snap)["Encounter.period.start"]
    assert start["min"] == 1 and start["path"] == "Encounter.period.start"
    assert start["base"]["path"] == "Period.start"
    assert [t["code"] for t in start["type"]] == ["dateTime"]


def test_slices_with_pattern_and_children_inside_slices(make_registry) -> None:
    reg = make_registry(sd("enc", R4 + "Encounter", [
        {"id": "Encounter.type", "path": "Encounter.type", "min": 1,
         "slicing": {"discriminator": [{"type": "pattern", "path": "$this"}], "rules": "open"}},
        {"id": "Encounter.type:mode", "path": "Encounter.type", "sliceName": "mode", "min": 1, "max": "1",
         "patternCodeableConcept": {"coding": [{"system": "http://modes"}]}},
        {"id": "Encounter.type:mode.coding", "path": "Encounter.type.coding", "min": 1},
        {"id": "Encounter.type:kind", "path": "Encounter.type", "sliceName": "kind", "min": 0, "max": "1"},
    ]))
    snap = reg.structure_definition("enc")
    order = ids(snap)
    at = order.index("Encounter.type")
    assert order[at:at + 7] == ["Encounter.type", "Encounter.type:mode", "Encounter.type:mode.id",
                                "Encounter.type:mode.extension", "Encounter.type:mode.coding",
                                "Encounter.type:mode.text", "Encounter.type:kind"]
    els = by_id(snap)
    assert els["Encounter.type"]["slicing"]["discriminator"] == [{"type": "pattern", "path": "$this"}]
    assert els["Encounter.type"]["min"] == 1
    mode = els["Encounter.type:mode"]
    assert mode["sliceName"] == "mode" and (mode["min"], mode["max"]) == (1, "1") and "slicing" not in mode
    assert els["Encounter.type:mode.coding"]["min"] == 1
    assert els["Encounter.type:mode.coding"]["path"] == "Encounter.type.coding"
    # a new slice starts from the base element's cardinality, not the sliced element's constraint
    assert els["Encounter.type:kind"]["min"] == 0


def test_value_discriminator_slices_on_a_datatype_child(make_registry) -> None:
    reg = make_registry(sd("enc", R4 + "Encounter", [
        {"id": "Encounter.serviceType.coding", "path": "Encounter.serviceType.coding",
         "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "open"}, "min": 1},
        {"id": "Encounter.serviceType.coding:program", "path": "Encounter.serviceType.coding",
         "sliceName": "program", "min": 1, "max": "1"},
        {"id": "Encounter.serviceType.coding:program.system", "path": "Encounter.serviceType.coding.system",
         "min": 1, "fixedUri": "http://programs"},
    ]))
    els = by_id(reg.structure_definition("enc"))
    assert els["Encounter.serviceType.coding:program.system"]["fixedUri"] == "http://programs"
    assert els["Encounter.serviceType.coding:program.code"]["min"] == 0
    assert "Encounter.serviceType.coding.system" not in els   # the unsliced element was not unfolded


def test_type_discriminator_and_renamed_choice(make_registry) -> None:
    reg = make_registry(sd("obs", R4 + "Observation", [
        {"id": "Observation.valueQuantity", "path": "Observation.valueQuantity", "min": 1},
        {"id": "Observation.valueQuantity.unit", "path": "Observation.valueQuantity.unit", "min": 1},
        {"id": "Observation.effective[x]", "path": "Observation.effective[x]",
         "slicing": {"discriminator": [{"type": "type", "path": "$this"}], "rules": "closed"}},
        {"id": "Observation.effective[x]:effectiveDateTime", "path": "Observation.effective[x]",
         "sliceName": "effectiveDateTime", "type": [{"code": "dateTime"}]},
    ]))
    els = by_id(reg.structure_definition("obs"))
    value = els["Observation.value[x]"]
    assert [t["code"] for t in value["type"]] == ["Quantity"] and value["min"] == 1
    assert els["Observation.value[x].unit"]["min"] == 1
    assert els["Observation.effective[x]"]["slicing"]["discriminator"][0]["type"] == "type"
    assert [t["code"] for t in els["Observation.effective[x]:effectiveDateTime"]["type"]] == ["dateTime"]


def _extension() -> dict[str, Any]:
    return sd("ext-mode", R4 + "Extension", [
        {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
        {"id": "Extension.url", "path": "Extension.url", "fixedUri": f"{BASE}/StructureDefinition/ext-mode"},
        {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "type": [{"code": "Coding"}]},
        {"id": "Extension.value[x].system", "path": "Extension.value[x].system", "min": 1},
    ], type_="Extension", kind="complex-type")


def test_extension_slice_children_come_from_the_extension_definition(make_registry) -> None:
    reg = make_registry(_extension(), sd("enc", R4 + "Encounter", [
        {"id": "Encounter.extension", "path": "Encounter.extension",
         "slicing": {"discriminator": [{"type": "value", "path": "url"}], "rules": "open"}},
        {"id": "Encounter.extension:mode", "path": "Encounter.extension", "sliceName": "mode", "min": 1, "max": "1",
         "type": [{"code": "Extension", "profile": [f"{BASE}/StructureDefinition/ext-mode"]}]},
        {"id": "Encounter.extension:mode.value[x].code", "path": "Encounter.extension.value[x].code", "min": 1},
    ]))
    els = by_id(reg.structure_definition("enc"))
    sl = els["Encounter.extension:mode"]
    assert sl["type"][0]["profile"] == [f"{BASE}/StructureDefinition/ext-mode"] and sl["min"] == 1
    # unrolled from ext-mode: its fixed url, its narrowed value[x] and the constraint on value[x].system
    assert els["Encounter.extension:mode.url"]["fixedUri"] == f"{BASE}/StructureDefinition/ext-mode"
    assert [t["code"] for t in els["Encounter.extension:mode.value[x]"]["type"]] == ["Coding"]
    assert els["Encounter.extension:mode.value[x].system"]["min"] == 1
    assert els["Encounter.extension:mode.value[x].code"]["min"] == 1


def test_complex_extension_inline_slices(make_registry) -> None:
    reg = make_registry(sd("ext-pair", R4 + "Extension", [
        {"id": "Extension.extension:left", "path": "Extension.extension", "sliceName": "left", "min": 1, "max": "1"},
        {"id": "Extension.extension:left.url", "path": "Extension.extension.url", "fixedUri": "left"},
        {"id": "Extension.extension:left.value[x]", "path": "Extension.extension.value[x]",
         "type": [{"code": "boolean"}]},
        {"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"},
    ], type_="Extension", kind="complex-type"))
    snap = reg.structure_definition("ext-pair")
    els = by_id(snap)
    # slicing by url was added for the extension slices (FHIR's default for extension)
    assert els["Extension.extension"]["slicing"]["discriminator"] == [{"type": "value", "path": "url"}]
    assert els["Extension.extension:left.url"]["fixedUri"] == "left"
    assert els["Extension.extension:left.url"]["base"]["path"] == "Extension.url"
    assert ids(snap).index("Extension.extension:left") < ids(snap).index("Extension.url")


def test_profile_derived_from_profile(make_registry) -> None:
    parent = sd("parent", R4 + "Encounter", [
        {"id": "Encounter.type", "path": "Encounter.type",
         "slicing": {"discriminator": [{"type": "pattern", "path": "$this"}], "rules": "open"}},
        {"id": "Encounter.type:mode", "path": "Encounter.type", "sliceName": "mode", "min": 1, "max": "1",
         "binding": {"strength": "required", "valueSet": f"{BASE}/ValueSet/all-modes"}},
        {"id": "Encounter.period.start", "path": "Encounter.period.start", "min": 1},
    ])
    child = sd("child", f"{BASE}/StructureDefinition/parent", [
        {"id": "Encounter.type:mode", "path": "Encounter.type", "sliceName": "mode",
         "binding": {"strength": "required", "valueSet": f"{BASE}/ValueSet/some-modes"}},
        {"id": "Encounter.period.end", "path": "Encounter.period.end", "min": 1},
    ])
    reg = make_registry(child, parent)   # order on disk does not matter
    els = by_id(reg.structure_definition(f"{BASE}/StructureDefinition/child|1.0.0"))
    assert els["Encounter.type:mode"]["binding"]["valueSet"] == f"{BASE}/ValueSet/some-modes"
    assert els["Encounter.type:mode"]["min"] == 1           # inherited from the parent profile
    assert els["Encounter.period.start"]["min"] == 1        # parent's unfolded datatype child kept
    assert els["Encounter.period.end"]["min"] == 1
    assert sum(1 for e in els if e == "Encounter.period.start") == 1


def test_unknown_element_is_an_error_naming_profile_and_element(make_registry) -> None:
    bad = sd("bad", R4 + "Encounter", [{"id": "Encounter.nosuch", "path": "Encounter.nosuch", "min": 1}])
    reg = make_registry(bad)
    assert reg.structure_definition("bad") is None
    assert any("bad" in i.message and "Encounter.nosuch" in i.message for i in reg.issues)
    with pytest.raises(SnapshotError, match="Encounter.nosuch"):
        generate_snapshot(bad, reg.structure_definition)


def test_type_outside_the_base_types_is_rejected(make_registry) -> None:
    bad = sd("bad", R4 + "Encounter", [{"id": "Encounter.subject", "path": "Encounter.subject",
                                        "type": [{"code": "string"}]}])
    with pytest.raises(SnapshotError, match="Encounter.subject.*string"):
        generate_snapshot(bad, make_registry().structure_definition)


def test_snapshot_present_is_kept(make_registry) -> None:
    given = sd("given", R4 + "Encounter", [], type_="Encounter")
    given["snapshot"] = {"element": [{"id": "Encounter", "path": "Encounter", "min": 0, "max": "*"}]}
    reg = make_registry(given)
    assert ids(reg.structure_definition("given")) == ["Encounter"]


def test_content_reference_children_are_unfolded(make_registry) -> None:
    reg = make_registry(sd("q", R4 + "Questionnaire", [
        {"id": "Questionnaire.item.item.text", "path": "Questionnaire.item.item.text", "min": 1},
    ]))
    snap = reg.structure_definition("q")
    order = ids(snap)
    at = order.index("Questionnaire.item.item")
    assert order[at + 1:at + 5] == ["Questionnaire.item.item.id", "Questionnaire.item.item.extension",
                                    "Questionnaire.item.item.modifierExtension", "Questionnaire.item.item.linkId"]
    assert by_id(snap)["Questionnaire.item.item.text"]["min"] == 1
    assert by_id(snap)["Questionnaire.item.text"]["min"] == 0      # the referenced original is untouched
