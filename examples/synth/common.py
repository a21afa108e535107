"""Shared pieces of the example-data generator: synthetic names, the export tables, CSV writing.

Nothing here describes a real person: names are random pairs from small lists, ids are made up,
dates fall in the example window. Everything is drawn from a `random.Random` seeded by the caller,
so the same seed gives the same rows.
"""
from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

# The example window: 16 weeks, Monday 2026-01-05 .. Sunday 2026-04-26, spanning the
# 2026-03-08 spring-forward DST change in every US zone.
WINDOW_START = date(2026, 1, 5)
WEEKS = 16
WINDOW_END = WINDOW_START + timedelta(weeks=WEEKS) - timedelta(days=1)
DST_SPRING = date(2026, 3, 8)

FIRST_NAMES = [
    "Avery", "Jordan", "Casey", "Riley", "Morgan", "Quinn", "Harper", "Rowan", "Emerson", "Finley",
    "Dakota", "Reese", "Skyler", "Parker", "Sawyer", "Hayden", "Jamie", "Kendall", "Logan", "Marley",
    "Peyton", "Sage", "Tatum", "Blake", "Cameron", "Drew", "Elliot", "Frankie", "Gray", "Hollis",
    "Indigo", "Jules", "Kai", "Lane", "Micah", "Noel", "Oakley", "Phoenix", "Remy", "Shiloh",
]
LAST_NAMES = [
    "Ashdown", "Birchfield", "Carrow", "Dunmore", "Ellery", "Fairweather", "Glenhaven", "Hollowell",
    "Ironwood", "Juniper", "Kestrel", "Larkspur", "Merriweather", "Northcott", "O'Rourkefield",
    "Pemberly", "Quillan", "Rosewater", "Stonebridge", "Thistlewood", "Underhill", "Valecourt",
    "Whitlock", "Yarrowby", "Zephyrine", "D'Amberly", "de la Fontaine", "Brightwater-Lowe",
    "McAllistair", "Oakenshaw", "Penhallow", "Redfern", "Silverbrook", "Tamsworth", "Wexley",
]
STREETS = ["Aspen", "Cottonwood", "Prairie", "Summit", "Willow", "Granite", "Meadow", "Ridge", "Elm",
           "Harbor", "Maple", "Lantern"]
STREET_KINDS = ["St", "Ave", "Rd", "Ln", "Dr", "Way"]

MINUTE_STARTS = [0, 15, 30, 45]


def fmt_date(d: date) -> str:
    return d.strftime("%m/%d/%Y")


def fmt_dt(dt: datetime) -> str:
    return dt.strftime("%m/%d/%Y %H:%M")


def fmt_time(t: time) -> str:
    return t.strftime("%H:%M")


def week_start(i: int) -> date:
    return WINDOW_START + timedelta(weeks=i)


# Column order of every file of the reference export (docs/agency-export.md).
COLUMNS: dict[str, list[str]] = {
    "members.csv": ["member_id", "last_name", "first_name", "middle_name", "dob", "sex", "address_line",
                    "city", "state", "zip", "phone", "payer_member_id", "sdmi", "language", "primary_dx"],
    "organizations.csv": ["org_id", "name", "org_type", "parent_org_id", "npi", "payer_provider_number",
                          "phone", "address_line", "city", "state", "zip", "active"],
    "practitioners.csv": ["practitioner_id", "last_name", "first_name", "npi", "qualification", "org_id",
                          "active"],
    "rosters.csv": ["roster_id", "team_org_id", "roster_type", "as_of_date", "member_count"],
    "referrals.csv": ["referral_id", "member_id", "program", "received_datetime", "referral_source_org_id",
                      "performer_org_id", "status", "sdmi", "loi_area", "loi_level", "tcm_type", "dx_code",
                      "medical_necessity", "note", "requested_start", "referral_form"],
    "plans.csv": ["plan_id", "member_id", "program", "plan_type", "tcm_type", "status", "start_date",
                  "end_date", "created_date", "author_id", "parent_plan_id", "replaces_plan_id",
                  "termination_kind", "title", "goal", "team_org_id", "goal_target_date"],
    "plan_activities.csv": ["activity_id", "plan_id", "component", "status", "description"],
    "contacts.csv": ["contact_id", "member_id", "program", "tcm_type", "contact_date", "start_time",
                     "duration_min", "mode", "contact_type", "status", "practitioner_id", "supervisor_id",
                     "org_id", "setting", "setting_beds", "billable", "billing_unit", "units", "hcpcs",
                     "modifiers", "charge_usd", "dx_code", "referral_id", "sud_related", "place_of_service"],
    "stays.csv": ["stay_id", "member_id", "stay_type", "admit_datetime", "discharge_datetime",
                  "facility_org_id"],
    "consents.csv": ["consent_id", "member_id", "program", "status", "signed_datetime", "custodian_org_id",
                     "recipient_org_id", "purpose", "start_date", "end_date", "part2", "form_file"],
    "communications.csv": ["communication_id", "member_id", "program", "kind", "sent_datetime",
                           "recipient_org_id", "sender_id", "plan_id", "medium"],
    "documents.csv": ["document_id", "member_id", "program", "doc_type", "document_datetime",
                      "discharge_date", "author_id", "doc_status", "file_name", "content_type"],
    # one row per enrollment in the program (EpisodeOfCare): a member enrolled twice has two rows
    "enrollments.csv": ["enrollment_id", "member_id", "program", "tcm_type", "status", "start_date", "end_date",
                        "team_org_id", "care_manager_id", "referral_id", "dx_code"],
    # the member's payer coverage (Coverage): payer member id, payer, plan, period
    "coverages.csv": ["coverage_id", "member_id", "payer_org_id", "payer_member_id", "plan_code", "plan_name",
                      "start_date", "end_date"],
}

Row = dict[str, str]


@dataclass
class BadRow:
    """A deliberately wrong row: what the mapper (stage map) or validator (stage validate) rejects."""
    file: str
    row: Row
    column: str
    problem: str
    stage: str = "map"
    value: str = ""
    rule: str = ""  # the rule that also reports it when the row is checked without validation
    line: int = 0  # filled when the file is written


@dataclass
class Finding:
    """A deliberate policy violation the program rules should report (the row itself is valid)."""
    member_id: str
    seed_ref: str
    what: str
    rule: str = ""   # the fhiradapter.rules id expected to report it


@dataclass
class Export:
    """One program's export: rows per file, plus what was broken on purpose."""
    program: str
    tables: dict[str, list[Row]] = field(default_factory=lambda: {name: [] for name in COLUMNS})
    bad: list[BadRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    lines: dict[str, dict[int, int]] = field(default_factory=dict)   # file -> id(row) -> line, once written
    # (member, what): records that look like a violation to a reading of plan dates, but are compliant
    compliant: list[tuple[str, str]] = field(default_factory=list)

    def add(self, file: str, **values: object) -> Row:
        unknown = set(values) - set(COLUMNS[file])
        if unknown:
            raise KeyError(f"{file}: unknown columns {sorted(unknown)}")
        row = {col: _cell(values.get(col)) for col in COLUMNS[file]}
        self.tables[file].append(row)
        return row

    def break_row(self, file: str, row: Row, column: str, value: str, problem: str,
                  stage: str = "map", rule: str = "") -> None:
        row[column] = value
        self.bad.append(BadRow(file, row, column, problem, stage, value, rule))

    def finding(self, member_id: str, seed_ref: str, what: str, rule: str = "") -> None:
        self.findings.append(Finding(member_id, seed_ref, what, rule))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    return str(value)


def render_csv(columns: list[str], rows: list[Row]) -> tuple[str, list[int]]:
    """CSV text plus the physical start line of each row (header = line 1).

    Quoted values may hold line breaks, so a row's line is counted from the text written before it.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    lines: list[int] = []
    line = 2
    for row in rows:
        lines.append(line)
        start = buf.tell()
        writer.writerow([row[c] for c in columns])
        line += buf.getvalue()[start:].count("\n")
    return buf.getvalue(), lines


def write_export(export: Export, folder: Path, optional_empty: bool = False) -> None:
    """Write every non-empty table (required tables always) and fill in the bad rows' lines."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, columns in COLUMNS.items():
        rows = export.tables[name]
        path = folder / name
        if not rows and not optional_empty:
            if path.exists():
                path.unlink()
            continue
        text, lines = render_csv(columns, rows)
        path.write_text(text, encoding="utf-8", newline="")
        by_id = {id(r): ln for r, ln in zip(rows, lines)}
        export.lines[name] = by_id
        for bad in export.bad:
            if bad.file == name:
                bad.line = by_id[id(bad.row)]


class People:
    """Synthetic names, birth dates and addresses."""

    def __init__(self, rng: random.Random, city_state_zip: list[tuple[str, str, str]]):
        self.rng = rng
        self.places = city_state_zip

    def name(self) -> tuple[str, str]:
        return self.rng.choice(LAST_NAMES), self.rng.choice(FIRST_NAMES)

    def dob(self, min_age: int, max_age: int) -> date:
        days = self.rng.randint(min_age * 365 + 10, max_age * 365 - 10)
        return WINDOW_START - timedelta(days=days)

    def address(self) -> tuple[str, str, str, str]:
        r = self.rng
        line = f"{r.randint(10, 9899)} {r.choice(STREETS)} {r.choice(STREET_KINDS)}"
        roll = r.random()
        if roll < 0.08:
            line += f', Apt {r.randint(1, 40)} "{r.choice("ABCD")}"'   # a quote inside a value
        elif roll < 0.2:
            line += f", Unit {r.randint(1, 300)}"                       # a comma inside a value
        city, state, zip_prefix = r.choice(self.places)
        return line, city, state, f"{zip_prefix}{r.randint(0, 99):02d}"

    def phone(self, area: str) -> str:
        # 555-01xx numbers are reserved for fiction.
        return f"({area}) 555-01{self.rng.randint(0, 99):02d}"


def local_start(rng: random.Random, day: date, earliest: int = 8, latest: int = 17) -> time:
    return time(rng.randint(earliest, latest - 1), rng.choice(MINUTE_STARTS))


def business_days_after(day: date, n: int) -> date:
    """The n-th weekday after `day` (holidays ignored: the generator only needs a safe bound)."""
    d = day
    while n > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


@dataclass
class Consequence:
    """A valid row rejected together with a bad one (a plan and its activities are one unit)."""
    file: str
    line: int
    stage: str
    because: str


def consequences(export: Export) -> list[Consequence]:
    """Rows the mapper rejects only because a related row is bad (docs/mapping-language.md Sources)."""
    plans = export.tables["plans.csv"]
    acts = export.tables["plan_activities.csv"]
    plan_lines = export.lines.get("plans.csv", {})
    act_lines = export.lines.get("plan_activities.csv", {})
    bad_ids = {id(b.row) for b in export.bad}
    out: list[Consequence] = []
    for b in export.bad:
        if b.file == "plans.csv":
            members = [a for a in acts if a["plan_id"] == b.row["plan_id"]]
            out += [Consequence("plan_activities.csv", act_lines[id(a)], b.stage, f"plans.csv line {b.line}")
                    for a in members if id(a) not in bad_ids]
        elif b.file == "plan_activities.csv" and b.column != "plan_id":
            plan = next((p for p in plans if p["plan_id"] == b.row["plan_id"]), None)
            if plan is None:
                continue
            out.append(Consequence("plans.csv", plan_lines[id(plan)], b.stage, f"plan_activities.csv line {b.line}"))
            out += [Consequence("plan_activities.csv", act_lines[id(a)], b.stage, f"plan_activities.csv line {b.line}")
                    for a in acts if a["plan_id"] == plan["plan_id"] and id(a) not in bad_ids]
    return sorted(out, key=lambda c: (c.file, c.line))


@dataclass
class HeldBack:
    """Valid rows `map`/`run` hold back because a resource they reference is not in the output
    (issue 12 defect 1): the member's Patient row or the referral row was rejected."""
    depends_on: str   # "members.csv:8"
    stage: str        # the stage of the rejected row: "map" (held by map and run) or "validate" (run only)
    file: str
    rows: int


# the files whose rows reference the member (subject/patient) and the referral (Encounter.basedOn)
_MEMBER_FILES = ("referrals.csv", "plans.csv", "contacts.csv", "stays.csv", "consents.csv", "communications.csv",
                 "documents.csv", "enrollments.csv", "coverages.csv")
# the files whose rows reference the referral (Encounter.basedOn, EpisodeOfCare.referralRequest)
_REFERRAL_FILES = ("contacts.csv", "enrollments.csv")


def held_back(export: Export) -> list[HeldBack]:
    bad_ids = {id(b.row) for b in export.bad}
    gone = {(c.file, c.line) for c in consequences(export)}
    held_members: set[str] = set()
    out: list[HeldBack] = []

    def keep(file: str, row: Row) -> bool:
        return id(row) not in bad_ids and (file, export.lines.get(file, {}).get(id(row))) not in gone

    for b in sorted(export.bad, key=lambda b: (b.file, b.line)):
        if b.file == "members.csv" and b.stage in ("map", "validate"):
            member = b.row["member_id"]
            held_members.add(member)
            for file in _MEMBER_FILES:
                count = sum(1 for r in export.tables.get(file, []) if r.get("member_id") == member and keep(file, r))
                if count:
                    out.append(HeldBack(f"members.csv:{b.line}", b.stage, file, count))
    for b in sorted(export.bad, key=lambda b: (b.file, b.line)):
        if b.file == "referrals.csv" and b.stage in ("map", "validate"):
            for file in _REFERRAL_FILES:
                count = sum(1 for r in export.tables[file] if r.get("referral_id") == b.row["referral_id"]
                            and r["member_id"] not in held_members and keep(file, r))
                if count:
                    out.append(HeldBack(f"referrals.csv:{b.line}", b.stage, file, count))
    return out


@dataclass
class HeldWithoutConsent:
    """Valid rows `map`/`run` hold back because the state-limits table (fhiradapter/data/release-limits.csv)
    lets them go to the payer only with the member's consent, and no consent of the member is in the output."""
    member_id: str
    law: str          # the table row's law, short
    file: str
    rows: int


# what each program's state withholds without consent (a model of the table for the rows the examples have):
# files whose rows are withheld, and whether a contact citing a withheld referral goes with it
_WITHHELD = {"dc-cs": ("D.C. Code § 7-1202.07", ("members.csv", "referrals.csv", "plans.csv", "contacts.csv",
                                                 "stays.csv", "communications.csv", "documents.csv",
                                                 "enrollments.csv", "coverages.csv")),
             "pa-tcm": ("55 Pa. Code § 5100.32(a)(2)", ("referrals.csv", "plans.csv", "documents.csv",
                                                       "communications.csv", "enrollments.csv"))}


def held_without_consent(export: Export) -> list[HeldWithoutConsent]:
    if export.program not in _WITHHELD:
        return []
    law, files = _WITHHELD[export.program]
    bad_ids = {id(b.row) for b in export.bad}
    gone = {(c.file, c.line) for c in consequences(export)}
    held_members = {b.row["member_id"] for b in export.bad if b.file == "members.csv"}

    def kept(file: str, row: Row) -> bool:
        return id(row) not in bad_ids and (file, export.lines.get(file, {}).get(id(row))) not in gone

    consented = {r["member_id"] for r in export.tables["consents.csv"] if kept("consents.csv", r)}
    bad_referrals = {b.row["referral_id"] for b in export.bad if b.file == "referrals.csv"}
    out: list[HeldWithoutConsent] = []
    for m in export.tables["members.csv"]:
        member = m["member_id"]
        if member in consented or member in held_members:
            continue
        for file in ("members.csv", "referrals.csv", "plans.csv", "contacts.csv", "stays.csv",
                     "communications.csv", "documents.csv", "enrollments.csv", "coverages.csv"):
            rows = [r for r in export.tables.get(file, []) if r.get("member_id") == member and kept(file, r)]
            if file == "contacts.csv" and file not in files:   # a contact citing its withheld referral goes too
                rows = [r for r in rows if r.get("referral_id") and r["referral_id"] not in bad_referrals]
            elif file not in files:
                rows = []
            if rows:
                out.append(HeldWithoutConsent(member, law, file, len(rows)))
    return out
