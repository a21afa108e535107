"""`fhiradapter rules`: the program rule catalogue and the billing-code table."""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

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


def _load_rosters(paths: tuple[str, ...]) -> list[dict]:
    groups: list[dict] = []
    for p in paths:
        try:
            data = json.loads(Path(p).read_text(encoding="utf-8"))
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
@click.option("--program", type=click.Choice(list(PROGRAMS)), help="Run this program's rules (default: the "
              "programs the records name).")
@click.option("--timezone", default=None, metavar="TZ", help="Agency IANA time zone (default: the agency zone "
              "of the record's program in the programs table, e.g. America/New_York for dc-cs).")
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
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json = one OperationOutcome per member record.")
def check(paths: tuple[str, ...], program: str | None, timezone: str | None, week_start: str, as_of: object,
          data_from: str, recipient: str | None, purpose: str | None, rosters: tuple[str, ...], fmt: str) -> None:
    """Run only the program rules over member records (Bundles, or NDJSON grouped by subject)."""
    from ..outcome import operation_outcome
    from ..rules import ConfigError, RuleConfig, run_rules
    from ..rules.members import earliest_contact, group
    from ..validator.inputs import InputError, expand_paths, read

    window: date | None = None
    if data_from not in ("auto", "none"):
        try:
            window = date.fromisoformat(data_from)
        except ValueError:
            raise click.UsageError(f"--data-from must be auto, none or YYYY-MM-DD, not {data_from!r}") from None
    try:
        config = RuleConfig(timezone=timezone, week_start=week_start, recipient=recipient, purpose=purpose,
                            as_of=as_of.date() if as_of else None, rosters=_load_rosters(rosters) or None,  # type: ignore[attr-defined]
                            data_from=window)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        files = expand_paths(list(paths))
    except InputError as exc:
        raise click.UsageError(str(exc)) from None
    errors = False
    outcomes = []
    seen_roster: set[tuple] = set()  # a team-level (Group) finding repeats in every member record
    items: list[tuple[str, int | None, object]] = []
    for path in files:
        source = "<stdin>" if path == "-" else path
        try:
            for item in read(path):
                if item.issue is not None:
                    errors = errors or item.issue.is_error
                    if fmt == "text":
                        click.echo(_line(item.issue))
                else:
                    items.append((source, item.line, item.resource))
        except InputError as exc:
            raise click.UsageError(str(exc)) from None
    records, problems = group(items)
    for issue in problems:
        errors = True
        if fmt == "text":
            click.echo(_line(issue))
    if config.as_of is None and config.today is None:
        # the export's end, not each member's own latest record (issue 12 defect 3)
        from ..rules.window import LatestDate
        latest = LatestDate()
        for record in records:
            latest.add_all(record.resources)
        config.export_end = latest.day
        if config.export_end:
            click.echo(f"note: evaluation date {config.export_end.isoformat()} (the latest date in the input); "
                       f"--as-of sets it", err=True)
    if data_from == "auto" and len(records) > 1:
        config.data_from = earliest_contact(records, config)
        if config.data_from:
            click.echo(f"note: contacts taken as complete from {config.data_from.isoformat()} (the earliest "
                       f"contact in the input); --data-from sets the window", err=True)
    for record in records:
        found = []
        for issue in run_rules(record.resources, programs={program} if program else None, config=config):
            if (issue.expression or "").startswith("Group."):
                key = (issue.rule, issue.expression, issue.message)
                if key in seen_roster:
                    continue
                seen_roster.add(key)
            found.append(record.stamp(issue))
        errors = errors or any(i.is_error for i in found)
        if fmt == "json":
            outcomes.append(operation_outcome(found, resource_id=None))
        else:
            for issue in found:
                click.echo(_line(issue))
    if fmt == "json":
        click.echo(json.dumps(outcomes if len(outcomes) != 1 else outcomes[0], indent=2, ensure_ascii=False))
    sys.exit(1 if errors else 0)


def _line(issue: object) -> str:
    where = issue.location_text() or "-"  # type: ignore[attr-defined]
    expr = f" {issue.expression}" if issue.expression else ""  # type: ignore[attr-defined]
    tag = f" [{issue.rule}]" if issue.rule else ""  # type: ignore[attr-defined]
    return f"{where}: {issue.severity.upper()}{expr}: {issue.message}{tag}"  # type: ignore[attr-defined]
