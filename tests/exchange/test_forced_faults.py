"""Forced server faults with `responses`: which answers are retried, how long the client waits, and
what the journal keeps. No real sleeping: the retry policy's sleep is recorded instead."""
from __future__ import annotations


import pytest
import requests
import responses

from fhiradapter.exchange.client import FhirClient
from fhiradapter.exchange.journal import Journal
from fhiradapter.exchange.report import build_report
from fhiradapter.exchange.sender import SendOptions, Sender

from .builders import fhir_calls, member_bundle, write_out

BASE = "https://payer.example/fhir"


def _ok_response(n: int, status: str = "201", absolute: bool = False) -> dict:
    prefix = f"{BASE}/" if absolute else ""
    return {"resourceType": "Bundle", "type": "transaction-response",
            "entry": [{"response": {"status": status, "location": f"{prefix}Encounter/e{i}/_history/1"}}
                      for i in range(n)]}


@pytest.fixture
def out(tmp_path):
    return write_out(tmp_path / "out", {"m-1": member_bundle("F1", contacts=2, first_line=7)})


def _sender(out, retry, **options):
    journal = Journal(out / "outbox.sqlite")
    return Sender(FhirClient(BASE, timeout=5), journal, retry=retry, options=SendOptions(**options)), journal


@responses.activate
def test_503_then_success_keeps_one_request_id(out, no_sleep_retry):
    retry, slept = no_sleep_retry
    responses.post(BASE, status=503)
    responses.post(BASE, status=503)
    responses.post(BASE, json=_ok_response(3), status=200)
    sender, journal = _sender(out, retry)
    summary = sender.run([out])
    assert summary.delivered == 1
    ids = {call.request.headers["X-Request-Id"] for call in fhir_calls()}
    assert len(fhir_calls()) == 3 and len(ids) == 1
    row = journal.rows()[0]
    assert row.state == "delivered" and row.attempts == 3 and row.request_id in ids
    assert [a["status"] for a in journal.attempts(row.id)] == [503, 503, 200]
    assert len(slept.waits) == 2 and all(0 <= w <= 8.0 for w in slept.waits)


@responses.activate
def test_429_retry_after_is_honoured(out, no_sleep_retry):
    retry, slept = no_sleep_retry
    responses.post(BASE, status=429, headers={"Retry-After": "7"})
    responses.post(BASE, json=_ok_response(3), status=200)
    sender, journal = _sender(out, retry)
    assert sender.run([out]).delivered == 1
    assert len(slept.waits) == 1 and 7.0 <= slept.waits[0] < 8.0


@responses.activate
def test_400_with_operation_outcome_is_not_retried(out, no_sleep_retry):
    retry, slept = no_sleep_retry
    outcome = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "required", "details": {"text": "Encounter.period is required"},
         "expression": ["Bundle.entry[2].resource.period"]}]}
    responses.post(BASE, json=outcome, status=400)
    sender, journal = _sender(out, retry)
    summary = sender.run([out])
    assert summary.failed == 1 and len(fhir_calls()) == 1 and slept.waits == []
    row = journal.rows()[0]
    assert row.state == "failed" and row.last_status == 400 and not row.retryable
    failure = build_report(journal)["failures"][0]
    issue = next(i for i in failure["issues"] if i.get("source_file"))
    # entry 2 is the second contact, mapped from contacts.csv line 8
    assert (issue["source_file"], issue["source_line"], issue["resource_type"]) == ("contacts.csv", 8, "Encounter")
    # A second run does not resend a refused Bundle unless asked.
    summary = sender.run([out])
    assert len(fhir_calls()) == 1 and summary.failed == 1


@responses.activate
def test_timeouts_and_dropped_connections_are_retried(out, no_sleep_retry):
    retry, slept = no_sleep_retry
    responses.post(BASE, body=requests.exceptions.ReadTimeout("slow"))
    responses.post(BASE, body=requests.exceptions.ConnectionError("reset"))
    responses.post(BASE, json=_ok_response(3), status=200)
    sender, journal = _sender(out, retry)
    assert sender.run([out]).delivered == 1
    row = journal.rows()[0]
    assert [a["error"] for a in journal.attempts(row.id)] == ["timeout", "connection", None]


@responses.activate
def test_retries_exhausted_leave_bundle_for_next_run(out, no_sleep_retry):
    retry, slept = no_sleep_retry
    for _ in range(retry.max_attempts):
        responses.post(BASE, status=502)
    sender, journal = _sender(out, retry)
    summary = sender.run([out])
    # The endpoint's circuit opened after max_attempts failures in a row: the Bundle waits for the next run.
    assert summary.deferred == 1 and not summary.ok and len(fhir_calls()) == retry.max_attempts
    row = journal.rows()[0]
    assert row.state == "pending" and row.retryable and row.last_error == "HTTP 502"
    assert journal.endpoint_state(BASE).failures == retry.max_attempts
    first_id = row.request_id
    responses.post(BASE, json=_ok_response(3), status=200)
    assert sender.run([out]).delivered == 1
    assert fhir_calls()[-1].request.headers["X-Request-Id"] == first_id
    assert journal.endpoint_state(BASE).failures == 0


@responses.activate
def test_status_text_and_absolute_locations_are_accepted(out, no_sleep_retry):
    retry, _ = no_sleep_retry
    responses.post(BASE, json=_ok_response(3, status="201 Created", absolute=True), status=200)
    sender, journal = _sender(out, retry)
    assert sender.run([out]).delivered == 1
    assert journal.delivered_locations() == ["Encounter/e0", "Encounter/e1", "Encounter/e2"]


@responses.activate
def test_batch_partial_failure_records_each_entry(out, no_sleep_retry):
    retry, slept = no_sleep_retry
    body = _ok_response(3, status="200 OK")
    body["type"] = "batch-response"
    body["entry"][1]["response"] = {"status": "422 Unprocessable Entity", "outcome": {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "business-rule", "details": {"text": "refused"}}]}}
    responses.post(BASE, json=body, status=200)
    out_batch = write_out(out, {"m-1": member_bundle("F1", contacts=2, first_line=7, encounter_method="PUT")})
    sender, journal = _sender(out_batch, retry, mode="batch")
    summary = sender.run([out_batch])
    assert summary.failed == 1 and slept.waits == []
    issue = build_report(journal)["failures"][0]["issues"][0]
    assert (issue["source_file"], issue["source_line"]) == ("contacts.csv", 7)


@responses.activate
@pytest.mark.parametrize("status", [200, 400, 412, 422])
def test_server_validate_answers(out, no_sleep_retry, status):
    retry, _ = no_sleep_retry
    errors = status != 200
    outcome = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error" if errors else "information", "code": "invalid" if errors else "informational",
         "details": {"text": "checked"}}]}
    responses.post(f"{BASE}/Patient/$validate", json=outcome, status=status)
    responses.post(f"{BASE}/Encounter/$validate", json=outcome, status=status)
    responses.post(BASE, json=_ok_response(3), status=200)
    sender, journal = _sender(out, retry, server_validate=True)
    summary = sender.run([out])
    posted = [c for c in fhir_calls() if c.request.url == BASE]
    if errors:
        assert summary.failed == 1 and posted == []
        assert journal.rows()[0].state == "failed"
    else:
        assert summary.delivered == 1 and len(posted) == 1


@responses.activate
def test_validate_not_supported_sends_nothing(out, no_sleep_retry):
    retry, _ = no_sleep_retry
    responses.post(f"{BASE}/Patient/$validate", status=404, body="no such operation")
    sender, journal = _sender(out, retry, server_validate=True)
    assert sender.run([out]).failed == 1
    assert [c.request.url for c in fhir_calls()] == [f"{BASE}/Patient/$validate"]
    assert "unavailable" in journal.rows()[0].last_error


@responses.activate
def test_locally_invalid_bundle_is_never_sent(tmp_path, no_sleep_retry):
    retry, _ = no_sleep_retry
    bundle = member_bundle("INV", contacts=1, first_line=4)
    bundle["entry"][1]["resource"]["status"] = "bogus-status"
    out = write_out(tmp_path / "out", {"inv-1": bundle})
    sender, journal = _sender(out, retry)
    summary = sender.run([out])
    assert summary.rejected_local == 1 and len(fhir_calls()) == 0
    row = journal.rows()[0]
    assert row.state == "rejected-local"
    issues = build_report(journal)["failures"][0]["issues"]
    assert any(i.get("source_file") == "contacts.csv" and i.get("source_line") == 4 for i in issues)


@responses.activate
def test_redirect_is_reported_not_followed(out, no_sleep_retry):
    retry, _ = no_sleep_retry
    responses.post(BASE, status=302, headers={"Location": "https://login.example/"})
    sender, journal = _sender(out, retry)
    assert sender.run([out]).failed == 1
    assert len(fhir_calls()) == 1 and journal.rows()[0].last_status == 302


@pytest.mark.parametrize("endpoint", ["https://user:pw@payer.example/fhir", "https://payer.example/fhir?key=abc"])
def test_endpoint_with_credentials_is_refused(tmp_path, endpoint):
    from click.testing import CliRunner
    from fhiradapter.cli import cli
    out = write_out(tmp_path / "out", {"m-1": member_bundle("E1")})
    result = CliRunner().invoke(cli, ["send", "--endpoint", endpoint, str(out)])
    assert result.exit_code == 2 and "must not carry credentials" in result.output
    assert not (out / "outbox.sqlite").exists()
