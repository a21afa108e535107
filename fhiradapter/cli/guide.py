"""`fhiradapter guide build`: the package as a static HTML guide (fhiradapter.guide)."""
from __future__ import annotations

from pathlib import Path

import click


@click.group("guide")
def guide() -> None:
    """The implementation guide: a static, self-contained HTML site for the package."""


@guide.command("build")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the site into (created; existing guide files are overwritten).")
@click.option("--findings", "findings", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="`fhiradapter run` output folder(s) or findings/OperationOutcome files: the rule catalogue "
                   "shows the first finding of each rule found there (default: the package examples only).")
@click.option("--billing-table", type=click.Path(exists=True, dir_okay=False),
              help="Billing-code table to show on the program pages (default: the shipped table).")
def build(out: Path, findings: tuple[Path, ...], billing_table: str | None) -> None:
    """Write the guide: home, one page per program (policy, profiles, rules, billing codes with their
    confirmation status), one per profile (differential, snapshot, invariants, examples), terminology,
    the rule catalogue and downloads (package.tgz, examples). Open OUT/index.html in a browser; no network
    is needed to view it.

    \b
    Example:
      fhiradapter guide build --out site/
      fhiradapter guide build --out site/ --findings out/     # example findings from a run's output
    """
    from fhiradapter.guide import GuideError, build_guide
    from fhiradapter.rules.billing_codes import BillingTableError
    try:
        pages = build_guide(out, findings_from=findings, billing_table=billing_table)
    except (GuideError, BillingTableError) as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.UsageError(f"cannot write the guide to {out}: {exc.strerror or exc}") from None
    click.echo(f"wrote {len(pages)} pages to {out}/ (open {out / 'index.html'})")
