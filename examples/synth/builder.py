"""Adds consistent rows to one program's export: organizations, staff, members and their records."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from .common import (WEEKS, WINDOW_END, WINDOW_START, Export, People, fmt_date, fmt_dt, fmt_time,
                     week_start)

# ICD-10-CM codes of the example diagnoses; the SUD ones make the member's records Part 2 data.
DX_MH = ["F20.9", "F25.0", "F31.9", "F33.1", "F43.10", "F41.1", "F32.2", "F60.3"]
DX_SUD = ["F10.20", "F11.20"]
DX_YOUTH = ["F90.2", "F91.3", "F43.10", "F34.81"]
# Recovery goals a plan states (CarePlan.goal); picked by plan number, not by the seeded generator,
# so adding them left every other example value as it was.
GOALS = ["Keep stable housing", "Attend scheduled appointments", "Avoid crisis admissions",
         "Return to part-time work", "Build a natural support network", "Manage medications independently",
         "Reconnect with family", "Join a community activity each week"]


def npi(rng: random.Random) -> str:
    """A 10-digit number with a valid NPI check digit (Luhn over the 80840 prefix); not a real NPI."""
    base = "1" + "".join(str(rng.randint(0, 9)) for _ in range(8))
    digits = [int(c) for c in "80840" + base]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return base + str((10 - total % 10) % 10)


@dataclass
class Member:
    member_id: str
    enroll: date                 # first day in the program
    dx: str
    team: str                    # org id of the serving team
    sud: bool = False
    end: date | None = None      # program discharge / termination date, if in the window
    referral_id: str = ""
    plan_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # enrollments (start, end or None) when not the one from `enroll` to `end`: a re-enrolled member
    episodes: list[tuple[date, date | None]] = field(default_factory=list)

    def active_on(self, day: date) -> bool:
        return self.enroll <= day and (self.end is None or day <= self.end)

    def enrollments(self) -> list[tuple[date, date | None]]:
        return self.episodes or [(self.enroll, self.end)]


class Builder:
    def __init__(self, export: Export, rng: random.Random, local_program: str, id_prefix: str,
                 places: list[tuple[str, str, str]], area_code: str):
        self.x = export
        self.rng = rng
        self.local = local_program
        self.prefix = id_prefix
        self.people = People(rng, places)
        self.places = places
        self.area = area_code
        self.counters: dict[str, int] = {}
        self.staff: dict[str, str] = {}   # practitioner id -> qualification
        self.members: list[Member] = []

    def next_id(self, kind: str, width: int = 5) -> str:
        n = self.counters.get(kind, 0) + 1
        self.counters[kind] = n
        return f"{self.prefix}{kind}{n:0{width}d}"

    # --- organizations and staff -------------------------------------------------------------

    def org(self, org_id: str, name: str, org_type: str, parent: str = "", with_npi: bool = True,
            provider_number: str = "") -> str:
        city, state, zip_prefix = self.places[0]
        self.x.add("organizations.csv", org_id=org_id, name=name, org_type=org_type, parent_org_id=parent,
                   npi=npi(self.rng) if with_npi else "", payer_provider_number=provider_number,
                   phone=self.people.phone(self.area), address_line=f"{self.rng.randint(100, 990)} Main St",
                   city=city, state=state, zip=f"{zip_prefix}{self.rng.randint(0, 99):02d}", active="Y")
        return org_id

    def hire(self, qualification: str, org_id: str, count: int = 1) -> list[str]:
        ids = []
        for _ in range(count):
            pid = self.next_id("S", 3)
            last, first = self.people.name()
            self.x.add("practitioners.csv", practitioner_id=pid, last_name=last, first_name=first,
                       npi=npi(self.rng), qualification=qualification, org_id=org_id, active="Y")
            self.staff[pid] = qualification
            ids.append(pid)
        return ids

    # --- members ------------------------------------------------------------------------------

    def enroll_date(self, new_share: float) -> date:
        """Up to ~4 months before the window start (most), or in its first ten weeks (new referrals).
        Every member's records run from enrollment, so the export holds each whole enrollment."""
        if self.rng.random() < new_share:
            return WINDOW_START + timedelta(days=self.rng.randint(0, 70))
        return WINDOW_START - timedelta(days=self.rng.randint(14, 120))

    def member(self, team: str, new_share: float, min_age: int = 19, max_age: int = 70,
               payer_id: str = "", sdmi: str = "Y", dx_pool: list[str] | None = None,
               sud_share: float = 0.15) -> Member:
        mid = self.next_id("M", 5)
        last, first = self.people.name()
        middle = self.rng.choice(["", "", "", "A.", "Lee", "Marie", "J"])
        line, city, state, zipc = self.people.address()
        sud = self.rng.random() < sud_share
        dx = self.rng.choice(DX_SUD if sud else (dx_pool or DX_MH))
        self.x.add("members.csv", member_id=mid, last_name=last, first_name=first, middle_name=middle,
                   dob=fmt_date(self.people.dob(min_age, max_age)), sex=self.rng.choice("MMMFFFX"),
                   address_line=line, city=city, state=state, zip=zipc, phone=self.people.phone(self.area),
                   payer_member_id=payer_id, sdmi=sdmi, language=self.rng.choice(["en"] * 8 + ["es"]),
                   primary_dx=dx)
        m = Member(mid, self.enroll_date(new_share), dx, team, sud)
        self.members.append(m)
        return m

    # --- records ------------------------------------------------------------------------------

    def referral(self, m: Member, received: datetime, source_org: str, performer: str, **extra: str):
        rid = self.next_id("R", 5)
        m.referral_id = rid
        status = "CLOSED" if m.end else "ACCEPTED"
        return self.x.add("referrals.csv", referral_id=rid, member_id=m.member_id, program=self.local,
                          received_datetime=fmt_dt(received), referral_source_org_id=source_org,
                          performer_org_id=performer, status=status, dx_code=m.dx,
                          requested_start=fmt_date(received.date() + timedelta(days=7)),
                          referral_form=f"referral-{rid}.pdf", **extra)

    def plan(self, m: Member, plan_type: str, start: date, created: date, author: str,
             components: list[str], status: str = "ACTIVE", end: date | None = None,
             parent: str = "", replaces: str = "", termination: str = "", title: str = "",
             tcm_type: str = ""):
        pid = self.next_id("P", 5)
        row = self.x.add("plans.csv", plan_id=pid, member_id=m.member_id, program=self.local,
                         plan_type=plan_type, tcm_type=tcm_type, status=status, start_date=fmt_date(start),
                         end_date=fmt_date(end) if end else "", created_date=fmt_date(created),
                         author_id=author, parent_plan_id=parent, replaces_plan_id=replaces,
                         termination_kind=termination, title=title,
                         goal=GOALS[int(pid[-5:]) % len(GOALS)], team_org_id=m.team)
        for comp in components:
            done = status in ("CLOSED", "REVOKED")
            self.x.add("plan_activities.csv", activity_id=self.next_id("A", 6), plan_id=pid,
                       component=comp, status="DONE" if done else self.rng.choice(["IP", "IP", "SCHED"]),
                       description="")
        return pid, row

    def contact(self, m: Member, day: date, start: time, minutes: int, mode: str, practitioner: str,
                setting: str, contact_type: str = "", status: str = "DONE", supervisor: str = "",
                org: str = "", beds: str = "", billable: bool = False, unit: str = "", units: str = "",
                hcpcs: str = "", modifiers: str = "", charge: str = "", program: str = "",
                tcm_type: str = "", dx: bool = False):
        return self.x.add(
            "contacts.csv", contact_id=self.next_id("C", 6), member_id=m.member_id,
            program=program or self.local, tcm_type=tcm_type, contact_date=fmt_date(day),
            start_time=fmt_time(start), duration_min=minutes, mode=mode, contact_type=contact_type,
            status=status, practitioner_id=practitioner, supervisor_id=supervisor, org_id=org or m.team,
            setting=setting, setting_beds=beds, billable=billable, billing_unit=unit, units=units,
            hcpcs=hcpcs, modifiers=modifiers, charge_usd=charge, dx_code=m.dx if dx else "",
            referral_id=m.referral_id, sud_related=m.sud, place_of_service=place_of_service(mode, setting))

    def stay(self, m: Member, stay_type: str, admit: datetime, discharge: datetime | None, facility: str):
        return self.x.add("stays.csv", stay_id=self.next_id("T", 4), member_id=m.member_id,
                          stay_type=stay_type, admit_datetime=fmt_dt(admit),
                          discharge_datetime=fmt_dt(discharge) if discharge else "", facility_org_id=facility)

    def consent(self, m: Member, custodian: str, recipient: str, purpose: str, signed: datetime,
                years: int = 2):
        start = signed.date()
        end = date(start.year + years, start.month, min(start.day, 28))
        return self.x.add("consents.csv", consent_id=self.next_id("K", 5), member_id=m.member_id,
                          program=self.local, status="ACTIVE", signed_datetime=fmt_dt(signed),
                          custodian_org_id=custodian, recipient_org_id=recipient, purpose=purpose,
                          start_date=fmt_date(start), end_date=fmt_date(end), part2=m.sud,
                          form_file=f"consent-{m.member_id}-{signed:%Y%m%d}.pdf")

    # --- enrollments and coverage (drawn from no random stream: added after every other row) -------

    def earlier_discharge(self, m: "Member", months_before: int = 12) -> None:
        """Give a member an earlier, finished enrollment (admitted and discharged before the current
        one, entirely before the export window): a re-admitted member, so the export has a discharge
        date (EpisodeOfCare.period.end, must-support) without changing any rule's data window."""
        start = m.enroll - timedelta(days=30 * (months_before + 6))
        m.episodes = [(start, m.enroll - timedelta(days=30 * months_before)), *m.enrollments()]

    def enrollments_and_coverage(self, payer_org: str, plan_code: str, plan_name: str) -> None:
        """One enrollments.csv row per enrollment of each member (the care manager is the author of the
        member's first plan) and one coverages.csv row per member with a payer member id."""
        authors: dict[str, str] = {}
        for p in self.x.tables["plans.csv"]:
            authors.setdefault(p["member_id"], p["author_id"])
        members = {r["member_id"]: r for r in self.x.tables["members.csv"]}
        for m in self.members:
            for start, end in m.enrollments():
                self.x.add("enrollments.csv", enrollment_id=self.next_id("E", 5), member_id=m.member_id,
                           program=self.local, tcm_type=m.extra.get("tcm", ""),
                           status="CLOSED" if end else "ACTIVE", start_date=fmt_date(start),
                           end_date=fmt_date(end) if end else "", team_org_id=m.team,
                           care_manager_id=authors.get(m.member_id, ""), referral_id=m.referral_id, dx_code=m.dx)
            payer_id = members[m.member_id]["payer_member_id"]
            if payer_id:
                self.x.add("coverages.csv", coverage_id=self.next_id("V", 5), member_id=m.member_id,
                           payer_org_id=payer_org, payer_member_id=payer_id, plan_code=plan_code,
                           plan_name=plan_name, start_date=fmt_date(COVERAGE_START), end_date="")

    # --- scheduling helpers -------------------------------------------------------------------

    def weekdays(self, week: int, k: int) -> list[date]:
        start = week_start(week)
        days = sorted(self.rng.sample(range(5), min(k, 5)))
        return [start + timedelta(days=d) for d in days]

    def status(self, p_noshow: float = 0.05, p_cancel: float = 0.02) -> str:
        r = self.rng.random()
        if r < p_noshow:
            return "NOSHOW"
        if r < p_noshow + p_cancel:
            return "CANCEL"
        return "DONE"

    def active_weeks(self, m: Member) -> list[int]:
        """Week numbers (0 = the window's first week; negative before it) from enrollment on."""
        weeks = []
        first = (m.enroll - WINDOW_START).days // 7
        for w in range(min(first, 0), WEEKS):
            ws = week_start(w)
            if m.active_on(ws) or m.active_on(ws + timedelta(days=4)):
                weeks.append(w)
        return weeks

    def time_of_day(self, earliest: int = 8, latest: int = 17) -> time:
        return time(self.rng.randint(earliest, latest - 1), self.rng.choice([0, 15, 30, 45]))

    def duration(self, lo: int = 25, hi: int = 90) -> int:
        return self.rng.randrange(lo, hi + 1, 5)


def quarter_hours_nearest(minutes: int) -> str:
    """DC: duration rounded to the nearest 15-minute unit (22-A DCMR §3434.3, domain notes §2)."""
    return str(max(1, int(math.floor(minutes / 15 + 0.5))))


def quarter_hours_ceiling(minutes: int) -> str:
    """PA: 1/4 hour of service or portion thereof (55 Pa. Code §5221.42(f), domain notes §2)."""
    return str(max(1, math.ceil(minutes / 15)))


# Medicaid eligibility of every example member: from before the earliest enrollment, open.
COVERAGE_START = date(2025, 7, 1)
# CMS place-of-service codes of the example contacts by contact mode, then setting (the codes of
# domain-notes §4; a setting without one there gets none). The adapter reads the code from the export.
_POS_BY_MODE = {"TH": "10", "PH": "10"}          # telehealth provided in the patient's home
_POS_BY_SETTING = {"OFC": "11", "HOME": "12", "JAIL": "09", "JDC": "09"}


def place_of_service(mode: str, setting: str) -> str:
    return _POS_BY_MODE.get(mode) or _POS_BY_SETTING.get(setting, "")


def in_window(day: date) -> bool:
    return WINDOW_START <= day <= WINDOW_END
