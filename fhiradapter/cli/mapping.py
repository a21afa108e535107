"""`fhiradapter mapping check|explain|test` and `fhiradapter map` (docs/mapping-language.md, CLI)."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from fhiradapter.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from fhiradapter.cli.options import jobs_option, show_values_option

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
        click.echo(f"{prefix}{name}: {count['read']} read, {count['mapped']} mapped, {count['rejected']} rejected")
    for message in summary.get("file_errors", []):
        click.echo(f"{prefix}error: {message}")
    for message in summary.get("file_warnings", []):
        click.echo(f"{prefix}warning: {message}")
    errors_path = out / "errors.ndjson"
    shown = 0
    total_issues = 0
    if errors_path.is_file():
        with open(errors_path, encoding="utf-8") as handle:
            for text in handle:
                record = json.loads(text)
                if record.get("line") is None and record.get("stage") == "read":
                    continue  # file problems were printed above
                for issue in record["issues"]:
                    total_issues += 1
                    if shown < MAX_PRINTED_ERRORS:
                        click.echo(f"{prefix}rejected {issue['message']}")
                        shown += 1
    if total_issues > shown:
        click.echo(f"{prefix}... {total_issues - shown} more in {errors_path}")
    resources = ", ".join(f"{n} {t}" for t, n in summary["resources"].items()) or "no resources"
    click.echo(f"{prefix}rows: {rows['read']} read = {rows['mapped']} mapped + {rows['rejected']} rejected; "
               f"wrote {resources}, {summary['bundles']} bundles to {out}")
    findings = summary.get("findings")
    if findings is not None:
        click.echo(f"{prefix}validation: {summary['validation']}; findings: {findings['error']} error, "
                   f"{findings['warning']} warning, {findings['information']} information "
                   f"(see {out / 'findings.ndjson'})")
    failed = rows["rejected"] or summary.get("file_errors") or (findings or {}).get("error")
    return EXIT_FINDINGS if failed else EXIT_OK


_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _instant(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not _INSTANT.match(value):
        raise click.BadParameter("a FHIR instant with seconds and a zone, e.g. 2026-04-27T00:00:00Z")
    return value


def output_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        show_values_option(),
        click.option("--max-entries", type=click.IntRange(1, 100000), default=500, show_default=True,
                     help="Largest transaction Bundle."),
        click.option("--bundle-method", type=click.Choice(["put", "post"]), default="put", show_default=True,
                     help="PUT {Type}/{id} (idempotent) or POST with ifNoneExist on the identifier."),
        click.option("--no-bundles", is_flag=True, help="Write NDJSON only."),
        click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when a terminal)."),
        click.option("--provenance-time", callback=_instant,
                     help="Add one Provenance per Bundle, recorded at this FHIR instant (e.g. 2026-04-27T00:00:00Z)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.group("mapping")
def mapping() -> None:
    """Check, explain and test mapping files (docs/mapping-language.md)."""


@mapping.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--input", "input_dir", type=click.Path(file_okay=False, exists=True),
              help="An export folder: its CSV headers are compared with the columns the mapping reads.")
def check(file: str, input_dir: str | None) -> None:
    """Schema + semantic lint of a mapping FILE."""
    from fhiradapter.mapping.check import lint
    loaded = load_or_exit(file)
    findings = lint(loaded, Path(input_dir) if input_dir else None)
    for finding in findings:
        click.echo(f"{finding.severity}: {file}: {finding.where}: {finding.message}")
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
@click.option("--mapping", "mapping_file", required=True, type=click.Path(dir_okay=False), help="Mapping file (YAML).")
@click.option("--input", "input_dir", required=True, type=click.Path(file_okay=False),
              help="Export folder holding the source files.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder.")
@output_options
@jobs_option(auto=False)
def map_command(mapping_file: str, input_dir: str, out: str, show_values: bool, max_entries: int,
                bundle_method: str, no_bundles: bool, progress: bool | None, provenance_time: str | None,
                workers: int | None = None) -> None:
    """Map an export to FHIR (no validation): NDJSON, Bundles, errors.ndjson, summary.json."""
    from fhiradapter.mapping.run import map_input
    if not Path(input_dir).is_dir():
        raise click.UsageError(f"input folder {input_dir} does not exist")
    if provenance_time and no_bundles:
        raise click.UsageError("--provenance-time adds one Provenance per Bundle; it cannot go with --no-bundles")
    loaded = load_or_exit(mapping_file)
    try:
        for hook in progress_context(progress, loaded, Path(input_dir), "mapping"):
            summary = map_input(loaded, input_dir, out, show_values=show_values, bundles=not no_bundles,
                                max_entries=max_entries, method=bundle_method, progress=hook,
                                provenance_time=provenance_time, jobs=workers)
    except OSError as exc:   # output folder not writable, disk full: a clear message, not a traceback
        raise click.UsageError(f"cannot write the output to {out}: {exc.strerror or exc}") from exc
    sys.exit(print_outcome(summary, Path(out)))
