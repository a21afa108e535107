"""`fhiradapter rules`: the program rule catalogue and the billing-code table."""
from __future__ import annotations

import json

import click

from ..canonical import PROGRAMS


def _rows(program: str | None) -> list[dict]:
    from ..rules import catalogue
    return [{
        "id": r.id, "program": r.program, "severity": r.severity, "checkable": r.checkable,
        "source": r.source, "section": r.section, "citation": r.citation, "statement": r.statement,
        "reason_if_not": r.reason_if_not, "needs": r.needs,
    } for r in catalogue(program)]


def markdown(rows: list[dict]) -> str:
    """The two catalogue tables of docs/rules.md (checked rules; statements judged not checkable)."""
    def cell(text: object) -> str:
        return str(text).replace("|", "\\|")
    out = ["### Checked rules", "", "| id | program | severity | source | statement |", "|---|---|---|---|---|"]
    out += [f"| `{r['id']}` | {r['program']} | {r['severity']} | {cell(r['citation'])} | {cell(r['statement'])} |"
            for r in rows if r["checkable"]]
    out += ["", "### Seed statements judged not checkable", "",
            "| id | program | source | statement | why data cannot show it |", "|---|---|---|---|---|"]
    out += [f"| `{r['id']}` | {r['program']} | {cell(r['citation'])} | {cell(r['statement'])} | "
            f"{cell(r['reason_if_not'])} |" for r in rows if not r["checkable"]]
    return "\n".join(out) + "\n"


@click.group()
def rules() -> None:
    """Program policy rules (checks cited to the seed policies)."""


@rules.command("list")
@click.option("--program", type=click.Choice(list(PROGRAMS) + ["all"]),
              help="Only this program's rules (plus the all-program rules).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table",
              show_default=True, help="markdown = the catalogue tables of docs/rules.md")
def list_rules(program: str | None, fmt: str) -> None:
    """Print every rule: id, program, severity, citation, statement; non-checkable ones say why."""
    rows = _rows(None if program == "all" else program)
    if program == "all":
        rows = [r for r in rows if r["program"] == "all"]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if fmt == "markdown":
        click.echo(markdown(rows), nl=False)
        return
    headers = ("ID", "PROGRAM", "SEVERITY", "CHECK")
    table = [(r["id"], r["program"], r["severity"], "yes" if r["checkable"] else "no") for r in rows]
    widths = [max([len(h)] + [len(row[i]) for row in table]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    for r, row in zip(rows, table):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        click.echo(f"    {r['statement']}")
        click.echo(f"    source: {r['citation']}")
        if not r["checkable"]:
            click.echo(f"    not checkable: {r['reason_if_not']}")
        elif r["needs"]:
            click.echo(f"    needs: {r['needs']} (see docs/rules.md)")
    checkable = sum(1 for r in rows if r["checkable"])
    click.echo(f"\n{len(rows)} rules: {checkable} checkable, {len(rows) - checkable} not checkable from data")


@rules.command("billing-codes")
@click.option("--table", "path", type=click.Path(dir_okay=False), help="Another billing-code CSV to check.")
def billing_codes(path: str | None) -> None:
    """Check and print the dated billing-code table (only confirmed rows are ever used by rules)."""
    from ..rules.billing_codes import BillingTableError, load_billing_codes
    try:
        rows = load_billing_codes(path)
    except BillingTableError as exc:
        raise click.UsageError(str(exc)) from None
    for r in rows:
        code = (r.code + (f"-{r.modifier}" if r.modifier else "")) or "(unconfirmed)"
        dates = f"{r.effective_from or 'open'}..{r.effective_to or 'open'}"
        click.echo(f"{r.program:8} {code:14} {r.unit or '-':9} {dates:24} {r.status:11} {r.source_citation}")
