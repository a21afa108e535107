"""`fhiradapter run`: map + validate + write, for one program or all five (the main job).

    fhiradapter run --program mt-cmp examples/mt-cmp --out out/mt-cmp
    fhiradapter run --program all examples/ --out out/          # examples/{P}/ -> out/{P}/
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from fhiradapter.canonical import PROGRAMS
from fhiradapter.cli import EXIT_FINDINGS, EXIT_OK
from fhiradapter.cli.mapping import load_or_exit, output_options, print_outcome, progress_context
from fhiradapter.cli.send import AUTH_HELP, delivery_options, send


def shipped_mapping(program: str) -> Path:
    from fhiradapter.paths import mappings_dir
    return mappings_dir() / f"{program}.yaml"


@click.command("run", epilog=AUTH_HELP)
@click.option("--program", required=True, type=click.Choice(list(PROGRAMS) + ["all"]),
              help="Program id, or 'all' to run every program on INPUT/{program}/.")
@click.argument("input_dir", metavar="INPUT", type=click.Path(file_okay=False, exists=True))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder (per program with 'all').")
@click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False, exists=True),
              help="Use this mapping instead of the program's shipped one (mappings/{program}.yaml).")
@output_options
@click.option("--endpoint", help="After writing, send each program's Bundles to this FHIR base URL "
              "(as `fhiradapter send`: local validation, journal, retries, exactly once).")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Evaluation date of the program rules: the end of the export (default: the latest date "
                   "in the whole input). Deadlines after it are not yet findings.")
@delivery_options
@click.pass_context
def run(ctx: click.Context, program: str, input_dir: str, out: str, mapping_file: str | None, show_values: bool,
        max_entries: int, bundle_method: str, no_bundles: bool, progress: bool | None, provenance_time: str | None,
        endpoint: str | None, as_of: Any = None, **delivery: Any) -> None:
    """Map an agency export, validate it (profiles + program rules) and write the output folder.

    Rows whose resources fail profile validation are rejected into errors.ndjson with the
    validator's issues; program-rule findings go to findings.ndjson and never drop rows.
    Exit code 1 when rows were rejected or error findings were reported.

    With --endpoint, each program's output folder is then sent like `fhiradapter send OUT`: only
    rows that passed validation are in it; review findings.ndjson first if program-rule findings
    must hold a release back (they do not block sending).
    """
    from fhiradapter.mapping.run import load_checks, map_input
    if provenance_time and no_bundles:
        raise click.UsageError("--provenance-time adds one Provenance per Bundle; it cannot go with --no-bundles")
    if no_bundles and endpoint:
        raise click.UsageError("--endpoint sends the Bundles; it cannot go with --no-bundles")
    if program == "all" and mapping_file:
        raise click.UsageError("--mapping applies to one program; with --program all the shipped mappings are used")
    jobs = ([(p, Path(input_dir) / p, Path(out) / p) for p in PROGRAMS] if program == "all"
            else [(program, Path(input_dir), Path(out))])
    worst = EXIT_OK
    totals = {"read": 0, "mapped": 0, "rejected": 0}
    checks_cache: dict[tuple[str, str], object] = {}
    written: list[Path] = []
    for name, folder, target in jobs:
        label = name if program == "all" else ""
        if not folder.is_dir():
            click.echo(f"[{name}] error: input folder {folder} does not exist", err=True)
            worst = EXIT_FINDINGS
            continue
        path = Path(mapping_file) if mapping_file else shipped_mapping(name)
        if not path.is_file():
            click.echo(f"[{name}] error: no mapping for program {name} ({path} missing); use --mapping", err=True)
            worst = EXIT_FINDINGS
            continue
        loaded = load_or_exit(path)
        if loaded.program and loaded.program != name:
            click.echo(f"[{name}] note: mapping {path.name} declares program {loaded.program}; validating as {name}",
                       err=True)
        key = (name, loaded.timezone)
        if key not in checks_cache:
            checks_cache[key] = load_checks(name, loaded.timezone, show_values)
            checks_cache[key].as_of = as_of.date() if as_of else None  # type: ignore[attr-defined]
        try:
            for hook in progress_context(progress, loaded, folder, name):
                summary = map_input(loaded, folder, target, show_values=show_values, bundles=not no_bundles,
                                    max_entries=max_entries, method=bundle_method, validate=True,
                                    checks=checks_cache[key], progress=hook, provenance_time=provenance_time)
        except OSError as exc:   # output folder not writable, disk full: a clear message, not a traceback
            raise click.UsageError(f"cannot write the output to {target}: {exc.strerror or exc}") from exc
        code = print_outcome(summary, target, label=label)
        written.append(target)
        worst = max(worst, code)
        for k in totals:
            totals[k] += summary["rows"][k]
    if program == "all":
        click.echo(f"all programs: {totals['read']} rows read = {totals['mapped']} mapped + "
                   f"{totals['rejected']} rejected; output in {out}/{{program}}/")
    if endpoint:
        for target in written:
            click.echo(f"sending {target} to the endpoint", err=True)
            try:
                ctx.invoke(send, paths=(target,), endpoint=endpoint, fmt="text", verbose=False, **delivery)
            except click.exceptions.Exit as exc:
                worst = max(worst, exc.exit_code)
    sys.exit(worst)
