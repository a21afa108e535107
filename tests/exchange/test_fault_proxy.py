"""Issue 6 §6: faults between client and a real server, then resume; and SIGKILL mid-batch.

After each scenario the server must hold every resource exactly once, and the journal must agree
with the server about what arrived.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from fhiradapter.exchange.client import FhirClient
from fhiradapter.exchange.journal import Journal
from fhiradapter.exchange.retry import RetryPolicy
from fhiradapter.exchange.sender import Sender

from .builders import members_out
from .faultproxy import FaultProxy

pytestmark = [pytest.mark.node, pytest.mark.slow]

MEMBERS, CONTACTS = 8, 2


def _assert_exactly_once(server, journal: Journal) -> None:
    assert server.counts() == {"Patient": MEMBERS, "Encounter": MEMBERS * CONTACTS}
    encounters = server.search("Encounter?_count=1000")["entry"]
    keys = [e["resource"]["identifier"][0]["value"] for e in encounters]
    assert len(keys) == len(set(keys)) == MEMBERS * CONTACTS
    # The journal agrees: every Bundle delivered, and its recorded locations are what the server holds.
    assert journal.counts()["delivered"] == MEMBERS and sum(journal.counts().values()) == MEMBERS
    on_server = {f"Encounter/{e['resource']['id']}" for e in encounters}
    on_server |= {f"Patient/{e['resource']['id']}" for e in server.search("Patient?_count=1000")["entry"]}
    assert set(journal.delivered_locations()) == on_server


def test_faults_then_proxy_killed_then_resume(server, tmp_path):
    out = members_out(tmp_path / "out", MEMBERS, CONTACTS)
    # Per Bundle, in order: 1st dropped then passes; 2nd 503, stored-but-dropped, 429, passes;
    # 3rd held past the timeout before and after the server stored it, 503, passes; 4th passes.
    plan = ["drop", "pass", "503", "drop-after", "429", "pass", "delay", "delay-after", "503", "pass"]
    journal = Journal(out / "outbox.sqlite")
    retry = RetryPolicy(max_attempts=5, base_delay=0.05, max_delay=0.2, max_retry_after=5)
    with FaultProxy(server.base, plan, delay=4.0, lifetime=120) as proxy:
        finished: list[str] = []

        def progress(message: str) -> None:
            finished.append(message)
            if len(finished) == 4:
                proxy.stop()  # the proxy dies mid-run: later Bundles meet refused connections

        # 3 s: comfortably above a normal answer even on a loaded machine, below the proxy's 4 s holds.
        sender = Sender(FhirClient(proxy.url(), timeout=3.0), journal, retry=retry, progress=progress)
        first = sender.run([out])
        port = proxy.port
    assert first.delivered == 4 and first.failed == MEMBERS - 4
    # Every injected fault was met, and each Bundle kept one X-Request-Id across its retries.
    assert set(plan) <= set(proxy.actions())
    by_bundle: dict[str, set[str]] = {}
    for action, _path, request_id in proxy.log:
        assert request_id
        by_bundle.setdefault(request_id, set()).add(action)
    assert len(by_bundle) == 4 and len(proxy.log) >= len(plan) + 1  # + the 4th Bundle's clean pass
    rows = journal.rows()
    assert all(r.state == "failed" and r.retryable for r in rows if r.state != "delivered")

    # Resume through a healthy proxy on the same address: only the undelivered Bundles go out.
    with FaultProxy(server.base, [], port=port, lifetime=60) as healthy:
        resumed = Sender(FhirClient(healthy.url(), timeout=5.0), journal, retry=retry).run([out])
    assert resumed.delivered == MEMBERS - 4 and resumed.already_delivered == 4 and resumed.ok
    assert len(healthy.log) == MEMBERS - 4
    _assert_exactly_once(server, journal)


def _send_cmd(endpoint: str, out: Path) -> list[str]:
    return [sys.executable, "-c", "from fhiradapter.cli import main; main()", "send",
            "--endpoint", endpoint, "--timeout", "20", "--max-backoff", "0.2", str(out)]


def test_sigkill_mid_batch_then_rerun_delivers_rest_once(server, tmp_path):
    out = members_out(tmp_path / "out", MEMBERS, CONTACTS)
    state = out / "outbox.sqlite"
    with FaultProxy(server.base, ["pass", "pass", "hold"], lifetime=120) as proxy:
        process = subprocess.Popen(_send_cmd(proxy.url(), out), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            assert proxy.held.wait(90), "the third Bundle never reached the proxy"
            # The server has stored the third Bundle; the client is waiting for its answer. Kill -9.
            os.kill(process.pid, signal.SIGKILL)
            process.wait(30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(30)
        proxy.release.set()
        with sqlite3.connect(state) as db:
            states = dict(db.execute("SELECT state, COUNT(*) FROM bundles GROUP BY state").fetchall())
            in_flight = db.execute("SELECT request_id FROM bundles WHERE state='sending'").fetchall()
        # Bundles are entered in the journal as they are reached: two delivered, one in flight.
        assert states == {"delivered": 2, "sending": 1}
        held_request_id = in_flight[0][0]
        assert server.counts() == {"Patient": 3, "Encounter": 3 * CONTACTS}

        rerun = subprocess.run(_send_cmd(proxy.url(), out), capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
    # The interrupted Bundle was re-sent with its original X-Request-Id; delivered ones were not re-sent.
    ids = [request_id for _, _, request_id in proxy.log]
    assert ids.count(held_request_id) == 2
    assert len(ids) == MEMBERS + 1
    with Journal(state) as journal:
        _assert_exactly_once(server, journal)
