"""Issue 12 defect 1: `validate` of transaction Bundles reports a reference that resolves neither
inside its Bundle nor to a resource another input of the same submission carries."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from fhiradapter.cli.validate import validate


def _bundle(path: Path, *resources: dict) -> None:
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"urn:uuid:{r['id']}", "resource": r,
         "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in resources]}),
        encoding="utf-8")


def _encounter(eid: str, patient: str) -> dict:
    return {"resourceType": "Encounter", "id": eid, "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": f"Patient/{patient}"},
            "serviceProvider": {"reference": "Organization/org-1"}}


def test_orphan_member_bundle_is_an_error_and_shared_resources_resolve(tmp_path: Path) -> None:
    # the shared Bundle carries the Organization; member a's Bundle has its Patient, member b's has none
    _bundle(tmp_path / "000-shared-1.json", {"resourceType": "Organization", "id": "org-1", "name": "Agency"})
    _bundle(tmp_path / "a-1.json", {"resourceType": "Patient", "id": "a"}, _encounter("e-a", "a"))
    _bundle(tmp_path / "b-1.json", _encounter("e-b1", "b"), _encounter("e-b2", "b"))
    result = CliRunner().invoke(validate, [str(tmp_path), "--no-rules"])
    unresolved = [line for line in result.output.splitlines() if "bundle-reference-unresolved" in line]
    assert len(unresolved) == 2 and all("b-1.json" in line and ".resource.subject" in line for line in unresolved)
    assert result.exit_code == 1
    # the same member Bundle alone: the Organization is not in the submission either
    alone = CliRunner().invoke(validate, [str(tmp_path / "a-1.json"), "--no-rules"])
    assert "Bundle.entry[1].resource.serviceProvider" in alone.output and alone.exit_code == 1
