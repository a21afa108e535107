"""Issue 12 defect 6: the mt-cmp Encounter profile accepts phone and collateral contacts (CMP teams
phone members and collaterals); only a quality contact or billable contact must be face-to-face or
telehealth. `validate --program` keeps a resource's claim of another profile of ours."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from fhiradapter.validator.engine import Validator

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((REPO / "profiles/examples/Encounter-mt-cmp-encounter-example.json").read_text())
MODE = "https://fhiradapter.org/fhir/CodeSystem/bh-contact-mode"
TYPE = "https://fhiradapter.org/fhir/CodeSystem/bh-contact-type"


def _errors(resource: dict, **kwargs: object) -> list:
    return [i for i in Validator(rules=False).validate_resource(resource, **kwargs) if i.severity in ("error", "fatal")]


def _contact(mode: str, *, quality: bool, billable: bool) -> dict:
    enc = copy.deepcopy(EXAMPLE)
    enc["type"] = [t for t in enc["type"] if not any(c.get("system") == TYPE for c in t.get("coding", []))]
    for t in enc["type"]:
        for coding in t.get("coding", []):
            if coding.get("system") == MODE:
                coding["code"] = mode
                coding.pop("display", None)
    if quality:
        enc["type"].append({"coding": [{"system": TYPE, "code": "quality-contact"}]})
    for ext in enc.get("extension", []):
        if ext["url"].endswith("ext-billing"):
            for part in ext["extension"]:
                if part["url"] == "billable":
                    part["valueBoolean"] = billable
    return enc


def test_phone_and_collateral_contacts_are_valid_cmp_contacts() -> None:
    assert _errors(_contact("phone", quality=False, billable=False)) == []
    assert _errors(_contact("collateral", quality=False, billable=False)) == []


def test_a_phone_quality_contact_or_billable_phone_contact_is_not() -> None:
    for quality, billable in ((True, False), (False, True)):
        errors = _errors(_contact("phone", quality=quality, billable=billable))
        assert errors and any("mt-cmp-enc-1" in (i.rule or "") + i.message for i in errors), (quality, billable)
    assert _errors(_contact("telehealth", quality=True, billable=True)) == []


def test_program_option_keeps_a_claim_of_another_profile_of_ours() -> None:
    base = _contact("phone", quality=False, billable=False)
    base["meta"]["profile"] = ["https://fhiradapter.org/fhir/StructureDefinition/bh-encounter"]
    base["serviceType"]["coding"] = [c for c in base["serviceType"]["coding"]
                                     if c.get("system") != "https://fhiradapter.org/fhir/CodeSystem/bh-program"]
    forced = Validator(rules=False).validate_resource(copy.deepcopy(base), program="mt-cmp")
    assert not any("mt-cmp-encounter" in (i.message or "") for i in forced)
    # without a claim of ours, --program still applies the program's profile
    unclaimed = copy.deepcopy(base)
    del unclaimed["meta"]["profile"]
    assert any(i.severity == "error" for i in Validator(rules=False).validate_resource(unclaimed, program="mt-cmp"))
