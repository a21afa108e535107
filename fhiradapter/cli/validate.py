"""`fhiradapter validate PATH...`: check resources, Bundles and NDJSON offline."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..canonical import PROGRAMS
from . import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE


@click.command("validate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--profile", "profile", metavar="URL", help="Validate against this profile, ignoring meta.profile.")
@click.option("--program", type=click.Choice(PROGRAMS), help="Use the program's profile for each resource type.")
@click.option("--ig", "igs", multiple=True, metavar="DIR_OR_TGZ",
              help="Load more StructureDefinitions/ValueSets (FHIR package folder or .tgz). Repeatable.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text", show_default=True)
@click.option("--show-values", is_flag=True, help="Include record values in messages (may expose PHI).")
@click.option("--must-support", is_flag=True, help="Also report absent must-support elements (information).")
@click.option("--no-rules", is_flag=True, help="Skip the program rules (structure and profiles only).")
@click.option("--timezone", default=None, metavar="TZ", help="Agency time zone for date rules (default: the agency zone of each record's program "
              "in the programs table, e.g. America/New_York for dc-cs).")
@click.option("--min-severity", type=click.Choice(["error", "warning", "information"]), default="information",
              show_default=True, help="Text format: hide issues below this severity.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the report here instead of standard output.")
def validate(paths: tuple[str, ...], profile: str | None, program: str | None, igs: tuple[str, ...], fmt: str,
             show_values: bool, must_support: bool, no_rules: bool, timezone: str | None,
             min_severity: str, output: str | None) -> int:
    """Validate FHIR R4 resources, Bundles or NDJSON (files, folders, or - for stdin).

    \b
    Checks: JSON syntax, base R4 structure, types and primitive formats, cardinality, required
    bindings, base and profile invariants, profiles (meta.profile, --profile or --program) with
    slicing and fixed/pattern values, Bundle references, and the program rules.
    Exit code: 0 no errors, 1 errors found, 2 usage error or unreadable input.
    """
    from ..validator.engine import Validator
    from ..validator.inputs import NDJSON_SUFFIXES, InputError, expand_paths
    from ..validator.report import json_outcome, junit, summary, text_report
    from ..validator.runner import check_path, run_member_rules
    from ..validator.submission import Submission

    for ig in igs:
        if not Path(ig).exists():
            raise click.UsageError(f"--ig {ig}: no such file or directory")
    try:
        v = Validator(igs=igs, show_values=show_values, must_support=must_support, rules=not no_rules,
                      timezone=timezone)
    except (OSError, ValueError, KeyError) as exc:
        raise click.UsageError(f"cannot load definitions: {exc}") from exc
    if profile and v.compiler.profile_root(profile) is None:
        raise click.UsageError(f"--profile {profile}: no such StructureDefinition (load it with --ig)")
    try:
        files = expand_paths(list(paths))
    except InputError as exc:
        raise click.UsageError(str(exc)) from exc
    if not files:
        raise click.UsageError("no .json/.ndjson files found in the given paths")

    # transaction Bundles' references must resolve inside the submission (all JSON inputs together)
    submission = Submission()
    for f in files:
        if f != "-" and not f.endswith(NDJSON_SUFFIXES):
            submission.add_file(f)
    # one member record, one verdict (issue 12 defect 7): the rules see the shared reference data and
    # judge up to the export's end, as `run` does
    v.shared_context = tuple(submission.shared)
    v.rules_as_of = submission.latest.day

    out = open(output, "w", encoding="utf-8") if output else sys.stdout
    unreadable = False
    results = []
    # NDJSON member records span files: with rules on, their findings come after all inputs are read
    ndjson_rules = v.rules and any(f.endswith(NDJSON_SUFFIXES) for f in files)
    groups: dict = {}
    held: list = []

    def emit(r: object) -> None:
        if fmt == "text":
            for line in text_report(r, min_severity):  # type: ignore[arg-type]
                out.write(line + "\n")
        elif fmt == "json":
            out.write(json_outcome(r).decode() + "\n")  # type: ignore[arg-type]
        if out is sys.stdout:
            out.flush()

    try:
        for f in files:
            try:
                r = check_path(v, f, profile=profile, program=program,
                               groups=groups if ndjson_rules else None)
            except InputError as exc:
                click.echo(f"error: {exc}", err=True)
                unreadable = True
                continue
            r.issues.extend(submission.issues_for(r.source))
            results.append(r)
            if ndjson_rules and r.ndjson:
                held.append(r)
            else:
                emit(r)
        if held:
            latest = submission.latest
            for members in groups.values():
                latest.add_all(r for _, _, r in members)
            v.rules_as_of = latest.day
            run_member_rules(v, groups, program, {r.source: r for r in held})
            for r in held:
                emit(r)
        if fmt == "junit":
            out.write(junit(results))
        elif fmt == "text":
            out.write(summary(results) + "\n")
    finally:
        if output:
            out.close()
    rc = EXIT_USAGE if unreadable else EXIT_FINDINGS if any(r.has_errors for r in results) else EXIT_OK
    click.get_current_context().exit(rc)   # works under main() and click's standalone mode alike
    return rc
