"""`fhiradapter rules`: the program rule catalogue and the billing-code table."""
from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Any

import click

from ..outcome import Issue
from .options import format_option, jobs_option, program_option, timezone_option


def _rows(program: str | None) -> list[dict[str, Any]]:
    from ..rules import catalogue
    return [{
        "id": r.id, "program": r.program, "severity": r.severity, "checkable": r.checkable,
        "source": r.policy.citation if r.policy else r.citation, "section": r.section, "citation": r.citation, "statement": r.statement,
        "reason_if_not": r.reason_if_not, "needs": r.needs,
    } for r in catalogue(program)]


def markdown(rows: list[dict[str, Any]]) -> str:
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
@program_option(with_all=True, help="Only this program's rules (plus the all-program rules).")
@format_option("table", "json", "markdown", help="markdown = the catalogue tables of docs/rules.md")
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


ROSTER_LIMIT = 64 * 1024 * 1024   # a roster file is read whole


def _load_rosters(paths: tuple[str, ...]) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for p in paths:
        try:
            with open(p, "rb") as handle:
                raw = handle.read(ROSTER_LIMIT + 1)
            if len(raw) > ROSTER_LIMIT:
                raise ValueError(f"larger than {ROSTER_LIMIT // (1024 * 1024)} MiB")
            data = json.loads(raw.decode("utf-8"))
        except RecursionError:
            raise click.UsageError(f"--roster {p}: nested too deeply") from None
        except (OSError, ValueError) as exc:
            raise click.UsageError(f"--roster {p}: cannot read a JSON Group or Bundle ({exc})") from None
        items = [e.get("resource") for e in data.get("entry") or [] if isinstance(e, dict)] \
            if isinstance(data, dict) and data.get("resourceType") == "Bundle" else [data]
        found = [g for g in items if isinstance(g, dict) and g.get("resourceType") == "Group"]
        if not found:
            raise click.UsageError(f"--roster {p}: no Group resource in it")
        groups.extend(found)
    return groups


@rules.command("check")
@click.argument("paths", nargs=-1, required=True)
@program_option(help="Run this program's rules (default: the programs the records name).")
@timezone_option(help="Agency IANA time zone (default: the agency zone of the record's program in the programs "
                 "table, e.g. America/New_York for dc-cs).")
@click.option("--week-start", default="monday", show_default=True, help="First day of a week.")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Evaluation date and, for the consent "
              "rule, release date (default: the latest date in the whole input, the export's end; release: today).")
@click.option("--data-from", "data_from", default="auto", show_default=True,
              help="Start of the extract window (YYYY-MM-DD): checks needing earlier contacts are not judged. "
                   "'auto' = the earliest contact of the input when it holds several members; 'none' = complete.")
@click.option("--recipient", help="Data recipient for the consent rule: Organization/x or system|value.")
@click.option("--purpose", help="Release purpose (v3-ActReason code, e.g. HPAYMT).")
@click.option("--roster", "rosters", multiple=True, type=click.Path(dir_okay=False),
              help="Team roster Group (or Bundle of Groups) JSON for the mt-cmp 20% rule; repeatable.")
@format_option("text", "json", help="json = one OperationOutcome per member record.")
@jobs_option()
def check(paths: tuple[str, ...], program: str | None, timezone: str | None, week_start: str, as_of: datetime | None,
          data_from: str, recipient: str | None, purpose: str | None, rosters: tuple[str, ...], fmt: str,
          workers: int | None = None) -> None:
    """Run only the program rules over member records (Bundles, or NDJSON grouped by subject)."""
    from .. import api
    from ..outcome import operation_outcome
    from ..rules import ConfigError, RuleConfig
    from ..validator.report import text_line

    window: date | None = None
    if data_from not in ("auto", "none"):
        try:
            window = date.fromisoformat(data_from)
        except ValueError:
            raise click.UsageError(f"--data-from must be auto, none or YYYY-MM-DD, not {data_from!r}") from None
    try:
        config = RuleConfig(timezone=timezone, week_start=week_start, recipient=recipient, purpose=purpose,
                            as_of=as_of.date() if as_of else None, rosters=_load_rosters(rosters) or None,
                            data_from=window)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None

    def line(issue: Issue) -> str:
        return text_line(issue, unplaced="-")

    try:
        report = api.check_rules(paths, config, program=program, data_from_auto=data_from == "auto",
                                 on_read_issue=(lambda issue: click.echo(line(issue))) if fmt == "text" else None,
                                 jobs=workers)
    except api.UsageError as exc:
        raise click.UsageError(str(exc)) from None
    if fmt == "text":
        for issue in report.problems:
            click.echo(line(issue))
    if report.data_from:
        click.echo(f"note: contacts taken as complete from {report.data_from.isoformat()} (the earliest "
                   f"contact in the input); --data-from sets the window", err=True)
    if report.export_end:
        click.echo(f"note: evaluation date {report.export_end.isoformat()} (the latest date in the input); "
                   f"--as-of sets it", err=True)
    if fmt == "json":
        outcomes = [operation_outcome(found, resource_id=None) for _, found in report.records]
        click.echo(json.dumps(outcomes if len(outcomes) != 1 else outcomes[0], indent=2, ensure_ascii=False))
    else:
        for _, found in report.records:
            for issue in found:
                click.echo(line(issue))
    sys.exit(1 if report.has_errors else 0)
