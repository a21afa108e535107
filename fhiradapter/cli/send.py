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

from fhiradapter.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

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
    """The delivery options `send` and `run --endpoint` share (mode, journal, retries, auth, TLS)."""
    for option in reversed(_DELIVERY_OPTIONS):
        command = option(command)
    return command


_DELIVERY_OPTIONS = [
    click.option("--mode", type=click.Choice(["transaction", "batch"]), default="transaction", show_default=True),
    click.option("--bundle-size", type=click.IntRange(1, 10000), default=50, show_default=True,
                 help="Most entries per request; larger Bundles are split. A smaller limit stated in the "
                      "server's CapabilityStatement, or learned from a refusal, wins."),
    click.option("--verify", is_flag=True,
                 help="After delivery, read back what was delivered: older content a superseded request of ours "
                      "wrote is overwritten again, a change by another writer is reported."),
    click.option("--server-validate", is_flag=True, help="Call $validate on the server before sending."),
    click.option("--state", "state_path", type=click.Path(path_type=Path),
                 help="Journal file (default: {out}/outbox.sqlite of the output folder)."),
    click.option("--retry-failed", is_flag=True, help="Also resend Bundles the server refused earlier (4xx)."),
    click.option("--timeout", type=click.FloatRange(0.1, 3600), default=60.0, show_default=True,
                 help="Seconds to wait for an answer."),
    click.option("--max-attempts", type=click.IntRange(1, 100), default=6, show_default=True,
                 help="Tries per Bundle in one run."),
    click.option("--max-backoff", type=click.FloatRange(0, 3600), default=30.0, show_default=True,
                 help="Longest computed wait between tries (Retry-After is honoured up to 300 s)."),
    click.option("--auth", "auth_kind", type=click.Choice(["none", "bearer", "smart"]), default="none",
                 show_default=True),
    click.option("--token-env", metavar="VAR"),
    click.option("--token-file", type=click.Path(path_type=Path)),
    click.option("--client-id"),
    click.option("--token-url"),
    click.option("--key-file", type=click.Path(path_type=Path), help="SMART private key (PEM)."),
    click.option("--key-id", help="SMART key id (kid) as published in your JWKS."),
    click.option("--alg", type=click.Choice(["RS384", "ES384"]), default="RS384", show_default=True),
    click.option("--scope", default="system/*.write", show_default=True),
    click.option("--cert", type=click.Path(path_type=Path), help="mTLS client certificate (PEM)."),
    click.option("--key", "cert_key", type=click.Path(path_type=Path), help="mTLS client key (PEM)."),
    click.option("--ca-bundle", type=click.Path(path_type=Path)),
    click.option("--allow-insecure-http", is_flag=True,
                 help="Allow a token over plain http:// to a loopback host (a local test server); never elsewhere."),
]


@click.command(epilog=AUTH_HELP)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--endpoint", required=True, help="FHIR base URL of the payer, e.g. https://payer.example/fhir")
@delivery_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-v", "--verbose", is_flag=True, help="Log each retry (no bodies, no secrets).")
def send(paths: tuple[Path, ...], endpoint: str, mode: str, bundle_size: int, server_validate: bool,
         state_path: Path | None, retry_failed: bool, timeout: float, max_attempts: int, max_backoff: float,
         auth_kind: str, token_env: str | None, token_file: Path | None, client_id: str | None,
         token_url: str | None, key_file: Path | None, key_id: str | None, alg: str, scope: str,
         cert: Path | None, cert_key: Path | None, ca_bundle: Path | None, fmt: str, verbose: bool,
         verify: bool = False, allow_insecure_http: bool = False) -> None:
    """Deliver Bundles (files, or a map/run output folder) to ENDPOINT, exactly once.

    Every Bundle is validated locally first (nothing invalid is sent), recorded in the outbox journal,
    and sent as a transaction (or batch) with retries. Re-running resumes: delivered Bundles are
    skipped, interrupted ones re-sent with the same X-Request-Id.
    """
    import requests

    from fhiradapter.exchange.auth import (Auth, AuthError, BearerAuth, NoAuth, SmartBackendAuth, configure_tls,
                                           read_secret)
    from fhiradapter.exchange.folderlock import FolderBusy, FolderLock, output_folders
    from fhiradapter.exchange.inputs import default_state_path
    from fhiradapter.exchange.retry import RetryPolicy
    from fhiradapter.exchange.sender import SendOptions

    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if not endpoint.startswith(("https://", "http://")):
        raise _fail("--endpoint must be an http(s) URL")
    from urllib.parse import urlsplit
    parts = urlsplit(endpoint)
    if parts.username or parts.password or parts.query:
        # It would be logged and stored in the journal: credentials belong in --auth.
        raise _fail("--endpoint must not carry credentials or a query string; use --auth")
    state = state_path or default_state_path(list(paths))
    if state is None:
        raise _fail("give --state FILE (the journal) when PATHS is not a map/run output folder")
    if auth_kind != "none":
        for label, url in (("--endpoint", endpoint), ("--token-url", token_url or "")):
            problem = insecure_http_problem(url, allow_insecure_http)
            if problem:
                raise _fail(f"{label}: {problem}")
    elif allow_insecure_http and not _is_loopback(parts.hostname or ""):
        raise _fail("--allow-insecure-http is only allowed for a loopback host (127.0.0.1, ::1, localhost)")
    session = requests.Session()
    auth: Auth
    try:
        configure_tls(session, ca_bundle=str(ca_bundle) if ca_bundle else None,
                      cert=str(cert) if cert else None, key=str(cert_key) if cert_key else None)
        if auth_kind == "bearer":
            if bool(token_env) == bool(token_file):
                raise _fail("--auth bearer needs exactly one of --token-env VAR or --token-file FILE")
            auth = BearerAuth(read_secret(env=token_env, file=token_file, what="bearer token", first_line=True))
        elif auth_kind == "smart":
            missing = [flag for flag, value in (("--client-id", client_id), ("--token-url", token_url),
                                                ("--key-file", key_file)) if not value]
            if missing:
                raise _fail(f"--auth smart needs {', '.join(missing)}")
            auth = SmartBackendAuth(client_id=str(client_id), token_url=str(token_url),
                                    private_key_pem=read_secret(file=key_file, what="SMART key"),
                                    key_id=key_id, alg=alg, scope=scope, session=session, timeout=timeout)
        else:
            if token_env or token_file:
                raise _fail("--token-env/--token-file need --auth bearer")
            auth = NoAuth()
    except AuthError as exc:
        raise _fail(str(exc)) from None
    locks = [FolderLock(folder, "send") for folder in output_folders(list(paths))]
    try:
        for lock in locks:
            lock.acquire()
    except FolderBusy as exc:
        for lock in locks:
            lock.release()
        raise _fail(str(exc)) from None
    try:
        summary = _deliver(state, endpoint, auth, session, timeout, fmt, list(paths),
                           SendOptions(mode=mode, bundle_size=bundle_size, server_validate=server_validate,
                                       retry_failed=retry_failed, verify=verify),
                           RetryPolicy(max_attempts=max_attempts, max_delay=max_backoff))
    finally:
        for lock in locks:
            lock.release()
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
    raise click.exceptions.Exit(EXIT_OK if summary.ok else EXIT_FINDINGS)


def _deliver(state: Path, endpoint: str, auth: Any, session: Any, timeout: float, fmt: str, paths: list[Path],
             options: Any, retry: Any) -> Any:
    """Open the journal and run the Sender; every failure a user can fix exits 2 with one clear line."""
    import sqlite3

    from fhiradapter.exchange.auth import AuthError
    from fhiradapter.exchange.client import FhirClient
    from fhiradapter.exchange.inputs import InputError
    from fhiradapter.exchange.journal import Journal, JournalError
    from fhiradapter.exchange.sender import Sender

    try:
        journal = Journal(state)
    except JournalError as exc:
        raise _fail(str(exc)) from None
    echo = (lambda message: click.echo(message, err=True)) if fmt == "text" else None
    try:
        sender = Sender(FhirClient(endpoint, auth=auth, session=session, timeout=timeout), journal,
                        options=options, retry=retry, progress=echo)
        return sender.run(list(paths))
    except InputError as exc:
        raise _fail(str(exc)) from None
    except AuthError as exc:
        raise _fail(f"authentication: {exc}") from None
    except JournalError as exc:
        raise _fail(str(exc)) from None
    except sqlite3.Error as exc:   # corrupt journal, disk full, I/O error: not a bug of ours
        raise _fail(f"{state}: the journal cannot be used ({exc}); nothing more was sent") from None
    except OSError as exc:
        raise _fail(f"I/O error: {exc.strerror or exc}") from None
    finally:
        try:
            journal.close()
        except sqlite3.Error:
            pass


def _is_loopback(host: str) -> bool:
    import ipaddress
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def insecure_http_problem(url: str, allowed: bool) -> str | None:
    """Why a credential must not go to `url` (plain http), or None."""
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    if parts.scheme != "http":
        return None
    if not allowed:
        return ("refusing to send a token over plain http:// (anyone on the path could read it); use https://, "
                "or --allow-insecure-http for a loopback test server")
    if not _is_loopback(parts.hostname or ""):
        return "--allow-insecure-http is only allowed for a loopback host (127.0.0.1, ::1, localhost)"
    return None


@click.command()
@click.argument("out", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--state", "state_path", type=click.Path(path_type=Path, dir_okay=False),
                 help="Journal file (default: OUT/outbox.sqlite, or ./outbox.sqlite).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def status(out: Path | None, state_path: Path | None, fmt: str) -> None:
    """What the outbox journal says: Bundles per state, and each failure with the server's issues
    traced back to the source file and row. Exit 1 when anything failed or was rejected."""
    from fhiradapter.exchange.journal import Journal, JournalError
    from fhiradapter.exchange.report import build_report, format_text

    state = state_path or (out / "outbox.sqlite" if out else Path("outbox.sqlite"))
    if not state.is_file():
        raise _fail(f"{state}: no journal here (send writes it; give --state FILE)")
    import sqlite3
    try:
        with Journal(state) as journal:
            report = build_report(journal)
    except JournalError as exc:
        raise _fail(str(exc)) from None
    except sqlite3.Error as exc:
        raise _fail(f"{state}: not a usable journal ({exc})") from None
    click.echo(json.dumps(report, indent=2) if fmt == "json" else format_text(report))
    # Anything not known delivered: failed, refused locally, waiting to be re-sent, or in doubt.
    open_items = (report["bundles"]["failed"] + report["bundles"]["rejected-local"] + len(report["in_doubt"])
                  + sum(1 for f in report["failures"] if f["state"] in ("pending", "sending")))
    raise click.exceptions.Exit(EXIT_FINDINGS if open_items else EXIT_OK)
