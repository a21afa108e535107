"""What earlier accepted submissions contributed to each member's record, for the program rules.

PHI AT REST: this store keeps whole resources (names, dates, codes) so that a rule such as "at most N
contacts a month" sees last week's contacts. It lives in `{data_dir}/members.sqlite` (protect it like the
payer's own database: disk encryption, file mode 0600, backups under the same policy) and is never read
by the ledger, logs or responses. Delete it to forget history; the rules then see one submission at a time.
Why a local store and not a read-back from the upstream server: validation must not depend on the
upstream being up (submissions are accepted and queued while it is down), nor on its search support.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from fhiradapter.members import member_key

_SCHEMA = """
CREATE TABLE IF NOT EXISTS member_resources (
  member TEXT NOT NULL,
  key TEXT NOT NULL,
  resource BLOB NOT NULL,
  submission TEXT NOT NULL,
  PRIMARY KEY (member, key)
);
CREATE TABLE IF NOT EXISTS organization_parents (
  organization TEXT PRIMARY KEY,
  part_of TEXT NOT NULL
)
"""


def resource_key(entry: dict[str, Any], resource: dict[str, Any]) -> str:
    """`Type/id`, else the conditional create's `Type?identifier=…`, else the entry's fullUrl."""
    rtype = str(resource.get("resourceType"))
    if isinstance(resource.get("id"), str) and resource["id"]:
        return f"{rtype}/{resource['id']}"
    request = entry.get("request")
    if isinstance(request, dict) and request.get("ifNoneExist"):
        return f"{rtype}?{request['ifNoneExist']}"
    return str(entry.get("fullUrl") or f"{rtype}?")


def bundle_members(entries: list[Any]) -> tuple[dict[str, list[int]], list[int]]:
    """({member key: entry indexes}, indexes of entries of no member (Organization, Practitioner …)).

    Member keys are `Patient/{id}`: a subject given as the urn:uuid fullUrl of the Patient entry is
    resolved to it, so one member has one key across submissions."""
    by_full_url: dict[str, str] = {}
    for entry in entries:
        res = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(res, dict) and res.get("resourceType") == "Patient" and isinstance(res.get("id"), str) \
                and isinstance(entry.get("fullUrl"), str):
            by_full_url[entry["fullUrl"]] = f"Patient/{res['id']}"
    members: dict[str, list[int]] = {}
    shared: list[int] = []
    for index, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict):
            continue
        key = member_key(res)
        if key is None:
            shared.append(index)
            continue
        key = by_full_url.get(key, key)
        if key.startswith("urn:uuid:"):
            key = "Patient/" + key[len("urn:uuid:"):]   # mapper convention: urn:uuid:{Patient id}
        members.setdefault(key, []).append(index)
    return members, shared


class MemberStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conn().executescript(_SCHEMA)
        try:
            os.chmod(path, 0o600)
        except OSError:
            pass

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn
        return conn

    def prior(self, member: str, exclude: Iterable[str]) -> list[dict[str, Any]]:
        skip = set(exclude)
        rows = self._conn().execute("SELECT key, resource FROM member_resources WHERE member=?", (member,))
        return [orjson.loads(blob) for key, blob in rows if key not in skip]

    def remember(self, member: str, items: list[tuple[str, dict[str, Any]]], submission: str) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("INSERT OR REPLACE INTO member_resources VALUES (?, ?, ?, ?)",
                             [(member, key, orjson.dumps(res), submission) for key, res in items])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def parents(self) -> dict[str, str]:
        """Organization.partOf links of accepted submissions (organizations, not members: no PHI)."""
        return dict(self._conn().execute("SELECT organization, part_of FROM organization_parents"))

    def remember_parents(self, links: list[tuple[str, str]]) -> None:
        if links:
            self._conn().executemany("INSERT OR REPLACE INTO organization_parents VALUES (?, ?)", links)
