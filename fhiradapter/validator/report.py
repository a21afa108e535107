"""Output formats of `fhiradapter validate`: text, json (OperationOutcome per input), junit."""
from __future__ import annotations

from typing import Iterable
from xml.sax.saxutils import escape, quoteattr

import orjson

from ..outcome import Issue, operation_outcome
from .runner import Result

SEVERITY_ORDER = {"fatal": 0, "error": 1, "warning": 2, "information": 3}


def text_line(issue: Issue, unplaced: str = "<input>") -> str:
    """`FILE[:LINE|#ENTRY]: SEVERITY EXPRESSION: message [rule]`, the text report line of every command."""
    where = issue.location_text() or unplaced
    loc = f" {issue.expression}" if issue.expression else ""
    rid = f" [{issue.rule}]" if issue.rule else ""
    return f"{where}: {issue.severity.upper()}{loc}: {issue.message}{rid}"


def text_report(result: Result, min_severity: str = "information") -> list[str]:
    limit = SEVERITY_ORDER[min_severity]
    return [text_line(i) for i in result.issues if SEVERITY_ORDER.get(i.severity, 3) <= limit]


def summary(results: list[Result]) -> str:
    counts = {"fatal": 0, "error": 0, "warning": 0, "information": 0}
    for r in results:
        for i in r.issues:
            counts[i.severity] = counts.get(i.severity, 0) + 1
    files = len(results)
    resources = sum(r.resources for r in results)
    bad = sum(1 for r in results if r.has_errors)
    verdict = "FAILED" if bad else "OK"
    return (f"{verdict}: {files} input(s), {resources} resource(s); {bad} input(s) with errors; "
            f"{counts['fatal'] + counts['error']} error(s), {counts['warning']} warning(s), "
            f"{counts['information']} information")


def json_outcome(result: Result) -> bytes:
    return orjson.dumps(operation_outcome(result.issues))


def junit(results: Iterable[Result]) -> str:
    results = list(results)
    failures = sum(1 for r in results if r.has_errors)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuite name="fhiradapter validate" tests="{len(results)}" failures="{failures}" errors="0">']
    for r in results:
        out.append(f"  <testcase classname=\"fhiradapter.validate\" name={quoteattr(r.source)}>")
        errors = [i for i in r.issues if i.is_error]
        if errors:
            body = "\n".join(text_line(i) for i in errors)
            out.append(f"    <failure message={quoteattr(f'{len(errors)} error(s)')}>{escape(body)}</failure>")
        others = [i for i in r.issues if not i.is_error]
        if others:
            out.append(f"    <system-out>{escape(chr(10).join(text_line(i) for i in others))}</system-out>")
        out.append("  </testcase>")
    out.append("</testsuite>")
    return "\n".join(out) + "\n"
