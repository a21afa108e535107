"""`fhiradapter send` and `fhiradapter status`: deliver Bundles to a FHIR endpoint, exactly once,
and report what arrived (issue 6). The work lives in fhiradapter.exchange; this is argument handling.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, Callable

import click

from fhiradapter.api import Delivery
from fhiradapter.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from fhiradapter.cli.options import auth_options, format_option

AUTH_HELP = """\b
Auth (secrets are never taken on the command line):
  --auth none                      no credentials
  --auth bearer --token-env VAR    token from an environment variable
  --auth bearer --token-file F     token from a file (first line)
  --auth smart --client-id ID --token-url URL --key-file key.pem [--key-id KID]
               [--alg RS384|ES384] [--scope "system/*.write"]
                                   SMART Backend Services (signed JWT assertion)
  --cert client.pem --key client.key   mutual TLS (combines with any of the above)
  --ca-bundle ca.pem               trust these CAs instead of the system store
TLS certificates are always verified. A token is never sent over plain http://
(--allow-insecure-http permits it for a loopback test server only)."""


def _fail(message: str) -> "click.exceptions.Exit":
    click.echo(f"error: {message}", err=True)
    return click.exceptions.Exit(EXIT_USAGE)


def delivery_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The delivery options `send` and `run --endpoint` share (mode, journal, retries, auth, TLS);
    the command receives them as the fields of fhiradapter.api.Delivery."""
    for option in reversed(_DELIVERY_OPTIONS):
        command = option(command)
    return auth_options(scope=_DEFAULT.scope, alg=_DEFAULT.alg)(command)


def deliver(paths: list[Path], endpoint: str, delivery: dict[str, Any], fmt: str = "text") -> int:
    """Send and report as `fhiradapter send` does; returns the exit code."""
    from fhiradapter import api
    echo = (lambda message: click.echo(message, err=True)) if fmt == "text" else None
    try:
        summary, state = api.send(paths, endpoint, api.Delivery(**delivery), progress=echo)
    except api.UsageError as exc:
        raise _fail(str(exc)) from None
    _refresh_reports(paths)
    result = {"journal": str(state), "files": summary.files, "bundles": summary.units,
              "delivered": summary.delivered, "already_delivered": summary.already_delivered,
              "failed": summary.failed, "rejected_local": summary.rejected_local,
              "not_sent": summary.deferred, "in_doubt": summary.in_doubt, "verified": summary.verified,
              "repaired": summary.repaired, "conflicts": summary.conflicts,
              "full_local_validation": summary.full_validation, "notes": summary.messages}
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
    else:
        for note in summary.messages:
            click.echo(f"note: {note}", err=True)
        extra = "".join(f", {n} {label}" for n, label in (
            (summary.deferred, "not sent (endpoint waiting)"), (summary.in_doubt, "superseded in doubt"),
            (summary.verified, "verified"), (summary.repaired, "repaired"), (summary.conflicts, "conflicts"))
            if n)
        click.echo(f"{summary.delivered} delivered, {summary.already_delivered} already delivered, "
                   f"{summary.failed} failed, {summary.rejected_local} rejected locally{extra} "
                   f"(journal {state}; `fhiradapter status --state {state}` for details)")
    return EXIT_OK if summary.ok else EXIT_FINDINGS


def _refresh_reports(paths: list[Path]) -> None:
    """report.html of each map/run output folder sent now shows the journal's delivery state."""
    from fhiradapter.report import refresh_run_report
    for path in paths:
        folder = Path(path)
        if folder.is_dir():
            try:
                refresh_run_report(folder)
            except (OSError, ValueError) as exc:   # the delivery happened; the page is a convenience
                click.echo(f"note: report.html not refreshed ({exc})", err=True)


_DEFAULT = Delivery()   # the defaults live in one place: fhiradapter.api.Delivery
_DELIVERY_OPTIONS = [
    click.option("--mode", type=click.Choice(["transaction", "batch"]), default=_DEFAULT.mode, show_default=True),
    click.option("--bundle-size", type=click.IntRange(1, 10000), default=_DEFAULT.bundle_size, show_default=True,
                 help="Most entries per request; larger Bundles are split. A smaller limit stated in the "
                      "server's CapabilityStatement, or learned from a refusal, wins."),
    click.option("--verify", is_flag=True,
                 help="After delivery, read back what was delivered: older content a superseded request of ours "
                      "wrote is overwritten again, a change by another writer is reported."),
    click.option("--server-validate", is_flag=True, help="Call $validate on the server before sending."),
    click.option("--state", "state_path", type=click.Path(path_type=Path),
                 help="Journal file (default: {out}/outbox.sqlite of the output folder)."),
    click.option("--retry-failed", is_flag=True, help="Also resend Bundles the server refused earlier (4xx)."),
    click.option("--timeout", type=click.FloatRange(0.1, 3600), default=_DEFAULT.timeout, show_default=True,
                 help="Seconds to wait for an answer."),
    click.option("--max-attempts", type=click.IntRange(1, 100), default=_DEFAULT.max_attempts, show_default=True,
                 help="Tries per Bundle in one run."),
    click.option("--max-backoff", type=click.FloatRange(0, 3600), default=_DEFAULT.max_backoff, show_default=True,
                 help="Longest computed wait between tries (Retry-After is honoured up to 300 s)."),
]


@click.command(epilog=AUTH_HELP)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--endpoint", required=True, help="FHIR base URL of the payer, e.g. https://payer.example/fhir")
@delivery_options
@format_option("text", "json")
@click.option("-v", "--verbose", is_flag=True, help="Log each retry (no bodies, no secrets).")
def send(paths: tuple[Path, ...], endpoint: str, fmt: str, verbose: bool, **delivery: Any) -> None:
    """Deliver Bundles (files, or a map/run output folder) to ENDPOINT, exactly once.

    Every Bundle is validated locally first (nothing invalid is sent), recorded in the outbox journal,
    and sent as a transaction (or batch) with retries. Re-running resumes: delivered Bundles are
    skipped, interrupted ones re-sent with the same X-Request-Id.
    """
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    raise click.exceptions.Exit(deliver(list(paths), endpoint, delivery, fmt))


@click.command()
@click.argument("out", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--state", "state_path", type=click.Path(path_type=Path, dir_okay=False),
                 help="Journal file (default: OUT/outbox.sqlite, or ./outbox.sqlite).")
@format_option("text", "json", "html", help="html: a self-contained page (inline CSS and SVG, no script), "
              "e.g. `fhiradapter status OUT --format html > status.html`.")
def status(out: Path | None, state_path: Path | None, fmt: str) -> None:
    """What the outbox journal says: Bundles per state, and each failure with the server's issues
    traced back to the source file and row. Exit 1 when anything failed or was rejected."""
    from fhiradapter import api
    from fhiradapter.exchange.report import format_text

    state = state_path or (out / "outbox.sqlite" if out else Path("outbox.sqlite"))
    try:
        report = api.status(state)
    except api.UsageError as exc:
        raise _fail(str(exc)) from None
    if fmt == "html":
        from fhiradapter.report import render_status
        click.echo(render_status(report), nl=False)
    else:
        click.echo(json.dumps(report, indent=2) if fmt == "json" else format_text(report))
    # Anything not known delivered: failed, refused locally, waiting to be re-sent, or in doubt.
    open_items = (report["bundles"]["failed"] + report["bundles"]["rejected-local"] + len(report["in_doubt"])
                  + sum(1 for f in report["failures"] if f["state"] in ("pending", "sending")))
    raise click.exceptions.Exit(EXIT_FINDINGS if open_items else EXIT_OK)
