"""`mapping check` lint beyond the schema, and `mapping explain` (columns -> elements)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fhiradapter.mapping.loader import Mapping
from fhiradapter.mapping.sources import SourceReadError, read_csv_header


@dataclass
class Finding:
    severity: str   # error | warning
    where: str
    message: str


def lint(mapping: Mapping, input_dir: Path | None = None) -> list[Finding]:
    """Problems a loaded (schema-valid, compiled) mapping still has."""
    findings: list[Finding] = []
    used_lookups = {name for u in mapping.uses for name in u.lookups}
    for name in mapping.lookups:
        if name not in used_lookups:
            findings.append(Finding("warning", f"lookups.{name}", "lookup is never used"))
    for name, spec in mapping.sources.items():
        if spec.get("index") and not any(u.rows_of == name for u in mapping.uses):
            findings.append(Finding("warning", f"sources.{name}", "related source is never used by $each"))
    if input_dir is None:
        return findings
    columns_by_source: dict[str, set[str]] = {}
    for use in mapping.uses:
        for column in use.columns:
            source, _, col = column.partition(".")
            columns_by_source.setdefault(source, set()).add(col)
    for template in mapping.templates:
        columns_by_source.setdefault(template.source, set()).update(template.key_columns)
    for name, spec in mapping.sources.items():
        if spec.get("format", "csv") != "csv":
            continue
        path = input_dir / spec["file"]
        if not path.is_file():
            if spec.get("required", True):
                findings.append(Finding("error", f"sources.{name}", f"{spec['file']} not found in {input_dir}"))
            continue
        header = spec.get("header", True)
        if isinstance(header, list):
            columns = header
        else:
            try:
                columns = read_csv_header(path, delimiter=spec.get("delimiter", ","), quote=spec.get("quote", '"'),
                                          encoding=spec.get("encoding", "utf-8"))
            except (OSError, UnicodeDecodeError, SourceReadError) as exc:
                findings.append(Finding("error", f"sources.{name}", f"cannot read the header of {spec['file']} ({exc})"))
                continue
        wanted = set(columns_by_source.get(name, set()))
        if spec.get("index"):
            wanted.add(spec["index"])
        for column in sorted(wanted - set(columns)):
            findings.append(Finding("error", f"sources.{name}",
                                    f"column '{column}' is used by the mapping but not in the header of {spec['file']}"))
        for column in columns:
            if column not in wanted:
                findings.append(Finding("warning", f"sources.{name}", f"column '{column}' of {spec['file']} is not mapped"))
    return findings


def explain_rows(mapping: Mapping) -> list[dict[str, str]]:
    """One row per (template, element): the source columns that feed it and how."""
    rows: list[dict[str, str]] = []
    for template in mapping.templates:
        source_file = mapping.sources[template.source]["file"]
        rows.append({"template": template.name, "resourceType": template.resource_type, "file": source_file,
                     "columns": ", ".join(f"{template.source}.{c}" for c in template.key_columns),
                     "element": f"{template.resource_type}.id, {template.resource_type}.identifier",
                     "via": f"source key (kind '{template.kind}')"})
        seen: set[tuple[str, str, str]] = set()
        for use in mapping.uses:
            fact = (", ".join(use.columns), use.element, use.via)
            if use.template == template.name and fact not in seen:   # $if branches may repeat a fact
                seen.add(fact)
                rows.append({"template": template.name, "resourceType": template.resource_type, "file": source_file,
                             "columns": ", ".join(use.columns), "element": use.element, "via": use.via})
    return rows
