"""The send loop: validate locally, journal, deliver with retries, record the answer. Resumable.

For each unit (a request-sized Bundle): rows already `delivered` at this endpoint are skipped; rows
left `sending` by a killed run are re-sent with their original X-Request-Id (safe: every entry is a
PUT Type/id or a conditional create); `failed` rows are retried when their last failure was
transient, or when asked (`retry_failed`). The journal is committed before and after each request.
"""
from __future__ import annotations

import logging
import uuid
from functools import partial
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from fhiradapter.outcome import Issue, operation_outcome

from .auth import AuthError
from .client import FhirClient, HttpResult
from .gate import Checker, load_checker
from .inputs import Prepared, Unit, content_hash, discover, prepare
from .journal import EntryMeta, Journal, Row
from .responses import (VALIDATE_ANSWER_CODES, outcome_has_errors, parse_bundle_response, slim_outcome)
from .retry import RetryPolicy, is_retryable_status

log = logging.getLogger("fhiradapter.exchange")


@dataclass(slots=True)
class SendOptions:
    mode: str = "transaction"
    bundle_size: int = 100
    server_validate: bool = False
    retry_failed: bool = False


@dataclass(slots=True)
class RunSummary:
    files: int = 0
    units: int = 0
    delivered: int = 0            # delivered in this run
    already_delivered: int = 0    # found delivered in the journal
    failed: int = 0
    rejected_local: int = 0
    full_validation: bool = True  # always, now: `send --format json` keeps reporting it
    messages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.rejected_local == 0


class Sender:
    def __init__(self, client: FhirClient, journal: Journal, *, options: SendOptions | None = None,
                 retry: RetryPolicy | None = None, checker: Checker | None = None,
                 progress: Callable[[str], None] | None = None) -> None:
        self.client, self.journal = client, journal
        self.options = options or SendOptions()
        self.retry = retry or RetryPolicy()
        self.checker = checker or load_checker()
        self.progress = progress or (lambda message: None)

    def run(self, paths: list[str | Path]) -> RunSummary:
        self.journal.lock_for_sending()
        summary = RunSummary()
        for path in discover(paths):
            summary.files += 1
            prepared = prepare(path, mode=self.options.mode, size=self.options.bundle_size)
            self._send_file(prepared, summary)
        return summary

    # -- one input file ------------------------------------------------------------------------
    def _send_file(self, prepared: Prepared, summary: RunSummary) -> None:
        issues = list(prepared.issues)
        if prepared.original is not None and not any(i.is_error for i in issues):
            try:
                issues.extend(self.checker(prepared.original, prepared.file))
            except Exception as exc:  # a validator bug must not send unvalidated data
                issues.append(Issue("error", "exception",
                                    f"local validation failed to run ({type(exc).__name__})",
                                    source=prepared.file))
        if any(i.is_error for i in issues):
            self._reject_local(prepared, issues, summary)
            return
        for unit in prepared.units:
            summary.units += 1
            row = self.journal.register(endpoint=self.client.endpoint, hash=unit.hash, file=unit.file,
                                        part=unit.part, parts=unit.parts, mode=self.options.mode,
                                        entries=unit.entries)
            self._send_unit(unit, row, summary)

    def _reject_local(self, prepared: Prepared, issues: list[Issue], summary: RunSummary) -> None:
        errors = [i for i in issues if i.is_error]
        summary.rejected_local += 1
        # One row per input file (hash of what was read, or of the file name when unreadable).
        key_source: Any = prepared.original if prepared.original is not None else {"unreadable": prepared.file}
        entries = [EntryMeta(idx=i, resource_type=_field(e, "resource", "resourceType"),
                             method=_field(e, "request", "method"),
                             source=_field(_field(e, "resource", "meta"), "source"))
                   for i, e in enumerate(_field(prepared.original, "entry") or []) if isinstance(e, dict)]
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
    def _send_unit(self, unit: Unit, row: Row, summary: RunSummary) -> None:
        label = f"{unit.file} part {unit.part}/{unit.parts}"
        if row.state == "delivered":
            summary.already_delivered += 1
            return
        if row.state == "failed" and not row.retryable and not self.options.retry_failed:
            summary.failed += 1
            self.progress(f"{label}: failed earlier (HTTP {row.last_status}); --retry-failed to resend")
            return
        if self.options.server_validate and not self._server_validate(unit, row):
            summary.failed += 1
            return
        attempt_no = 0
        while True:
            attempt_no += 1
            attempt = self.journal.begin_attempt(row)
            try:
                result = self.client.post_bundle(unit.bundle, row.request_id)
            except AuthError as exc:
                # No credentials, no request: record that, then stop the whole run (every Bundle would fail).
                self.journal.end_attempt(row, attempt, state="pending", status=None,
                                         error=f"not sent: authentication ({exc})"[:300], retryable=True)
                raise
            done, retry_after = self._record(unit, row, attempt, result)
            if done:
                break
            wait = self.retry.delay(attempt_no, retry_after)
            if wait is None:
                self._give_up(row, result)
                break
            log.info("%s: %s, retrying in %.1fs (request %s)", label, result.error or result.status,
                     wait, row.request_id)
            self.retry.sleep(wait)
        if row.state == "delivered":
            summary.delivered += 1
            self.progress(f"{label}: delivered ({unit.bundle.get('type')}, {len(unit.entries)} entries)")
        else:
            summary.failed += 1
            self.progress(f"{label}: failed ({row.last_error or row.last_status})")

    def _record(self, unit: Unit, row: Row, attempt: int, result: HttpResult) -> tuple[bool, float | None]:
        """Write the answer to the journal. Returns (finished, retry_after)."""
        end = partial(self.journal.end_attempt, row, attempt, server_request_id=result.server_request_id)
        if result.status is None:
            end(state="pending", status=None, error=result.error, retryable=True)
            return False, None
        status = result.status
        if 200 <= status < 300:
            parsed = parse_bundle_response(result.body, len(unit.entries))
            entry_results = [(e.index, e.status, e.location.reference if e.location else None,
                              slim_outcome(e.outcome)) for e in parsed.entries]
            if parsed.problem:
                # A 2xx we cannot read: the data may or may not be stored; re-sending is safe.
                end(state="pending", status=status, error=f"unreadable response: {parsed.problem}",
                    retryable=True, entry_results=entry_results)
                return False, None
            bad = [e for e in parsed.entries if not e.ok]
            if not bad:
                end(state="delivered", status=status, error=None, entry_results=entry_results)
                return True, None
            transient = all(e.status is not None and is_retryable_status(e.status) for e in bad)
            end(state="pending" if transient else "failed", status=status,
                error=f"{len(bad)} of {len(parsed.entries)} entries refused", retryable=transient,
                entry_results=entry_results)
            return (not transient), None
        outcome = slim_outcome(result.body)
        if is_retryable_status(status):
            end(state="pending", status=status, error=f"HTTP {status}", retryable=True, outcome=outcome)
            return False, result.retry_after
        end(state="failed", status=status, error=f"HTTP {status}", retryable=False, outcome=outcome,
            entry_results=_entry_outcomes_from_expression(outcome, len(unit.entries), status))
        return True, None

    def _give_up(self, row: Row, result: HttpResult) -> None:
        """Out of tries for this run: `failed` but marked transient, so the next run tries again."""
        self.journal.mark(row, "failed", status=row.last_status, retryable=True,
                          error=(row.last_error or "gave up") + " (retries exhausted)",
                          outcome=slim_outcome(result.body))
        # keep retryable=1 (set by the last end_attempt) so a later run resumes it

    def _server_validate(self, unit: Unit, row: Row) -> bool:
        """$validate each entry first; any error keeps the Bundle from being sent."""
        refused: list[tuple[int, int | None, str | None, dict[str, Any] | None]] = []
        for index, entry in enumerate(unit.bundle["entry"]):
            resource = entry["resource"]
            attempt_no = 0
            while True:
                attempt_no += 1
                result = self.client.validate(resource, str(uuid.uuid4()))
                if result.status is not None and not is_retryable_status(result.status):
                    break
                wait = self.retry.delay(attempt_no, result.retry_after)
                if wait is None:
                    break
                self.retry.sleep(wait)
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


def _entry_outcomes_from_expression(outcome: dict[str, Any] | None, n: int,
                                    status: int) -> list[tuple[int, int | None, str | None, dict[str, Any] | None]]:
    """A whole-Bundle OperationOutcome whose issues name `Bundle.entry[i]`: file them per entry."""
    import re
    if not outcome:
        return []
    per: dict[int, list[dict[str, Any]]] = {}
    for issue in outcome.get("issue", []):
        texts = list(issue.get("expression") or []) + list(issue.get("location") or [])
        texts.append(str(issue.get("diagnostics") or ""))
        for text in texts:
            match = re.search(r"Bundle\.entry\[(\d+)\]", str(text))
            if match and int(match.group(1)) < n:
                per.setdefault(int(match.group(1)), []).append(issue)
                break
    return [(i, status, None, {"resourceType": "OperationOutcome", "issue": issues}) for i, issues in per.items()]


def _field(node: Any, *path: str) -> Any:
    """node[path...] when every step is a JSON object, else None (input may be any JSON)."""
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node
