"""The gateway's read-only face: /metadata, $validate (the same answer as `fhiradapter validate`), and
clear OperationOutcomes for bad requests. Real process, real HTTP, a standard FHIR client library."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import Example, StartService, cli


def _encounter(example: Example) -> dict[str, Any]:
    bundle = example.members[0]
    found: dict[str, Any] = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter")
    return copy.deepcopy(found)


def _cli_outcome(resource: dict[str, Any], tmp_path: Path, *extra: str) -> dict[str, Any]:
    path = tmp_path / "resource.json"
    path.write_text(json.dumps(resource), encoding="utf-8")
    result = cli("validate", "--format", "json", *extra, str(path))
    outcome: dict[str, Any] = json.loads(result.stdout)
    outcome.pop("meta", None)   # meta.source names the CLI's input file: an HTTP request has none
    for issue in outcome["issue"]:
        issue.pop("diagnostics", None)   # the file name: an HTTP request has none
    return outcome


def test_metadata_tells_what_the_service_does(start_service: StartService) -> None:
    service = start_service()
    response = service.get("/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    cs = response.json()
    assert cs["resourceType"] == "CapabilityStatement" and cs["fhirVersion"] == "4.0.1"
    rest = cs["rest"][0]
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch"}
    encounter = next(r for r in rest["resource"] if r["type"] == "Encounter")
    assert "https://fhiradapter.org/fhir/StructureDefinition/mt-cmp-encounter" in encounter["supportedProfile"]
    assert rest["operation"][0]["name"] == "validate"
    assert "No authentication" in rest["security"]["description"]


def test_validate_answers_like_the_cli(start_service: StartService, example: Example, tmp_path: Path) -> None:
    service = start_service()
    good = _encounter(example)
    bad = _encounter(example)
    bad["status"] = "not-a-status"
    del bad["subject"]
    for resource in (good, bad):
        expected = _cli_outcome(resource, tmp_path)
        for path in ("/$validate", "/Encounter/$validate"):
            response = service.post(path, resource)
            assert response.status_code == 200
            assert response.json() == expected
    errors = [i for i in expected["issue"] if i["severity"] == "error"]
    assert any("Encounter.status" in e.get("expression", [""])[0] for e in errors)


def test_validate_takes_parameters_with_profile(start_service: StartService, example: Example,
                                                tmp_path: Path) -> None:
    service = start_service()
    resource = _encounter(example)
    resource["meta"].pop("profile", None)
    profile = "https://fhiradapter.org/fhir/StructureDefinition/dc-cs-encounter"
    params = {"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": resource}, {"name": "profile", "valueUri": profile},
        {"name": "mode", "valueCode": "create"}]}
    response = service.post("/Encounter/$validate", params)
    assert response.status_code == 200
    assert response.json() == _cli_outcome(resource, tmp_path, "--profile", profile)
    # an unknown profile is a clear 400, not a crash
    params["parameter"][1]["valueUri"] = "https://payer.example/StructureDefinition/nope"
    response = service.post("/$validate", params)
    assert response.status_code == 400
    assert "unknown profile https://payer.example/StructureDefinition/nope" in response.text


def test_a_standard_fhir_client_calls_validate(start_service: StartService, example: Example) -> None:
    from fhirclient import client
    from fhirclient.models.encounter import Encounter
    from fhirclient.models.operationoutcome import OperationOutcome

    service = start_service()
    smart = client.FHIRClient(settings={"app_id": "intake-test", "api_base": service.base + "/"})
    encounter = Encounter(_encounter(example))
    response = smart.server.post_json("Encounter/$validate", encounter.as_json())
    outcome = OperationOutcome(response.json())
    assert [i.severity for i in outcome.issue if i.severity in ("error", "fatal")] == []
    broken = encounter.as_json()
    broken["status"] = "not-a-status"
    outcome = OperationOutcome(smart.server.post_json("Encounter/$validate", broken).json())
    assert any(i.severity == "error" and "Encounter.status" in (i.expression or [""])[0] for i in outcome.issue)


@pytest.mark.parametrize("path,body,headers,status,text", [
    ("/", b"{not json", {}, 400, "not valid JSON"),
    ("/$validate", b'{"resourceType": "Patient"}', {"Content-Type": "text/plain"}, 415, "Content-Type must be"),
    ("/", b'{"resourceType": "Patient", "id": "x"}', {}, 400, "takes a transaction or batch Bundle; got Patient"),
    ("/", b'{"resourceType": "Bundle", "type": "collection", "entry": []}', {}, 400, "must be transaction or batch"),
    ("/", b'[1, 2]', {}, 400, "takes a transaction or batch Bundle"),
    ("/$validate", b'"just a string"', {}, 400, "must be a FHIR resource"),
    ("/Patient/$validate", b'{"resourceType": "Encounter"}', {}, 400, "got a Encounter"),
    ("/nothing-here", b'{}', {}, 404, "no such endpoint"),
])
def test_bad_requests_get_a_clear_operation_outcome(start_service: StartService, path: str, body: bytes,
                                                    headers: dict[str, str], status: int, text: str) -> None:
    service = start_service()
    response = service.post(path, body, headers=headers)
    assert response.status_code == status
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert text in outcome["issue"][0]["details"]["text"]
    assert "Traceback" not in response.text
