"""Issue 11, exchange side: what the journal keeps of a server's words, tokens over plain http, ids and
URLs checked before a request is built, bounded secret files, journal errors, odd inputs."""
from __future__ import annotations

import json
import sqlite3

import pytest
import responses
from click.testing import CliRunner

from fhiradapter.cli import cli

from .builders import member_bundle, members_out, write_out

BASE = "https://payer.example/fhir"


def _run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


# -- the journal and `status` keep no echoed record value -----------------------------------------

ECHOED = ["Zebediah", "Quux", "1980-02-03", "406) 555-0187", "abc.def.ghi", "zq@example.org"]


@responses.activate
def test_server_diagnostics_are_redacted_before_they_are_stored(tmp_path):
    # A server that echoes the record (a fault forced with `responses`: real servers differ in this).
    outcome = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "invariant", "expression": ["Bundle.entry[1].resource.period"],
         "diagnostics": "Encounter for 'Zebediah Quux' born 1980-02-03, phone (406) 555-0187: period ends "
                        "before it starts (Authorization: Bearer abc.def.ghi)"},
        {"severity": "error", "code": "value", "details": {"text": "contact \"zq@example.org\" rejected"}}]}
    responses.get(f"{BASE}/metadata", status=404)
    responses.post(BASE, json=outcome, status=400)
    out = members_out(tmp_path / "out", 1)
    sent = _run("send", "--endpoint", BASE, str(out))
    assert sent.exit_code == 1
    status = _run("status", str(out))
    as_json = _run("status", str(out), "--format", "json")
    stored = b"".join(p.read_bytes() for p in out.glob("outbox.sqlite*"))
    for value in ECHOED:
        assert value not in status.output and value not in as_json.output and value not in sent.output
        assert value.encode() not in stored
    # What helps stays: the server's own wording, codes, severities, the location, and the row.
    assert "period ends before it starts" in status.output and "invariant" in status.output
    assert "Bundle.entry[1].resource.period" in status.output and "contacts-000.csv:2" in status.output


# -- no token over plain http ----------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--endpoint", "http://payer.example/fhir"], "plain http"),
    (["--endpoint", "http://127.0.0.1:9/fhir"], "plain http"),
    (["--endpoint", "http://payer.example/fhir", "--allow-insecure-http"], "only allowed for a loopback host"),
])
def test_token_over_plain_http_is_refused(tmp_path, args, message):
    out = members_out(tmp_path / "out", 1)
    result = _run("send", *args, "--auth", "bearer", "--token-env", "T", str(out), env={"T": "s3cret"})
    assert result.exit_code == 2 and message in result.output and "s3cret" not in result.output


@pytest.mark.node
def test_token_over_http_to_a_loopback_test_server_when_allowed(server, tmp_path):
    out = members_out(tmp_path / "out", 1)
    result = _run("send", "--endpoint", server.base, "--auth", "bearer", "--token-env", "T",
                  "--allow-insecure-http", str(out), env={"T": "s3cret"})
    assert result.exit_code == 0, result.output
    assert server.counts() == {"Patient": 1, "Encounter": 2}


# -- ids, request URLs and references checked before any URL is built ------------------------------

def _bundle_with(entry_change) -> dict:
    bundle = member_bundle("URL", contacts=1, encounter_method="PUT", source_file="contacts.csv", first_line=5)
    entry_change(bundle["entry"][1])
    return bundle


CASES = {
    "type-mismatch": lambda e: e["request"].__setitem__("url", "Patient/victim1"),
    "dot-dot-url": lambda e: e["request"].__setitem__("url", "Encounter/../Patient/x"),
    "bad-id": lambda e: (e["resource"].__setitem__("id", "../x"), e["request"].__setitem__("url", "Encounter/../x")),
    "long-id": lambda e: (e["resource"].__setitem__("id", "a" * 65),
                          e["request"].__setitem__("url", "Encounter/" + "a" * 65)),
    "dot-dot-ref": lambda e: e["resource"]["subject"].__setitem__("reference", "Patient/../../admin"),
    "post-to-other-type": lambda e: e.__setitem__("request", {"method": "POST", "url": "Patient",
                                                             "ifNoneExist": "identifier=x|y"}),
}


@pytest.mark.node
def test_entries_that_would_steer_a_request_elsewhere_are_refused_locally(server, tmp_path):
    out = write_out(tmp_path / "out", {name: _bundle_with(change) for name, change in CASES.items()})
    result = _run("send", "--endpoint", server.base, str(out))
    assert result.exit_code == 1, result.output
    assert f"{len(CASES)} rejected locally" in result.output
    assert server.counts() == {}                             # nothing reached the server
    report = json.loads(_run("status", str(out), "--format", "json").output)
    for failure in report["failures"]:
        assert failure["state"] == "rejected-local"
        assert any(i.get("source_line") == 5 for i in failure["issues"]), failure   # traced to contacts.csv:5


# -- secrets files are read with a size limit ------------------------------------------------------

@pytest.mark.parametrize("option", ["--token-file", "--key-file"])
def test_dev_zero_as_secret_file_is_a_clear_usage_error(tmp_path, option):
    out = members_out(tmp_path / "out", 1)
    auth = ["--auth", "bearer"] if option == "--token-file" else [
        "--auth", "smart", "--client-id", "c", "--token-url", "https://auth.payer.example/token"]
    result = _run("send", "--endpoint", BASE, *auth, option, "/dev/zero", str(out))
    assert result.exit_code == 2 and "larger than 64 KiB" in result.output


# -- an unusable journal is a clear message and exit 2, never an internal error --------------------

@responses.activate
def test_corrupt_or_unreachable_journal_exits_2(tmp_path):
    responses.get(f"{BASE}/metadata", status=404)
    responses.post(BASE, json={"resourceType": "Bundle", "type": "transaction-response", "entry": [
        {"response": {"status": "201"}}] * 3}, status=200)
    out = members_out(tmp_path / "out", 1)
    assert _run("send", "--endpoint", BASE, str(out)).exit_code == 0
    journal = out / "outbox.sqlite"
    with sqlite3.connect(journal) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(journal.read_bytes())
    data[4096:8192] = b"\xff" * 4096                 # a damaged page, header intact
    journal.write_bytes(bytes(data))
    damaged = _run("send", "--endpoint", BASE, str(out))
    assert damaged.exit_code == 2 and "journal" in damaged.output and "Traceback" not in damaged.output
    status = _run("status", str(out))
    assert status.exit_code == 2 and "journal" in status.output
    as_folder = tmp_path / "dir.sqlite"
    as_folder.mkdir()
    result = _run("send", "--endpoint", BASE, "--state", str(as_folder), str(out / "bundles"))
    assert result.exit_code == 2 and "journal" in result.output


# -- inputs the local check reports cleanly exit 1 with the report, never 3 -------------------------

ODD = {
    "fullurl-object": lambda b: b["entry"][0].__setitem__("fullUrl", {"x": 1}),
    "request-list": lambda b: b["entry"][0].__setitem__("request", [1]),
    "url-number": lambda b: b["entry"][0]["request"].__setitem__("url", 5),
    "id-number": lambda b: b["entry"][0]["resource"].__setitem__("id", 5),
    "type-number": lambda b: b["entry"][0]["resource"].__setitem__("resourceType", 5),
    "reference-number": lambda b: b["entry"][1]["resource"]["subject"].__setitem__("reference", 5),
    "if-none-exist-number": lambda b: b["entry"][1].__setitem__(
        "request", {"method": "POST", "url": "Encounter", "ifNoneExist": 5}),
    "entry-not-a-list": lambda b: b.__setitem__("entry", "x"),
}


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_inputs_exit_1_with_a_report(tmp_path, name):
    bundle = member_bundle("ODD", contacts=1, encounter_method="PUT")
    ODD[name](bundle)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(bundle))
    state = tmp_path / "j.sqlite"
    result = _run("send", "--endpoint", "http://127.0.0.1:9/fhir", "--state", str(state), str(path))
    assert result.exit_code == 1, result.output
    assert "1 rejected locally" in result.output
    report = _run("status", "--state", str(state))
    assert report.exit_code == 1 and "REJECTED-LOCAL" in report.output
