"""Test kit reports: a FHIR R4 TestReport, JUnit XML (CI systems), and a self-contained HTML page."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import jinja2

from .model import TestResult
from .run import GROUPS, KitRun

MAX_LISTED = 200   # failures listed per test; the count says how many more


def _detail(result: TestResult) -> str:
    lines = [f"{f.resource}{' at ' + f.element if f.element else ''}: {f.message}"
             + (f" ({f.origin})" if f.origin else "") for f in result.failures[:MAX_LISTED]]
    if len(result.failures) > MAX_LISTED:
        lines.append(f"... and {len(result.failures) - MAX_LISTED} more")
    return "\n".join(lines)


def test_report(kit: KitRun) -> bytes:
    counts = kit.counts
    judged = counts["pass"] + counts["fail"]
    report: dict[str, Any] = {
        "resourceType": "TestReport",
        "id": f"fhiradapter-testkit-{kit.program}",
        "name": f"fhiradapter {kit.program} test kit",
        "status": "completed",
        "testScript": {"display": f"fhiradapter {kit.program} conformance test kit"},
        "result": "fail" if counts["fail"] else "pass",
        "score": round(100.0 * counts["pass"] / judged, 1) if judged else 100.0,
        "tester": "fhiradapter testkit",
        "issued": kit.started.isoformat(timespec="seconds"),
        "participant": [{"type": "test-engine", "uri": "https://fhiradapter.org/testkit"},
                        {"type": "server" if kit.target.startswith("http") else "client",
                         "uri": kit.target if kit.target.startswith("http") else "urn:fhiradapter:files",
                         "display": kit.target[:200]}],
        "test": [],
    }
    for r in kit.results:
        assertion: dict[str, Any] = {"result": r.status, "message": r.message or r.title}
        detail = _detail(r)
        if detail:
            assertion["detail"] = detail
        report["test"].append({"name": r.id, "description": f"[{r.group}] {r.title}", "action": [{"assert": assertion}]})
    return json.dumps(report, indent=2, ensure_ascii=False).encode()


def junit_xml(kit: KitRun) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name={quoteattr("fhiradapter testkit " + kit.program)} tests="{len(kit.results)}" '
           f'failures="{kit.counts["fail"]}" skipped="{kit.counts["skip"]}">']
    for group, _title in GROUPS:
        tests = [r for r in kit.results if r.group == group]
        if not tests:
            continue
        fails = sum(r.status == "fail" for r in tests)
        skips = sum(r.status == "skip" for r in tests)
        out.append(f'  <testsuite name={quoteattr(group)} tests="{len(tests)}" failures="{fails}" skipped="{skips}">')
        for r in tests:
            out.append(f'    <testcase classname={quoteattr(kit.program + "." + group)} name={quoteattr(r.id)}>')
            if r.status == "fail":
                out.append(f'      <failure message={quoteattr(r.message)}>{escape(_detail(r))}</failure>')
            elif r.status == "skip":
                out.append(f'      <skipped message={quoteattr(r.message)}/>')
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


def html_report(kit: KitRun) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).with_name("templates"))),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    groups = [(g, title, [r for r in kit.results if r.group == g]) for g, title in GROUPS]
    return env.get_template("report.html").render(kit=kit, groups=[g for g in groups if g[2]], max_listed=MAX_LISTED)
