"""The `fhiradapter` command: a click group whose subcommands live one module each.

Subcommands load lazily, so `fhiradapter --help` and each command start fast and a command's
heavy imports (validator tables, SQLite, crypto) cost nothing to the others.

Exit codes, for every command:
  0  done, no error-severity findings
  1  done, but errors were found (invalid resources, rejected rows, failed deliveries)
  2  usage error or unreadable input
  3  internal error (a bug: please report it with --debug output)
  130  interrupted (Ctrl-C)
"""
from __future__ import annotations

import importlib
import os
import sys
import click

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130

# command name -> "module:attribute" (module relative to fhiradapter.cli)
COMMANDS: dict[str, tuple[str, str]] = {
    "profiles": ("profiles", "profiles"),
    "validate": ("validate", "validate"),
    "rules": ("rules", "rules"),
    "mapping": ("mapping", "mapping"),
    "map": ("mapping", "map_command"),
    "run": ("run", "run"),
    "send": ("send", "send"),
    "status": ("send", "status"),
    "serve": ("serve", "serve"),
    "guide": ("guide", "guide"),
    "testkit": ("testkit", "testkit"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target
        try:
            module = importlib.import_module(f"fhiradapter.cli.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"fhiradapter.cli.{module_name}":
                return None
            raise
        return getattr(module, attr, None)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fhiradapter")
@click.option("--debug", is_flag=True, envvar="FHIRADAPTER_DEBUG",
              help="Show Python tracebacks for internal errors (may include record values).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """FHIR R4 adapter for US community behavioral-health programs.

    \b
    Typical flow:
      fhiradapter run --program mt-cmp examples/mt-cmp --out out/   map + validate + write
      fhiradapter validate out/mt-cmp/bundles/                      check resources or Bundles
      fhiradapter send --endpoint https://payer.example/fhir out/   deliver, exactly once
      fhiradapter status --state out/outbox.sqlite                  what arrived, what failed

    Exit codes: 0 ok, 1 errors found, 2 usage error or unreadable input, 3 internal error.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv: list[str] | None = None) -> None:
    """Entry point: click errors exit 2; unexpected exceptions print one line and exit 3."""
    try:
        rc = cli.main(args=argv, prog_name="fhiradapter", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):   # click turns Ctrl-C into Abort
            click.echo("Interrupted.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:   # the reader of our output went away (`| head`): nothing more to say
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the exit flush from failing again
        sys.exit(EXIT_USAGE)
    except OSError as exc:    # disk full, permission denied, I/O error: a clear message, not a bug report
        name = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        click.echo(f"error: {exc.strerror or exc}{name}", err=True)
        sys.exit(EXIT_USAGE)
    except Exception as exc:  # never a traceback to the user unless asked
        if os.environ.get("FHIRADAPTER_DEBUG") or (argv or sys.argv[1:])[:1] == ["--debug"]:
            raise
        click.echo(f"internal error: {type(exc).__name__} (run with --debug for details)", err=True)
        sys.exit(EXIT_INTERNAL)
    sys.exit(rc if isinstance(rc, int) else EXIT_OK)
