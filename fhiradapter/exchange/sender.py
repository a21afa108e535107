"""The send loop: validate locally, journal, deliver with retries, record the answer. Resumable.

For each unit (a request-sized Bundle): rows already `delivered` at this endpoint are skipped; rows
left `sending` by a killed run are re-sent with their original X-Request-Id (safe: every entry is a
PUT Type/id or a conditional create); `failed` rows are retried when their last failure was
transient, or when asked (`retry_failed`). The journal is committed before and after each request.

Around that loop (docs/exchange.md): one back-off clock and circuit breaker per endpoint (endpoint.py);
the endpoint's limits and versioning from its CapabilityStatement; updates conditioned on the version we
last saw (If-Match) where the server supports it, so a stale request that lands late is refused; a
Bundle refused for its size is split smaller; refusals traced to exact entries (stale.py, trace.py).
"""
from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from fhiradapter.outcome import Issue, operation_outcome

from .auth import AuthError
from .client import TLS_ERROR, FhirClient, HttpResult
from .endpoint import EndpointClosed, EndpointGuard, parse_capability
from .gate import Checker, load_checker
from .inputs import DEFAULT_BUNDLE_SIZE, Prepared, Unit, content_hash, discover, prepare
from .journal import EntryMeta, EntryOutcome, Journal, Row
from .responses import (
    VALIDATE_ANSWER_CODES,
    outcome_has_errors,
    parse_bundle_response,
    slim_outcome,
)
from .retry import RetryPolicy, is_retryable_status

log = logging.getLogger("fhiradapter.exchange")

# How servers say "this transaction is too big" (Medplum, HAPI, Azure, a proxy's 413).
_SIZE_REFUSAL = re.compile(r"(?i)more (update )?operations than allowed|too many (entries|operations|resources)|"
                           r"too large|exceeds (the )?maximum|payload too large|bundle size")
_MAX_RESPLITS = 8


@dataclass(slots=True)
class SendOptions:
    mode: str = "transaction"
    bundle_size: int = DEFAULT_BUNDLE_SIZE
    server_validate: bool = False
    retry_failed: bool = False
    verify: bool = False          # read back what was delivered and repair a stale overwrite


@dataclass(slots=True)
class RunSummary:
    files: int = 0
    units: int = 0
    delivered: int = 0            # delivered in this run
    already_delivered: int = 0    # found delivered in the journal
    failed: int = 0
    rejected_local: int = 0
    deferred: int = 0             # not tried: the endpoint asked to wait, or its circuit is open
    in_doubt: int = 0             # superseded requests that may still land (docs/exchange.md)
    verified: int = 0             # resources read back and found as delivered (--verify)
    repaired: int = 0             # Bundles re-sent because --verify found older content on the server
    conflicts: int = 0            # resources changed on the server by someone else
    full_validation: bool = True  # always, now: `send --format json` keeps reporting it
    messages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.failed == 0 and self.rejected_local == 0 and self.deferred == 0 and self.in_doubt == 0
                and self.conflicts == 0)


class Sender:
    def __init__(self, client: FhirClient, journal: Journal, *, options: SendOptions | None = None,
                 retry: RetryPolicy | None = None, checker: Checker | None = None,
                 progress: Callable[[str], None] | None = None, clock: Callable[[], float] = time.time) -> None:
        self.client, self.journal = client, journal
        self.options = options or SendOptions()
        self.retry = retry or RetryPolicy()
        self.checker = checker or load_checker()
        self.progress = progress or (lambda message: None)
        self.clock = clock
        self.guard = EndpointGuard(journal, client.endpoint, self.retry, clock)
        self._closed: EndpointClosed | None = None

    def run(self, paths: list[str | Path]) -> RunSummary:
        from .stale import Verifier, settle_in_doubt
        self.journal.lock_for_sending()
        summary = RunSummary()
        self.guard = EndpointGuard(self.journal, self.client.endpoint, self.retry, self.clock)
        self._closed = None
        files = discover(paths)
        self._probe_capability()
        for path in files:
            summary.files += 1
            self._send_file(path, summary)
        if self._closed is not None:
            summary.messages.append(str(self._closed))
        settle_in_doubt(self.journal, self.client.endpoint)
        if self.options.verify and self._closed is None:
            Verifier(self, summary).run([str(p) for p in files])
            settle_in_doubt(self.journal, self.client.endpoint)
        summary.in_doubt = len(self.journal.in_doubt())
        if summary.in_doubt:
            summary.messages.append(
                f"{summary.in_doubt} superseded request(s) were sent and never answered: they may still land "
                "and overwrite newer content" + ("" if self.guard.capability.versioned_update else
                                                  " (this server does not state versioned updates)")
                + "; run `send --verify` to check and repair")
        return summary

    # -- the endpoint's own statements -----------------------------------------------------------
    def _probe_capability(self) -> None:
        """GET metadata once per run: limits and versioning where the server states them. A failure
        here is not fatal (nothing stated), and is not counted against the endpoint."""
        try:
            self.guard.wait_turn()
        except EndpointClosed as exc:
            self._closed = exc
            return
        result = self.client.capability(str(uuid.uuid4()))
        if result.status == 200 and isinstance(result.body, dict):
            self.guard.learn_capability(parse_capability(result.body))

    def size(self) -> int:
        limit = self.guard.state.max_entries
        return min(self.options.bundle_size, limit) if limit else self.options.bundle_size

    # -- one input file ------------------------------------------------------------------------
    def _send_file(self, path: Path, summary: RunSummary) -> None:
        size = self.size()
        prepared = prepare(path, mode=self.options.mode, size=size)
        issues = list(prepared.issues)
        if prepared.original is not None and not any(i.is_error for i in issues):
            try:
                issues.extend(self.checker(prepared.original, prepared.file))
            except Exception as exc:  # noqa: BLE001 - a validator bug must not send unvalidated data
                issues.append(Issue("error", "exception",
                                    f"local validation failed to run ({type(exc).__name__})",
                                    source=prepared.file))
        if any(i.is_error for i in issues):
            self._reject_local(prepared, issues, summary)
            return
        for _ in range(_MAX_RESPLITS):
            before = (summary.units, summary.delivered, summary.already_delivered, summary.failed, summary.deferred)
            refused = self._send_units(prepared, summary, size)
            if refused is None:
                return
            # The server refused a Bundle of `refused` (<= size) entries for its size: remember a smaller limit
            # for this endpoint and split the file again (parts already delivered stay delivered).
            size = max(1, refused // 2)
            self.guard.learn_max_entries(size)
            self.progress(f"{prepared.file}: the server refused {refused} entries in one request; "
                          f"splitting to {size} per request")
            (summary.units, summary.delivered, summary.already_delivered, summary.failed,
             summary.deferred) = before
            prepared = prepare(path, mode=self.options.mode, size=size)

    def _send_units(self, prepared: Prepared, summary: RunSummary, size: int) -> int | None:
        """Send every unit; the entry count of a unit refused for its size (then stop), else None."""
        for unit in prepared.units:
            summary.units += 1
            row = self.journal.register(endpoint=self.client.endpoint, hash=unit.hash, file=unit.file,
                                        part=unit.part, parts=unit.parts, mode=self.options.mode,
                                        entries=unit.entries)
            verdict = self.send_unit(unit, row, summary)
            if verdict == "size":
                if 1 < len(unit.entries) <= size:
                    return len(unit.entries)
                # Entries tied to a conditional create travel together and cannot be cut smaller.
                summary.failed += 1
        return None

    def _reject_local(self, prepared: Prepared, issues: list[Issue], summary: RunSummary) -> None:
        errors = [i for i in issues if i.is_error]
        summary.rejected_local += 1
        # One row per input file (hash of what was read, or of the file name when unreadable).
        key_source: Any = prepared.original if prepared.original is not None else {"unreadable": prepared.file}
        entries = [EntryMeta(idx=i, resource_type=_text(_field(e, "resource", "resourceType")),
                             method=_text(_field(e, "request", "method")),
                             source=_text(_field(_field(e, "resource", "meta"), "source")))
                   for i, e in enumerate(_list(_field(prepared.original, "entry"))) if isinstance(e, dict)]
        row = self.journal.register(endpoint=self.client.endpoint, hash="local:" + content_hash(key_source),
                                    file=prepared.file, part=1, parts=1, mode=self.options.mode, entries=entries)
        if row.state == "delivered":
            return
        # Issues that name an entry are filed on it, so `status` can trace them to file and row.
        per_entry: dict[int, list[Issue]] = {}
        for issue in errors:
            if issue.entry is not None and issue.entry < len(entries):
                per_entry.setdefault(issue.entry, []).append(issue)
        whole = [i for i in errors if i.entry is None or i.entry >= len(entries)]
        self.journal.mark(row, "rejected-local", error=f"{len(errors)} local validation error(s)",
                          outcome=operation_outcome(whole) if whole else None,
                          entry_results=[(idx, None, None, operation_outcome(found))
                                         for idx, found in per_entry.items()])
        self.progress(f"{prepared.file}: not sent, {len(errors)} local validation error(s)")

    # -- one request-sized Bundle --------------------------------------------------------------
    def send_unit(self, unit: Unit, row: Row, summary: RunSummary) -> str:
        """Deliver one unit. Returns delivered | already | failed | deferred | size."""
        from .stale import resolve_precondition_failure
        label = f"{unit.file} part {unit.part}/{unit.parts}"
        if row.state == "delivered":
            summary.already_delivered += 1
            return "already"
        if row.state == "failed" and not row.retryable and not self.options.retry_failed:
            summary.failed += 1
            self.progress(f"{label}: failed earlier (HTTP {row.last_status}); --retry-failed to resend")
            return "failed"
        if self._closed is not None:
            summary.deferred += 1
            return "deferred"
        if self.options.server_validate and not self._server_validate(unit, row):
            summary.failed += 1
            return "failed"
        adopted = 0
        while True:
            try:
                self.guard.wait_turn()
            except EndpointClosed as exc:
                self._closed = exc
                self.progress(f"{label}: not sent: {exc}")
                summary.deferred += 1
                return "deferred"
            bundle, if_match = self._conditioned(unit)
            correlation_id = str(uuid.uuid4())
            attempt = self.journal.begin_attempt(row, correlation_id, if_match)
            try:
                result = self.client.post_bundle(bundle, row.request_id, correlation_id)
            except AuthError as exc:
                # No credentials, no request: record that, then stop the whole run (every Bundle would fail).
                self.journal.end_attempt(row, attempt, state="pending", status=None,
                                         error=f"not sent: authentication ({exc})"[:300], retryable=True)
                raise
            verdict = self._record(unit, row, attempt, result)
            if verdict == "transient":
                reason = result.error or f"HTTP {result.status}"
                self.guard.failed(reason, result.retry_after)
                log.info("%s: %s (request %s, try %s)", label, reason, row.request_id, correlation_id)
                continue
            self.guard.succeeded()
            # After a 412: someone changed a resource since we last saw it. When that someone was an older
            # request of ours (superseded, or this one's own unanswered try), send this newer content on top.
            if (verdict == "precondition" and adopted < 2 and if_match
                    and resolve_precondition_failure(self, unit, row, if_match)):
                adopted += 1
                continue
            break
        if verdict == "size":
            return "size"
        if row.state == "delivered":
            summary.delivered += 1
            self.progress(f"{label}: delivered ({unit.bundle.get('type')}, {len(unit.entries)} entries)")
            return "delivered"
        summary.failed += 1
        self.progress(f"{label}: failed ({row.last_error or row.last_status})")
        return "failed"

    def _conditioned(self, unit: Unit) -> tuple[dict[str, Any], dict[int, str]]:
        """The unit's Bundle with If-Match on each update whose current version we know, when the server
        states versioned updates for that type. The journal's content hash is of the unconditioned Bundle."""
        cap = self.guard.capability
        if not cap.versioned_update:
            return unit.bundle, {}
        refs = {e.ref: e.idx for e in unit.entries if e.ref and cap.versioned(e.resource_type)}
        known = self.journal.known_versions(self.client.endpoint, list(refs)) if refs else {}
        if not known:
            return unit.bundle, {}
        if_match = {refs[ref]: version for ref, version in known.items()}
        entries = list(unit.bundle["entry"])
        for idx, version in if_match.items():
            entries[idx] = {**entries[idx], "request": {**entries[idx]["request"], "ifMatch": f'W/"{version}"'}}
        return {**unit.bundle, "entry": entries}, if_match

    def _record(self, unit: Unit, row: Row, attempt: int, result: HttpResult) -> str:
        """Write the answer to the journal. Returns delivered | failed | transient | precondition | size."""
        from .trace import after_refusal, entry_outcomes_from_expression
        end = partial(self.journal.end_attempt, row, attempt, server_request_id=result.server_request_id)
        if result.status is None:
            if result.error == TLS_ERROR:
                end(state="failed", status=None, error=result.error, retryable=False)
                return "failed"
            end(state="pending", status=None, error=result.error, retryable=True)
            return "transient"
        status = result.status
        if 200 <= status < 300:
            parsed = parse_bundle_response(result.body, len(unit.entries))
            entry_results: list[EntryOutcome] = [
                (e.index, e.status, e.location.reference if e.location else None, slim_outcome(e.outcome))
                for e in parsed.entries]
            versions = [(e.index, unit.entries[e.index].ref or "", e.version) for e in parsed.entries
                        if e.ok and e.version and e.index < len(unit.entries) and unit.entries[e.index].ref]
            if parsed.problem:
                # A 2xx we cannot read: the data may or may not be stored; re-sending is safe.
                end(state="pending", status=status, error=f"unreadable response: {parsed.problem}",
                    retryable=True, entry_results=entry_results)
                return "transient"
            bad = [e for e in parsed.entries if not e.ok]
            if not bad:
                end(state="delivered", status=status, error=None, entry_results=entry_results,
                    versions=[(i, r, v) for i, r, v in versions if v])
                return "delivered"
            transient = all(e.status is not None and is_retryable_status(e.status) for e in bad)
            end(state="pending" if transient else "failed", status=status,
                error=f"{len(bad)} of {len(parsed.entries)} entries refused", retryable=transient,
                entry_results=entry_results, versions=[(i, r, v) for i, r, v in versions if v])
            return "transient" if transient else "failed"
        outcome = slim_outcome(result.body)
        if is_retryable_status(status):
            end(state="pending", status=status, error=f"HTTP {status}", retryable=True, outcome=outcome)
            return "transient"
        if status == 412:
            end(state="failed", status=status, retryable=False, outcome=outcome,
                error="HTTP 412: a resource changed on the server since the version we last saw (If-Match)")
            return "precondition"
        if status == 413 or (400 <= status < 500 and _SIZE_REFUSAL.search(_texts(result.body))):
            end(state="failed", status=status, retryable=False, outcome=outcome,
                error=f"HTTP {status}: refused for its size ({len(unit.entries)} entries in one request)")
            return "size"
        per_entry, whole = entry_outcomes_from_expression(outcome, len(unit.entries), status)
        end(state="failed", status=status, error=f"HTTP {status}", retryable=False, outcome=whole,
            entry_results=per_entry)
        if 400 <= status < 500:
            after_refusal(self, unit, row, whole, bool(per_entry))
        return "failed"

    def _server_validate(self, unit: Unit, row: Row) -> bool:
        """$validate each entry first; any error keeps the Bundle from being sent."""
        refused: list[EntryOutcome] = []
        for index, entry in enumerate(unit.bundle["entry"]):
            result = self.validate_resource(entry["resource"])
            if result.status in VALIDATE_ANSWER_CODES and isinstance(result.body, dict):
                if outcome_has_errors(result.body) or result.status != 200:
                    refused.append((index, result.status, None, slim_outcome(result.body)
                                    or {"resourceType": "OperationOutcome", "issue": [
                                        {"severity": "error", "code": "invalid",
                                         "details": {"text": f"$validate answered {result.status}"}}]}))
                continue
            problem = result.error or f"HTTP {result.status}"
            self.journal.mark(row, "failed", status=result.status, retryable=True,
                              error=f"server $validate unavailable ({problem})")
            return False
        if refused:
            self.journal.mark(row, "failed", status=refused[0][1],
                              error=f"server $validate refused {len(refused)} entr"
                                    f"{'y' if len(refused) == 1 else 'ies'}; not sent",
                              entry_results=refused)
            return False
        return True

    def validate_resource(self, resource: dict[str, Any]) -> HttpResult:
        """One `$validate`, retried on transient failures within the endpoint's clock."""
        attempt_no = 0
        while True:
            attempt_no += 1
            result = self.client.validate(resource, str(uuid.uuid4()))
            if result.status is not None and not is_retryable_status(result.status):
                return result
            wait = self.retry.delay(attempt_no, result.retry_after)
            if wait is None:
                return result
            self.retry.sleep(wait)


def _texts(body: Any) -> str:
    """The texts of an OperationOutcome (for recognising a refusal's kind; never stored)."""
    if not isinstance(body, dict):
        return ""
    parts = []
    for issue in body.get("issue") or []:
        if isinstance(issue, dict):
            details = issue.get("details")
            text = details.get("text") if isinstance(details, dict) else None
            parts += [str(text or ""), str(issue.get("diagnostics") or "")]
    return " ".join(parts)


def _field(node: Any, *path: str) -> Any:
    """node[path...] when every step is a JSON object, else None (input may be any JSON)."""
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
