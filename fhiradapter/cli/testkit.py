"""`fhiradapter testkit run`: the program conformance test kit (fhiradapter.testkit)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from . import EXIT_FINDINGS, EXIT_OK
from .options import auth_options, program_option, show_values_option, timezone_option

AUTH_HELP = """\b
Auth for --endpoint (secrets are never taken on the command line):
  --auth bearer --token-env VAR | --token-file F     a bearer token
  --auth smart --client-id ID --token-url URL --key-file key.pem [--key-id KID] [--alg RS384|ES384]
               [--scope "system/*.read"]             SMART Backend Services
  --cert client.pem --key client.key                 mutual TLS;  --ca-bundle ca.pem  trusted CAs
TLS certificates are always verified.

\b
Exit code: 0 every test passed or was skipped, 1 a test failed, 2 usage error or unreadable input."""


@click.group("testkit")
def testkit() -> None:
    """Conformance test kit: does a system send what a program expects?"""


@testkit.command("run", epilog=AUTH_HELP)
@program_option(required=True, help="The program to test against.")
@click.argument("paths", nargs=-1)
@click.option("--endpoint", metavar="URL", help="FHIR base URL of the system under test (instead of PATHS).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for TestReport.json, junit.xml and report.html.")
@click.option("--patient", "patients", multiple=True, metavar="ID",
              help="Patient id whose records to test (repeatable; default: the server's patients).")
@click.option("--max-patients", type=click.IntRange(1, 100000), default=200, show_default=True,
              help="Most patients discovered by Patient search when no --patient is given.")
@click.option("--no-bulk", is_flag=True, help="Do not try Bulk Data $export even if the server offers it.")
@timezone_option(default="America/Denver", help="Agency time zone for date rules.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Evaluation date for deadline rules.")
@click.option("--recipient", help="Who receives the data (Organization/x or system|value): runs the consent rule.")
@click.option("--purpose", help="v3-ActReason code of the release, e.g. HPAYMT.")
@show_values_option()
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=60.0, show_default=True)
@auth_options(scope="system/*.read", insecure_http=False)
def run(program: str, paths: tuple[str, ...], endpoint: str | None, out: Path, patients: tuple[str, ...],
        max_patients: int, no_bulk: bool, timezone: str, as_of: Any, recipient: str | None, purpose: str | None,
        show_values: bool, timeout: float, **auth_options: Any) -> None:
    """Test a system against a program: its FHIR server (--endpoint) or files it exported (PATHS).

    \b
    Groups of named tests:
      access        metadata, read Patient, search each resource type by patient, Bulk Data $export
                    (kick-off, poll, download; skipped with the reason when the server offers none)
      profiles      one test per constrained element and invariant of each program profile
      must-support  each must-support element populated in at least one resource of the sample
      references    every reference resolves within the sample (or on the server)
      rules         each program rule (skipped with the reason when it is not checkable from data)

    \b
    Examples:
      fhiradapter testkit run --program mt-cmp --endpoint https://ehr.example/fhir --out report/
      fhiradapter testkit run --program mt-cmp out/mt-cmp/bundles --out report/
    """
    from ..rules import ConfigError, RuleConfig
    from ..testkit import run_kit, write_reports
    if bool(endpoint) == bool(paths):
        raise click.UsageError("give either --endpoint URL or PATHS (files or folders), not both")
    try:
        config = RuleConfig(timezone=timezone, as_of=as_of.date() if as_of else None, recipient=recipient,
                            purpose=purpose)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    server = _server(endpoint, timeout, max_patients, auth_options) if endpoint else None
    if paths:
        missing = [p for p in paths if not Path(p).exists()]
        if missing:
            raise click.UsageError(f"no such file or folder: {', '.join(missing)}")
    kit = run_kit(program, paths=list(paths), server=server, patients=list(patients), bulk=not no_bulk,
                  config=config, show_values=show_values, progress=lambda m: click.echo(f"testkit: {m}", err=True))
    written = write_reports(kit, out)
    counts = kit.counts
    for result in kit.results:
        if result.status == "fail":
            click.echo(f"FAIL {result.id}: {result.message}")
    click.echo(f"{program}: {counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped "
               f"({kit.sample_size} resources); reports: {', '.join(str(p) for p in written.values())}")
    click.get_current_context().exit(EXIT_OK if kit.passed else EXIT_FINDINGS)


def _server(endpoint: str, timeout: float, max_patients: int, options: dict[str, Any]) -> Any:
    from urllib.parse import urlsplit

    import requests

    from ..exchange.auth import AuthError, BearerAuth, NoAuth, SmartBackendAuth, configure_tls, read_secret
    from ..testkit.sources import ServerSource
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.UsageError("--endpoint must be an http(s) URL")
    if parts.username or parts.password or parts.query:
        raise click.UsageError("--endpoint must not carry credentials or a query string; use --auth")
    session = requests.Session()
    kind = options["auth_kind"]
    try:
        configure_tls(session, ca_bundle=_s(options["ca_bundle"]), cert=_s(options["cert"]), key=_s(options["cert_key"]))
        if kind == "bearer":
            if bool(options["token_env"]) == bool(options["token_file"]):
                raise click.UsageError("--auth bearer needs exactly one of --token-env VAR or --token-file FILE")
            auth: Any = BearerAuth(read_secret(env=options["token_env"], file=options["token_file"],
                                               what="bearer token", first_line=True))
        elif kind == "smart":
            missing = [f for f, k in (("--client-id", "client_id"), ("--token-url", "token_url"),
                                      ("--key-file", "key_file")) if not options[k]]
            if missing:
                raise click.UsageError(f"--auth smart needs {', '.join(missing)}")
            auth = SmartBackendAuth(client_id=str(options["client_id"]), token_url=str(options["token_url"]),
                                    private_key_pem=read_secret(file=options["key_file"], what="SMART key"),
                                    key_id=options["key_id"], alg=options["alg"], scope=options["scope"],
                                    session=session, timeout=timeout)
        else:
            auth = NoAuth()
    except AuthError as exc:
        raise click.UsageError(str(exc)) from None
    return ServerSource(endpoint, auth=auth, session=session, timeout=timeout, max_patients=max_patients)


def _s(value: Path | None) -> str | None:
    return str(value) if value else None


__all__ = ["testkit"]
