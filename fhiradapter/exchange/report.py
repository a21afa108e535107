"""`status`: counts per state and every failure with the server's issues traced to file and row.

A server issue is tied to an entry either because it came in that entry's `response.outcome`
(batch/transaction responses, $validate per entry) or because its expression names
`Bundle.entry[i]`; the entry's `meta.source` (docs/design.md) then gives the input file and row.
"""
from __future__ import annotations

import re
from typing import Any

from fhiradapter.provenance import parse_source

from .journal import STATES, Journal

_ENTRY = re.compile(r"Bundle\.entry\[(\d+)\]")
_TYPE = re.compile(r"^[A-Z][A-Za-z]+\.")


def build_report(journal: Journal) -> dict[str, Any]:
    counts = journal.counts()
    rows = journal.rows()
    failures: list[dict[str, Any]] = []
    entry_totals = {state: 0 for state in STATES}
    for row in rows:
        entry_totals[row.state] += row.entries
        if row.state not in ("failed", "rejected-local"):
            continue
        item: dict[str, Any] = {
            "file": row.file, "part": row.part, "parts": row.parts, "state": row.state,
            "attempts": row.attempts, "last_status": row.last_status, "error": row.last_error,
            "request_id": row.request_id, "will_retry": row.retryable, "issues": [],
        }
        entries = journal.entries(row.id)
        for issue in (row.outcome or {}).get("issue", []):
            item["issues"].append(_whole_bundle_issue(issue, entries))
        for entry in entries:
            if entry["outcome"] is None:
                continue
            for issue in entry["outcome"].get("issue", []):
                if issue.get("severity") in ("error", "fatal", "warning"):
                    item["issues"].append(_issue(issue, entry))
        failures.append(item)
    return {"journal": str(journal.path), "bundles": counts, "entries": entry_totals,
            "total": sum(counts.values()), "failures": failures}


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
    details: dict[str, Any] = issue["details"] if isinstance(issue.get("details"), dict) else {}
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
                 + f" (total {report['total']})")
    entries = report["entries"]
    lines.append("entries: " + ", ".join(f"{state} {entries[state]}" for state in STATES))
    for failure in report["failures"]:
        part = f" part {failure['part']}/{failure['parts']}" if failure["parts"] > 1 else ""
        retry = "; retried on next send" if failure["will_retry"] else ""
        lines.append(f"{failure['state'].upper()} {failure['file']}{part}: {failure['error'] or ''}"
                     f" (attempts {failure['attempts']}{retry})")
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
    return "\n".join(lines)
