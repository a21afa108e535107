"""`fhiradapter run`: map + validate + write, for one program or all five (the main job).

    fhiradapter run --program mt-cmp examples/mt-cmp --out out/mt-cmp
    fhiradapter run examples/mt-cmp --mapping my-mapping.yaml --out out/mt-cmp   # program from the mapping
    fhiradapter run --program all examples/ --out out/          # examples/{P}/ -> out/{P}/
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from fhiradapter.api import shipped_mapping
from fhiradapter.cli import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from fhiradapter.cli.mapping import interrupted, load_or_exit, print_outcome, progress_context
from fhiradapter.cli.options import (input_argument, jobs_option, mapping_option, out_option, output_options,
                                     program_option, resolve_input)
from fhiradapter.cli.send import AUTH_HELP, delivery_options, deliver
from fhiradapter.exchange.folderlock import FolderBusy, FolderLock

__all__ = ["run", "shipped_mapping"]


@click.command("run", epilog=AUTH_HELP)
@input_argument()
@program_option(with_all=True, help="Program id, or 'all' to run every program on INPUT/{program}/ "
                "(default with --mapping: the program the mapping declares).")
@out_option("Output folder (per program with 'all'): written whole when the run completes, staged beside it "
            "until then.")
@mapping_option(help="Use this mapping instead of the program's shipped one (mappings/{program}.yaml).")
@output_options
@click.option("--endpoint", help="After writing, send each program's Bundles to this FHIR base URL "
              "(as `fhiradapter send`: local validation, journal, retries, exactly once).")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Evaluation date of the program rules: the end of the export (default: the latest date "
                   "in the whole input). Deadlines after it are not yet findings.")
@jobs_option()
@delivery_options
def run(program: str | None, input_dir: str | None, out: str, mapping_file: str | None, show_values: bool,
        max_entries: int, bundle_method: str, no_bundles: bool, progress: bool | None, provenance_time: str | None,
        endpoint: str | None, as_of: Any = None, workers: int | None = None, **delivery: Any) -> None:
    """Map an agency export, validate it (profiles + program rules) and write the output folder.

    Rows whose resources fail profile validation are rejected into errors.ndjson (one OperationOutcome
    per row, with the validator's issues); program-rule findings go to findings.ndjson and never drop
    rows. OUT also gets report.html (what people read) and output.json (the Bulk Data manifest). The
    output is staged beside OUT and moved in only when complete; Ctrl-C exits 130 and leaves OUT as
    it was. Exit code 1 when rows were rejected or error findings were reported.

    --program may be left out with --mapping: the program the mapping declares is used.

    With --endpoint, each program's output folder is then sent like `fhiradapter send OUT`: only
    rows that passed validation are in it; review findings.ndjson first if program-rule findings
    must hold a release back (they do not block sending).
    """
    from fhiradapter import api
    input_dir = resolve_input(input_dir, None)
    if program is None:
        declared = load_or_exit(mapping_file).program if mapping_file else None
        if not declared:
            raise click.UsageError("give --program ID (or --mapping FILE that declares its program)"
                                   if not mapping_file else
                                   f"give --program ID: the mapping {mapping_file} declares no program")
        program = declared
    if provenance_time and no_bundles:
        raise click.UsageError("--provenance-time adds one Provenance per Bundle; it cannot go with --no-bundles")
    if no_bundles and endpoint:
        raise click.UsageError("--endpoint sends the Bundles; it cannot go with --no-bundles")
    try:
        jobs = api.plan_run(program, input_dir, out, mapping_file)
    except api.UsageError as exc:
        raise click.UsageError(str(exc)) from None
    held: list[FolderLock] = []   # released when the run ends, however it ends
    current: Path | None = None   # the folder being written when Ctrl-C comes
    try:
        worst = EXIT_OK
        totals = {"read": 0, "mapped": 0, "rejected": 0}
        checks = api.ChecksCache(show_values, as_of.date() if as_of else None)
        written: list[Path] = []
        for job in jobs:
            current = job.target
            name = job.program
            label = name if program == "all" else ""
            if job.error is not None:
                click.echo(f"[{name}] error: {job.error}", err=True)
                worst = EXIT_FINDINGS
                continue
            loaded = load_or_exit(job.mapping_path)
            if loaded.program and loaded.program != name:
                click.echo(f"[{name}] note: mapping {job.mapping_path.name} declares program {loaded.program}; "
                           f"validating as {name}", err=True)
            # One writer per output folder: a `send` on it (or another `run`) must not interleave (issue 14 §6).
            lock = FolderLock(job.target, "run")
            try:
                lock.acquire()
            except FolderBusy as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(EXIT_USAGE)
            held.append(lock)
            checks.get(name, loaded.timezone)   # loaded before the progress bar starts
            try:
                for hook in progress_context(progress, loaded, job.folder, name):
                    summary = api.run_job(job, loaded, checks, show_values=show_values, bundles=not no_bundles,
                                          max_entries=max_entries, method=bundle_method, progress=hook,
                                          provenance_time=provenance_time, jobs=workers)
            except OSError as exc:   # output folder not writable, disk full: a clear message, not a traceback
                raise click.UsageError(f"cannot write the output to {job.target}: {exc.strerror or exc}") from exc
            code = print_outcome(summary, job.target, label=label)
            written.append(job.target)
            worst = max(worst, code)
            current = None
            for k in totals:
                totals[k] += summary["rows"][k]
        if program == "all":
            click.echo(f"all programs: {totals['read']} rows read = {totals['mapped']} mapped + "
                       f"{totals['rejected']} rejected; output in {out}/{{program}}/")
        if endpoint:
            for target in written:
                click.echo(f"sending {target} to the endpoint", err=True)
                try:
                    worst = max(worst, deliver([target], endpoint, delivery))
                except click.exceptions.Exit as exc:
                    worst = max(worst, exc.exit_code)
                except KeyboardInterrupt:   # the output is whole; the journal says what was delivered
                    click.echo(f"interrupted while sending {target}: `fhiradapter send {target}` resumes", err=True)
                    sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        if current is not None:
            interrupted(current)
        raise
    finally:
        for lock in held:
            lock.release()
    sys.exit(worst)
