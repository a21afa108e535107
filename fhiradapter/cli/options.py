"""Options more than one command takes, declared once so that names, help and defaults agree."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Sequence

import click

from ..canonical import PROGRAMS

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def show_values_option(help: str = "Include record values in messages (may expose PHI).") -> Decorator:
    return click.option("--show-values", is_flag=True, help=help)


def program_option(*, with_all: bool = False, required: bool = False, help: str | None = None) -> Decorator:
    """--program ID (or 'all' where the command can do every program)."""
    return click.option("--program", required=required,
                        type=click.Choice(list(PROGRAMS) + (["all"] if with_all else [])), help=help)


def format_option(*choices: str, help: str | None = None) -> Decorator:
    """--format, the first choice the default."""
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=choices[0],
                        show_default=True, help=help)


def timezone_option(default: str | None = None, help: str = "Agency IANA time zone for date rules "
                    "(e.g. America/Denver).") -> Decorator:
    return click.option("--timezone", default=default, show_default=default is not None, metavar="TZ", help=help)


def _apply(options: Sequence[Decorator]) -> Decorator:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            fn = option(fn)
        return fn
    return decorate


# -- map and run: one grammar (`fhiradapter map|run INPUT --out OUT [--mapping FILE]`) ----------------

def input_argument() -> Decorator:
    """INPUT, the export folder: positional in `map` and `run` alike."""
    return click.argument("input_dir", metavar="INPUT", required=False, type=click.Path(file_okay=False))


def deprecated_input_option() -> Decorator:
    """`map --input DIR`, the old spelling of INPUT: still accepted, with a note (hidden from --help)."""
    return click.option("--input", "input_option", hidden=True, type=click.Path(file_okay=False))


def resolve_input(positional: str | None, option: str | None) -> str:
    if positional and option:
        raise click.UsageError("give the export folder once: as INPUT (--input is the old spelling)")
    if option:
        click.echo("note: `--input DIR` is deprecated; give the export folder as INPUT "
                   "(fhiradapter map INPUT --mapping FILE --out OUT)", err=True)
    chosen = positional or option
    if not chosen:
        raise click.UsageError("missing the export folder INPUT")
    if not Path(chosen).is_dir():
        raise click.UsageError(f"input folder {chosen} does not exist")
    return chosen


def out_option(help: str = "Output folder: written whole when the run completes (staged beside it until then).") -> Decorator:
    return click.option("--out", required=True, type=click.Path(file_okay=False), help=help)


def mapping_option(required: bool = False, help: str = "Mapping file (YAML).") -> Decorator:
    return click.option("--mapping", "mapping_file", required=required, type=click.Path(dir_okay=False, exists=True),
                        help=help)


_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _instant(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not _INSTANT.match(value):
        raise click.BadParameter("a FHIR instant with seconds and a zone, e.g. 2026-04-27T00:00:00Z")
    return value


def output_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """What map and run write: --show-values, Bundle shape, progress, Provenance."""
    return _apply([
        show_values_option(),
        click.option("--max-entries", type=click.IntRange(1, 100000), default=500, show_default=True,
                     help="Largest transaction Bundle."),
        click.option("--bundle-method", type=click.Choice(["put", "post"]), default="put", show_default=True,
                     help="PUT {Type}/{id} (idempotent) or POST with ifNoneExist on the identifier."),
        click.option("--no-bundles", is_flag=True, help="Write NDJSON only."),
        click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when a terminal)."),
        click.option("--provenance-time", callback=_instant,
                     help="Add one Provenance per Bundle, recorded at this FHIR instant (e.g. 2026-04-27T00:00:00Z)."),
    ])(fn)


# -- auth: send, run --endpoint and testkit --endpoint -------------------------------------------------

def auth_options(*, scope: str = "system/*.write", alg: str = "RS384", insecure_http: bool = True) -> Decorator:
    """--auth none|bearer|smart with their secrets' sources (never argv), mTLS and CAs."""
    options: list[Decorator] = [
        click.option("--auth", "auth_kind", type=click.Choice(["none", "bearer", "smart"]), default="none",
                     show_default=True),
        click.option("--token-env", metavar="VAR"),
        click.option("--token-file", type=click.Path(path_type=Path)),
        click.option("--client-id"),
        click.option("--token-url"),
        click.option("--key-file", type=click.Path(path_type=Path), help="SMART private key (PEM)."),
        click.option("--key-id", help="SMART key id (kid) as published in your JWKS."),
        click.option("--alg", type=click.Choice(["RS384", "ES384"]), default=alg, show_default=True),
        click.option("--scope", default=scope, show_default=True),
        click.option("--cert", type=click.Path(path_type=Path), help="mTLS client certificate (PEM)."),
        click.option("--key", "cert_key", type=click.Path(path_type=Path), help="mTLS client key (PEM)."),
        click.option("--ca-bundle", type=click.Path(path_type=Path)),
    ]
    if insecure_http:
        options.append(click.option(
            "--allow-insecure-http", is_flag=True,
            help="Allow a token over plain http:// to a loopback host (a local test server); never elsewhere."))
    return _apply(options)
def jobs_option(*, auto: bool = True) -> Decorator:
    """--jobs N: worker processes (fhiradapter/parallel.py); the output never depends on it. auto:
    the default is every core for a large input (else 1, for commands bound by reading and writing)."""
    default = ("default: every core when the input is 4 MiB or more, else 1" if auto else
               "default 1: this command is bound by reading and writing, which stay in one process")
    return click.option("--jobs", "-j", "workers", type=click.IntRange(min=1), default=None if auto else 1,
                        metavar="N", help=f"Worker processes, each on a core ({default}). The output is the "
                                          "same for any N.")
