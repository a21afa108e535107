"""Ledger rules that keep a submission from being processed twice or lost, on the SQLite ledger (the
same SQL runs on PostgreSQL: test_postgres_ledger.py)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from fhiradapter.intake.ledger import open_ledger


def test_claims_replays_and_stale_claims(tmp_path: Path) -> None:
    ledger = open_ledger("", tmp_path)
    first, new = ledger.claim("Organization/a", "r1", "transaction", 2, "h1")
    assert new and first.verdict == "processing"
    again, new = ledger.claim("Organization/a", "r1", "transaction", 2, "h1")
    assert not new and again.id == first.id
    other, new = ledger.claim("Organization/b", "r1", "transaction", 2, "h1")   # ids are per sender
    assert new and other.id != first.id
    # a claim whose process died mid-validation is judged again after a while, not refused forever
    with sqlite3.connect(tmp_path / "ledger.sqlite") as db:
        db.execute("UPDATE intake_submissions SET updated_at='2020-01-01T00:00:00.000+00:00' WHERE id=?",
                    (first.id,))
    retried, new = ledger.claim("Organization/a", "r1", "transaction", 2, "h1")
    assert new and retried.id != first.id


def test_delivery_is_never_turned_back_to_queued(tmp_path: Path) -> None:
    ledger = open_ledger("", tmp_path)
    sub, _ = ledger.claim("Organization/a", "r2", "transaction", 1, "h")
    # the delivery thread can finish before the request handler records its verdict
    ledger.set_delivery(sub.id, "delivered", None, 1, response={"resourceType": "Bundle", "type": "x"})
    ledger.finish(sub.id, verdict="accepted", http_status=202, outcome=None,
                  response={"resourceType": "Bundle", "type": "provisional"}, delivery="queued")
    found = ledger.get(sub.id)
    assert found is not None
    assert (found.verdict, found.delivery, found.response) == ("accepted", "delivered",
                                                               {"resourceType": "Bundle", "type": "x"})
