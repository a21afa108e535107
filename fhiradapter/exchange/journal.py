"""The outbox journal: one SQLite file recording every Bundle sent, its state and the server's answer.

Written before each request (state `sending`, attempts+1) and after it (`delivered` / `failed` /
back to `pending` for a retry), each in its own committed transaction with synchronous=FULL, so a
process killed at any point leaves a journal that says exactly what might be in flight. A row is keyed
by (endpoint, content hash): re-running with the same Bundles finds the same rows and the same
X-Request-Id. Never stored: secrets, request bodies, resource contents or identifier values; the
server's OperationOutcome issues are kept as they came (that is the evidence a user needs).
"""
from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

STATES = ("pending", "sending", "delivered", "failed", "rejected-local")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bundles (
  id INTEGER PRIMARY KEY,
  endpoint TEXT NOT NULL,
  hash TEXT NOT NULL,
  file TEXT NOT NULL,
  part INTEGER NOT NULL,
  parts INTEGER NOT NULL,
  entries INTEGER NOT NULL,
  mode TEXT NOT NULL,
  request_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending','sending','delivered','failed','rejected-local')),
  attempts INTEGER NOT NULL DEFAULT 0,
  retryable INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error TEXT,
  outcome TEXT,
  superseded INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (endpoint, hash)
);
CREATE TABLE IF NOT EXISTS entries (
  bundle_id INTEGER NOT NULL REFERENCES bundles(id),
  idx INTEGER NOT NULL,
  resource_type TEXT,
  method TEXT,
  source TEXT,
  status INTEGER,
  location TEXT,
  outcome TEXT,
  PRIMARY KEY (bundle_id, idx)
);
CREATE TABLE IF NOT EXISTS attempts (
  bundle_id INTEGER NOT NULL REFERENCES bundles(id),
  attempt INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  status INTEGER,
  error TEXT,
  server_request_id TEXT,
  PRIMARY KEY (bundle_id, attempt)
);
"""
SCHEMA_VERSION = "1"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class JournalError(Exception):
    pass


@dataclass(slots=True)
class Row:
    id: int
    endpoint: str
    hash: str
    file: str
    part: int
    parts: int
    entries: int
    mode: str
    request_id: str
    state: str
    attempts: int
    retryable: bool
    last_status: int | None
    last_error: str | None
    outcome: dict[str, Any] | None
    superseded: bool


@dataclass(slots=True)
class EntryMeta:
    idx: int
    resource_type: str | None
    method: str | None
    source: str | None


class Journal:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock_file: Any = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: not a usable journal ({exc})") from None

    def lock_for_sending(self) -> None:
        """Claim the journal for one `send` at a time (two senders would race on the same rows).

        An OS file lock on `{journal}.lock`: released by the kernel when the process ends, even by
        SIGKILL, so a crash never leaves a stale lock behind.
        """
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock (documented)
            return
        if self._lock_file is not None:
            return
        handle = open(self.path.with_name(self.path.name + ".lock"), "a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise JournalError(f"{self.path}: another `send` is using this journal right now") from None
        self._lock_file = handle

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
        self._db.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------
    def register(self, *, endpoint: str, hash: str, file: str, part: int, parts: int, mode: str,
                 entries: list[EntryMeta]) -> Row:
        """The row for this Bundle content at this endpoint, created `pending` if new."""
        found = self._one("SELECT * FROM bundles WHERE endpoint=? AND hash=?", (endpoint, hash))
        if found and not found.superseded:
            return found  # the common resume case: no write transaction, no fsync
        with self._tx():
            found = self._one("SELECT * FROM bundles WHERE endpoint=? AND hash=?", (endpoint, hash))
            if found:
                if found.superseded:
                    self._db.execute("UPDATE bundles SET superseded=0 WHERE id=?", (found.id,))
                    found.superseded = False
                return found
            now = _now()
            cur = self._db.execute(
                "INSERT INTO bundles (endpoint, hash, file, part, parts, entries, mode, request_id, state,"
                " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?, 'pending', ?, ?)",
                (endpoint, hash, file, part, parts, len(entries), mode, str(uuid.uuid4()), now, now))
            bundle_id = cur.lastrowid
            assert bundle_id is not None   # set by every INSERT
            self._db.executemany(
                "INSERT INTO entries (bundle_id, idx, resource_type, method, source) VALUES (?,?,?,?,?)",
                [(bundle_id, e.idx, e.resource_type, e.method, e.source) for e in entries])
            # Older, undelivered content for the same file part is replaced by this one.
            # (A new split may have fewer parts: parts beyond it are replaced too.)
            self._db.execute(
                "UPDATE bundles SET superseded=1 WHERE endpoint=? AND file=? AND (part=? OR part>?) AND id<>?"
                " AND state<>'delivered'", (endpoint, file, part, parts, bundle_id))
            row = self._one("SELECT * FROM bundles WHERE id=?", (bundle_id,))
            assert row is not None
            return row

    def begin_attempt(self, row: Row) -> int:
        """Mark `sending` and count the try, committed before the request leaves."""
        with self._tx():
            self._db.execute("UPDATE bundles SET state='sending', attempts=attempts+1, updated_at=?"
                             " WHERE id=?", (_now(), row.id))
            attempt: int = self._db.execute("SELECT attempts FROM bundles WHERE id=?", (row.id,)).fetchone()[0]
            self._db.execute("INSERT OR REPLACE INTO attempts (bundle_id, attempt, request_id, started_at)"
                             " VALUES (?,?,?,?)", (row.id, attempt, row.request_id, _now()))
        row.state, row.attempts = "sending", attempt
        return attempt

    def end_attempt(self, row: Row, attempt: int, *, state: str, status: int | None, error: str | None,
                    retryable: bool = False, outcome: dict[str, Any] | None = None,
                    server_request_id: str | None = None,
                    entry_results: Sequence[tuple[int, int | None, str | None, dict[str, Any] | None]] = ()
                    ) -> None:
        if state not in STATES:
            raise ValueError(state)
        with self._tx():
            now = _now()
            self._db.execute("UPDATE attempts SET finished_at=?, status=?, error=?, server_request_id=?"
                             " WHERE bundle_id=? AND attempt=?",
                             (now, status, error, (server_request_id or "")[:200] or None, row.id, attempt))
            self._db.execute(
                "UPDATE bundles SET state=?, last_status=?, last_error=?, retryable=?, outcome=?, updated_at=?"
                " WHERE id=?", (state, status, error, int(retryable),
                                json.dumps(outcome) if outcome else None, now, row.id))
            for idx, entry_status, location, entry_outcome in entry_results:
                self._db.execute("UPDATE entries SET status=?, location=?, outcome=? WHERE bundle_id=? AND"
                                 " idx=?", (entry_status, location,
                                            json.dumps(entry_outcome) if entry_outcome else None, row.id, idx))
        row.state, row.last_status, row.last_error, row.retryable = state, status, error, retryable

    def mark(self, row: Row, state: str, *, error: str | None = None, status: int | None = None,
             retryable: bool = False, outcome: dict[str, Any] | None = None,
             entry_results: Sequence[tuple[int, int | None, str | None, dict[str, Any] | None]] = ()) -> None:
        """A state change without a delivery request (local rejection, $validate refusal, giving up)."""
        if state not in STATES:
            raise ValueError(state)
        with self._tx():
            self._db.execute("UPDATE bundles SET state=?, last_error=?, last_status=COALESCE(?, last_status),"
                             " retryable=?, outcome=?, updated_at=? WHERE id=?",
                             (state, error, status, int(retryable), json.dumps(outcome) if outcome else None,
                              _now(), row.id))
            for idx, entry_status, location, entry_outcome in entry_results:
                self._db.execute("UPDATE entries SET status=?, location=?, outcome=? WHERE bundle_id=? AND"
                                 " idx=?", (entry_status, location,
                                            json.dumps(entry_outcome) if entry_outcome else None, row.id, idx))
        row.state, row.last_error, row.retryable = state, error, retryable
        if status is not None:
            row.last_status = status

    # -- reading -------------------------------------------------------------------------------
    def rows(self, *, include_superseded: bool = False) -> list[Row]:
        sql = "SELECT * FROM bundles" + ("" if include_superseded else " WHERE superseded=0") + " ORDER BY id"
        return [self._row(r) for r in self._db.execute(sql)]

    def counts(self) -> dict[str, int]:
        out = {state: 0 for state in STATES}
        for state, n in self._db.execute("SELECT state, COUNT(*) FROM bundles WHERE superseded=0 GROUP BY state"):
            out[state] = n
        return out

    def entries(self, bundle_id: int) -> list[dict[str, Any]]:
        cur = self._db.execute("SELECT idx, resource_type, method, source, status, location, outcome FROM entries"
                               " WHERE bundle_id=? ORDER BY idx", (bundle_id,))
        return [{"idx": i, "resource_type": t, "method": m, "source": s, "status": st, "location": loc,
                 "outcome": json.loads(o) if o else None} for i, t, m, s, st, loc, o in cur]

    def attempts(self, bundle_id: int) -> list[dict[str, Any]]:
        cur = self._db.execute("SELECT attempt, request_id, started_at, finished_at, status, error,"
                               " server_request_id FROM attempts WHERE bundle_id=? ORDER BY attempt", (bundle_id,))
        return [dict(zip(("attempt", "request_id", "started_at", "finished_at", "status", "error",
                          "server_request_id"), r)) for r in cur]

    def delivered_locations(self) -> list[str]:
        """Every `Type/id` the server reported for delivered entries (for exactly-once checks)."""
        cur = self._db.execute("SELECT e.location FROM entries e JOIN bundles b ON b.id=e.bundle_id"
                               " WHERE b.state='delivered' AND b.superseded=0 AND e.location IS NOT NULL")
        return [r[0] for r in cur]

    # -- helpers -------------------------------------------------------------------------------
    def _tx(self) -> "_Tx":
        return _Tx(self._db)

    def _one(self, sql: str, args: tuple[Any, ...]) -> Row | None:
        cur = self._db.execute(sql, args)
        r = cur.fetchone()
        return self._row(r, cur.description) if r else None

    def _row(self, r: tuple[Any, ...], description: Any = None) -> Row:
        names = [d[0] for d in (description or self._db.execute("SELECT * FROM bundles LIMIT 0").description)]
        d = dict(zip(names, r))
        return Row(id=d["id"], endpoint=d["endpoint"], hash=d["hash"], file=d["file"], part=d["part"],
                   parts=d["parts"], entries=d["entries"], mode=d["mode"], request_id=d["request_id"],
                   state=d["state"], attempts=d["attempts"], retryable=bool(d["retryable"]),
                   last_status=d["last_status"], last_error=d["last_error"],
                   outcome=json.loads(d["outcome"]) if d["outcome"] else None,
                   superseded=bool(d["superseded"]))


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
