"""`fhiradapter validate PATH...`: check resources, Bundles and NDJSON offline (fhiradapter.api does it)."""
from __future__ import annotations

import sys

import click

from . import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from .options import format_option, jobs_option, program_option, show_values_option, timezone_option


def _list_checks(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from ..validator.checks.catalogue import CHECKS
    width = max(len(c.id) for c in CHECKS)
    for c in CHECKS:
        severity = f"{c.severity} (--strict: {c.strict})" if c.strict else c.severity
        click.echo(f"{c.id:<{width}}  {severity:<28}  {c.summary}  [{c.basis}]")
    ctx.exit(EXIT_OK)


@click.command("validate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--profile", "profile", metavar="URL", help="Validate against this profile, ignoring meta.profile.")
@program_option(help="Use the program's profile for each resource type.")
@click.option("--ig", "igs", multiple=True, metavar="DIR_OR_TGZ_OR_ID#VER",
              help="Load more StructureDefinitions/ValueSets: a FHIR package folder or .tgz, or id#version from "
                   "the local package cache (~/.fhir/packages, as SUSHI and the HL7 validator use). Repeatable.")
@format_option("text", "json", "bundle", "junit", "html",
               help="json: one OperationOutcome per input per line (NDJSON), meta.source naming the input; "
                    "bundle: one collection Bundle of those outcomes; html: a self-contained report.")
@show_values_option()
@click.option("--must-support", is_flag=True, help="Also report absent must-support elements (information).")
@click.option("--no-rules", is_flag=True, help="Skip the program rules (structure and profiles only).")
@click.option("--strict-profiles", is_flag=True,
              help="A claimed profile we do not know is an error (default: a warning, as in the HL7 validator).")
@click.option("--allow-unknown-extensions", is_flag=True,
              help="An extension with no definition is a note (default: an error, as in the HL7 validator).")
@click.option("--strict", is_flag=True,
              help="The stricter reading of R4: rules the HL7 validator does not apply offline (control "
                   "characters in strings, well-formed narrative XHTML, codes unknown in a complete code "
                   "system, the type and form of references it cannot resolve) are errors (default: warnings).")
@click.option("--list-checks", is_flag=True, is_eager=True, expose_value=False, callback=_list_checks,
              help="Print the catalogue of validator checks (id, severity, basis) and exit.")
@timezone_option(help="Agency time zone for date rules (default: the agency zone of each record's program "
                 "in the programs table, e.g. America/New_York for dc-cs).")
@click.option("--min-severity", type=click.Choice(["error", "warning", "information"]), default="information",
              show_default=True, help="Text format: hide issues below this severity.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the report here instead of standard output.")
@jobs_option()
def validate(paths: tuple[str, ...], profile: str | None, program: str | None, igs: tuple[str, ...], fmt: str,
             show_values: bool, must_support: bool, no_rules: bool, strict_profiles: bool,
             allow_unknown_extensions: bool, strict: bool, timezone: str | None, min_severity: str, output: str | None,
             workers: int | None = None) -> int:
    """Validate FHIR R4 resources, Bundles or NDJSON (files, folders, or - for stdin).

    \b
    Checks: JSON syntax, base R4 structure, types and primitive formats, cardinality, required
    bindings, base and profile invariants, profiles (meta.profile, --profile or --program) with
    slicing and fixed/pattern values, Bundle references, and the program rules.
    Exit code: 0 no errors, 1 errors found, 2 usage error or unreadable input.
    """
    from .. import api
    from ..validator.report import junit, summary, text_report
    from ..validator.runner import Result
    from .validate_output import html, ndjson_line, outcome_bundle, resolve_ig
    try:
        igs = tuple(resolve_ig(ig) for ig in igs)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None

    try:
        options = dict(igs=igs, show_values=show_values, must_support=must_support, rules=not no_rules,
                       timezone=timezone, profile=profile, strict_profiles=strict_profiles,
                       allow_unknown_extensions=allow_unknown_extensions, strict=strict)
        v = api.open_validator(**options)   # type: ignore[arg-type]
        files = api.input_files(paths)
    except api.UsageError as exc:
        raise click.UsageError(str(exc)) from exc

    out = open(output, "w", encoding="utf-8") if output else sys.stdout
    unreadable = False
    results: list[Result] = []
    try:
        for r in api.validate_files(v, files, profile=profile, program=program, jobs=workers, options=options):
            if isinstance(r, api.Unreadable):
                click.echo(f"error: {r.message}", err=True)
                unreadable = True
                continue
            results.append(r)
            if fmt == "text":
                for line in text_report(r, min_severity):
                    out.write(line + "\n")
            elif fmt == "json":
                out.write(ndjson_line(r).decode() + "\n")
            if out is sys.stdout:
                out.flush()
        if fmt == "junit":   # in input order (NDJSON results with member rules came last)
            position = {("<stdin>" if f == "-" else f): i for i, f in enumerate(files)}
            out.write(junit(sorted(results, key=lambda r: position.get(r.source, 0))))
        elif fmt == "bundle":
            out.write(outcome_bundle(results).decode() + "\n")
        elif fmt == "html":
            out.write(html(results))
        elif fmt == "text":
            out.write(summary(results) + "\n")
    finally:
        if output:
            out.close()
    rc = EXIT_USAGE if unreadable else EXIT_FINDINGS if any(r.has_errors for r in results) else EXIT_OK
    click.get_current_context().exit(rc)   # works under main() and click's standalone mode alike
    return rc
