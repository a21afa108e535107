"""map_input: read an export with a mapping, optionally validate, write the output folder.

Used by `fhiradapter map` (validate=False) and `fhiradapter run` (validate=True). Returns the
summary dict that is also written to summary.json (docs/mapping-language.md, Outputs).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import orjson

from fhiradapter.gcpolicy import long_run
from fhiradapter.mapping.engine import MappingRun, RowResult, row_issue
from fhiradapter.mapping.loader import Mapping
from fhiradapter.mapping.engine import fault_text
from fhiradapter.mapping.orphans import (
    NOT_WRITTEN, ReferenceGraph, consent_error_record, error_record as held_error, template_references,
)
from fhiradapter.mapping.manifest import write_manifest
from fhiradapter.mapping.staging import staged
from fhiradapter.mapping.writers import OutputWriter, open_output, write_json
from fhiradapter.outcome import Issue
from fhiradapter.provenance import SourceRef, source_of

if TYPE_CHECKING:
    from fhiradapter.report.collect import WeeklyCounts
    from fhiradapter.validator import Validator

ProgressHook = Callable[[int], None]


@dataclass
class FileCount:
    read: int = 0
    mapped: int = 0
    rejected: int = 0
    skipped: int = 0


@dataclass
class Checks:
    """Validation glue: per-resource validator and per-member program rules."""
    validator: Validator | None = None
    run_rules: Callable[..., list[Issue]] | None = None
    program: str | None = None
    timezone: str | None = None
    as_of: date | None = None   # evaluation date of the rules; None = the latest date of the whole input
    status: str = "off"
    findings: dict[str, int] = field(default_factory=lambda: {"error": 0, "warning": 0, "information": 0})
    # "codes not checked" notes already reported: one per element and value set per run, not per row
    not_checked_noted: set[tuple[str, str]] = field(default_factory=set)


def load_checks(program: str | None, timezone: str, show_values: bool = False) -> Checks:
    """The validator (profiles) and the program rules, imported here so that `map` never loads them."""
    from fhiradapter.rules import run_rules
    from fhiradapter.validator import Validator
    # what we map goes to a payer: R4's stricter reading (a payer's server refuses control characters)
    return Checks(validator=Validator(rules=False, timezone=timezone, show_values=show_values, strict=True),
                  run_rules=run_rules, program=program, timezone=timezone, status="profiles+rules")


def _issue_dict(issue: Issue, *, file: str, line: int | None, show_values: bool) -> dict[str, Any]:
    return row_issue(issue.code, issue.message, file=file, line=line, expression=issue.expression,
                     severity=issue.severity, show_values=False) | ({"rule": issue.rule} if issue.rule else {})


def map_input(mapping: Mapping, input_dir: str | Path, out: str | Path, *, show_values: bool = False,
              bundles: bool = True, max_entries: int = 500, method: str = "put", validate: bool = False,
              checks: Checks | None = None, progress: ProgressHook | None = None,
              provenance_time: str | None = None, jobs: int | None = 1) -> dict[str, Any]:
    """jobs: worker processes (None = the machine's cores when the input is large enough, else 1);
    the output is the same whatever the number (fhiradapter/parallel.py)."""
    final = Path(out)
    with staged(final) as out:   # moved into OUT only when complete (staging.py)
        summary = _map_into(out, mapping, input_dir, show_values=show_values, bundles=bundles,
                            max_entries=max_entries, method=method, validate=validate, checks=checks,
                            progress=progress, provenance_time=provenance_time, jobs=jobs)
    return summary


def _map_into(out: Path, mapping: Mapping, input_dir: str | Path, *, show_values: bool, bundles: bool,
              max_entries: int, method: str, validate: bool, checks: Checks | None,
              progress: ProgressHook | None, provenance_time: str | None, jobs: int | None) -> dict[str, Any]:
    from fhiradapter import parallel
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
    skipped: dict[str, int] = {}   # skip reason -> rows
    graph = ReferenceGraph()   # what depends on a rejected or never-mapped resource is held back
    file_warnings: list[str] = []
    findings_handle = open_output(out, "findings.ndjson") if checks is not None else None
    # made before the workers fork, which take them over (the report package is imported once)
    gate = _release_gate(mapping.program)   # what may not go to the payer without consent
    latest = _latest_date_tracker()
    weekly = _weekly_counts(mapping.program)   # the report's weekly table, counted as written
    # a second row with the same source key would put two entries for one resource in a Bundle: the
    # reference graph knows each written resource and its row's line (_serialized asks it)
    workers = parallel.map_workers(mapping, input_dir, jobs, checks=checks, show_values=show_values)
    with long_run(), workers:   # fewer collector passes over loaded profiles and held resources
        try:
            def account(result: RowResult) -> None:
                if not result.counted:
                    if result.issues[0]["severity"] == "warning":
                        file_warnings.append(result.issues[0]["message"])
                        return
                    file_errors.append(result.issues[0]["message"])
                    writer.write_error(result.error_record())
                    return
                count = files.get(result.file)
                if count is None:   # (not setdefault: that would build a FileCount for every row)
                    count = files[result.file] = FileCount()
                count.read += 1
                if result.skipped is not None:
                    count.skipped += 1
                    skipped[result.skipped] = skipped.get(result.skipped, 0) + 1
                elif result.issues:
                    count.rejected += 1
                    writer.write_error(result.error_record())
                    for key in result.intended:
                        graph.rejected(key, result.file, result.line, result.pointer)
                else:
                    count.mapped += 1

            validator = checks.validator if checks is not None else None
            write_resource = writer.write_resource
            distinct_written = run.distinct_written
            for result in run.constants():   # the mapping's own resources (agency Organization, Location)
                if checks is not None and validator is not None and result.resources:
                    _validate_row(result, checks, findings_handle, show_values)
                lines = _serialized(result, graph) if not result.issues else None
                if lines is None:
                    file_errors.extend(issue["message"] for issue in result.issues)
                    writer.write_error(result.error_record())
                    graph_rejects = result.intended or [f"{t.resource_type}/{r['id']}" for t, r, _m, _k in result.resources]
                    for key in graph_rejects:
                        graph.rejected(key, result.file, result.line)
                    continue
                for (template, resource, member, key), line in zip(result.resources, lines):
                    write_resource(resource, member, (template.identifier_system, key), line)
                    graph.written(resource, result.file, result.line)
                    if weekly is not None and template.resource_type == "Encounter":
                        weekly.add(resource)
            for result in (run.rows() if workers.pool is None else workers.rows(run)):
                done = workers.prepared(result)   # what a worker process already did for this row (--jobs)
                if checks is not None and validator is not None and result.resources and not result.issues:
                    _validate_row(result, checks, findings_handle, show_values, done.found if done is not None else None)
                ok = not result.issues
                if ok:
                    lines = _serialized(result, graph, done.lines if done is not None else None)
                    ok = lines is not None
                if ok:
                    refs = done.refs if done is not None else None
                    dates = done.latest if done is not None else None
                    for n, ((template, resource, member, key), line) in enumerate(zip(result.resources, lines or ())):
                        if template.distinct:
                            distinct_written.add(resource["id"])
                        write_resource(resource, member, (template.identifier_system, key), line)
                        graph.written(resource, result.file, result.line, result.pointer,
                                      refs[n] if refs is not None else
                                      template_references(template.refs, resource) if template.read_refs is None else
                                      template.read_refs(resource))
                        if gate is not None:
                            gate.written(resource, member, template.part2,
                                         done.gate[n] if done is not None and done.gate else None)
                        if weekly is not None and template.resource_type == "Encounter":
                            if done is not None and done.weeks is not None:   # counted by the worker
                                fact = done.weeks[n]
                                if fact is not None:
                                    weekly.count(*fact)
                            else:
                                weekly.add(resource)
                        if latest is not None:
                            if dates is None:
                                latest.add(resource)
                            else:
                                latest.add_text(dates[n])
                if result.used:
                    run.settle(result, ok)
                account(result)
                if progress is not None and result.counted:
                    progress(1)
            for result in run.finish():
                account(result)
                if progress is not None:
                    progress(1)

            on_drop = weekly.remove if weekly is not None else None
            _hold_back(graph, writer, files, {t.resource_type for t in mapping.templates}, on_drop)
            if gate is not None:
                # the release date: --as-of, else the export's end (deterministic, unlike today); `map`
                # judges no dates (no evaluation date): any active permit consent naming a recipient counts
                release_day = (checks.as_of if checks is not None else None) or \
                    (latest.day if latest is not None else None)
                _hold_back_without_consent(graph, gate, writer, files, release_day, on_drop)

            on_member = None
            if checks is not None and checks.run_rules is not None and findings_handle is not None:
                # the evaluation date is the export's end (issue 12 defect 3): set, else the latest date
                # of the whole input, not each member's own latest record
                as_of = checks.as_of or (latest.day if latest is not None else None)
                on_member = workers.rules(RulesHook(checks, findings_handle, writer.shared_context, as_of,
                                                      frozenset(name for name, _ in run.absent)))
            writer.finish_bundles(on_member)
            if on_member is not None:
                on_member.flush()   # the members still with the workers
        finally:
            writer.close()
            graph.close()   # its scratch file, if it went to disk (not left to the collector)
            if findings_handle is not None:
                findings_handle.close()

    totals = FileCount(sum(c.read for c in files.values()), sum(c.mapped for c in files.values()),
                       sum(c.rejected for c in files.values()), sum(c.skipped for c in files.values()))
    # `skipped` appears when the mapping declares skip: conditions (rows read = mapped + rejected + skipped)
    skips = bool(mapping.skips)
    summary: dict[str, Any] = {
        "mapping": {"id": mapping.id, "version": mapping.version},
        "program": mapping.program,
        "rows": _counts(totals, skips),
        "files": {name: _counts(c, skips) for name, c in files.items()},
        **({"skipped": dict(sorted(skipped.items()))} if skips else {}),
        "file_errors": file_errors,
        # an optional source file that is absent is not silent (issue 12 defect 8)
        **({"file_warnings": warnings} if (warnings := file_warnings + [
            f"{file}: not in the input folder, so no {name} are mapped; the {mapping.program} rules "
            f"that need them report 'not evaluated'" for name, file in run.absent
            if name in _needed_inputs(mapping.program)]) else {}),
        "resources": dict(sorted(writer.counts.items())),
        "bundles": writer.bundle_count,
        "validation": checks.status if checks is not None else "off",
    }
    if checks is not None:
        summary["findings"] = checks.findings
    write_json(out / "summary.json", summary)
    from fhiradapter.report import write_run_report   # Jinja2 + pygal: loaded once the rows are done
    write_run_report(out, weekly=weekly)
    write_manifest(out, summary, command="run" if checks is not None else "map",
                   latest=latest.day if latest is not None else None, timezone=mapping.timezone)
    return summary


def _counts(count: FileCount, skips: bool) -> dict[str, int]:
    counts = {"read": count.read, "mapped": count.mapped, "rejected": count.rejected}
    if skips:
        counts["skipped"] = count.skipped
    return counts


def _needed_inputs(program: str | None) -> tuple[str, ...]:
    from fhiradapter.programs import program as program_row
    row = program_row(program) if program else None
    return row.inputs if row is not None else ()


def _hold_back(graph: ReferenceGraph, writer: OutputWriter, files: dict[str, FileCount],
               mapped_types: set[str], on_drop: Callable[[dict[str, Any]], None] | None = None) -> None:
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
    writer.drop(graph.held_keys(rows), on_drop)


def _release_gate(program: str | None) -> Any:
    """A release.ReleaseGate for the program's state, or None when no limit applies."""
    from fhiradapter.programs import program as program_row
    from fhiradapter.release import ReleaseGate
    row = program_row(program) if program else None
    gate = ReleaseGate(row.state if row is not None else None)
    return gate if gate.active else None


def _hold_back_without_consent(graph: ReferenceGraph, gate: Any, writer: OutputWriter,
                               files: dict[str, FileCount], day: date | None,
                               on_drop: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Take out what the state-limits table lets go only with the member's consent, when no consent
    permits it, with everything that references it (never half a member's Bundle); reported like a
    held-back orphan, with the law's citation."""
    withheld = {key: why for key, why in gate.withheld(day).items() if key not in writer.dropped}
    rows, keys, whole = graph.hold({f"{kind}/{rid}": why for (kind, rid), why in withheld.items()})
    if not rows:
        return
    dropped = writer.dropped
    for row, why in sorted(rows.items(), key=lambda item: (item[0][0], item[0][1] or 0, item[0][2] or "")):
        writer.write_error(consent_error_record(row, why))
        count = files.get(row[0])
        if count is not None and row in whole:   # a row that still gives other resources stays mapped
            count.mapped -= 1
            count.rejected += 1
    writer.drop(keys - dropped, on_drop)


def _serialized(result: RowResult, graph: ReferenceGraph, done: list[bytes] | None = None) -> list[bytes] | None:
    """The row's resources as JSON lines, or None after rejecting the row: an id that is no FHIR id
    (it names files and request URLs), a duplicate source key (a resource the graph has as written
    already), or a value that cannot be written (a lone surrogate, an integer past 64 bits, nesting
    too deep). Runs once per mapped row. done: the lines a worker process serialized (--jobs)."""
    lines: list[bytes] = []
    for template, resource, _member, _key in result.resources:
        rid = resource.get("id")
        if rid.__class__ is not str or not _fhir_id(rid):
            _reject(result, template.name, row_issue("invalid", "the resource id is not a valid FHIR id "
                                                     "([A-Za-z0-9-.]{1,64})", file=result.file, line=result.line))
            return None
        first = graph.written_line(f"{resource.get('resourceType')}/{rid}")
        if first is not NOT_WRITTEN:
            _reject(result, template.name, row_issue(
                "duplicate", f"the source key of template '{template.name}' was already used by line "
                f"{first} (one resource cannot come from two rows)", file=result.file, line=result.line))
            return None
        try:
            lines.append(orjson.dumps(resource) if done is None else done[len(lines)])
        except (TypeError, ValueError, RecursionError) as exc:
            why = str(exc) if isinstance(exc, orjson.JSONEncodeError) else fault_text(exc)  # orjson's never quotes the value
            _reject(result, template.name, row_issue("value", f"a value cannot be written as JSON ({why})",
                                                     file=result.file, line=result.line))
            return None
    return lines


def _reject(result: RowResult, template: str, issue: dict[str, Any]) -> None:
    result.issues = [issue]
    result.template = template
    result.resources = []


def resource_issues(validator: Validator, result: RowResult) -> list[list[Issue]]:
    """The validator's issues for each resource of a mapped row (in a worker process with --jobs)."""
    found = []
    for _template, resource, _member, _key in result.resources:
        try:
            # profiles come from the resource's meta.profile claims (the mapping decides: a stay
            # Encounter is no program contact and claims no program profile)
            found.append(validator.validate_resource(resource, source=result.file, line=result.line))
        except Exception as exc:  # a validator bug must not kill the run: reject the row, say why
            found.append([Issue("error", "exception", f"validator failed on this resource ({type(exc).__name__})")])
    return found


def _validate_row(result: RowResult, checks: Checks, findings: Any, show_values: bool,
                  found: list[list[Issue]] | None = None) -> None:
    """Profile-validate each resource of a mapped row (or take `found`, the issues a worker process
    computed); errors reject the row, the rest are findings. Runs in input order: the notes said
    once per run and the findings file depend on it."""
    errors: list[dict[str, Any]] = []
    validator = checks.validator
    assert validator is not None   # called only when the run validates
    for issues in (found if found is not None else resource_issues(validator, result)):
        for issue in issues:
            if issue.rule == NOT_CHECKED:
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


_fhir_id = re.compile(r"[A-Za-z0-9\-.]{1,64}").fullmatch
NOT_CHECKED = "binding-not-checked"   # the validator's note for value sets it cannot expand offline
_INDEX = re.compile(r"\[\d+\]")

def _origin(issue: Issue, resources: list[dict[str, Any]]) -> SourceRef | None:
    """The meta.source of the resource a rule issue is about (its target, or its entry index)."""
    t = issue.target
    if t is not None:
        for resource in resources:
            if resource.get("resourceType") == t.type and resource.get("id") == t.id:
                return source_of(resource)
    entry = issue.entry
    if isinstance(entry, int) and 0 <= entry < len(resources):
        return source_of(resources[entry])
    return None


def _weekly_counts(program: str | None) -> WeeklyCounts | None:
    """The run report's weekly contacts per member (report/collect.py), for a program it knows."""
    from fhiradapter.programs import program as program_row
    from fhiradapter.report.collect import WeeklyCounts   # (the report package loads Jinja2)
    return WeeklyCounts(program) if program and program_row(program) is not None else None


def _latest_date_tracker() -> Any:
    """An exportend.LatestDate: the export's end, for the rules and the manifest's transactionTime."""
    from fhiradapter.exportend import LatestDate   # (not via fhiradapter.rules: `map` loads no rules)
    return LatestDate()


def judge(run_rules: Callable[..., list[Issue]], member_record: list[dict[str, Any]], programs: set[str] | None,
          config: Any) -> list[Issue]:
    """The program rules' issues on one member record (in a worker process with --jobs)."""
    try:
        return run_rules(member_record, programs=programs, config=config)
    except Exception as exc:
        return [Issue("error", "exception", f"program rules failed on this member ({type(exc).__name__})")]


class RulesHook:
    """Program rules per member; `shared` (practitioners, organizations, rosters) joins each record.
    Called with each member's resources; `record` writes the findings in member order (with --jobs,
    parallel.py judges in workers and calls `record` in the same order)."""

    def __init__(self, checks: Checks, findings: Any, shared: list[dict[str, Any]], as_of: date | None = None,
                 absent: frozenset[str] = frozenset()) -> None:
        from fhiradapter.rules import RuleConfig   # importable: the hook exists only when run_rules loaded
        assert checks.run_rules is not None   # the hook is made only when the run checks rules
        self.checks = checks
        self.findings = findings
        self.run_rules = checks.run_rules
        self.programs = {checks.program} if checks.program else None
        self.as_of = as_of
        self.absent = absent
        self.config = RuleConfig(timezone=checks.timezone, export_end=as_of, absent_inputs=absent)
        self.shared = shared
        self._shared_refs = {(r.get("resourceType"), r.get("id")) for r in shared}
        self._reported_team_findings: set[tuple[Any, ...]] = set()

    def _about_shared(self, issue: Issue) -> tuple[Any, ...] | None:
        """A finding about a shared resource (a team roster) is the team's: key it to report it once."""
        t = issue.target
        if t is not None and (t.type, t.id) in self._shared_refs:
            return (issue.rule, issue.expression, issue.message)
        return None

    def __call__(self, member: str | None, resources: list[dict[str, Any]]) -> None:
        if member is None:
            return  # shared resources (organizations, practitioners) are no member record
        member_record = resources + self.shared
        self.record(member, member_record, judge(self.run_rules, member_record, self.programs, self.config))

    def record(self, member: str, member_record: list[dict[str, Any]], issues: list[Issue],
               origins: list[SourceRef | None] | None = None) -> None:
        """origins: each issue's _origin, when a worker process found them (--jobs)."""
        checks = self.checks
        for n, issue in enumerate(issues):
            team_key = self._about_shared(issue)
            if team_key is not None:
                if team_key in self._reported_team_findings:
                    continue
                self._reported_team_findings.add(team_key)
            origin = _origin(issue, member_record) if origins is None else origins[n]
            severity = issue.severity
            key = severity if severity in checks.findings else ("error" if severity == "fatal" else "information")
            checks.findings[key] += 1
            record = {"member": None if team_key else member, "file": origin.file if origin else issue.source,
                      "line": origin.line if origin else issue.line, "stage": "rules", "issue": issue.to_fhir()}
            self.findings.write(orjson.dumps(record) + b"\n")

    def flush(self) -> None:
        """Nothing is pending here (the parallel hook overrides it)."""

