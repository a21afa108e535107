"""errors.ndjson: one FHIR OperationOutcome per rejected row, as a Bulk Data error file is.

Each line keeps where the row came from, in core R4 elements (no extension a reader would need a
definition for) and with no record value:
  - issue.location:    "FILE:LINE" (and the record pointer of a JSON export, "FILE:LINE POINTER");
  - issue.expression:  the FHIR element the issue is about;
  - issue.diagnostics: "FILE:LINE column 'C'", the export's column (or columns) when one is known;
  - issue.details:     the message (it starts with the same "FILE:LINE column 'C' at PATH"), and the
                       validator check (or profile constraint key) as a coding;
  - meta.tag:          the stage that rejected the row (read, map, validate, held-back) and the
                       mapping template.

The mapper keeps a flat record in memory (`RowResult.error_record()`); `to_outcome` writes it and
`from_outcome` reads it back, so readers (console, golden tests, report) see one shape.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import orjson

from fhiradapter.canonical import cs_url
from fhiradapter.outcome import CHECK_SYSTEM

STAGE_SYSTEM = cs_url("fhiradapter-row-stage")
TEMPLATE_SYSTEM = cs_url("fhiradapter-mapping-template")
_LOCATION = re.compile(r"^(?P<file>.*?):(?P<line>\d+)(?: (?P<record>.+))?$")
_COLUMN = re.compile(r" columns? '(?P<column>.*)'$")


def to_outcome(record: dict[str, Any]) -> dict[str, Any]:
    """A flat error record (file, line, record, template, stage, issues) as an OperationOutcome."""
    location = str(record.get("file"))
    if record.get("line") is not None:
        location += f":{record['line']}"
        if record.get("record"):
            location += f" {record['record']}"
    tags = [{"system": STAGE_SYSTEM, "code": record.get("stage") or "map"}]
    if record.get("template"):
        tags.append({"system": TEMPLATE_SYSTEM, "code": record["template"]})
    issues = []
    for item in record.get("issues", []):
        issue: dict[str, Any] = {"severity": item.get("severity", "error"), "code": item.get("code", "processing")}
        details: dict[str, Any] = {"text": item.get("message", "")}
        if item.get("rule"):
            details["coding"] = [_rule_coding(item["rule"])]
        issue["details"] = details
        column = item.get("column")
        if column:
            issue["diagnostics"] = f"{location} {'columns' if ', ' in column else 'column'} '{column}'"
        issue["location"] = [location]
        if item.get("expression"):
            issue["expression"] = [item["expression"]]
        issues.append(issue)
    return {"resourceType": "OperationOutcome", "meta": {"tag": tags}, "issue": issues}


def _rule_coding(rule: str) -> dict[str, str]:
    """A rejected row's issues come from the validator (program rules never reject a row): a check of
    its catalogue (CodeSystem validator-check), else a profile constraint key (no code system)."""
    from fhiradapter.validator.checks.catalogue import BY_ID   # loaded: the run validates
    return {"system": CHECK_SYSTEM, "code": rule} if rule in BY_ID else {"code": rule}


def from_outcome(outcome: dict[str, Any]) -> dict[str, Any]:
    """The flat record of one errors.ndjson line (the inverse of to_outcome)."""
    record: dict[str, Any] = {"file": None, "line": None}
    issues = outcome.get("issue") or [{}]
    location = (issues[0].get("location") or [""])[0]
    found = _LOCATION.match(location)
    if found:
        record["file"], record["line"] = found["file"], int(found["line"])
        if found["record"]:
            record["record"] = found["record"]
    else:
        record["file"] = location or None
    tags = {t.get("system"): t.get("code") for t in (outcome.get("meta") or {}).get("tag", [])}
    record["template"] = tags.get(TEMPLATE_SYSTEM)
    record["stage"] = tags.get(STAGE_SYSTEM, "map")
    flat = []
    for issue in outcome.get("issue", []):
        item: dict[str, Any] = {"severity": issue.get("severity"), "code": issue.get("code")}
        column = _COLUMN.search(issue.get("diagnostics") or "")
        if column:
            item["column"] = column["column"]
        if issue.get("expression"):
            item["expression"] = issue["expression"][0]
        details = issue.get("details", {})
        item["message"] = details.get("text", "")
        if details.get("coding"):
            item["rule"] = details["coding"][0].get("code")
        flat.append(item)
    record["issues"] = flat
    return record


def read_errors(path: str | Path) -> Iterator[dict[str, Any]]:
    """The flat records of an errors.ndjson file (an OUT folder: its errors.ndjson)."""
    path = Path(path)
    if path.is_dir():
        path = path / "errors.ndjson"
    if not path.is_file():
        return
    with open(path, "rb") as handle:
        for line in handle:
            if line.strip():
                yield from_outcome(orjson.loads(line))


def count_lines(path: Path) -> int:
    if not path.is_file():
        return 0
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())
