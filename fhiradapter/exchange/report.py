"""`status`: counts per state and every failure with the server's issues traced to file and row.

A server issue is tied to an entry either because it came in that entry's `response.outcome`
(batch/transaction responses, $validate per entry) or because its expression names
`Bundle.entry[i]`; the entry's `meta.source` (docs/design.md) then gives the input file and row.
"""
from __future__ import annotations

import re
import time
from typing import Any

from fhiradapter.provenance import parse_source

from .endpoint import when
from .journal import STATES, Journal

_ENTRY = re.compile(r"Bundle\.entry\[(\d+)\]")
_TYPE = re.compile(r"^[A-Z][A-Za-z]+\.")


def build_report(journal: Journal) -> dict[str, Any]:
    counts = journal.counts()
    rows = journal.rows()
    failures: list[dict[str, Any]] = []
    entry_totals = {state: 0 for state in STATES}
    held_after_refusal = 0
    for row in rows:
        entry_totals[row.state] += row.entries
        waiting = row.state in ("pending", "sending") and row.attempts > 0
        if row.state not in ("failed", "rejected-local") and not waiting:
            continue
        attempts = journal.attempts(row.id)
        last = attempts[-1] if attempts else {}
        item: dict[str, Any] = {
            "file": row.file, "part": row.part, "parts": row.parts, "state": row.state,
            "attempts": row.attempts, "last_status": row.last_status, "error": row.last_error,
            "request_id": row.request_id, "correlation_id": last.get("correlation_id"),
            "server_request_id": last.get("server_request_id"),
            "will_retry": row.retryable or waiting, "issues": [],
        }
        entries = journal.entries(row.id)
        found = [_whole_bundle_issue(issue, entries) for issue in (row.outcome or {}).get("issue", [])]
        for entry in entries:
            if entry["outcome"] is None:
                continue
            found += [_issue(issue, entry) for issue in entry["outcome"].get("issue", [])
                      if issue.get("severity") in ("error", "fatal", "warning")]
        seen: set[str] = set()
        for issue in found:
            key = repr(sorted(issue.items()))
            if key not in seen:   # one issue, one line: never printed twice
                seen.add(key)
                item["issues"].append(issue)
        held = [e for e in entries if e.get("held")]
        if held:
            item["held"] = [{"entry": e["idx"], "resource": e["ref"], "held": e["held"],
                             **_origin(e)} for e in held]
            held_after_refusal += sum(1 for e in held if str(e["held"]).startswith("stored"))
        failures.append(item)
    in_doubt = []
    for row in journal.in_doubt():
        attempts = journal.attempts(row.id)
        in_doubt.append({"file": row.file, "part": row.part, "parts": row.parts, "request_id": row.request_id,
                         "attempts": row.attempts, "last_sent": attempts[-1]["started_at"] if attempts else None,
                         "correlation_ids": [a["correlation_id"] for a in attempts if a["correlation_id"]]})
    endpoints = []
    for state in journal.endpoints():
        if state.not_before > time.time() or state.failures:
            endpoints.append({"endpoint": state.endpoint, "failures": state.failures, "reason": state.reason,
                              "not_before": when(state.not_before) if state.not_before else None})
    return {"journal": str(journal.path), "bundles": counts, "entries": entry_totals,
            "total": sum(counts.values()), "in_doubt": in_doubt, "held_after_refusal": held_after_refusal,
            "endpoints": endpoints, "failures": failures}


def _origin(entry: dict[str, Any]) -> dict[str, Any]:
    origin = parse_source(entry["source"])
    return {"source_file": origin.file, "source_line": origin.line} if origin is not None else {}


def _whole_bundle_issue(issue: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A Bundle-level issue: tie it to an entry when its expression names one (`Bundle.entry[i]`) or
    its resource type matches exactly one entry; otherwise list the entries it may concern."""
    expressions = [str(e) for e in issue.get("expression") or []] + [str(issue.get("diagnostics") or "")]
    for text in expressions:
        match = _ENTRY.search(text)
        if match and int(match.group(1)) < len(entries):
            return _issue(issue, entries[int(match.group(1))])
    types = {text.split(".", 1)[0] for text in expressions if _TYPE.match(text)}
    candidates = [e for e in entries if e["resource_type"] in types]
    if len(candidates) == 1:
        return _issue(issue, candidates[0])
    out = _issue(issue, None)
    places = []
    for entry in candidates:
        origin = parse_source(entry["source"])
        places.append(f"{origin.file}:{origin.line}" if origin else f"entry {entry['idx']}")
    if places:
        out["candidates"] = places
    return out


def _issue(issue: dict[str, Any], entry: dict[str, Any] | None) -> dict[str, Any]:
    raw_details = issue.get("details")
    details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
    out: dict[str, Any] = {
        "severity": issue.get("severity"), "code": issue.get("code"),
        "message": details.get("text") or issue.get("diagnostics") or "",
        "expression": list(issue.get("expression") or []),
    }
    if entry is not None:
        out["entry"] = entry["idx"]
        out["resource_type"] = entry["resource_type"]
        origin = parse_source(entry["source"])
        if origin is not None:
            out["source_file"], out["source_line"] = origin.file, origin.line
    return out


def format_text(report: dict[str, Any]) -> str:
    lines = [f"journal {report['journal']}"]
    counts = report["bundles"]
    lines.append("bundles: " + ", ".join(f"{state} {counts[state]}" for state in STATES)
                 + f", in doubt {len(report['in_doubt'])} (total {report['total']})")
    entries = report["entries"]
    lines.append("entries: " + ", ".join(f"{state} {entries[state]}" for state in STATES)
                 + (f"; {report['held_after_refusal']} of the refused stayed stored on the server"
                    if report["held_after_refusal"] else ""))
    for endpoint in report["endpoints"]:
        wait = f"; nothing is sent before {endpoint['not_before']}" if endpoint["not_before"] else ""
        lines.append(f"ENDPOINT {endpoint['endpoint']}: {endpoint['failures']} failure(s) in a row "
                     f"(last: {endpoint['reason']}){wait}")
    for doubt in report["in_doubt"]:
        part = f" part {doubt['part']}/{doubt['parts']}" if doubt["parts"] > 1 else ""
        lines.append(f"IN DOUBT {doubt['file']}{part}: superseded content sent {doubt['last_sent']} and never "
                     f"answered; it may still land and overwrite newer data (`send --verify` checks and repairs;"
                     f" request {doubt['request_id']})")
    for failure in report["failures"]:
        part = f" part {failure['part']}/{failure['parts']}" if failure["parts"] > 1 else ""
        retry = "; retried on next send" if failure["will_retry"] else ""
        ids = f"; request {failure['request_id']}"
        if failure.get("correlation_id"):
            ids += f", last try {failure['correlation_id']}"
        lines.append(f"{failure['state'].upper()} {failure['file']}{part}: {failure['error'] or ''}"
                     f" (attempts {failure['attempts']}{retry}{ids})")
        for issue in failure["issues"]:
            where = ""
            if issue.get("source_file"):
                where = f"{issue['source_file']}:{issue['source_line']} "
            elif issue.get("entry") is not None:
                where = f"entry {issue['entry']} "
            elif issue.get("candidates"):
                where = f"(one of {', '.join(issue['candidates'][:5])}) "
            kind = f"{issue.get('resource_type')} " if issue.get("resource_type") else ""
            expr = f" [{', '.join(issue['expression'])}]" if issue["expression"] else ""
            lines.append(f"  {issue['severity']} {where}{kind}{issue['code']}: {issue['message']}{expr}")
        for held in failure.get("held", []):
            if str(held["held"]).startswith("stored"):
                origin = f" ({held['source_file']}:{held['source_line']})" if held.get("source_file") else ""
                lines.append(f"  kept by the server although refused: {held['resource']}{origin} {held['held']}")
    return "\n".join(lines)
