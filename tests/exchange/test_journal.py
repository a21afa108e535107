"""The journal's bookkeeping across runs: supersession when content or splitting changes."""
from __future__ import annotations

from fhiradapter.exchange.journal import EntryMeta, Journal

E = [EntryMeta(0, "Patient", "PUT", None)]


def _register(journal, hash, part, parts, file="b.json"):
    return journal.register(endpoint="https://x/fhir", hash=hash, file=file, part=part, parts=parts,
                            mode="transaction", entries=E)


def test_resplit_supersedes_every_undelivered_old_part(tmp_path):
    with Journal(tmp_path / "j.sqlite") as journal:
        first = _register(journal, "h1", 1, 3)
        journal.mark(first, "delivered")
        for part, h in ((2, "h2"), (3, "h3")):
            journal.mark(_register(journal, h, part, 3), "failed", status=400, error="HTTP 400")
        _register(journal, "n1", 1, 1)  # the same file, now sent whole with new content
        rows = journal.rows()
        assert [(r.hash, r.state) for r in rows] == [("h1", "delivered"), ("n1", "pending")]
        assert journal.counts()["failed"] == 0
        assert len(journal.rows(include_superseded=True)) == 4


def test_same_content_is_the_same_row_with_the_same_request_id(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        row = _register(journal, "h", 1, 1)
        attempt = journal.begin_attempt(row)
    with Journal(path) as journal:  # a new process after a kill
        again = _register(journal, "h", 1, 1)
        assert again.id == row.id and again.request_id == row.request_id
        assert again.state == "sending" and again.attempts == attempt == 1


def test_other_endpoint_is_a_separate_delivery(tmp_path):
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.mark(_register(journal, "h", 1, 1), "delivered")
        other = journal.register(endpoint="https://y/fhir", hash="h", file="b.json", part=1, parts=1,
                                 mode="transaction", entries=E)
        assert other.state == "pending"


def test_one_sender_per_journal(tmp_path):
    from fhiradapter.exchange.journal import JournalError
    import pytest
    path = tmp_path / "j.sqlite"
    with Journal(path) as first, Journal(path) as second:
        first.lock_for_sending()
        with pytest.raises(JournalError, match="another `send` is using this journal"):
            second.lock_for_sending()
    with Journal(path) as third:  # released on close (and by the kernel if the process dies)
        third.lock_for_sending()
