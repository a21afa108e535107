"""Issue 14: the delivery promises at the edges, against the real test FHIR server (Medplum's engine),
through the fault proxy where a fault is needed.

  1 a stale request that lands late never leaves old content on the server unnoticed
  2 server limits: learned, respected, re-split; no POST with literal cross-Bundle references
  3 one back-off clock and circuit breaker per endpoint, kept across Bundles and runs
  4 refusals traced to exactly one row; what a non-atomic server kept is recorded
  7 a correlation id per try beside the stable id per Bundle
"""
from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from fhiradapter.cli import cli
from fhiradapter.exchange.client import FhirClient
from fhiradapter.exchange.journal import Journal
from fhiradapter.exchange.report import build_report, format_text
from fhiradapter.exchange.retry import RetryPolicy
from fhiradapter.exchange.sender import Sender, SendOptions
from fhiradapter.ids import mapped_id

from .builders import AGENCY, member_bundle, write_out
from .faultproxy import FaultProxy

pytestmark = pytest.mark.node

FAST = {"base_delay": 0.01, "max_delay": 0.05}


def _sender(endpoint: str, journal: Journal, *, timeout: float = 10.0, attempts: int = 4, **options: Any) -> Sender:
    retry = RetryPolicy(max_attempts=attempts, base_delay=FAST["base_delay"], max_delay=FAST["max_delay"])
    return Sender(FhirClient(endpoint, timeout=timeout), journal, retry=retry,
                  options=SendOptions(**options), checker=lambda b, s: [])


def _patient(server, member: str) -> dict[str, Any]:
    pid = mapped_id(AGENCY, "Patient", "member", member)
    return requests.get(f"{server.base}/Patient/{pid}", timeout=10).json()


def _one_patient_bundle(member: str, given: str) -> dict[str, Any]:
    bundle = member_bundle(member, contacts=0)
    bundle["entry"][0]["resource"]["name"] = [{"family": "Test", "given": [given]}]
    return bundle


def _wait_for(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


# -- 1: no stale overwrite ----------------------------------------------------------------------------

def test_late_stale_request_is_refused_by_if_match(server, tmp_path):
    """The server states versioned updates: every update names the version we last saw, so a held
    request carrying old content is refused (412) when it finally lands after the fix."""
    out = write_out(tmp_path / "out", {"st-1": _one_patient_bundle("STALE1", "Original")})
    journal = Journal(out / "outbox.sqlite")
    # Metadata passes; the edited Bundle is then held 6 s (past the 1 s timeout) before reaching the server.
    with FaultProxy(server.base, ["pass", "pass", "pass", "delay"], delay=6.0, lifetime=60) as proxy:
        assert _sender(proxy.url(), journal).run([out]).delivered == 1          # version 1 known
        write_out(out, {"st-1": _one_patient_bundle("STALE1", "Stale edit")})
        held = _sender(proxy.url(), journal, timeout=1.0, attempts=1).run([out])
        assert held.deferred == 1 and held.in_doubt == 0   # not superseded yet: same file, still current
        write_out(out, {"st-1": _one_patient_bundle("STALE1", "Corrected")})
        fixed = _sender(proxy.url(), journal).run([out])
        assert fixed.delivered == 1
        # The stale edit carried If-Match on the version the fix replaced: it is known dead already.
        assert fixed.in_doubt == 0 and fixed.ok
        time.sleep(6.5)                                     # ... and now it lands
        assert [a for a, _, _ in proxy.log].count("delay") == 1
    assert _patient(server, "STALE1")["name"][0]["given"] == ["Corrected"]
    stale_row = journal.rows(include_superseded=True)[1]
    assert stale_row.superseded and stale_row.settled and "If-Match" in stale_row.settled
    assert all(e["if_match"] for e in journal.entries(stale_row.id))
    report = build_report(journal)
    assert report["in_doubt"] == [] and report["bundles"]["delivered"] == 2  # the original, then the fix


def test_unversioned_server_stale_request_stays_in_doubt_until_verify_repairs(server, tmp_path):
    """A server that states no versioned updates (metadata 404 here): the late request overwrites the fix;
    `status` never says all is well meanwhile, and `send --verify` finds it and sends the fix again."""
    out = write_out(tmp_path / "out", {"st-2": _one_patient_bundle("STALE2", "Stale")})
    state = out / "outbox.sqlite"
    plan = ["404", "delay",          # run 1: the first content, held 6 s: the client times out after 1 s
            "404", "pass",           # run 2: the corrected content, delivered at once
            "404"]                   # run 3 (--verify): metadata; read-back and repair pass
    with FaultProxy(server.base, plan, delay=6.0, lifetime=60) as proxy:
        journal = Journal(state)
        assert _sender(proxy.url(), journal, timeout=1.0, attempts=1).run([out]).deferred == 1
        write_out(out, {"st-2": _one_patient_bundle("STALE2", "Corrected")})
        second = _sender(proxy.url(), journal).run([out])
        assert second.delivered == 1 and second.in_doubt == 1 and not second.ok
        journal.close()
        status = CliRunner().invoke(cli, ["status", str(out)])
        assert status.exit_code == 1, status.output
        assert "delivered 1" in status.output and "IN DOUBT" in status.output and "st-2.json" in status.output
        _wait_for(lambda: _patient(server, "STALE2").get("name", [{}])[0].get("given") == ["Stale"])

        verify = CliRunner().invoke(cli, ["send", "--endpoint", proxy.url(), "--verify", "--format", "json",
                                          str(out)])
    summary = json.loads(verify.output)
    assert verify.exit_code == 0, verify.output
    assert summary["repaired"] == 1 and summary["in_doubt"] == 0
    assert _patient(server, "STALE2")["name"][0]["given"] == ["Corrected"]
    status = CliRunner().invoke(cli, ["status", str(out)])
    assert status.exit_code == 0 and "IN DOUBT" not in status.output


def test_unanswered_try_of_a_delivered_bundle_stays_in_doubt_after_newer_content_until_verified(server, tmp_path):
    """The first try was stored but its answer never came (the retry delivered): once newer content is sent,
    that lost try could still be somewhere. `--verify`, past twice the timeout, finds our newer content
    in place and settles it."""
    out = write_out(tmp_path / "out", {"d-1": _one_patient_bundle("DOUBT", "First")})
    journal = Journal(out / "outbox.sqlite")
    with FaultProxy(server.base, ["404", "delay-after"], delay=1.5, lifetime=60) as proxy:
        assert _sender(proxy.url(), journal, timeout=1.0).run([out]).delivered == 1
        write_out(out, {"d-1": _one_patient_bundle("DOUBT", "Second")})
        newer = _sender(proxy.url(), journal, timeout=1.0).run([out])
        assert newer.delivered == 1 and newer.in_doubt == 1 and not newer.ok
        time.sleep(2.2)                                     # past 2 x the 1 s timeout
        verified = _sender(proxy.url(), journal, timeout=1.0, verify=True).run([out])
    assert verified.in_doubt == 0 and verified.verified == 1 and verified.ok
    first = journal.rows()[0]
    assert first.settled and first.settled.startswith("verified")
    assert _patient(server, "DOUBT")["name"][0]["given"] == ["Second"]


def test_verify_reports_a_change_by_another_writer_without_overwriting_it(server, tmp_path):
    out = write_out(tmp_path / "out", {"v-1": _one_patient_bundle("OTHER", "Ours")})
    journal = Journal(out / "outbox.sqlite")
    assert _sender(server.base, journal).run([out]).delivered == 1
    theirs = _patient(server, "OTHER")
    theirs["name"] = [{"family": "Test", "given": ["Theirs"]}]
    assert requests.put(f"{server.base}/Patient/{theirs['id']}", json=theirs, timeout=10).status_code == 200
    summary = _sender(server.base, journal, verify=True).run([out])
    assert summary.conflicts == 1 and summary.repaired == 0 and not summary.ok
    assert _patient(server, "OTHER")["name"][0]["given"] == ["Theirs"]
    [failure] = build_report(journal)["failures"]
    assert "another writer" in failure["error"]


# -- 2: server limits -----------------------------------------------------------------------------

def _members_in_one_bundle(count: int, contacts: int) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for n in range(count):
        entries += member_bundle(f"BIG{n:03d}", contacts, encounter_method="PUT",
                                 source_file="contacts.csv", first_line=2 + n * contacts)["entry"]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def test_stated_limit_caps_the_bundle_size(server, tmp_path):
    out = write_out(tmp_path / "out", {"big-1": _members_in_one_bundle(20, 5)})   # 120 entries
    journal = Journal(out / "outbox.sqlite")
    summary = _sender(server.base, journal, bundle_size=100).run([out])
    assert summary.ok and summary.delivered == 3
    assert journal.endpoint_state(server.base).max_entries == 50          # from the CapabilityStatement
    assert all(r.entries <= 50 and r.entries % 6 == 0 for r in journal.rows())  # whole members per request
    assert server.counts() == {"Patient": 20, "Encounter": 100}


def test_size_refusal_is_resplit_keeping_members_together_and_remembered(server, tmp_path):
    out = write_out(tmp_path / "out", {"big-1": _members_in_one_bundle(20, 5)})
    journal = Journal(out / "outbox.sqlite")
    with FaultProxy(server.base, ["404"], lifetime=60) as proxy:   # a server that states no limit
        summary = _sender(proxy.url(), journal, bundle_size=120).run([out])
        bundle_posts = proxy.requests_to()
    assert summary.ok and server.counts() == {"Patient": 20, "Encounter": 100}
    delivered = [r for r in journal.rows() if r.state == "delivered"]
    assert delivered and all(r.entries % 6 == 0 and r.entries <= 50 for r in delivered)
    learned = journal.endpoint_state(proxy.url()).max_entries
    assert learned is not None and learned <= 50
    # 120 refused, 60 refused, then 30 at a time: each refusal cost one request, nothing more.
    assert len(bundle_posts) == 2 + len(delivered)


def test_conditional_create_with_its_own_id_keeps_cross_bundle_references(server, tmp_path):
    org_id = mapped_id(AGENCY, "Organization", "org", "ORG1")
    org = {"resourceType": "Organization", "id": org_id, "name": "Clinic",
           "identifier": [{"system": "https://fhiradapter.org/fhir/sid/testagency/org", "value": "ORG1"}]}
    a = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"urn:uuid:{org_id}", "resource": org,
         "request": {"method": "POST", "url": "Organization", "ifNoneExist": "identifier=x|ORG1"}}]}
    b = member_bundle("XREF", contacts=0)
    b["entry"][0]["resource"]["managingOrganization"] = {"reference": f"Organization/{org_id}"}
    out = write_out(tmp_path / "out", {"a-org": a, "b-member": b})
    assert _sender(server.base, Journal(out / "outbox.sqlite")).run([out]).ok
    assert requests.get(f"{server.base}/Organization/{org_id}", timeout=10).status_code == 200


# -- 3: throttling and outages per endpoint --------------------------------------------------------

def test_long_retry_after_stops_the_run_and_is_honoured_by_the_next(server, tmp_path):
    out = write_out(tmp_path / "out", {f"m-{i}": member_bundle(f"RA{i}", 1) for i in range(3)})
    journal = Journal(out / "outbox.sqlite")
    with FaultProxy(server.base, ["pass", "429/600"], lifetime=60) as proxy:
        first = _sender(proxy.url(), journal).run([out])
        assert first.deferred == 3 and first.delivered == 0 and len(proxy.requests_to()) == 1
        state = journal.endpoint_state(proxy.url())
        assert state.not_before > time.time() + 590 and "Retry-After 600" in state.reason
        second = _sender(proxy.url(), journal).run([out])        # a new run: still nothing goes out
        assert second.deferred == 3 and len(proxy.log) == 2
    journal.close()
    status = CliRunner().invoke(cli, ["status", str(out)])
    assert status.exit_code == 1 and "nothing is sent before" in status.output


def test_down_server_gets_max_attempts_in_all_not_per_bundle(server, tmp_path):
    out = write_out(tmp_path / "out", {f"m-{i}": member_bundle(f"DOWN{i}", 1) for i in range(6)})
    journal = Journal(out / "outbox.sqlite")
    with FaultProxy(server.base, ["503"] * 100, lifetime=60) as proxy:
        summary = _sender(proxy.url(), journal, attempts=3).run([out])
        assert summary.deferred == 6 and len(proxy.requests_to()) == 3   # not 6 x 3
    with FaultProxy(server.base, [], port=proxy.port, lifetime=60) as healthy:
        summary = _sender(healthy.url(), journal).run([out])
    assert summary.delivered == 6 and summary.ok
    assert journal.endpoint_state(healthy.url()).failures == 0


# -- 4: refusals traced to exactly one row; what stayed --------------------------------------------

def test_refused_entry_traced_to_its_row_once_and_kept_entries_recorded(server, tmp_path):
    bundle = member_bundle("TRACE", contacts=21, encounter_method="PUT", source_file="contacts.csv", first_line=2)
    bad = 14                                                       # contacts.csv:15
    bundle["entry"][bad]["resource"]["class"] = "AMB"              # the server refuses it; our gate is off
    out = write_out(tmp_path / "out", {"t-1": bundle})
    journal = Journal(out / "outbox.sqlite")
    assert _sender(server.base, journal).run([out]).failed == 1
    report = build_report(journal)
    [failure] = report["failures"]
    rows = {(i.get("source_file"), i.get("source_line")) for i in failure["issues"]}
    assert rows == {("contacts.csv", 15)}
    assert not any(i.get("candidates") for i in failure["issues"])
    text = format_text(report)
    errors = [line for line in text.splitlines() if line.lstrip().startswith("error")]
    assert errors and all("contacts.csv:15 Encounter" in line for line in errors), text
    assert len(errors) == len(set(errors))                         # each issue printed once
    # Medplum does not roll back: the entries before the refused one stayed. The journal says which.
    held = {h["entry"]: h["held"] for h in failure["held"]}
    assert all(held[i].startswith("stored") for i in range(bad)) and held[bad] == "absent"
    assert all(held[i] == "absent" for i in range(bad + 1, 22))
    assert report["held_after_refusal"] == bad == server.counts()["Encounter"] + server.counts()["Patient"]
    assert "kept by the server although refused" in text


# -- 7: correlation id per try ---------------------------------------------------------------------

def test_each_try_has_its_own_correlation_id_beside_the_bundle_request_id(server, tmp_path):
    bundle = member_bundle("CORR", 1, encounter_method="PUT")
    bundle["entry"][1]["resource"]["class"] = "AMB"
    out = write_out(tmp_path / "out", {"c-1": bundle})
    journal = Journal(out / "outbox.sqlite")
    with FaultProxy(server.base, ["pass", "503", "drop", "pass"], lifetime=60) as proxy:
        assert _sender(proxy.url(), journal).run([out]).failed == 1
    row = journal.rows()[0]
    tries = [corr for (_, _, rid), corr in zip(proxy.log, proxy.correlation_ids) if rid == row.request_id]
    attempts = journal.attempts(row.id)
    assert len(attempts) == 3 and {a["request_id"] for a in attempts} == {row.request_id}
    ids = [a["correlation_id"] for a in attempts]
    assert len(set(ids)) == 3 and all(ids)
    assert tries == ids                            # what the server's support desk sees, per try
    text = format_text(build_report(journal))
    assert f"request {row.request_id}, last try {ids[-1]}" in text
