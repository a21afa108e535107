"""`fhiradapter serve`: the payer intake gateway (docs/intake.md)."""
from __future__ import annotations

import os

import click

from . import EXIT_OK


@click.command("serve")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="TOML settings file (see examples/intake/intake.toml).")
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1). A non-loopback "
              "interface needs auth configured.")
@click.option("--port", type=int, default=None, help="Port (default 8090).")
@click.option("--workers", type=int, default=None, help="uvicorn worker processes (default 1).")
@click.option("--data-dir", default=None, help="Ledger, outbox and spool folder (default ./intake-data).")
@click.option("--upstream", default=None, metavar="URL", help="The payer's FHIR base to forward accepted "
              "submissions to.")
@click.option("--ig", "igs", multiple=True, metavar="DIR_OR_TGZ",
              help="More profiles/value sets (FHIR package folder or .tgz), as for `validate`. Repeatable.")
def serve(config_file: str | None, host: str | None, port: int | None, workers: int | None,
          data_dir: str | None, upstream: str | None, igs: tuple[str, ...]) -> int:
    """Run the payer intake gateway: an HTTP FHIR R4 service that validates what agencies send.

    \b
    Endpoints (application/fhir+json):
      GET  /metadata                      CapabilityStatement
      POST /$validate, /{type}/$validate  OperationOutcome, as `fhiradapter validate --format json`
      POST /                              transaction/batch Bundle: rejected whole (422 + located
                                          issues) or accepted and forwarded to --upstream, exactly once
      GET  /submissions, /submissions/ID  verdict and delivery state (the ledger)
    \b
    Settings: --config FILE (TOML), then FHIRADAPTER_INTAKE_<SECTION>_<KEY> environment variables
    (e.g. FHIRADAPTER_INTAKE_LEDGER_DSN=postgresql://…), then these options. Without auth settings
    it only listens on a loopback interface. Stop with Ctrl-C. See docs/intake.md.
    """
    from ..intake.config import CONFIG_ENV, ConfigError, load_config
    from ..intake.ledger import LedgerError
    from ..intake.server import serve as run

    overrides = {"server.host": host, "server.port": port, "server.workers": workers,
                 "server.data_dir": data_dir, "upstream.url": upstream}
    try:
        config = load_config(config_file, overrides=overrides)
        config.validation.igs += [os.path.abspath(i) for i in igs]
        config.check_safe()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    # worker processes rebuild the config from the environment: pass the command line there too
    for dotted, value in overrides.items():
        if value is not None:
            section, key = dotted.split(".")
            os.environ[f"FHIRADAPTER_INTAKE_{section.upper()}_{key.upper()}"] = str(value)
    if igs:
        os.environ["FHIRADAPTER_INTAKE_VALIDATION_IGS"] = ",".join(config.validation.igs)
    if config_file:
        os.environ[CONFIG_ENV] = os.path.abspath(config_file)
    for ig in config.validation.igs:
        if not os.path.exists(ig):
            raise click.UsageError(f"--ig/validation.igs {ig}: no such file or directory")
    click.echo(f"fhiradapter intake on http://{config.server.host}:{config.server.port} "
               f"(upstream {config.upstream.url or 'none: submissions stay queued'}, "
               f"auth {'on' if config.auth.enabled else 'off'}, data {config.data_dir})", err=True)
    try:
        run(config, os.environ.get(CONFIG_ENV))
    except LedgerError as exc:
        raise click.UsageError(str(exc)) from None
    return EXIT_OK
