"""Forwarding accepted submissions to the payer's FHIR server through the exchange outbox.

An accepted Bundle is written to `{data_dir}/spool/{submission id}.json` (PHI at rest until it is
delivered; the file is removed then) and handed to one delivery thread, which runs the same `Sender`
as `fhiradapter send` over the outbox journal `{data_dir}/outbox.sqlite`: every entry idempotent, one
X-Request-Id per Bundle kept across retries and restarts, retries with backoff and Retry-After. A
submission the upstream cannot take now (down, 503, 429) stays queued and is tried again every
`upstream.retry_interval_seconds`, also after a restart; nothing is lost, and nothing is stored twice.
With several worker processes one of them holds the journal lock and delivers for all.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import requests

from fhiradapter.exchange.auth import Auth, BearerAuth, NoAuth
from fhiradapter.exchange.client import FhirClient
from fhiradapter.exchange.inputs import prepare
from fhiradapter.exchange.journal import Journal, JournalError
from fhiradapter.exchange.retry import RetryPolicy
from fhiradapter.exchange.sender import Sender, SendOptions

from .config import UpstreamSettings
from .ledger import Ledger

log = logging.getLogger("fhiradapter.intake.forward")


class Forwarder:
    def __init__(self, settings: UpstreamSettings, ledger: Ledger, data_dir: Path) -> None:
        self.settings = settings
        self.ledger = ledger
        self.spool = data_dir / "spool"
        self.spool.mkdir(parents=True, exist_ok=True)
        os.chmod(self.spool, 0o700)
        self.journal_path = data_dir / "outbox.sqlite"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    # -- request side
    def enqueue(self, submission_id: str, bundle: dict[str, Any]) -> None:
        """Durably spool the Bundle (written, fsynced, renamed) and wake the delivery thread."""
        target = self.spool / f"{submission_id}.json"
        tmp = target.with_suffix(".tmp")
        with open(tmp, "wb") as handle:
            handle.write(orjson.dumps(bundle))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
        self._wake.set()

    def wait(self, submission_id: str, timeout: float) -> bool:
        """Block until the spooled submission left the queue (delivered or failed) or `timeout` passed."""
        path = self.spool / f"{submission_id}.json"
        deadline = time.monotonic() + timeout
        with self._changed:
            while path.exists():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                # notified by our own delivery thread; polled when another worker process delivers
                self._changed.wait(min(left, 0.1))
        return True

    # -- delivery thread
    def start(self) -> None:
        if not self.settings.url:
            log.warning("upstream.url not set: accepted submissions stay queued in %s", self.spool)
            return
        self._thread = threading.Thread(target=self._run, name="intake-forwarder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        journal: Journal | None = None
        while not self._stop.is_set():
            try:
                if journal is None:
                    journal = Journal(self.journal_path)
                    journal.lock_for_sending()   # another worker process delivering: we only spool
                self._round(journal)
            except JournalError:
                if journal is not None:
                    journal.close()
                journal = None
            except Exception:  # never let the delivery thread die; the next round tries again
                log.exception("delivery round failed")
            self._wake.wait(self.settings.retry_interval_seconds)
            self._wake.clear()
        if journal is not None:
            journal.close()

    def _round(self, journal: Journal) -> None:
        client = FhirClient(self.settings.url, auth=self._auth(), session=self._session(),
                            timeout=self.settings.timeout_seconds)
        retry = RetryPolicy(max_attempts=self.settings.max_attempts, base_delay=0.2,
                            max_delay=self.settings.retry_interval_seconds, sleep=self._sleep)
        for path in sorted(self.spool.glob("*.json"), key=lambda p: p.stat().st_mtime):
            if self._stop.is_set():
                return
            self._deliver(path, client, journal, retry)

    def _deliver(self, path: Path, client: FhirClient, journal: Journal, retry: RetryPolicy) -> None:
        submission_id = path.stem
        original = orjson.loads(path.read_bytes())
        mode = "batch" if original.get("type") == "batch" else "transaction"
        size = self.settings.bundle_size
        # validated already (the checker is a no-op); the Sender still makes entries idempotent and splits
        Sender(client, journal, options=SendOptions(mode=mode, bundle_size=size), retry=retry,
               checker=lambda bundle, source: []).run([path])
        rows = [r for r in journal.rows() if r.file == str(path) and r.endpoint == client.endpoint]
        attempts = sum(r.attempts for r in rows)
        if rows and all(r.state == "delivered" for r in rows):
            self.ledger.set_delivery(submission_id, "delivered", None, attempts,
                                     response=self._response(path, original, mode, size, journal, rows))
            self._dequeue(path)
        elif any(r.state in ("failed", "rejected-local") and not r.retryable for r in rows):
            refused = next(r for r in rows if r.state in ("failed", "rejected-local") and not r.retryable)
            detail = f"upstream refused: {refused.last_error or refused.last_status}"
            self.ledger.set_delivery(submission_id, "failed", detail, attempts)
            self._dequeue(path)
        else:
            last = next((r for r in rows if r.state != "delivered"), None)
            detail = f"waiting for the upstream: {last.last_error or last.last_status}" if last else "queued"
            self.ledger.set_delivery(submission_id, "queued", detail, attempts)

    def _response(self, path: Path, original: dict[str, Any], mode: str, size: int, journal: Journal,
                  rows: list[Any]) -> dict[str, Any]:
        """The upstream's per-entry answers in the order of the submitted entries. A Bundle split into
        parts (upstream.bundle_size) is put back together by fullUrl, which the split keeps."""
        by_hash = {r.hash: r for r in rows}
        entries: list[Any] = original.get("entry") or []
        position = {e.get("fullUrl"): i for i, e in enumerate(entries) if isinstance(e, dict) and e.get("fullUrl")}
        answers: list[dict[str, Any] | None] = [None] * len(entries)
        spill: list[dict[str, Any]] = []
        for unit in prepare(path, mode=mode, size=size).units:
            row = by_hash.get(unit.hash)
            results = journal.entries(row.id) if row is not None else []
            for sent, result in zip(unit.bundle["entry"], results):
                index = position.get(sent.get("fullUrl"))
                if index is not None and answers[index] is None:
                    answers[index] = result
                else:
                    spill.append(result)
        ordered = [a if a is not None else (spill.pop(0) if spill else {}) for a in answers]
        return response_bundle(mode, ordered)

    def _dequeue(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        with self._changed:
            self._changed.notify_all()

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _auth(self) -> Auth:
        token = ""
        if self.settings.token_env:
            token = os.environ.get(self.settings.token_env, "")
        elif self.settings.token_file:
            token = Path(self.settings.token_file).read_text(encoding="utf-8").strip()
        return BearerAuth(token) if token else NoAuth()

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.verify = self.settings.ca_bundle or True
        return session


def response_bundle(mode: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A transaction/batch-response Bundle from the journal's per-entry results (no resource bodies)."""
    out: list[dict[str, Any]] = []
    for entry in entries:
        status = entry.get("status") or 200
        response: dict[str, Any] = {"status": str(status)}
        if entry.get("location"):
            response["location"] = entry["location"]
        if entry.get("outcome"):
            response["outcome"] = entry["outcome"]
        out.append({"response": response})
    return {"resourceType": "Bundle", "type": f"{mode}-response", "entry": out}
