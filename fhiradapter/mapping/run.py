"""map_input: read an export with a mapping, optionally validate, write the output folder.

Used by `fhiradapter map` (validate=False) and `fhiradapter run` (validate=True). Returns the
summary dict that is also written to summary.json (docs/mapping-language.md, Outputs).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

import orjson

from fhiradapter.gcpolicy import long_run
from fhiradapter.mapping.engine import MappingRun, RowResult, row_issue
from fhiradapter.mapping.loader import Mapping
from fhiradapter.mapping.orphans import ReferenceGraph, error_record as held_error
from fhiradapter.mapping.writers import OutputWriter, write_json
from fhiradapter.provenance import source_of

ProgressHook = Callable[[int], None]


@dataclass
class FileCount:
    read: int = 0
    mapped: int = 0
    rejected: int = 0


@dataclass
class Checks:
    """Validation glue: per-resource validator and per-member program rules (both optional)."""
    validator: Any = None
    run_rules: Any = None
    program: str | None = None
    timezone: str | None = None
    as_of: date | None = None   # evaluation date of the rules; None = the latest date of the whole input
    status: str = "off"
    findings: dict[str, int] = field(default_factory=lambda: {"error": 0, "warning": 0, "information": 0})
    # "codes not checked" notes already reported: one per element and value set per run, not per row
    not_checked_noted: set[tuple[str, str]] = field(default_factory=set)


def load_checks(program: str | None, timezone: str, show_values: bool = False) -> Checks:
    """The validator and the rules, imported lazily; a missing piece is reported, not fatal."""
    checks = Checks(program=program, timezone=timezone)
    parts = []
    try:
        from fhiradapter.validator import Validator  # type: ignore[attr-defined]
        checks.validator = Validator(rules=False, timezone=timezone, show_values=show_values)
        parts.append("profiles")
    except Exception as exc:  # ImportError, or a validator that cannot start: map anyway, say so
        checks.status = f"unavailable: validator ({type(exc).__name__}: {exc})"
    try:
        from fhiradapter.rules import run_rules  # type: ignore[attr-defined]
        checks.run_rules = run_rules
        parts.append("rules")
    except Exception as exc:
        note = f"rules ({type(exc).__name__}: {exc})"
        checks.status = f"{checks.status}; {note}" if checks.status.startswith("unavailable") else f"unavailable: {note}"
    if parts and not checks.status.startswith("unavailable"):
        checks.status = "+".join(parts)
    elif parts:
        checks.status = "+".join(parts) + " only; " + checks.status
    return checks


def _issue_dict(issue: Any, *, file: str, line: int | None, show_values: bool) -> dict[str, Any]:
    message = getattr(issue, "message", str(issue))
    return row_issue(getattr(issue, "code", "processing"), message, file=file, line=line,
                     expression=getattr(issue, "expression", None), severity=getattr(issue, "severity", "error"),
                     show_values=False) | ({"rule": issue.rule} if getattr(issue, "rule", None) else {})


def map_input(mapping: Mapping, input_dir: str | Path, out: str | Path, *, show_values: bool = False,
              bundles: bool = True, max_entries: int = 500, method: str = "put", validate: bool = False,
              checks: Checks | None = None, progress: ProgressHook | None = None,
              provenance_time: str | None = None) -> dict[str, Any]:
    out = Path(out)
    run = MappingRun(mapping, input_dir, show_values=show_values)
    if validate and checks is None:
        checks = load_checks(mapping.program, mapping.timezone, show_values)
    checks = checks if validate else None
    writer = OutputWriter(out, bundles=bundles, max_entries=max_entries, method=method, agency=mapping.agency,
                          provenance_time=provenance_time, mapping_label=f"{mapping.id} {mapping.version}",
                          keep_resources=checks is not None and checks.run_rules is not None)
    if checks is not None:
        checks.findings = {"error": 0, "warning": 0, "information": 0}   # counts are per run
    files: dict[str, FileCount] = {spec["file"]: FileCount() for spec in mapping.sources.values()}
    file_errors: list[str] = []
    graph = ReferenceGraph()   # what depends on a rejected or never-mapped resource is held back
    findings_handle = open(out / "findings.ndjson", "wb") if checks is not None else None
    with long_run():   # fewer collector passes over loaded profiles and held resources
        try:
            def account(result: RowResult) -> None:
                if not result.counted:
                    file_errors.append(result.issues[0]["message"])
                    writer.write_error(result.error_record())
                    return
                count = files.get(result.file)
                if count is None:   # (not setdefault: that would build a FileCount for every row)
                    count = files[result.file] = FileCount()
                count.read += 1
                if result.issues:
                    count.rejected += 1
                    writer.write_error(result.error_record())
                    for key in result.intended:
                        graph.rejected(key, result.file, result.line, result.pointer)
                else:
                    count.mapped += 1

            validator = checks.validator if checks is not None else None
            write_resource = writer.write_resource
            latest = _latest_date_tracker(checks)
            for result in run.rows():
                if validator is not None and result.resources and not result.issues:
                    _validate_row(result, checks, findings_handle, show_values)
                ok = not result.issues
                if ok:
                    for template, resource, member, key in result.resources:
                        write_resource(resource, member, (template.identifier_system, key))
                        graph.written(resource, result.file, result.line, result.pointer)
                        if latest is not None:
                            latest.add(resource)
                if result.used:
                    run.settle(result, ok)
                account(result)
                if progress is not None and result.counted:
                    progress(1)
            for result in run.finish():
                account(result)
                if progress is not None:
                    progress(1)

            _hold_back(graph, writer, files, {t.resource_type for t in mapping.templates})

            on_member = None
            if checks is not None and checks.run_rules is not None and findings_handle is not None:
                # the evaluation date is the export's end (issue 12 defect 3): set, else the latest date
                # of the whole input, not each member's own latest record
                as_of = checks.as_of or (latest.day if latest is not None else None)
                on_member = _rules_hook(checks, findings_handle, writer.shared_context, as_of,
                                        frozenset(name for name, _ in run.absent))
            writer.finish_bundles(on_member)
        finally:
            writer.close()
            if findings_handle is not None:
                findings_handle.close()

    totals = FileCount(sum(c.read for c in files.values()), sum(c.mapped for c in files.values()),
                       sum(c.rejected for c in files.values()))
    summary: dict[str, Any] = {
        "mapping": {"id": mapping.id, "version": mapping.version},
        "program": mapping.program,
        "rows": {"read": totals.read, "mapped": totals.mapped, "rejected": totals.rejected},
        "files": {name: {"read": c.read, "mapped": c.mapped, "rejected": c.rejected} for name, c in files.items()},
        "file_errors": file_errors,
        # an optional source file that is absent is not silent (issue 12 defect 8)
        "file_warnings": [f"{file}: not in the input folder, so no {name} are mapped; the {mapping.program} rules "
                          f"that need them report 'not evaluated'" for name, file in run.absent
                          if name in _needed_inputs(mapping.program)],
        "resources": dict(sorted(writer.counts.items())),
        "bundles": writer.bundle_count,
        "validation": checks.status if checks is not None else "off",
    }
    if checks is not None:
        summary["findings"] = checks.findings
    write_json(out / "summary.json", summary)
    return summary


def _needed_inputs(program: str | None) -> tuple[str, ...]:
    from fhiradapter.programs import program as program_row
    row = program_row(program) if program else None
    return row.inputs if row is not None else ()


def _hold_back(graph: ReferenceGraph, writer: OutputWriter, files: dict[str, FileCount],
               mapped_types: set[str]) -> None:
    """Take the rows whose resources reference a resource no output contains out of the output:
    reported in errors.ndjson ("held back: depends on FILE:LINE") and counted as rejected."""
    rows = graph.held_back(mapped_types)
    if not rows:
        return
    for row, why in sorted(rows.items(), key=lambda item: (item[0][0], item[0][1] or 0, item[0][2] or "")):
        writer.write_error(held_error(row, why))
        count = files.get(row[0])
        if count is not None:
            count.mapped -= 1
            count.rejected += 1
    writer.drop(graph.held_keys(rows))


def _validate_row(result: RowResult, checks: Checks, findings: Any, show_values: bool) -> None:
    """Profile-validate each resource of a mapped row; errors reject the row, the rest are findings."""
    errors: list[dict[str, Any]] = []
    for _template, resource, _member, _key in result.resources:
        try:
            # profiles come from the resource's meta.profile claims (the mapping decides: a stay
            # Encounter is no program contact and claims no program profile)
            issues = checks.validator.validate_resource(resource, source=result.file, line=result.line)
        except Exception as exc:  # a validator bug must not kill the run: reject the row, say why
            issues = [_Internal(f"validator failed on this resource ({type(exc).__name__})")]
        for issue in issues:
            if getattr(issue, "rule", None) == NOT_CHECKED:
                key = (_INDEX.sub("", issue.expression or ""), issue.message)
                if key in checks.not_checked_noted:
                    continue
                checks.not_checked_noted.add(key)
            record = _issue_dict(issue, file=result.file, line=result.line, show_values=show_values)
            if issue.severity in ("error", "fatal"):
                errors.append(record)
            else:
                severity = issue.severity if issue.severity in checks.findings else "information"
                checks.findings[severity] += 1
                if findings is not None:
                    findings.write(orjson.dumps({"member": None, "file": result.file, "line": result.line,
                                                 "stage": "validate", "issue": record}) + b"\n")
    if errors:
        result.intended.extend(f"{r['resourceType']}/{r['id']}" for _t, r, _m, _k in result.resources)
        result.issues = errors
        result.stage = "validate"
        result.template = result.resources[0][0].name
        result.resources = []


class _Internal:
    severity = "error"
    code = "exception"
    expression = None
    rule = None

    def __init__(self, message: str):
        self.message = message


NOT_CHECKED = "binding-not-checked"   # the validator's note for value sets it cannot expand offline
_INDEX = re.compile(r"\[\d+\]")

_WHERE_ID = re.compile(r"^([A-Z][A-Za-z]+)\.where\(id='((?:[^'\\]|\\.)*)'\)")


def _origin(issue: Any, resources: list[dict[str, Any]]) -> Any:
    """The meta.source of the resource a rule issue is about (by where(id=...) or entry index)."""
    match = _WHERE_ID.match(getattr(issue, "expression", None) or "")
    if match:
        for resource in resources:
            if resource.get("resourceType") == match.group(1) and resource.get("id") == match.group(2):
                return source_of(resource)
    entry = getattr(issue, "entry", None)
    if isinstance(entry, int) and 0 <= entry < len(resources):
        return source_of(resources[entry])
    return None


def _latest_date_tracker(checks: Checks | None) -> Any:
    """A rules.window.LatestDate when program rules will run, else None."""
    if checks is None or checks.run_rules is None:
        return None
    from fhiradapter.rules.window import LatestDate
    return LatestDate()


def _rules_hook(checks: Checks, findings: Any, shared: list[dict[str, Any]], as_of: date | None = None,
                absent: frozenset[str] = frozenset()) -> Callable[[str | None, list[dict[str, Any]]], None]:
    """Program rules per member; `shared` (practitioners, organizations, rosters) joins each record."""
    from fhiradapter.rules import RuleConfig   # importable: the hook exists only when run_rules loaded

    programs = {checks.program} if checks.program else None
    config = RuleConfig(timezone=checks.timezone, export_end=as_of, absent_inputs=absent)

    shared_refs = {(r.get("resourceType"), r.get("id")) for r in shared}
    reported_team_findings: set[tuple[Any, ...]] = set()

    def about_shared(issue: Any) -> tuple[Any, ...] | None:
        """A finding about a shared resource (a team roster) is the team's: key it to report it once."""
        match = _WHERE_ID.match(getattr(issue, "expression", None) or "")
        if match and (match.group(1), match.group(2)) in shared_refs:
            return (getattr(issue, "rule", None), issue.expression, getattr(issue, "message", None))
        return None

    def on_member(member: str | None, resources: list[dict[str, Any]]) -> None:
        if member is None:
            return  # shared resources (organizations, practitioners) are no member record
        try:
            member_record = resources + shared
            issues = checks.run_rules(member_record, programs=programs, config=config)
        except Exception as exc:
            issues = [_Internal(f"program rules failed on this member ({type(exc).__name__})")]
        for issue in issues:
            team_key = about_shared(issue)
            if team_key is not None:
                if team_key in reported_team_findings:
                    continue
                reported_team_findings.add(team_key)
            origin = _origin(issue, member_record)
            severity = getattr(issue, "severity", "error")
            key = severity if severity in checks.findings else ("error" if severity == "fatal" else "information")
            checks.findings[key] += 1
            record = {"member": None if team_key else member, "file": origin.file if origin else getattr(issue, "source", None),
                      "line": origin.line if origin else getattr(issue, "line", None), "stage": "rules",
                      "issue": issue.to_fhir() if hasattr(issue, "to_fhir") else {"severity": severity,
                                                                                   "message": issue.message}}
            findings.write(orjson.dumps(record) + b"\n")

    return on_member
