"""What the run report shows, read back from an output folder's own files (summary.json, errors.ndjson,
findings.ndjson, ndjson/Encounter.ndjson, outbox.sqlite): the report says what the files say.

No record values: messages are the ones the files hold (values only when the run was asked for them
with --show-values), members are named by their Patient id, weeks by their start date.
"""
from __future__ import annotations

import re
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterator, Mapping

import orjson
from markupsafe import Markup

from fhiradapter.mapping.errorfile import read_errors
from fhiradapter.mapping.writers import bundle_name

_LINE_NUMBER = re.compile(r"\b(lines?) \d+")


# The page stays the same size however large the run (issue 18: it was rendered per row): the tables
# list at most these many entries, and say how many more the files hold.
REJECTED_ROWS = 500   # rejected rows listed one by one (all of them are in errors.ndjson)
GROUP_ROWS = 12       # file:line links per reason
MEMBERS = 200         # members in the findings-by-member table and in the weekly table


@dataclass
class RejectGroup:
    reason: str
    column: str
    rows: list[tuple[str | None, str]] = field(default_factory=list)   # the first (anchor or None, "file:line")
    count: int = 0    # rows with this reason and column
    last: int = 0     # the last row counted (a row with two such issues counts once)


@dataclass
class RuleRow:
    rule: str
    severity: str
    count: int
    members: int
    citation: str
    statement: str


@dataclass
class MemberRow:
    member: str
    bundle: str
    error: int = 0
    warning: int = 0
    information: int = 0
    rules: list[str] = field(default_factory=list)


@dataclass
class Weekly:
    weeks: list[date]
    counts: WeekTable                    # member -> week start -> contacts
    required: int | None                 # contacts per member per week, None: no weekly minimum
    rule: str | None
    citation: str | None
    shown: list[str] = field(default_factory=list)   # the members of the table (at most MEMBERS)

    def span(self, member: str) -> tuple[date, date]:
        weeks = self.counts[member]
        return min(weeks), max(weeks)

    def cells(self, member: str) -> list[int | None]:
        """The member's contacts per week; None outside its first..last contact week (not judged here)."""
        weeks = self.counts[member]
        first, last = min(weeks), max(weeks)
        return [weeks.get(w, 0) if first <= w <= last else None for w in self.weeks]

    def row_cells(self, member: str) -> Markup:
        """The member's row of the weekly table: its cells as HTML (numbers and fixed classes only),
        written here rather than per cell by the template (a few thousand cells per page)."""
        required = self.required
        cells = []
        for n in self.cells(member):
            if n is None:
                cells.append('<td class="out"></td>')
            elif required is not None and n < required:
                cells.append(f'<td class="below">{n}</td>')
            else:
                cells.append(f'<td class="met">{n}</td>')
        return Markup("".join(cells))

    def short_weeks(self, member: str) -> int:
        """Weeks within the member's span below the requirement."""
        required = self.required or 0
        weeks = self.counts[member]
        first, last = min(weeks), max(weeks)
        return sum(1 for w in self.weeks if first <= w <= last and weeks.get(w, 0) < required)


@dataclass
class RunData:
    summary: dict[str, Any]
    files: list[dict[str, Any]]
    rejected_rows: list[dict[str, Any]]   # the first REJECTED_ROWS
    reject_groups: list[RejectGroup]
    rules: list[RuleRow]
    members: list[MemberRow]               # the MEMBERS with the most errors, then warnings
    weekly: Weekly | None
    delivery: dict[str, Any] | None
    program_title: str | None
    citation: str | None
    rejected_total: int = 0    # rejected rows (errors.ndjson lines)
    members_total: int = 0     # members with a finding


def collect(out: Path, weekly: WeeklyCounts | None = None) -> RunData:
    """weekly: the Encounters the run counted as it wrote them (else Encounter.ndjson is read)."""
    summary = orjson.loads((out / "summary.json").read_bytes())
    program = summary.get("program")
    files = [{"name": name, "read": c.get("read", 0), "mapped": c.get("mapped", 0),
              "rejected": c.get("rejected", 0), "skipped": c.get("skipped", 0)}
             for name, c in summary.get("files", {}).items()]
    rejected_rows, groups, rejected_total = _rejected(out)
    rules, members = _findings(out)
    from fhiradapter.programs import program as program_row
    row = program_row(program) if program else None
    return RunData(summary=summary, files=files, rejected_rows=rejected_rows, reject_groups=groups,
                   rules=rules, members=members[:MEMBERS], weekly=_weekly(out, program, weekly) if row else None,
                   delivery=delivery_state(out), program_title=row.title if row else None,
                   citation=row.citation if row else None, rejected_total=rejected_total,
                   members_total=len(members))


def _reason(message: str, file: str | None) -> str:
    """The message without its "FILE:LINE column 'C' at PATH: " prefix (the groups name those)."""
    if file and message.startswith(file) and ": " in message:
        message = message.split(": ", 1)[1]
    return _LINE_NUMBER.sub(r"\1 …", message)


def _rejected(out: Path) -> tuple[list[dict[str, Any]], list[RejectGroup], int]:
    """The first REJECTED_ROWS rejected rows, the groups by reason and column (counts, first rows), and
    the number of rejected rows."""
    rows: list[dict[str, Any]] = []
    groups: dict[tuple[str, str], RejectGroup] = {}
    n = 0
    for n, record in enumerate(read_errors(out / "errors.ndjson"), start=1):
        file, line = record.get("file"), record.get("line")
        where = f"{file}:{line}" if line is not None else str(file)
        anchor = f"row-{n}" if n <= REJECTED_ROWS else None   # a link only to a row the page lists
        if anchor is not None:
            rows.append({"anchor": anchor, "where": where, "record": record.get("record"),
                         "stage": record.get("stage"), "template": record.get("template"),
                         "messages": [i.get("message", "") for i in record.get("issues", [])]})
        for issue in record.get("issues", []):
            column = issue.get("column") or issue.get("expression") or "(whole row)"
            key = (_reason(issue.get("message", ""), file), column)
            group = groups.get(key)
            if group is None:
                group = groups[key] = RejectGroup(key[0], column)
            if group.last != n:
                group.last = n
                group.count += 1
                if len(group.rows) < GROUP_ROWS:
                    group.rows.append((anchor, where))
    ordered = sorted(groups.values(), key=lambda g: (-g.count, g.reason, g.column))
    return rows, ordered, n


def _finding_parts(issue: dict[str, Any]) -> tuple[str, str]:
    """(rule or check id, severity) of a findings.ndjson issue (flat validator or FHIR rule shape)."""
    rule = issue.get("rule")
    if not rule:
        coding = (issue.get("details") or {}).get("coding") or [{}]
        rule = coding[0].get("code")
    return str(rule or issue.get("code") or "unspecified"), str(issue.get("severity", "information"))


def _findings(out: Path) -> tuple[list[RuleRow], list[MemberRow]]:
    path = out / "findings.ndjson"
    if not path.is_file():
        return [], []
    by_rule: Counter[tuple[str, str]] = Counter()
    rule_members: dict[str, set[str]] = defaultdict(set)
    members: dict[str, MemberRow] = {}
    with open(path, "rb") as handle:
        for text in handle:
            if not text.strip():
                continue
            record = orjson.loads(text)
            rule, severity = _finding_parts(record.get("issue") or {})
            by_rule[(rule, severity)] += 1
            member = record.get("member")
            if member:
                rule_members[rule].add(member)
                row = members.get(member)
                if row is None:
                    row = members[member] = MemberRow(member, f"bundles/{bundle_name(member, 1)}")
                key = severity if severity in ("error", "warning") else "information"
                setattr(row, key, getattr(row, key) + 1)
                if rule not in row.rules:
                    row.rules.append(rule)
    catalogue = _catalogue() if by_rule else {}
    rules = []
    for (rule, severity), count in sorted(by_rule.items(), key=lambda kv: (_rank(kv[0][1]), -kv[1], kv[0][0])):
        known = catalogue.get(rule)
        rules.append(RuleRow(rule, severity, count, len(rule_members.get(rule, ())),
                             known[0] if known else "FHIR R4 structure and profile validation (check "
                                                    f"{rule})",
                             known[1] if known else ""))
    ordered = sorted(members.values(), key=lambda m: (-m.error, -m.warning, m.member))
    return rules, ordered


def _rank(severity: str) -> int:
    return {"fatal": 0, "error": 1, "warning": 2}.get(severity, 3)


def _catalogue() -> dict[str, tuple[str, str]]:
    from fhiradapter.rules import catalogue
    return {r.id: (r.citation, r.statement) for r in catalogue()}


class WeeklyCounts:
    """Contacts per member per week (weeks from Monday): the member Encounters that claim the program's
    Encounter profile (a stay claims none). The rule's finer test (which modes qualify) is the rule's:
    its findings are in findings.ndjson and the report's findings table.

    map/run count the Encounters as they write them (and take out those held back), so the report
    need not read Encounter.ndjson back (issue 18); a report refreshed later reads the file.

    Each member's weeks are one machine-integer array, [first Monday's ordinal, contacts of that week,
    of the next, ...] (issue 18: a dict of dates per member was ~1 KB a member, the largest thing a
    1,000,000-row `map` still held); `counts` reads them as {Monday: contacts}."""

    def __init__(self, program: str) -> None:
        from fhiradapter.canonical import profile_url
        self.profile = profile_url(program, "Encounter")
        self._members: dict[str, array[int]] = {}
        self._weeks: dict[str, int | None] = {}   # 'YYYY-MM-DD' -> its week's Monday, ordinal (None: no date)

    @property
    def counts(self) -> WeekTable:
        """member -> {week's Monday: contacts} (weeks without a contact left out), in member order."""
        return WeekTable(self._members)

    def _week(self, start: str) -> int | None:
        if start in self._weeks:
            return self._weeks[start]
        week: int | None
        try:
            day = date.fromisoformat(start)
        except ValueError:
            week = None
        else:
            week = day.toordinal() - day.weekday()
        if len(self._weeks) >= 4096:   # a few years of days; bounded
            self._weeks.clear()
        self._weeks[start] = week
        return week

    def add(self, encounter: dict[str, Any], step: int = 1) -> None:
        """Count an Encounter written (step -1: one taken out of the output again)."""
        fact = self.fact(encounter)
        if fact is not None:
            self.count(*fact, step)

    def fact(self, encounter: dict[str, Any]) -> tuple[str, str] | None:
        """What `add` counts of an Encounter: (member, start day text), or None when it counts nothing
        (a --jobs worker finds it, so the parent never parses the Encounter)."""
        if self.profile not in ((encounter.get("meta") or {}).get("profile") or ()):
            return None
        member = (encounter.get("subject") or {}).get("reference")
        if not isinstance(member, str) or not member.startswith("Patient/"):
            return None
        return member, str((encounter.get("period") or {}).get("start") or "")[:10]

    def count(self, member: str, start: str, step: int = 1) -> None:
        """Count one contact of `member` on day `start` (YYYY-MM-DD; step -1: take one out)."""
        week = self._week(start)
        if week is None:
            return
        weeks = self._members.get(member)
        if weeks is None:
            if step > 0:
                self._members[member] = array("I", (week, step))
            return
        at = (week - weeks[0]) // 7 + 1
        if at < 1:   # a week before the member's first one so far
            weeks[1:1] = array("I", bytes(4 * (1 - at)))
            weeks[0] = week
            at = 1
        elif at >= len(weeks):
            weeks.extend(array("I", bytes(4 * (at - len(weeks) + 1))))   # zeros up to this week
        count = weeks[at] + step
        weeks[at] = count if count > 0 else 0
        if count <= 0 and not any(weeks[1:]):   # as if never written: no member without a contact
            del self._members[member]

    def remove(self, encounter: dict[str, Any]) -> None:
        self.add(encounter, -1)


class WeekTable(Mapping[str, dict[date, int]]):
    """WeeklyCounts' arrays read as {week's Monday: contacts}, one member at a time (never all at once)."""

    def __init__(self, members: dict[str, array[int]]) -> None:
        self._members = members
        self._order = sorted(members)

    def __getitem__(self, member: str) -> dict[date, int]:
        weeks = self._members[member]
        first = weeks[0]
        return {date.fromordinal(first + 7 * n): c for n, c in enumerate(weeks[1:]) if c}

    def spans(self) -> Iterator[tuple[int, array[int]]]:
        """Per member (in no particular order): its first week's ordinal and its contacts per week from
        there (zeros where a week has none, possibly at either end): the met chart counts from these."""
        for weeks in self._members.values():
            yield weeks[0], weeks[1:]

    def first_and_last(self) -> tuple[date, date]:
        """The first and the last week with a contact of any member (read from the arrays, no dicts)."""
        first = last = None
        for weeks in self._members.values():
            counts = weeks[1:]
            low = weeks[0] + 7 * next(n for n, c in enumerate(counts) if c)
            high = weeks[0] + 7 * (len(counts) - 1 - next(n for n, c in enumerate(reversed(counts)) if c))
            first = low if first is None or low < first else first
            last = high if last is None or high > last else last
        assert first is not None and last is not None   # asked only when there is a member
        return date.fromordinal(first), date.fromordinal(last)

    def __iter__(self) -> Iterator[str]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)


def _weekly(out: Path, program: str, counted: WeeklyCounts | None = None) -> Weekly | None:
    """The weekly table: from `counted` (the run's own counts), else read from Encounter.ndjson."""
    from fhiradapter.programs import program as program_row
    if counted is None:
        path = out / "ndjson" / "Encounter.ndjson"
        if not path.is_file():
            return None
        counted = WeeklyCounts(program)
        with open(path, "rb") as handle:
            for text in handle:
                counted.add(orjson.loads(text))
    counts = counted.counts
    if not counts:
        return None
    first, last = counts.first_and_last()
    weeks = [first + timedelta(days=7 * n) for n in range((last - first).days // 7 + 1)]
    row = program_row(program)
    weekly = row.weekly if row else None
    citation = None
    if weekly is not None:
        citation = _catalogue().get(weekly[1], ("", ""))[0] or None
    result = Weekly(weeks, counts, weekly[0] if weekly else None,
                    weekly[1] if weekly else None, citation)
    shown = list(result.counts)
    if len(shown) > MEMBERS:   # the members with the most weeks below the requirement, in member order
        ranked = sorted(shown, key=lambda m: -result.short_weeks(m)) if result.required is not None else shown
        keep = set(ranked[:MEMBERS])
        shown = [m for m in shown if m in keep]
    result.shown = shown
    return result


def delivery_state(out: Path) -> dict[str, Any] | None:
    """The journal's counts and failures when OUT was sent (`send`, `run --endpoint`), else None."""
    state = out / "outbox.sqlite"
    if not state.is_file():
        return None
    from fhiradapter import api
    try:
        report = api.status(state)
    except api.UsageError:
        return None
    report["journal"] = state.name   # no absolute path in the page
    return report
