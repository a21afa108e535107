"""Map the records of an input folder with a loaded Mapping, one row at a time.

`MappingRun.rows()` yields a `RowResult` per record read (mapped resources, or the row's errors);
the caller decides (e.g. after validation) and calls `settle(result, accepted)`, then `finish()`
yields the results of related (`index:`) rows, which are only known at the end. Every record read
ends up in exactly one RowResult, so rows read = rows mapped + rows rejected.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

from fhiradapter.ids import uuid5_text
from fhiradapter.members import member_key
from fhiradapter.outcome import Issue
from fhiradapter.part2 import mark as mark_part2
from fhiradapter.mapping.compiler import Ctx, RelatedSource
from fhiradapter.mapping.errors import FieldError, FieldErrors
from fhiradapter.mapping.loader import Mapping, Template
from fhiradapter.mapping.sources import (
    Record, SourceReadError, clear_cache, iter_csv, iter_json, iter_ndjson, read_csv_header,
)
from fhiradapter.mapping.values import as_text
from fhiradapter.provenance import PREFIX

_MEMBER_FIELDS = ("subject", "patient", "beneficiary")
_MEMBER_REF = re.compile(r"[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\-.]{1,64}")

# Exceptions one bad value can raise deep in a conversion (a 5,000-digit number, nesting too deep for
# recursion, a lone surrogate, a value out of range): the row is rejected, the run goes on.
ROW_FAULTS = (ValueError, TypeError, OverflowError, RecursionError, UnicodeError, KeyError, IndexError,
              AttributeError, ArithmeticError, MemoryError)


def fault_text(exc: BaseException) -> str:
    """What went wrong, without the value (exception texts often quote it)."""
    kinds = {RecursionError: "a value is nested too deeply", OverflowError: "a number is out of range",
             UnicodeError: "a value is not valid Unicode text", MemoryError: "a value is too large"}
    for kind, text in kinds.items():
        if isinstance(exc, kind):
            return text
    return f"a value cannot be converted ({type(exc).__name__})"


@dataclass(slots=True)
class RowResult:
    source: str
    file: str
    line: int | None
    resources: list[tuple[Template, dict[str, Any], str | None, str]] = field(default_factory=list)  # (template, resource, member, key)
    issues: list[dict[str, Any]] = field(default_factory=list)
    stage: str = "map"
    template: str | None = None
    pointer: str | None = None
    used: list[tuple[str, int]] = field(default_factory=list)
    counted: bool = True       # False for a whole-file problem (no row was read)
    intended: list[str] = field(default_factory=list)   # 'Type/id' a rejected row would have made (orphans.py)
    skipped: str | None = None   # the reason of the source's `skip:` condition the row met (not mapped, not rejected)

    @property
    def ok(self) -> bool:
        return not self.issues

    def error_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"file": self.file, "line": self.line}
        if self.pointer:
            record["record"] = self.pointer
        record.update({"template": self.template, "stage": self.stage, "issues": self.issues})
        return record


def row_issue(code: str, message: str, *, file: str, line: int | None, column: str | None = None,
              expression: str | None = None, value: Any = None, show_values: bool = False,
              severity: str = "error") -> dict[str, Any]:
    """One issue of errors.ndjson with the documented message shape (no value unless asked)."""
    where = f"{file}:{line}" if line is not None else file
    if column:
        where += f" column '{column}'" if ", " not in column else f" columns '{column}'"
    if expression:
        where += f" at {expression}"
    text = f"{where}: {message}"
    if show_values and value is not None:
        text += f" (value: {as_text(value)!r})"
    issue: dict[str, Any] = {"severity": severity, "code": code}
    if column:
        issue["column"] = column
    if expression:
        issue["expression"] = expression
    issue["message"] = text
    return issue


def to_issues(record: dict[str, Any]) -> list[Issue]:
    """The issues of one errors.ndjson line as fhiradapter.outcome.Issue (shared report formats)."""
    issues = []
    for item in record.get("issues", []):
        issues.append(Issue(severity=item.get("severity", "error"), code=item.get("code", "processing"),
                            message=item.get("message", ""), expression=item.get("expression"),
                            rule=item.get("rule"), source=record.get("file"), line=record.get("line")))
    return issues


def source_path(input_dir: Path, spec: dict[str, Any]) -> Path:
    return input_dir / str(spec["file"])


NOT_IN_HEADER = "column not in the file header"   # the compiled templates' message for an absent column


def _closest(column: str, header: list[str]) -> list[str]:
    """Header columns that look like `column`, case aside (an agency's `TeamOrgID` for `team_org_id`)."""
    lowered = {c.lower().replace("_", ""): c for c in header}
    close = difflib.get_close_matches(column.lower().replace("_", ""), list(lowered), n=2, cutoff=0.75)
    return [lowered[c] for c in close]


def open_records(path: Path, spec: dict[str, Any], raw: bool = False) -> Iterator[Any]:
    """raw: CSV rows as sources.CsvRow (a --jobs worker makes the Record)."""
    fmt = spec.get("format", "csv")
    encoding = spec.get("encoding", "utf-8")
    if fmt == "csv":   # an optional column the header lacks is in every row, empty
        return iter_csv(path, delimiter=spec.get("delimiter", ","), quote=spec.get("quote", '"'),
                        encoding=encoding, header=spec.get("header", True), fill=spec.get("optional_columns", ()),
                        raw=raw)
    optional = spec.get("required", True) is False   # `required: false`: the records may be missing too
    if fmt == "ndjson":
        return iter_ndjson(path, encoding=encoding, record_path=spec.get("record_path"), optional=optional)
    return iter_json(path, encoding=encoding, record_path=spec.get("record_path"), optional=optional)


class MappingRun:
    def __init__(self, mapping: Mapping, input_dir: str | Path, *, show_values: bool = False):
        self.mapping = mapping
        self.input_dir = Path(input_dir)
        self.show_values = show_values
        self.ctx = Ctx(mapping.timezone)
        # related rows: source -> list of state per row: None unused, True used by a mapped row,
        # False rejected (own error, or only used by rejected rows)
        self._related_state: dict[str, list[bool | None]] = {}
        self._related_lines: dict[str, list[int]] = {}
        self._related_own_errors: dict[tuple[str, int], bool] = {}
        self._pending: list[RowResult] = []
        self._good_members: set[str] = set()
        # optional sources whose file is not in the input folder: (source name, file) (issue 12 defect 8)
        self.absent: list[tuple[str, str]] = []
        # ids of `distinct:` templates' resources already written: a later row with that key adds nothing
        self.distinct_written: set[str] = set()
        # (file, column) -> " (did you mean 'x'?)" for columns the mapping reads that the header lacks
        self._close: dict[tuple[str, str], str] = {}

    # -- related sources ------------------------------------------------------------------------
    def _load_related(self) -> Iterator[RowResult]:
        for name in self.mapping.related_sources:
            spec = self.mapping.sources[name]
            file = spec["file"]
            related = RelatedSource(name, file)
            self.ctx.related[name] = related
            states: list[bool | None] = []
            lines: list[int] = []
            self._related_state[name] = states
            self._related_lines[name] = lines
            column = spec["index"]
            path = source_path(self.input_dir, spec)
            if not path.is_file():
                if spec.get("required", True):
                    yield self._file_problem(name, file, "file not found in the input folder")
                else:
                    self.absent.append((name, file))
                continue
            if spec.get("format", "csv") == "csv":
                yield from self._header_check(name, spec, path)
            try:
                for record in open_records(path, spec):
                    if record.problem is not None:
                        yield RowResult(name, file, record.line, stage="read", pointer=record.pointer, issues=[
                            row_issue(record.problem[0], record.problem[1], file=file, line=record.line)])
                        continue
                    data = record.data or {}
                    if column not in data and spec.get("format", "csv") == "csv":
                        yield RowResult(name, file, record.line, stage="read", issues=[row_issue(
                            "required", NOT_IN_HEADER + self._close.get((file, column), ""), file=file,
                            line=record.line, column=column)])
                        continue
                    key = as_text(data.get(column))
                    if key is not None and not isinstance(key, str):   # a JSON object or array: no index value
                        yield RowResult(name, file, record.line, stage="read", issues=[row_issue(
                            "structure", "the index value is not a single value", file=file, line=record.line,
                            column=column)])
                        continue
                    index = len(states)
                    states.append(None)
                    lines.append(record.line)
                    if key is None:
                        states[index] = False
                        self._pending.append(RowResult(name, file, record.line, issues=[row_issue(
                            "required", "required value is missing", file=file, line=record.line, column=column)]))
                        continue
                    related.groups.setdefault(key, []).append((index, record.line, data))
            except SourceReadError as exc:
                yield self._file_problem(name, file, exc.message, exc.line, exc.severity)

    def _file_problem(self, source: str, file: str, message: str, line: int | None = None,
                      severity: str = "error") -> RowResult:
        return RowResult(source, file, line, stage="read", counted=False,
                         issues=[row_issue("structure", message, file=file, line=line, severity=severity)])

    # -- rows -----------------------------------------------------------------------------------
    def rows(self) -> Iterator[RowResult]:
        for item in self.work():
            yield item if item.__class__ is RowResult else self.map_one(*item)  # type: ignore[misc]

    def work(self, raw: bool = False) -> Iterator[RowResult | tuple[str, str, Any, list[Template], str]]:
        """What rows() maps, in order: file problems and related-row results as RowResults, and each
        record to map as (source, file, record, templates, meta.source prefix). `--jobs` hands the
        records to worker processes (fhiradapter/parallel.py), CSV rows as read (raw: sources.CsvRow)."""
        yield from self._load_related()
        mapping = self.mapping
        for name in mapping.mapped_sources:
            spec = mapping.sources[name]
            file = spec["file"]
            path = source_path(self.input_dir, spec)
            templates = mapping.templates_of(name)
            if not path.is_file():
                if spec.get("required", True):
                    yield self._file_problem(name, file, "file not found in the input folder")
                else:
                    self.absent.append((name, file))
                continue
            self.ctx.strict_columns = spec.get("format", "csv") == "csv"
            if self.ctx.strict_columns:
                yield from self._header_check(name, spec, path)
            prefix = self.prefix(file)
            try:
                for record in open_records(path, spec, raw):
                    yield (name, file, record, templates, prefix)
            except SourceReadError as exc:
                yield self._file_problem(name, file, exc.message, exc.line, exc.severity)

    def prefix(self, file: str) -> str:
        """The meta.source of a resource from `file` is this plus its line."""
        return f"{PREFIX}{self.mapping.id}:{self.mapping.version}:{quote(file, safe='/')}:"

    def map_one(self, name: str, file: str, record: Record, templates: list[Template], prefix: str) -> RowResult:
        """One record mapped (here or in a --jobs worker): SUD data leaves labelled, with the § 2.32
        notice (fhiradapter/part2.py), before anything serializes it."""
        try:
            result = self._map_record(name, file, record, templates, prefix, self.mapping.skips.get(name, ()))
        except ROW_FAULTS as exc:   # one hostile value costs its row, not the run
            return self._row_fault(name, file, record, exc)
        if result.resources and not result.issues:
            for template, resource, _member, _key in result.resources:
                if template.part2:   # (decided per template: most can make no SUD data)
                    mark_part2(resource)
        return result

    def _header_check(self, name: str, spec: dict[str, Any], path: Path) -> Iterator[RowResult]:
        """What the header line lacks, said once per file, never per row: the file looks differently
        delimited or encoded than the source says; or columns the mapping reads are absent (each row
        needing one is rejected; the closest header column is suggested); or optional columns are
        absent (they read as empty: no row errors)."""
        from fhiradapter.mapping.check import columns_read
        from fhiradapter.mapping.sniff import sniff
        file = spec["file"]
        header_spec = spec.get("header", True)
        delimiter, encoding = spec.get("delimiter", ","), spec.get("encoding", "utf-8")
        if isinstance(header_spec, list):
            header = list(header_spec)
        else:
            try:
                header = read_csv_header(path, delimiter=delimiter, quote=spec.get("quote", '"'), encoding=encoding)
            except (OSError, UnicodeError, LookupError, SourceReadError):
                header = []
        optional = [c for c in spec.get("optional_columns", ()) if c not in header]
        wanted = columns_read(self.mapping).get(name, {})
        missing = [c for c in wanted if c not in header and c not in optional]
        if missing:
            hint = sniff(path, delimiter=delimiter, encoding=encoding) if header_spec is True else None
            if hint is not None:   # every row will say "column not in the file header": say why, once
                yield self._file_problem(name, file, f"the header lacks {len(missing)} of the {len(wanted)} "
                                         f"columns the mapping reads: {hint}", severity="warning")
                return
            if not header:
                return
            said = []
            for column in missing:
                close = _closest(column, header)
                self._close[(file, column)] = \
                    f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
                said.append(f"'{column}'{self._close[(file, column)]}")
            yield self._file_problem(name, file, f"the header lacks {'a column' if len(said) == 1 else 'columns'} "
                                     f"the mapping reads: {', '.join(said)}; rows that need "
                                     f"{'it' if len(said) == 1 else 'them'} are rejected", severity="warning")
        if optional and header:
            yield self._file_problem(name, file, f"the header lacks the optional column{'s' if len(optional) > 1 else ''} "
                                     f"{', '.join(optional)}: read as empty, so what "
                                     f"{'they feed is' if len(optional) > 1 else 'it feeds is'} left out",
                                     severity="warning")

    def _row_fault(self, source: str, file: str, record: Record, exc: BaseException) -> RowResult:
        self.ctx.used = []
        return RowResult(source, file, record.line, pointer=record.pointer, issues=[row_issue(
            "too-costly" if isinstance(exc, (RecursionError, MemoryError, OverflowError)) else "value",
            f"this row cannot be mapped: {fault_text(exc)}", file=file, line=record.line)])

    def constants(self) -> Iterator[RowResult]:
        """The mapping's constant resources (templates without source:), once per run: each one a
        result of its own whose file and line are the template's in the mapping file."""
        mapping = self.mapping
        ctx = self.ctx
        ctx.row, ctx.parents, ctx.used, ctx.strict_columns = {}, (), [], False
        for template in mapping.constants:
            file, line = template.origin or (mapping.path.name, 1)
            prefix = f"{PREFIX}{mapping.id}:{mapping.version}:{quote(file, safe='/')}:"
            yield self._map_template_only(template, file, line, prefix)

    def _map_template_only(self, template: Template, file: str, line: int, prefix: str) -> RowResult:
        result = RowResult("", file, line, [], [], counted=False)
        try:
            key = template.key(self.ctx)
            if key is None:
                raise FieldError("required", "source key is missing")
            body = template.body.fn(self.ctx) or {}
        except (FieldError, FieldErrors) as exc:
            self._add_errors(result, template, exc, file, line)
            return result
        result.resources.append((template, self._resource(template, uuid5_text(template.id_prefix + key), key,
                                                          body, prefix + str(line)), None, key))
        return result

    @staticmethod
    def _resource(template: Template, rid: str, key: str, body: dict[str, Any], source: str) -> dict[str, Any]:
        resource: dict[str, Any] = {"resourceType": template.resource_type, "id": rid}
        meta = body.pop("meta", None)
        meta = dict(meta) if isinstance(meta, dict) else {}   # a constant meta is shared: copy it
        meta["source"] = source
        resource["meta"] = meta
        existing = body.get("identifier")
        if existing is None:
            resource["identifier"] = [{"system": template.identifier_system, "value": key}]
        elif isinstance(existing, list) and not any(
                isinstance(i, dict) and i.get("system") == template.identifier_system for i in existing):
            body["identifier"] = [{"system": template.identifier_system, "value": key}] + existing
        resource.update(body)
        return resource

    def _map_record(self, source: str, file: str, record: Record, templates: list[Template], prefix: str,
                    skips: tuple[tuple[str, Any], ...] = ()) -> RowResult:
        line = record.line
        if record.problem is not None:
            return RowResult(source, file, line, stage="read", pointer=record.pointer,
                             issues=[row_issue(record.problem[0], record.problem[1], file=file, line=line)])
        ctx = self.ctx
        ctx.row = record.data or {}
        ctx.parents = record.parents
        if skips:
            skipped = self._skipped(source, file, record, skips)
            if skipped is not None:
                return skipped
        used: list[tuple[str, int]] = []
        ctx.used = used
        result = RowResult(source, file, line, [], [], pointer=record.pointer, used=used)
        resources = result.resources
        applied = 0
        for template in templates:
            rid: str | None = None
            try:
                if template.when is not None and not template.when(ctx):
                    continue
                applied += 1
                key = template.key(ctx)
                if key is None:
                    raise FieldError("required", "source key is missing",
                                     column=", ".join(template.key_columns) or None)
                rid = uuid5_text(template.id_prefix + key)
                if template.distinct and rid in self.distinct_written:
                    continue   # one resource per distinct key: made by an earlier row
                fast = template.fast
                if fast is not None:
                    mark = len(used)
                    try:
                        body = fast(ctx) or {}
                    except (FieldError, FieldErrors):
                        del used[mark:]                     # the closure tree re-reads the related rows
                        body = template.body.fn(ctx) or {}  # and names every error with its path
                else:
                    body = template.body.fn(ctx) or {}
                member = None
                if template.member is not None:
                    ref = template.member.fn(ctx)
                    member = ref.get("reference") if isinstance(ref, dict) else (ref if isinstance(ref, str) else None)
            except (FieldError, FieldErrors) as exc:
                self._add_errors(result, template, exc, file, line)
                if rid is not None:   # what references it is held back (orphans.py)
                    result.intended.append(f"{template.resource_type}/{rid}")
                continue
            # the row's own id is unique: computed directly, so the id cache keeps the references
            resource = self._resource(template, rid, key, body, prefix + str(line))
            member = member or member_key(resource)
            if member is not None and member not in self._good_members:
                if not _MEMBER_REF.fullmatch(member):   # it names the member's Bundle file: ids only
                    self._add_errors(result, template, FieldError(
                        "invalid", "the member reference is not Type/id with a valid FHIR id "
                        "([A-Za-z0-9-.]{1,64})"), file, line)
                    continue
                if len(self._good_members) >= 100_000:
                    self._good_members.clear()
                self._good_members.add(member)
            resources.append((template, resource, member, key))
        if applied == 0 and not result.issues:
            result.issues.append(row_issue("not-supported", "no resource template applies to this row",
                                           file=file, line=line))
        if result.issues:
            result.intended.extend(f"{t.resource_type}/{r['id']}" for t, r, _m, _k in resources)
            result.resources = []
        return result

    def _skipped(self, source: str, file: str, record: Record, skips: tuple[tuple[str, Any], ...]) -> RowResult | None:
        """The row's result when a `skip:` condition holds (left out on purpose: neither mapped nor
        rejected), or when testing one fails; None to map the row."""
        line = record.line
        for reason, test in skips:
            try:
                met = test(self.ctx)
            except FieldError as exc:
                result = RowResult(source, file, line, pointer=record.pointer)
                message = exc.message
                if message == NOT_IN_HEADER and exc.column:
                    message += self._close.get((file, exc.column), "")
                result.issues.append(row_issue(exc.code, message, file=file, line=line, column=exc.column,
                                               expression="(skip)"))
                return result
            if met:
                return RowResult(source, file, line, pointer=record.pointer, skipped=reason)
        return None

    def _add_errors(self, result: RowResult, template: Template, exc: Exception, file: str, line: int) -> None:
        errors = exc.errors if isinstance(exc, FieldErrors) else [exc]
        result.template = result.template or template.name
        for error in errors:
            assert isinstance(error, FieldError)
            path = error.path(template.resource_type)
            err_file = error.file or file
            err_line = error.line if error.file else line
            if error.file:  # the problem is in a related row: that row is rejected too
                source = next((s for s, spec in self.mapping.sources.items() if spec["file"] == error.file), None)
                if source is not None:
                    lines = self._related_lines.get(source, [])
                    for idx, related_line in enumerate(lines):
                        if related_line == error.line:
                            self._related_own_errors[(source, idx)] = True
                            break
            message = error.message
            if message == NOT_IN_HEADER and error.column:
                message += self._close.get((err_file, error.column), "")
            result.issues.append(row_issue(error.code, message, file=err_file, line=err_line,
                                           column=error.column, expression=path, value=error.value,
                                           show_values=self.show_values))

    def settle(self, result: RowResult, accepted: bool) -> None:
        """Record whether the related rows a row used went out (mapped) or not."""
        for source, index in result.used:
            states = self._related_state[source]
            if accepted and not self._related_own_errors.get((source, index)):
                states[index] = True
            elif states[index] is None:
                states[index] = False

    def finish(self) -> Iterator[RowResult]:
        """Results of related rows: mapped, or rejected (own error / parent rejected / orphan)."""
        clear_cache()
        pending = {(r.source, r.line): r for r in self._pending}
        for source in self.mapping.related_sources:
            spec = self.mapping.sources[source]
            file = spec["file"]
            column = spec["index"]
            for index, state in enumerate(self._related_state.get(source, [])):
                line = self._related_lines[source][index]
                if (source, line) in pending:
                    yield pending.pop((source, line))
                    continue
                if state is True:
                    yield RowResult(source, file, line)
                    continue
                if self._related_own_errors.get((source, index)):
                    message = "this row has errors (listed with the row that uses it)"
                    code = "processing"
                elif state is False:
                    message = "rejected together with the row that uses it"
                    code = "processing"
                else:
                    message = f"no row of the mapped sources matches this row's '{column}'"
                    code = "not-found"
                yield RowResult(source, file, line, issues=[row_issue(code, message, file=file, line=line, column=None)])
