"""`fhiradapter mapping check|explain|test` and `fhiradapter map` (docs/mapping-language.md, CLI)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from fhiradapter.cli import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from fhiradapter.cli.options import (deprecated_input_option, input_argument, jobs_option, mapping_option,
                                     out_option, output_options, resolve_input)

MAX_PRINTED_ERRORS = 20


def load_or_exit(path: str | Path) -> Any:
    """The loaded mapping; on problems print each one and exit 2."""
    from fhiradapter.mapping.errors import MappingLoadError
    from fhiradapter.mapping.loader import load_mapping
    try:
        return load_mapping(path)
    except MappingLoadError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(exc.problems)} problem(s): the mapping cannot be used", err=True)
        sys.exit(EXIT_USAGE)


def _count_rows(mapping: Any, input_dir: Path) -> int:
    """An estimate of records (newlines in CSV/NDJSON files) for the progress bar."""
    total = 0
    for spec in mapping.sources.values():
        path = input_dir / spec["file"]
        if not path.is_file():
            continue
        if spec.get("format", "csv") == "json":
            total += 1
            continue
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                total += block.count(b"\n")
    return max(total, 1)


def progress_context(enabled: bool | None, mapping: Any, input_dir: Path, label: str) -> Iterator[Callable[[int], None] | None]:
    """Yields a progress hook drawing a bar on stderr (TTY or --progress), else None."""
    show = sys.stderr.isatty() if enabled is None else enabled
    if not show:
        yield None
        return
    total = _count_rows(mapping, input_dir)
    # redrawing the bar costs ~4 us in a terminal: about 500 redraws per run, not one per row
    with click.progressbar(length=total, label=label, file=sys.stderr,
                           update_min_steps=max(1, min(1000, total // 500))) as bar:
        yield bar.update


def print_outcome(summary: dict[str, Any], out: Path, *, label: str = "") -> int:
    """Per-file counts and the first rejected rows by file and line; returns the exit code."""
    prefix = f"[{label}] " if label else ""
    rows = summary["rows"]
    for name, count in summary["files"].items():
        skipped = f", {count['skipped']} skipped" if "skipped" in count else ""
        click.echo(f"{prefix}{name}: {count['read']} read, {count['mapped']} mapped, {count['rejected']} rejected{skipped}")
    for message in summary.get("file_errors", []):
        click.echo(f"{prefix}error: {message}")
    for message in summary.get("file_warnings", []):
        click.echo(f"{prefix}warning: {message}")
    from fhiradapter.mapping.errorfile import read_errors
    errors_path = out / "errors.ndjson"
    shown = rows_rejected = 0
    for record in read_errors(errors_path):
        if record.get("line") is None and record.get("stage") == "read":
            continue  # file problems were printed above
        rows_rejected += 1
        issues = record["issues"]
        if shown < MAX_PRINTED_ERRORS and issues:
            more = f" (and {len(issues) - 1} more issue(s) on this row)" if len(issues) > 1 else ""
            click.echo(f"{prefix}rejected {issues[0]['message']}{more}")
            shown += 1
    if rows_rejected > shown:   # rows, as errors.ndjson counts them (one OperationOutcome per row)
        click.echo(f"{prefix}... {rows_rejected - shown} more rejected rows in {errors_path}")
    resources = ", ".join(f"{n} {t}" for t, n in summary["resources"].items()) or "no resources"
    for reason, n in (summary.get("skipped") or {}).items():
        click.echo(f"{prefix}skipped {n} row(s): {reason}")
    skipped = f" + {rows['skipped']} skipped" if "skipped" in rows else ""
    click.echo(f"{prefix}rows: {rows['read']} read = {rows['mapped']} mapped + {rows['rejected']} rejected{skipped}; "
               f"wrote {resources}, {summary['bundles']} bundles to {out}")
    findings = summary.get("findings")
    if findings is not None:
        click.echo(f"{prefix}validation: {summary['validation']}; findings: {findings['error']} error, "
                   f"{findings['warning']} warning, {findings['information']} information "
                   f"(see {out / 'findings.ndjson'})")
    failed = rows["rejected"] or summary.get("file_errors") or (findings or {}).get("error")
    return EXIT_FINDINGS if failed else EXIT_OK


@click.group("mapping")
def mapping() -> None:
    """Check, explain and test mapping files (docs/mapping-language.md)."""


@mapping.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--input", "input_dir", type=click.Path(file_okay=False, exists=True),
              help="An export folder: its CSV headers are compared with the columns the mapping reads.")
def check(file: str, input_dir: str | None) -> None:
    """Schema + semantic lint of a mapping FILE."""
    from fhiradapter.mapping.check import header_findings, lint
    from fhiradapter.mapping.errors import MappingLoadError
    from fhiradapter.mapping.loader import load_mapping
    try:
        loaded = load_mapping(file)
    except MappingLoadError as exc:   # every problem at once: the export's headers too, when given
        found = header_findings(exc.sources, Path(input_dir), file, exc.source_where) if input_dir else []
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        for finding in found:
            click.echo(f"error: {finding.location(file)}: {finding.where}: {finding.message}", err=True)
        click.echo(f"{len(exc.problems) + len(found)} problem(s): the mapping cannot be used", err=True)
        sys.exit(EXIT_USAGE)
    findings = lint(loaded, Path(input_dir) if input_dir else None)
    if input_dir:
        findings = header_findings(loaded.sources, Path(input_dir), file, loaded.source_where) + findings
    for finding in findings:
        click.echo(f"{finding.severity}: {finding.location(file)}: {finding.where}: {finding.message}")
    errors = sum(1 for f in findings if f.severity == "error")
    click.echo(f"{file}: {len(loaded.templates)} templates, {len(loaded.sources)} sources, "
               f"{len(loaded.lookups)} lookups; {errors} error(s), {len(findings) - errors} warning(s)")
    sys.exit(EXIT_FINDINGS if errors else EXIT_OK)


@mapping.command("explain")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def explain(file: str, as_json: bool) -> None:
    """Which source columns feed which FHIR elements."""
    from fhiradapter.mapping.check import explain_rows
    loaded = load_or_exit(file)
    current = None
    for row in explain_rows(loaded):
        if as_json:
            click.echo(json.dumps(row))
            continue
        if row["template"] != current:
            current = row["template"]
            click.echo(f"{row['template']} -> {row['resourceType']}  (from {row['file']})")
        columns = row["columns"] or "(constant)"
        click.echo(f"  {columns:<40} -> {row['element']}  [{row['via']}]")
    if not as_json and any(s.get("optional_columns") for s in loaded.sources.values()):
        click.echo("(column? = an optional column: an export may lack it, and then it reads as empty)")


@mapping.command("test")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--update", is_flag=True, help="Write the current output as the expected files.")
def test(file: str, update: bool) -> None:
    """Run the golden tests a mapping FILE declares (tests:)."""
    from fhiradapter.mapping.golden import GoldenPathError, run_golden
    loaded = load_or_exit(file)
    if not loaded.tests:
        click.echo(f"{file}: declares no tests")
        sys.exit(EXIT_OK)
    try:
        results = run_golden(loaded, update=update)
    except GoldenPathError as exc:
        click.echo(f"error: {file}: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    for result in results:
        status = "updated" if update else ("pass" if result.passed else "FAIL")
        click.echo(f"{status}: {result.name}")
        for diff in result.diffs:
            click.echo(diff)
    failed = sum(1 for r in results if not r.passed)
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)


@click.command("map")
@input_argument()
@mapping_option(required=True)
@out_option()
@deprecated_input_option()
@output_options
@jobs_option(auto=False)
def map_command(input_dir: str | None, mapping_file: str, out: str, input_option: str | None, show_values: bool,
                max_entries: int, bundle_method: str, no_bundles: bool, progress: bool | None,
                provenance_time: str | None, workers: int | None = None) -> None:
    """Map an export folder INPUT to FHIR (no validation): NDJSON, Bundles, errors.ndjson (OperationOutcome
    per rejected row), summary.json, report.html and the Bulk Data manifest output.json.

    \b
      fhiradapter map examples/mt-cmp --mapping mappings/mt-cmp.yaml --out out/mt-cmp
    """
    from fhiradapter.mapping.run import map_input
    folder = resolve_input(input_dir, input_option)
    if provenance_time and no_bundles:
        raise click.UsageError("--provenance-time adds one Provenance per Bundle; it cannot go with --no-bundles")
    loaded = load_or_exit(mapping_file)
    try:
        for hook in progress_context(progress, loaded, Path(folder), "mapping"):
            summary = map_input(loaded, folder, out, show_values=show_values, bundles=not no_bundles,
                                max_entries=max_entries, method=bundle_method, progress=hook,
                                provenance_time=provenance_time, jobs=workers)
    except KeyboardInterrupt:
        interrupted(out)
    except OSError as exc:   # output folder not writable, disk full: a clear message, not a traceback
        raise click.UsageError(f"cannot write the output to {out}: {exc.strerror or exc}") from exc
    sys.exit(print_outcome(summary, Path(out)))


def interrupted(out: str | Path) -> None:
    """Ctrl-C during map/run: the staged output was removed; OUT holds no part of this run."""
    click.echo(f"interrupted: {out} is incomplete: this run's output was discarded, nothing of it was moved "
               f"into {out} (which keeps a previous complete run's files, if any)", err=True)
    sys.exit(EXIT_INTERRUPTED)
