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
