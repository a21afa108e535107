"""Submissions end to end: our own `fhiradapter send` (the agency) -> the gateway -> the project's real
test FHIR server (the payer's upstream). Exactly once, idempotent X-Request-Id, whole-Bundle rejection
located per entry, and program rules that see what earlier accepted submissions contributed."""
from __future__ import annotations

import copy
import datetime
import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from fhir_server_fixtures import FhirServer

from .conftest import Example, Service, StartService, cli


def _counts(bundles: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for bundle in bundles:
        for entry in bundle["entry"]:
            rtype = entry["resource"]["resourceType"]
            counts[rtype] = counts.get(rtype, 0) + 1
    return counts


def _upstream_service(start_service: StartService, server: FhirServer) -> Service:
    return start_service({"upstream": {"url": server.base}})


def _delivered_shared(service: Service, example: Example) -> None:
    response = service.post("/", example.shared, headers={"X-Request-Id": "shared-1"})
    assert response.status_code == 200, response.text


def test_send_through_the_gateway_delivers_exactly_once(start_service: StartService, server: FhirServer,
                                                         example: Example, tmp_path: Path) -> None:
    service = _upstream_service(start_service, server)
    out = tmp_path / "out"
    (out / "bundles").mkdir(parents=True)
    bundles = [example.shared, *example.members[:3]]
    for n, bundle in enumerate(bundles):
        (out / "bundles" / f"{n:03d}.json").write_text(json.dumps(bundle), encoding="utf-8")
    result = cli("send", "--endpoint", service.base, str(out), "--bundle-size", "50")
    assert result.returncode == 0, result.stdout + result.stderr
    expected = _counts(bundles)
    counts = server.counts()
    assert {t: counts.get(t, 0) for t in expected} == expected
    listing = service.get("/submissions").json()
    assert listing["total"] == 4
    assert {s["verdict"] for s in listing["submissions"]} == {"accepted"}
    assert {s["delivery"] for s in listing["submissions"]} == {"delivered"}
    # sending everything again (a new agency journal, so new X-Request-Ids) stores nothing twice
    result = cli("send", "--endpoint", service.base, str(out), "--bundle-size", "50",
                 "--state", str(tmp_path / "second.sqlite"))
    assert result.returncode == 0, result.stdout + result.stderr
    counts = server.counts()
    assert {t: counts.get(t, 0) for t in expected} == expected
    status = cli("status", "--state", str(out / "outbox.sqlite"), "--format", "json")
    assert json.loads(status.stdout)["bundles"]["delivered"] == 4


def test_repeated_request_id_is_answered_from_the_ledger(start_service: StartService, server: FhirServer,
                                                          example: Example) -> None:
    service = _upstream_service(start_service, server)
    _delivered_shared(service, example)
    bundle = example.members[0]
    first = service.post("/", bundle, headers={"X-Request-Id": "member-0"})
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["type"] == "transaction-response" and len(answer["entry"]) == len(bundle["entry"])
    patient_id = bundle["entry"][0]["resource"]["id"]
    assert answer["entry"][0]["response"]["location"].startswith(f"Patient/{patient_id}")
    version = server.search(f"Patient/{patient_id}")["meta"]["versionId"]
    again = service.post("/", bundle, headers={"X-Request-Id": "member-0"})
    assert again.status_code == 200
    assert again.headers["X-Intake-Replayed"] == "true"
    assert again.json() == answer
    assert server.search(f"Patient/{patient_id}")["meta"]["versionId"] == version   # not written again
    assert [s["requestId"] for s in service.get("/submissions").json()["submissions"]].count("member-0") == 1
    other = service.post("/", example.members[1], headers={"X-Request-Id": "member-0"})
    assert other.status_code == 409
    assert "already used for a different Bundle" in other.text


def test_a_bad_entry_rejects_the_whole_bundle(start_service: StartService, server: FhirServer,
                                               example: Example) -> None:
    service = _upstream_service(start_service, server)
    bundle = copy.deepcopy(example.members[0])
    index = next(i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == "Encounter")
    bundle["entry"][index]["resource"]["status"] = "not-a-status"
    family = bundle["entry"][0]["resource"]["name"][0]["family"]
    member_id = bundle["entry"][0]["resource"]["identifier"][0]["value"]
    response = service.post("/", bundle, headers={"X-Request-Id": "bad-1"})
    assert response.status_code == 422
    outcome = response.json()
    errors = [i for i in outcome["issue"] if i["severity"] == "error"]
    assert errors and all(i["expression"][0].startswith("Bundle.entry[") for i in errors)
    assert any(i["expression"][0] == f"Bundle.entry[{index}].resource.status" for i in errors)
    assert server.counts().get("Patient", 0) == 0   # nothing forwarded
    sub = service.submission(response.headers["Location"].rsplit("/", 1)[1])
    assert (sub["verdict"], sub["delivery"], sub["httpStatus"]) == ("rejected", "not-forwarded", 422)
    # the ledger and the audit log hold no record values
    ledger = (service.data_dir / "ledger.sqlite").read_bytes()
    wal = service.data_dir / "ledger.sqlite-wal"
    text = ledger + (wal.read_bytes() if wal.exists() else b"")
    assert family.encode() not in text and member_id.encode() not in text
    log = service.log_file.read_text()
    assert family not in log and member_id not in log
    events = service.audit_lines()
    assert any(e["resourceType"] == "AuditEvent" and e["outcome"] == "4" for e in events)


def _fourth_billable_day(bundle: dict[str, Any]) -> dict[str, Any]:
    """A copy of one of the member's contacts moved to another day of a week that already has three
    billable days: the program allows at most three (mt-cmp-billable-days-per-week)."""
    from fhiradapter.validator import Validator

    validator = Validator()
    resources = [e["resource"] for e in bundle["entry"]]
    for encounter in (r for r in resources if r["resourceType"] == "Encounter"):
        for offset in range(1, 7):
            clone = copy.deepcopy(encounter)
            clone["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{encounter['id']}/{offset}"))
            clone["identifier"][0]["value"] += f"-moved-{offset}"
            for key in ("start", "end"):
                if key in clone.get("period", {}):
                    moved = datetime.datetime.fromisoformat(clone["period"][key]) + datetime.timedelta(days=offset)
                    clone["period"][key] = moved.isoformat()
            found = validator.rules_for(resources + [clone], None, [r["resourceType"] for r in resources + [clone]])
            if any(i.rule == "mt-cmp-billable-days-per-week" for _, i in found):
                return clone
    raise AssertionError("no week with three billable days in this member's record")


def test_rules_see_what_earlier_submissions_contributed(start_service: StartService, server: FhirServer,
                                                         example: Example) -> None:
    service = _upstream_service(start_service, server)
    _delivered_shared(service, example)
    record = example.members[0]
    assert service.post("/", record, headers={"X-Request-Id": "record"}).status_code == 200
    clone = _fourth_billable_day(record)
    later = {"resourceType": "Bundle", "type": "transaction", "entry": [
        copy.deepcopy(record["entry"][0]),
        {"fullUrl": f"urn:uuid:{clone['id']}", "resource": clone,
         "request": {"method": "PUT", "url": f"Encounter/{clone['id']}"}}]}
    response = service.post("/", later, headers={"X-Request-Id": "later"})
    assert response.status_code == 422, response.text
    rules = [i["details"].get("coding", [{}])[0].get("code") for i in response.json()["issue"]]
    assert "mt-cmp-billable-days-per-week" in rules
    assert server.search(f"Encounter/{clone['id']}").get("resourceType") == "OperationOutcome"   # not stored
    # a gateway without that history judges the same Bundle without the earlier contacts
    fresh = start_service({"upstream": {"url": server.base}})
    alone = fresh.post("/", later, headers={"X-Request-Id": "later"})
    assert "mt-cmp-billable-days-per-week" not in alone.text
    # the member store is where that history lives (documented as PHI at rest), not the ledger
    with sqlite3.connect(service.data_dir / "members.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM member_resources").fetchone()[0] >= len(record["entry"]) - 1


def test_two_worker_processes_deliver_once(start_service: StartService, server: FhirServer,
                                           example: Example) -> None:
    """uvicorn workers: each process validates; one holds the outbox and delivers for both."""
    service = start_service({"server": {"workers": 2}, "upstream": {"url": server.base}})
    _delivered_shared(service, example)
    for n, bundle in enumerate(example.members[:3]):
        response = service.post("/", bundle, headers={"X-Request-Id": f"w-{n}"})
        assert response.status_code in (200, 202), response.text
        assert service.wait_delivery(response.headers["Location"].rsplit("/", 1)[1])["delivery"] == "delivered"
    expected = _counts([example.shared, *example.members[:3]])
    counts = server.counts()
    assert {t: counts.get(t, 0) for t in expected} == expected
    events = service.audit_lines()
    assert sum(1 for e in events if e["subtype"][0]["code"] == "transaction" and e["outcome"] == "0") == 4
