"""`mapping check` lint beyond the schema, and `mapping explain` (columns -> elements)."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fhiradapter.mapping.loader import Mapping
from fhiradapter.mapping.sniff import sniff
from fhiradapter.mapping.sources import SourceReadError, read_csv_header
from fhiradapter.mapping.yamllines import line_of


@dataclass
class Finding:
    severity: str   # error | warning
    where: str
    message: str
    file: str | None = None    # the mapping file or fragment that holds `where`
    line: int | None = None

    def location(self, default: str) -> str:
        file = self.file or default
        return f"{file}:{self.line}" if self.line else file


def columns_read(mapping: Mapping) -> dict[str, dict[str, list[str]]]:
    """source -> column -> where the mapping reads it ("template 'visit' at Encounter.period")."""
    found: dict[str, dict[str, list[str]]] = {}
    for use in mapping.uses:
        for column in use.columns:
            source, _, col = column.partition(".")
            what = use.template if use.template.startswith("skip:") else f"template '{use.template}'"
            found.setdefault(source, {}).setdefault(col, []).append(f"{what} at {use.element}")
    for template in mapping.templates:
        if template.source is not None:
            for col in template.key_columns:
                found.setdefault(template.source, {}).setdefault(col, []).append(
                    f"template '{template.name}' key")
    for name, spec in mapping.sources.items():
        if spec.get("index"):
            found.setdefault(name, {}).setdefault(spec["index"], []).append("index:")
    return found


def _header_from_tests(mapping: Mapping, spec: dict[str, Any]) -> tuple[Path, str] | None:
    """The source's file in the input folder of the mapping's first golden test that has it."""
    for test in mapping.tests:
        path = Path(test["input"]) / spec["file"]
        if path.is_file():
            return path, f"the test data {_shown(path)}"
    return None


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def header_findings(sources: dict[str, dict[str, Any]], input_dir: Path, label: str,
                    source_where: dict[str, tuple[str, str, str]] | None = None) -> list[Finding]:
    """Declared `columns:` against the header line of each CSV file in `input_dir`, with what the
    file looks like when they differ (delimiter, encoding). Needs only the source specs, so it runs
    also when the mapping has other problems. `source_where` gives each source's file and line."""
    findings = []
    for name, spec in sources.items():
        file, where, text = (source_where or {}).get(name, (label, f"sources.{name}", ""))
        line = line_of(text, where) if text else None
        declared = spec.get("columns")
        path = input_dir / str(spec.get("file", ""))
        if not declared or spec.get("format", "csv") != "csv" or not path.is_file():
            continue
        delimiter, encoding = spec.get("delimiter", ","), spec.get("encoding", "utf-8")
        hint = sniff(path, delimiter=delimiter, encoding=encoding)
        try:
            header = read_csv_header(path, delimiter=delimiter, quote=spec.get("quote", '"'), encoding=encoding)
        except (OSError, UnicodeDecodeError, LookupError, SourceReadError) as exc:
            findings.append(Finding("error", f"sources.{name}", f"cannot read the header of {spec['file']} ({exc})"
                                    + (f": {hint}" if hint else ""), file, line))
            continue
        optional = spec.get("optional_columns", ())
        absent = [c for c in declared if c not in header and c not in optional]
        lacking = [c for c in optional if c not in header]
        if lacking and header and not (absent and hint):   # not an error: they read as empty
            findings.append(Finding("warning", f"sources.{name}", f"optional column{'s' if len(lacking) > 1 else ''} "
                                    f"{', '.join(lacking)} not in the header of {spec['file']}: read as empty",
                                    file, line))
        if not absent:
            continue
        if hint:
            findings.append(Finding("error", f"sources.{name}", f"the header of {spec['file']} does not hold the "
                                    f"declared columns ({len(absent)} of {len(declared)} missing): {hint}", file, line))
        else:
            for column in absent:
                findings.append(Finding("error", f"sources.{name}", f"declared column '{column}' is not in the header "
                                        f"of {spec['file']}" + _close(column, header), file, line))
    return findings


def lint(mapping: Mapping, input_dir: Path | None = None) -> list[Finding]:
    """Problems a loaded (schema-valid, compiled) mapping still has. The columns it reads are checked
    against each CSV source's header: the declared `columns:`, else the file in `input_dir`, else the
    file in the mapping's test data (so a misspelled column fails without an export at hand)."""
    findings: list[Finding] = []
    used_lookups = {name for u in mapping.uses for name in u.lookups}
    for name in mapping.lookups:
        if name not in used_lookups:
            findings.append(Finding("warning", f"lookups.{name}", "lookup is never used"))
    for name, spec in mapping.sources.items():
        if spec.get("index") and not any(u.rows_of == name for u in mapping.uses):
            findings.append(Finding("warning", f"sources.{name}", "related source is never used by $each"))
    read = columns_read(mapping)
    for name, spec in mapping.sources.items():
        if spec.get("format", "csv") != "csv":
            continue
        label, where, text = mapping.source_where.get(name, (str(mapping.path), f"sources.{name}", ""))
        line = line_of(text, where) if text else None

        def finding(severity: str, message: str, at: str = where, label: str = label, text: str = text,
                    line: int | None = line) -> None:
            findings.append(Finding(severity, at, message, label, line_of(text, at) if text else line))

        path: Path | None = None
        header = spec.get("header", True)
        if isinstance(header, list):
            columns, origin = list(header), "its header: list"
        elif "columns" in spec and input_dir is None:
            columns, origin = list(spec["columns"]), "its declared columns:"
        else:
            if input_dir is not None:
                path, origin = input_dir / spec["file"], f"the header of {spec['file']}"
                if not path.is_file():
                    if spec.get("required", True):
                        finding("error", f"{spec['file']} not found in {input_dir}")
                    continue
            else:
                found = _header_from_tests(mapping, spec)
                if found is None:
                    continue   # nothing to compare with: declare columns: (or give --input)
                path, origin = found[0], f"the header of {found[1]}"
            try:
                columns = read_csv_header(path, delimiter=spec.get("delimiter", ","), quote=spec.get("quote", '"'),
                                          encoding=spec.get("encoding", "utf-8"))
            except (OSError, UnicodeDecodeError, SourceReadError) as exc:
                hint = sniff(path, delimiter=spec.get("delimiter", ","), encoding=spec.get("encoding", "utf-8"))
                finding("error", f"cannot read the header of {spec['file']} ({exc})" + (f": {hint}" if hint else ""))
                continue
            if "columns" in spec:
                declared = list(spec["columns"])
                for column in declared:
                    if column not in columns and column not in spec.get("optional_columns", ()):
                        finding("error", f"declared column '{column}' is not in {origin}" + _close(column, columns),
                                f"{where}.columns")
        wanted = read.get(name, {})
        missing = [c for c in wanted if c not in columns and c not in spec.get("optional_columns", ())]
        hint = sniff(path, delimiter=spec.get("delimiter", ","), encoding=spec.get("encoding", "utf-8")) \
            if missing and path is not None else None
        if hint and 2 * len(missing) > len(wanted):   # a wrong delimiter or encoding, not typos: say that once
            finding("error", f"{len(missing)} of the {len(wanted)} columns the mapping reads are not in {origin}: {hint}")
            continue
        for column in sorted(missing):
            finding("error", f"column '{column}' ({'; '.join(sorted(set(wanted[column]))[:2])}) is not in "
                    f"{origin}" + _close(column, columns))
        if hint:
            finding("error", f"{spec['file']}: {hint}")
        if path is not None and input_dir is not None:
            for column in columns:
                if column not in wanted:
                    finding("warning", f"column '{column}' of {spec['file']} is not mapped")
    return findings


def _close(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def explain_rows(mapping: Mapping) -> list[dict[str, str]]:
    """One row per (template, element): the source columns that feed it and how; an optional column
    (`optional_columns:`, the export may lack it) is marked `?`."""
    rows: list[dict[str, str]] = []

    def shown(columns: tuple[str, ...]) -> str:
        marked = []
        for column in columns:
            source, _, col = column.partition(".")
            optional = col in mapping.sources.get(source, {}).get("optional_columns", ())
            marked.append(column + "?" if optional else column)
        return ", ".join(marked)

    for template in mapping.templates:
        source_file = mapping.sources[template.source]["file"] if template.source is not None else "the mapping, once per run"
        rows.append({"template": template.name, "resourceType": template.resource_type, "file": source_file,
                     "columns": ", ".join(f"{template.source}.{c}" for c in template.key_columns),  # () for constants
                     "element": f"{template.resource_type}.id, {template.resource_type}.identifier",
                     "via": f"source key (kind '{template.kind}')"})
        seen: set[tuple[str, str, str]] = set()
        for use in mapping.uses:
            fact = (", ".join(use.columns), use.element, use.via)
            if use.template == template.name and fact not in seen:   # $if branches may repeat a fact
                seen.add(fact)
                rows.append({"template": template.name, "resourceType": template.resource_type, "file": source_file,
                             "columns": shown(use.columns), "element": use.element, "via": use.via})
    for use in mapping.uses:   # skip: conditions (rows left out on purpose) read columns too
        if use.template.startswith("skip:"):
            source = use.template[len("skip:"):]
            rows.append({"template": use.template, "resourceType": "(no resource)",
                         "file": mapping.sources[source]["file"], "columns": shown(use.columns),
                         "element": use.element, "via": use.via})
    return rows
