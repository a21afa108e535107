"""Options more than one command takes, declared once so that names, help and defaults agree."""
from __future__ import annotations

from typing import Any, Callable

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


def jobs_option(*, auto: bool = True) -> Decorator:
    """--jobs N: worker processes (fhiradapter/parallel.py); the output never depends on it. auto:
    the default is every core for a large input (else 1, for commands bound by reading and writing)."""
    default = ("default: every core when the input is 4 MiB or more, else 1" if auto else
               "default 1: this command is bound by reading and writing, which stay in one process")
    return click.option("--jobs", "-j", "workers", type=click.IntRange(min=1), default=None if auto else 1,
                        metavar="N", help=f"Worker processes, each on a core ({default}). The output is the "
                                          "same for any N.")
