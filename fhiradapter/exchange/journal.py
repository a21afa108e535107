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
  correlation_id TEXT,
  PRIMARY KEY (bundle_id, attempt)
);
CREATE TABLE IF NOT EXISTS endpoints (
  endpoint TEXT PRIMARY KEY,
  not_before REAL NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  reason TEXT,
  max_entries INTEGER,
  capability TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bundles_part ON bundles (endpoint, file, part);
CREATE TABLE IF NOT EXISTS versions (
  endpoint TEXT NOT NULL,
  ref TEXT NOT NULL,
  version TEXT NOT NULL,
  bundle_id INTEGER NOT NULL,
  PRIMARY KEY (endpoint, ref)
);
"""
SCHEMA_VERSION = "2"
# Columns added after schema 1: (table, column, type). Older journals get them on open.
_ADDED_COLUMNS = (("attempts", "correlation_id", "TEXT"), ("entries", "ref", "TEXT"),
                  ("entries", "if_match", "TEXT"), ("entries", "held", "TEXT"),
                  ("bundles", "settled", "TEXT"))


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
    settled: str | None = None


@dataclass(slots=True)
class EntryMeta:
    idx: int
    resource_type: str | None
    method: str | None
    source: str | None
    ref: str | None = None          # `Type/id` a PUT writes (known before sending), else None


# (entry index, HTTP status, `Type/id` location, OperationOutcome): what the server said of one entry
EntryOutcome = tuple[int, int | None, str | None, dict[str, Any] | None]


@dataclass(slots=True)
class EndpointState:
    """Per endpoint, across Bundles and runs: the back-off clock, the circuit breaker, learned limits."""
    endpoint: str
    not_before: float = 0.0         # epoch seconds: no request before this (Retry-After, open circuit)
    failures: int = 0               # consecutive transient failures (all Bundles together)
    reason: str | None = None       # why the clock was set ("HTTP 429 Retry-After 600 s", ...)
    max_entries: int | None = None  # largest transaction/batch the server takes (stated or learned)
    capability: dict[str, Any] | None = None  # a summary of its CapabilityStatement (no free text)


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
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: not a usable journal ({exc})") from None
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot open the journal ({exc.strerror or exc})") from None

    def _migrate(self) -> None:
        for table, column, kind in _ADDED_COLUMNS:
            have = {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))

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
                "INSERT INTO entries (bundle_id, idx, resource_type, method, source, ref) VALUES (?,?,?,?,?,?)",
                [(bundle_id, e.idx, e.resource_type, e.method, e.source, e.ref) for e in entries])
            # Older, undelivered content for the same file part is replaced by this one.
            # (A new split may have fewer parts: parts beyond it are replaced too.)
            self._db.execute(
                "UPDATE bundles SET superseded=1 WHERE endpoint=? AND file=? AND (part=? OR part>?) AND id<>?"
                " AND state<>'delivered'", (endpoint, file, part, parts, bundle_id))
            row = self._one("SELECT * FROM bundles WHERE id=?", (bundle_id,))
            assert row is not None
            return row

    def begin_attempt(self, row: Row, correlation_id: str | None = None,
                      if_match: dict[int, str] | None = None) -> int:
        """Mark `sending` and count the try, committed before the request leaves. `if_match`: the
        version each entry is conditioned on in this try (idx -> version)."""
        with self._tx():
            self._db.execute("UPDATE bundles SET state='sending', attempts=attempts+1, updated_at=?"
                             " WHERE id=?", (_now(), row.id))
            attempt = int(self._db.execute("SELECT attempts FROM bundles WHERE id=?", (row.id,)).fetchone()[0])
            self._db.execute("INSERT OR REPLACE INTO attempts (bundle_id, attempt, request_id, started_at,"
                             " correlation_id) VALUES (?,?,?,?,?)",
                             (row.id, attempt, row.request_id, _now(), correlation_id))
            if attempt == 1:
                if if_match:
                    self._db.executemany("UPDATE entries SET if_match=? WHERE bundle_id=? AND idx=?",
                                         [(version, row.id, idx) for idx, version in if_match.items()])
            else:
                # Kept only while every try carried the same If-Match: an unanswered earlier try without it
                # (or with another version) may still land, so the entry no longer counts as conditioned.
                self._db.executemany(
                    "UPDATE entries SET if_match=NULL WHERE bundle_id=? AND idx=? AND (if_match IS NULL OR"
                    " if_match<>?)", [(row.id, idx, (if_match or {}).get(idx, "")) for idx in range(row.entries)])
        row.state, row.attempts = "sending", attempt
        return attempt

    def end_attempt(self, row: Row, attempt: int, *, state: str, status: int | None, error: str | None,
                    retryable: bool = False, outcome: dict[str, Any] | None = None,
                    server_request_id: str | None = None,
                    entry_results: Sequence[EntryOutcome] = (),
                    versions: Sequence[tuple[int, str, str]] = ()) -> None:
        """Record one try's answer. `versions`: (idx, `Type/id`, version) the server reported stored."""
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
            self._entry_results(row, entry_results)
            if versions:   # (one table, not per entry too: every write here costs on each Bundle)
                self._db.executemany("INSERT OR REPLACE INTO versions (endpoint, ref, version, bundle_id)"
                                     " VALUES (?,?,?,?)",
                                     [(row.endpoint, ref, version, row.id) for _, ref, version in versions])
        row.state, row.last_status, row.last_error, row.retryable = state, status, error, retryable

    def _entry_results(self, row: Row, entry_results: Sequence[EntryOutcome]) -> None:
        if entry_results:
            self._db.executemany(
                "UPDATE entries SET status=?, location=?, outcome=? WHERE bundle_id=? AND idx=?",
                [(entry_status, location, json.dumps(entry_outcome) if entry_outcome else None, row.id, idx)
                 for idx, entry_status, location, entry_outcome in entry_results])

    def mark(self, row: Row, state: str, *, error: str | None = None, status: int | None = None,
             retryable: bool = False, outcome: dict[str, Any] | None = None,
             entry_results: Sequence[EntryOutcome] = ()) -> None:
        """A state change without a delivery request (local rejection, $validate refusal, giving up)."""
        if state not in STATES:
            raise ValueError(state)
        with self._tx():
            self._db.execute("UPDATE bundles SET state=?, last_error=?, last_status=COALESCE(?, last_status),"
                             " retryable=?, outcome=?, updated_at=? WHERE id=?",
                             (state, error, status, int(retryable), json.dumps(outcome) if outcome else None,
                              _now(), row.id))
            self._entry_results(row, entry_results)
        row.state, row.last_error, row.retryable = state, error, retryable
        if status is not None:
            row.last_status = status

    def set_held(self, row: Row, held: dict[int, str]) -> None:
        """What the server says it holds for each entry (after a refusal: `stored v3` or `absent`)."""
        with self._tx():
            self._db.executemany("UPDATE entries SET held=? WHERE bundle_id=? AND idx=?",
                                 [(value, row.id, idx) for idx, value in held.items()])

    def settle(self, bundle_id: int, reason: str) -> None:
        """A superseded request is known dead (it can no longer land and overwrite newer data)."""
        with self._tx():
            self._db.execute("UPDATE bundles SET settled=? WHERE id=?", (reason[:300], bundle_id))

    def record_versions(self, endpoint: str, bundle_id: int, versions: dict[str, str]) -> None:
        """Versions read back from the server (`send --verify`): the newest we have seen."""
        with self._tx():
            self._db.executemany("INSERT OR REPLACE INTO versions (endpoint, ref, version, bundle_id)"
                                 " VALUES (?,?,?,?)", [(endpoint, ref, v, bundle_id) for ref, v in versions.items()])

    def forget_versions(self, endpoint: str, refs: list[str]) -> None:
        with self._tx():
            self._db.executemany("DELETE FROM versions WHERE endpoint=? AND ref=?", [(endpoint, r) for r in refs])

    def endpoint_state(self, endpoint: str) -> EndpointState:
        r = self._db.execute("SELECT not_before, failures, reason, max_entries, capability FROM endpoints"
                             " WHERE endpoint=?", (endpoint,)).fetchone()
        if r is None:
            return EndpointState(endpoint)
        return EndpointState(endpoint, float(r[0]), int(r[1]), r[2], r[3], json.loads(r[4]) if r[4] else None)

    def endpoints(self) -> list[EndpointState]:
        names = [r[0] for r in self._db.execute("SELECT endpoint FROM endpoints ORDER BY endpoint")]
        return [self.endpoint_state(name) for name in names]

    def save_endpoint(self, state: EndpointState) -> None:
        with self._tx():
            self._db.execute(
                "INSERT OR REPLACE INTO endpoints (endpoint, not_before, failures, reason, max_entries, capability,"
                " updated_at) VALUES (?,?,?,?,?,?,?)",
                (state.endpoint, state.not_before, state.failures, state.reason, state.max_entries,
                 json.dumps(state.capability) if state.capability is not None else None, _now()))

    # -- reading -------------------------------------------------------------------------------
    def known_versions(self, endpoint: str, refs: list[str]) -> dict[str, str]:
        """The last version seen on `endpoint` for each of `refs` (`Type/id`) that has one."""
        out: dict[str, str] = {}
        for start in range(0, len(refs), 500):
            chunk = refs[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for ref, version in self._db.execute(f"SELECT ref, version FROM versions WHERE endpoint=? AND ref IN"
                                                 f" ({marks})", (endpoint, *chunk)):
                out[ref] = version
        return out

    def has_versions(self, endpoint: str) -> bool:
        return self._db.execute("SELECT 1 FROM versions WHERE endpoint=? LIMIT 1", (endpoint,)).fetchone() is not None

    def in_doubt(self) -> list[Row]:
        """Requests that may still be in flight and would overwrite newer content if they landed: a try sent
        and never answered, of a row since superseded (or delivered, then followed by newer content of the
        same file part), and not known dead. Tries that never left (no credentials, TLS refused) do not count."""
        cur = self._db.execute(
            "SELECT * FROM bundles b WHERE settled IS NULL"
            " AND ((superseded=1 AND state IN ('sending','pending','failed'))"
            "      OR (state='delivered' AND EXISTS (SELECT 1 FROM bundles n WHERE n.endpoint=b.endpoint"
            "          AND n.file=b.file AND n.part=b.part AND n.id>b.id AND n.hash NOT LIKE 'local:%')))"
            " AND EXISTS (SELECT 1 FROM attempts a WHERE a.bundle_id=b.id AND a.status IS NULL"
            "             AND (a.error IS NULL OR (a.error NOT LIKE 'not sent%' AND a.error NOT LIKE 'tls%')))"
            " ORDER BY id")
        return [self._row(r, cur.description) for r in cur.fetchall()]

    def unanswered_since(self, bundle_id: int) -> str | None:
        """Start time (ISO) of the latest try of a row that got no answer."""
        r = self._db.execute("SELECT MAX(started_at) FROM attempts WHERE bundle_id=? AND status IS NULL",
                             (bundle_id,)).fetchone()
        return r[0] if r else None

    def delivered_refs(self, endpoint: str, files: list[str] | None = None) -> list[tuple[int, int, str, str | None]]:
        """(bundle id, idx, `Type/id`, version stored at delivery) of delivered PUT entries."""
        sql = ("SELECT b.id, e.idx, e.ref, v.version FROM entries e JOIN bundles b ON b.id=e.bundle_id"
               " LEFT JOIN versions v ON v.endpoint=b.endpoint AND v.ref=e.ref AND v.bundle_id=b.id WHERE"
               " b.endpoint=? AND b.state='delivered' AND b.superseded=0 AND e.ref IS NOT NULL")
        rows = [(int(a), int(b), str(c), d) for a, b, c, d in self._db.execute(sql + " ORDER BY b.id, e.idx",
                                                                               (endpoint,))]
        if files is None:
            return rows
        marks = ",".join("?" * len(files))
        wanted = {r[0] for r in self._db.execute(f"SELECT id FROM bundles WHERE file IN ({marks})", files)} \
            if files else set()
        return [r for r in rows if r[0] in wanted]

    def superseded_refs(self, bundle_id: int) -> list[tuple[str, str | None]]:
        """(`Type/id`, If-Match version it carried) of a superseded row's PUT entries."""
        return [(r, v) for r, v in self._db.execute("SELECT ref, if_match FROM entries WHERE bundle_id=? AND ref IS"
                                                    " NOT NULL ORDER BY idx", (bundle_id,))]

    def rows(self, *, include_superseded: bool = False) -> list[Row]:
        sql = "SELECT * FROM bundles" + ("" if include_superseded else " WHERE superseded=0") + " ORDER BY id"
        return [self._row(r) for r in self._db.execute(sql)]

    def counts(self) -> dict[str, int]:
        out = {state: 0 for state in STATES}
        for state, n in self._db.execute("SELECT state, COUNT(*) FROM bundles WHERE superseded=0 GROUP BY state"):
            out[state] = n
        return out

    def entries(self, bundle_id: int) -> list[dict[str, Any]]:
        cur = self._db.execute("SELECT e.idx, e.resource_type, e.method, e.source, e.status, e.location, e.outcome,"
                               " e.ref, v.version, e.held, e.if_match FROM entries e JOIN bundles b ON b.id=e.bundle_id"
                               " LEFT JOIN versions v ON v.endpoint=b.endpoint AND v.ref=e.ref AND v.bundle_id=b.id"
                               " WHERE e.bundle_id=? ORDER BY e.idx", (bundle_id,))
        return [{"idx": i, "resource_type": t, "method": m, "source": s, "status": st, "location": loc,
                 "outcome": json.loads(o) if o else None, "ref": ref, "version": ver, "held": held,
                 "if_match": im} for i, t, m, s, st, loc, o, ref, ver, held, im in cur]

    def attempts(self, bundle_id: int) -> list[dict[str, Any]]:
        cur = self._db.execute("SELECT attempt, request_id, started_at, finished_at, status, error,"
                               " server_request_id, correlation_id FROM attempts WHERE bundle_id=? ORDER BY attempt",
                               (bundle_id,))
        return [dict(zip(("attempt", "request_id", "started_at", "finished_at", "status", "error",
                          "server_request_id", "correlation_id"), r)) for r in cur]

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
                   superseded=bool(d["superseded"]), settled=d.get("settled"))


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
