"""errors.ndjson: one FHIR OperationOutcome per rejected row, as a Bulk Data error file is.

Each line keeps where the row came from, with no record value:
  - the OperationOutcome's extension `source-row` (file, line, record pointer, template, stage);
  - each issue's `location` ("FILE:LINE"), `expression` (the element), `details.text` (the message,
    which starts with "FILE:LINE column 'C'"), `details.coding` (the validator check or program rule)
    and the extension `source-column` (the export's column or columns).

The mapper keeps a flat record in memory (`RowResult.error_record()`); `to_outcome` writes it and
`from_outcome` reads it back, so readers (console, golden tests, report) see one shape.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import orjson

from fhiradapter.outcome import CHECK_SYSTEM

EXT_BASE = "https://fhiradapter.org/fhir/StructureDefinition"
EXT_ROW = f"{EXT_BASE}/source-row"
EXT_COLUMN = f"{EXT_BASE}/source-column"
_ROW_FIELDS = (("file", "valueString"), ("line", "valueInteger"), ("record", "valueString"),
               ("template", "valueString"), ("stage", "valueCode"))


def to_outcome(record: dict[str, Any]) -> dict[str, Any]:
    """A flat error record (file, line, record, template, stage, issues) as an OperationOutcome."""
    parts = [{"url": name, kind: record[name]} for name, kind in _ROW_FIELDS if record.get(name) is not None]
    where = record.get("file")
    if where is not None and record.get("line") is not None:
        where = f"{where}:{record['line']}"
    issues = []
    for item in record.get("issues", []):
        issue: dict[str, Any] = {"severity": item.get("severity", "error"), "code": item.get("code", "processing")}
        if item.get("column"):
            issue["extension"] = [{"url": EXT_COLUMN, "valueString": item["column"]}]
        details: dict[str, Any] = {"text": item.get("message", "")}
        rule = item.get("rule")
        if rule:
            # a rejected row's issues come from the validator (program rules never reject a row)
            details["coding"] = [{"system": CHECK_SYSTEM, "code": rule}]
        issue["details"] = details
        if where:
            issue["location"] = [where]
        if item.get("expression"):
            issue["expression"] = [item["expression"]]
        issues.append(issue)
    return {"resourceType": "OperationOutcome", "extension": [{"url": EXT_ROW, "extension": parts}],
            "issue": issues}


def from_outcome(outcome: dict[str, Any]) -> dict[str, Any]:
    """The flat record of one errors.ndjson line (the inverse of to_outcome)."""
    record: dict[str, Any] = {"file": None, "line": None}
    for ext in outcome.get("extension", []):
        if ext.get("url") == EXT_ROW:
            for part in ext.get("extension", []):
                kind = next((k for k in part if k.startswith("value")), None)
                if kind is not None:
                    record[part["url"]] = part[kind]
    record.setdefault("template", None)
    record.setdefault("stage", "map")
    issues = []
    for issue in outcome.get("issue", []):
        item: dict[str, Any] = {"severity": issue.get("severity"), "code": issue.get("code")}
        for ext in issue.get("extension", []):
            if ext.get("url") == EXT_COLUMN:
                item["column"] = ext.get("valueString")
        if issue.get("expression"):
            item["expression"] = issue["expression"][0]
        details = issue.get("details", {})
        item["message"] = details.get("text", "")
        if details.get("coding"):
            item["rule"] = details["coding"][0].get("code")
        issues.append(item)
    record["issues"] = issues
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
