"""The submission ledger: who sent what kind of request when, the verdict, the issues and the delivery
state. SQLite under the data folder by default; PostgreSQL (psycopg 3) when `ledger.dsn` is a
`postgresql://` URL. Never stored: request bodies, resource contents, identifier values, tokens.

One row per submission, keyed by (sender, X-Request-Id) as well as by its own id, so a repeated
request is answered from here instead of being processed again.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

DELIVERY_STATES = ("not-forwarded", "queued", "delivered", "failed")

_COLUMNS = ("id", "request_id", "sender", "kind", "received_at", "updated_at", "entries", "verdict",
            "http_status", "outcome", "response", "delivery", "delivery_detail", "attempts", "body_hash")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS intake_submissions (
  id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL,
  sender TEXT NOT NULL,
  kind TEXT NOT NULL,
  received_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  entries INTEGER NOT NULL DEFAULT 0,
  verdict TEXT NOT NULL,
  http_status INTEGER,
  outcome TEXT,
  response TEXT,
  delivery TEXT NOT NULL DEFAULT 'not-forwarded',
  delivery_detail TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  body_hash TEXT,
  UNIQUE (sender, request_id)
);
CREATE INDEX IF NOT EXISTS intake_submissions_sender ON intake_submissions (sender, received_at);
CREATE INDEX IF NOT EXISTS intake_submissions_delivery ON intake_submissions (delivery);
"""


class LedgerError(Exception):
    pass


STALE_CLAIM_SECONDS = 600


def _age_seconds(stamp: str) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(stamp)).total_seconds()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(slots=True)
class Submission:
    id: str
    request_id: str
    sender: str
    kind: str                      # transaction | batch
    received_at: str
    updated_at: str
    entries: int
    verdict: str                   # processing | accepted | rejected
    http_status: int | None
    outcome: dict[str, Any] | None  # the OperationOutcome answered (issues, no record values)
    response: dict[str, Any] | None  # the response Bundle answered (statuses and locations only)
    delivery: str                  # not-forwarded | queued | delivered | failed
    delivery_detail: str | None
    attempts: int
    body_hash: str | None          # SHA-256 of the request body: a reused X-Request-Id with other content

    def to_json(self, base: str) -> dict[str, Any]:
        return {"id": self.id, "url": f"{base}/submissions/{self.id}", "requestId": self.request_id,
                "sender": self.sender, "kind": self.kind, "received": self.received_at,
                "updated": self.updated_at, "entries": self.entries, "verdict": self.verdict,
                "httpStatus": self.http_status, "delivery": self.delivery,
                "deliveryDetail": self.delivery_detail, "deliveryAttempts": self.attempts,
                "outcome": self.outcome, "response": self.response}


class Ledger(Protocol):
    def claim(self, sender: str, request_id: str, kind: str, entries: int,
              body_hash: str) -> tuple[Submission, bool]: ...
    def finish(self, sub_id: str, *, verdict: str, http_status: int, outcome: dict[str, Any] | None,
               response: dict[str, Any] | None, delivery: str) -> None: ...
    def set_delivery(self, sub_id: str, delivery: str, detail: str | None, attempts: int,
                     response: dict[str, Any] | None = None) -> None: ...
    def get(self, sub_id: str) -> Submission | None: ...
    def find(self, sender: str | None, limit: int, delivery: str | None = None) -> list[Submission]: ...
    def forget(self, sub_id: str) -> None: ...
    def close(self) -> None: ...


class SqlLedger:
    """The same SQL on SQLite and PostgreSQL; only the placeholder and connection differ."""

    def __init__(self, connect: Any, placeholder: str, integrity_error: type[Exception], label: str) -> None:
        self._connect = connect
        self._ph = placeholder
        self._integrity = integrity_error
        self.label = label
        self._local = threading.local()
        conn = self._conn()
        for attempt in (1, 2):   # two worker processes creating the tables at once: one loses, retries
            try:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._run(conn, statement)
                conn.commit()
                break
            except Exception:
                conn.rollback()
                if attempt == 2:
                    raise

    # -- connections: one per thread (sqlite3 and psycopg connections are not shared across threads)
    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _run(self, conn: Any, sql: str, args: tuple[Any, ...] = ()) -> Any:
        cur = conn.cursor()
        cur.execute(sql.replace("?", self._ph), args)
        return cur

    def _q(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = self._conn()
        rows = self._run(conn, sql, args).fetchall()
        conn.commit()
        return list(rows)

    def _x(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        conn = self._conn()
        try:
            count = self._run(conn, sql, args).rowcount
            conn.commit()
        except Exception:
            conn.rollback()
            raise
        return int(count)

    # -- API
    def claim(self, sender: str, request_id: str, kind: str, entries: int,
              body_hash: str) -> tuple[Submission, bool]:
        """(submission, is_new). An existing (sender, request id) is returned as it is: the caller
        answers from it instead of processing the request again."""
        stamp = now()
        sub_id = str(uuid.uuid4())
        try:
            self._x("INSERT INTO intake_submissions (id, request_id, sender, kind, received_at, updated_at, "
                    "entries, verdict, body_hash) VALUES (?, ?, ?, ?, ?, ?, ?, 'processing', ?)",
                    (sub_id, request_id, sender, kind, stamp, stamp, entries, body_hash))
        except self._integrity:
            found = self._select("sender=? AND request_id=?", (sender, request_id))
            if not found:
                raise LedgerError("submission vanished while being claimed") from None
            old = found[0]
            if old.verdict == "processing" and _age_seconds(old.updated_at) > STALE_CLAIM_SECONDS:
                # its process died while judging it (nothing was spooled: that would have made it
                # accepted): judge it again instead of answering "still being processed" forever
                self._x("DELETE FROM intake_submissions WHERE id=? AND verdict='processing'", (old.id,))
                return self.claim(sender, request_id, kind, entries, body_hash)
            return old, False
        created = self.get(sub_id)
        assert created is not None
        return created, True

    def finish(self, sub_id: str, *, verdict: str, http_status: int, outcome: dict[str, Any] | None,
               response: dict[str, Any] | None, delivery: str) -> None:
        # The delivery thread may already have delivered it: never turn `delivered` back into `queued`.
        self._x("UPDATE intake_submissions SET verdict=?, http_status=?, outcome=?, "
                "response=CASE WHEN delivery IN ('delivered','failed') THEN response ELSE ? END, "
                "delivery=CASE WHEN delivery IN ('delivered','failed') THEN delivery ELSE ? END, "
                "updated_at=? WHERE id=?", (verdict, http_status, _dump(outcome), _dump(response), delivery,
                                            now(), sub_id))

    def set_delivery(self, sub_id: str, delivery: str, detail: str | None, attempts: int,
                     response: dict[str, Any] | None = None) -> None:
        # A spooled submission is accepted even if the process died before its verdict was written.
        accepted = "verdict=CASE WHEN verdict='processing' THEN 'accepted' ELSE verdict END"
        if response is None:
            self._x(f"UPDATE intake_submissions SET delivery=?, delivery_detail=?, attempts=?, updated_at=?, "
                    f"{accepted} WHERE id=?", (delivery, detail, attempts, now(), sub_id))
        else:
            self._x(f"UPDATE intake_submissions SET delivery=?, delivery_detail=?, attempts=?, response=?, "
                    f"updated_at=?, {accepted} WHERE id=?", (delivery, detail, attempts, _dump(response), now(),
                                                           sub_id))

    def get(self, sub_id: str) -> Submission | None:
        found = self._select("id=?", (sub_id,))
        return found[0] if found else None

    def find(self, sender: str | None, limit: int, delivery: str | None = None) -> list[Submission]:
        where, args = ["1=1"], []
        if sender is not None:
            where.append("sender=?")
            args.append(sender)
        if delivery is not None:
            where.append("delivery=?")
            args.append(delivery)
        return self._select(" AND ".join(where) + " ORDER BY received_at DESC, id LIMIT ?", (*args, limit))

    def forget(self, sub_id: str) -> None:
        """Drop a claim whose processing failed before any verdict (the sender may try again)."""
        self._x("DELETE FROM intake_submissions WHERE id=? AND verdict='processing'", (sub_id,))

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _select(self, where: str, args: tuple[Any, ...]) -> list[Submission]:
        rows = self._q(f"SELECT {', '.join(_COLUMNS)} FROM intake_submissions WHERE {where}", args)
        return [_submission(r) for r in rows]


def _dump(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _submission(row: tuple[Any, ...]) -> Submission:
    values = dict(zip(_COLUMNS, row))
    for key in ("outcome", "response"):
        values[key] = json.loads(values[key]) if values[key] else None
    return Submission(**values)


def open_ledger(dsn: str, data_dir: Path) -> SqlLedger:
    """SQLite at {data_dir}/ledger.sqlite (or a sqlite:///path DSN), or PostgreSQL for postgresql:// DSNs."""
    if dsn.startswith(("postgresql://", "postgres://")) or (dsn and "=" in dsn and "://" not in dsn):
        try:
            import psycopg
        except ImportError:
            raise LedgerError("ledger.dsn names PostgreSQL but psycopg is not installed "
                              "(pip install 'psycopg[binary]')") from None
        try:
            psycopg.connect(dsn, connect_timeout=10).close()
        except psycopg.Error as exc:
            raise LedgerError(f"PostgreSQL ledger unreachable: {type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
        return SqlLedger(lambda: psycopg.connect(dsn), "%s", psycopg.IntegrityError, "postgresql")
    path = Path(dsn[len("sqlite:///"):]) if dsn.startswith("sqlite:///") else data_dir / "ledger.sqlite"
    if dsn and not dsn.startswith("sqlite:///"):
        raise LedgerError(f"ledger.dsn {dsn.split('://')[0]}://…: use postgresql://… or sqlite:///path")
    path.parent.mkdir(parents=True, exist_ok=True)

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=30, check_same_thread=True)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    try:
        return SqlLedger(connect, "?", sqlite3.IntegrityError, "sqlite")
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"{path}: not a usable ledger ({exc})") from None
