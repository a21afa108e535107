"""No stale overwrite: what the server holds now, versus what we delivered and what may still land.

A request that timed out may still be on its way (held by a proxy, queued by a slow server). When the
data is fixed and sent again, the old request is superseded but not dead: if it lands later it
overwrites the fix. Three defences (docs/exchange.md, "Stale requests"):
  - If-Match: where the server states versioned updates, every update names the version we last saw,
    so an old request that lands after a newer one is refused (412) instead of overwriting it;
  - in doubt: a superseded request sent and never answered stays visible in `status` until it is known
    dead (its If-Match version is outdated, or it has been seen to land and was overwritten);
  - `send --verify`: reads back what was delivered; content older than ours that an in-doubt request of
    ours wrote is overwritten again with the newer content; a change by anyone else is reported.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .endpoint import EndpointClosed
from .inputs import prepare
from .responses import parse_etag, parse_status, resource_version

if TYPE_CHECKING:
    from .inputs import Unit
    from .journal import Journal, Row
    from .sender import RunSummary, Sender


def read_versions(sender: Sender, refs: list[str]) -> dict[str, str | None] | None:
    """The version the server holds now for each `Type/id` ("" when it gives none, None when absent),
    by batch GETs; None when the server could not be asked or answered something unreadable."""
    out: dict[str, str | None] = {}
    size = max(1, sender.size())
    for start in range(0, len(refs), size):
        chunk = refs[start:start + size]
        bundle = {"resourceType": "Bundle", "type": "batch",
                  "entry": [{"request": {"method": "GET", "url": ref}} for ref in chunk]}
        try:
            sender.guard.wait_turn()
        except EndpointClosed:
            return None
        result = sender.client.post_bundle(bundle, str(uuid.uuid4()))
        body = result.body
        if result.status != 200 or not isinstance(body, dict) or body.get("type") != "batch-response":
            return None
        entries = body.get("entry") or []
        if not isinstance(entries, list) or len(entries) != len(chunk):
            return None
        for ref, entry in zip(chunk, entries):
            response = entry.get("response") if isinstance(entry, dict) else None
            status = parse_status(response.get("status")) if isinstance(response, dict) else None
            if status in (404, 410):
                out[ref] = None
            elif status is not None and 200 <= status < 300:
                out[ref] = (parse_etag(response.get("etag")) if isinstance(response, dict) else None) \
                    or resource_version(entry.get("resource")) or ""
            else:
                return None
    return out


def _unanswered_refs(journal: Journal, row: Row | None) -> dict[str, list[int]]:
    """`Type/id` -> ids of our rows that may still write it: in-doubt superseded rows, and `row` itself
    when one of its earlier tries went unanswered."""
    owners: dict[str, list[int]] = {}
    rows = list(journal.in_doubt())
    if row is not None and any(a["status"] is None and a["error"] for a in journal.attempts(row.id)):
        rows.append(row)
    for candidate in rows:
        for ref, _ in journal.superseded_refs(candidate.id):
            owners.setdefault(ref, []).append(candidate.id)
    return owners


def settle_in_doubt(journal: Journal, endpoint: str) -> None:
    """An in-doubt request whose every update carried an If-Match we have since seen replaced can only be
    refused if it lands: it is dead."""
    for row in journal.in_doubt():
        refs = journal.superseded_refs(row.id)
        if not refs or any(version is None for _, version in refs):
            continue
        known = journal.known_versions(endpoint, [ref for ref, _ in refs])
        if all(known.get(ref) not in (None, version) for ref, version in refs):
            journal.settle(row.id, "its If-Match versions are outdated: if it lands, the server refuses it")


def resolve_precondition_failure(sender: Sender, unit: Unit, row: Row, if_match: dict[int, str]) -> bool:
    """After a 412: True when every changed resource was written by an older request of ours (then its
    current version is adopted and the newer content is sent on top); False for someone else's change."""
    journal, endpoint = sender.journal, sender.client.endpoint
    refs = {unit.entries[idx].ref: version for idx, version in if_match.items() if unit.entries[idx].ref}
    current = read_versions(sender, [r for r in refs if r])
    if current is None:
        return False
    changed = {ref: current.get(ref) for ref, version in refs.items() if ref and current.get(ref) != version}
    if not changed:
        return False
    owners = _unanswered_refs(journal, row)
    foreign = [ref for ref in changed if ref not in owners]
    if foreign:
        journal.mark(row, "failed", status=412, retryable=False,
                     error=f"conflict: {len(foreign)} resource(s) changed on the server by another writer since "
                           f"the version we last saw (e.g. {foreign[0]}); not overwritten")
        return False
    present = {ref: v for ref, v in changed.items() if v}
    if present:
        journal.record_versions(endpoint, row.id, present)
    gone = [ref for ref, v in changed.items() if v is None]
    if gone:
        journal.forget_versions(endpoint, gone)
    for ref in changed:
        for owner in owners[ref]:
            if owner != row.id:
                journal.settle(owner, "it landed (the server held its content) and newer content was sent on top")
    return True


class Verifier:
    """`send --verify`: read back every delivered update of these files and compare versions."""

    def __init__(self, sender: Sender, summary: RunSummary) -> None:
        self.sender, self.summary = sender, summary

    def run(self, files: list[str]) -> None:
        journal, endpoint = self.sender.journal, self.sender.client.endpoint
        delivered = journal.delivered_refs(endpoint, files)
        latest: dict[str, tuple[int, str | None]] = {}
        for bundle_id, _, ref, version in delivered:
            latest[ref] = (bundle_id, version)   # ordered by bundle id: the newest delivery wins
        if not latest:
            return
        current = read_versions(self.sender, list(latest))
        if current is None:
            self.summary.messages.append("verify: the server could not be read back; nothing was verified")
            return
        owners = _unanswered_refs(journal, None)
        stale: dict[int, list[str]] = {}
        unverifiable = 0
        for ref, (bundle_id, version) in latest.items():
            now = current.get(ref)
            if now is not None and version is None:
                unverifiable += 1
            elif now is not None and now == version:
                self.summary.verified += 1
            elif now is None or ref in owners:
                stale.setdefault(bundle_id, []).append(ref)
            else:
                self.summary.conflicts += 1
                row = self._row(bundle_id)
                if row is not None:
                    journal.mark(row, "failed", retryable=False,
                                 error=f"verify: {ref} changed on the server after delivery by another writer "
                                       f"(version {now}, we delivered {version}); not overwritten")
        self._settle_verified(owners, latest, current)
        if unverifiable:
            self.summary.messages.append(f"verify: {unverifiable} resource(s) cannot be checked: the server "
                                         "reported no version when they were delivered")
        for bundle_id, refs in stale.items():
            self._repair(bundle_id, refs, current, owners)

    def _settle_verified(self, owners: dict[str, list[int]], latest: dict[str, tuple[int, str | None]],
                         current: dict[str, str | None]) -> None:
        """An in-doubt request whose resources all hold our newer content, sent longer ago than twice the
        request timeout, is taken as dead (the limit of what a client can know: docs/exchange.md)."""
        journal = self.sender.journal
        horizon = 2 * self.sender.client.timeout[1]
        now = datetime.now(timezone.utc)
        by_row: dict[int, list[str]] = {}
        for ref, rows in owners.items():
            for row_id in rows:
                by_row.setdefault(row_id, []).append(ref)
        for row_id, refs in by_row.items():
            if not all(ref in latest and current.get(ref) and current.get(ref) == latest[ref][1] for ref in refs):
                continue
            since = journal.unanswered_since(row_id)
            if since and (now - datetime.fromisoformat(since)).total_seconds() > horizon:
                journal.settle(row_id, f"verified: the server holds the newer content, and this request was sent "
                                       f"more than {horizon:.0f} s before")

    def _row(self, bundle_id: int) -> Row | None:
        return next((r for r in self.sender.journal.rows() if r.id == bundle_id), None)

    def _repair(self, bundle_id: int, refs: list[str], current: dict[str, str | None],
                owners: dict[str, list[int]]) -> None:
        """Older content of ours (or nothing) is on the server where we delivered newer: send it again."""
        journal, endpoint = self.sender.journal, self.sender.client.endpoint
        row = self._row(bundle_id)
        if row is None:
            return
        unit = self._unit(row)
        if unit is None:
            self.summary.messages.append(f"verify: {row.file} part {row.part} no longer matches what was "
                                         "delivered; run `send` again to deliver its current content")
            return
        present = {ref: v for ref in refs if (v := current.get(ref))}
        if present:
            journal.record_versions(endpoint, row.id, present)
        journal.forget_versions(endpoint, [ref for ref in refs if current.get(ref) is None])
        journal.mark(row, "pending", retryable=True,
                     error=f"verify: {len(refs)} resource(s) held older content or were missing; re-sent")
        if self.sender.send_unit(unit, row, self.summary) == "delivered":
            self.summary.repaired += 1
            for ref in refs:
                for owner in owners.get(ref, []):
                    journal.settle(owner, "it landed and was overwritten with the newer content (send --verify)")

    def _unit(self, row: Row) -> Unit | None:
        """Rebuild the delivered unit from its file (same content hash), trying the sizes it may have had."""
        from pathlib import Path
        sizes = dict.fromkeys([self.sender.size(), self.sender.options.bundle_size, row.entries])
        for size in sizes:
            try:
                prepared = prepare(Path(row.file), mode=row.mode, size=max(1, size))
            except (OSError, ValueError):
                return None
            for unit in prepared.units:
                if unit.hash == row.hash:
                    return unit
        return None

