"""Montana exports: Community Maintenance Program (000_90208eba930f2875.txt) and IMR (003_b1943e64eef8a2d8.txt).

One fictional agency runs both; each program is its own export folder.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from .builder import Builder, Member
from .common import DST_SPRING, WINDOW_END, WINDOW_START, Export, fmt_date, week_start

PLACES = [("Billings", "MT", "591"), ("Laurel", "MT", "590"), ("Hardin", "MT", "590")]
AREA = "406"
CMP_COMPONENTS = ["MED", "CM", "CRIS", "IMR", "CLS", "SNI", "EMP", "COD", "THER", "PEER"]
IMR_COMPONENTS = ["EDU", "COPE", "GOAL", "TXD", "ACT", "REV"]


def _agency(b: Builder) -> dict[str, str]:
    orgs = {
        "agency": b.org("YP-ORG-1", "Yellowstone Plains Behavioral Health (fictional)", "AGENCY",
                        provider_number="MTPRV-0040417"),
        "payer": b.org("YP-ORG-9", "Montana Healthcare Programs (Medicaid)", "PAYER", with_npi=False),
        "hospital": b.org("YP-ORG-7", "Prairie Crest Psychiatric Hospital (fictional)", "FACILITY"),
    }
    return orgs


def cmp_export(rng: random.Random, n_members: int) -> Export:
    x = Export("mt-cmp")
    b = Builder(x, rng, "CMP", "YC", PLACES, AREA)
    orgs = _agency(b)
    teams = {
        "pact": b.org("YP-ORG-2", "YPBH PACT Team", "TEAM", parent=orgs["agency"], with_npi=False),
        "mct": b.org("YP-ORG-3", "YPBH MCT Team", "TEAM", parent=orgs["agency"], with_npi=False),
    }
    staff = {t: b.hire("MD-PSY", t) + b.hire("RN", t) + b.hire("LICSW", t, 2) + b.hire("LMHP", t, 2)
             + b.hire("CPSS", t) + b.hire("PARA", t) for t in teams.values()}
    authors = {t: [p for p in ids if b.staff[p] in ("LICSW", "LMHP", "MD-PSY")] for t, ids in staff.items()}

    members: list[Member] = []
    for i in range(n_members):
        team = teams["pact"] if i % 2 == 0 else teams["mct"]
        m = b.member(team, new_share=0.2, payer_id=f"{rng.randint(100000000, 999999999)}")
        if rng.random() < 0.06:     # discharged during the window
            m.end = WINDOW_START + timedelta(days=rng.randint(21, 100))
            if m.end < m.enroll + timedelta(days=60):
                m.end = None
        members.append(m)

    for m in members:
        received = datetime.combine(m.enroll - timedelta(days=rng.randint(2, 12)), b.time_of_day())
        b.referral(m, received, orgs["payer"], m.team, sdmi="Y", loi_area=rng.choice(["3", "4"]),
                   loi_level="2", medical_necessity="Y",
                   note=rng.choice(["", "", "Referred after discharge; \"needs\" weekly support",
                                    "Family, friends involved\nsecond line of note"]))
        start = m.enroll
        author = rng.choice(authors[m.team])
        comps = sorted(rng.sample(CMP_COMPONENTS, rng.randint(3, 5)), key=CMP_COMPONENTS.index)
        status = "CLOSED" if m.end and m.end <= WINDOW_END else "ACTIVE"
        m.plan_id, _ = b.plan(m, "ITP", start, start + timedelta(days=rng.randint(0, 10)), author, comps,
                              status=status, end=m.end, title="Individualized Treatment Plan")
        b.consent(m, orgs["agency"], orgs["payer"], "TX;PAY",
                  datetime.combine(m.enroll - timedelta(days=1), b.time_of_day()))

    # Weekly quality contacts, up to 3 billable days a week, and the weekly team meeting about the
    # member (000 Service Requirements (3), (4), (5)).
    leads = {t: [p for p in ids if b.staff[p] in ("LICSW", "MD-PSY")] for t, ids in staff.items()}
    for m in members:
        for w in b.active_weeks(m):
            week_rows = []
            for day in b.weekdays(w, rng.choice([2, 2, 3, 3, 3])):
                if not m.active_on(day):
                    continue
                week_rows.append(_cmp_contact(b, m, day, staff[m.team]))
            # A compliant week has a completed quality contact even when the random statuses
            # made every contact a no-show; fixed up after the draws so the random stream is unchanged.
            if week_rows and not any(r["status"] == "DONE" for r in week_rows):
                week_rows[0].update(status="DONE", billable="Y", billing_unit="DAY", units="1")
            meeting = week_start(w) + timedelta(days=2)     # Wednesday team meeting
            if m.active_on(meeting):
                b.contact(m, meeting, time(8, 30), 10, "F2F", rng.choice(leads[m.team]), "OFC",
                          contact_type="TM", billable=False)

    if len(members) >= 8:
        _cmp_violations(b, members, staff)
        _cmp_bad_rows(b, members, staff, orgs)
    _cmp_stays(b, members, orgs)
    _cmp_rosters(b, members, teams)
    if len(members) >= 12:
        _cmp_reenrolled(b, members)
    b.enrollments_and_coverage(orgs["payer"], "MT-MEDICAID", "Montana Medicaid")
    return x


def _cmp_reenrolled(b: Builder, members: list[Member]) -> None:
    """A member discharged and enrolled again three weeks later (two enrollments.csv rows): the weeks
    between are not enrolled, so no weekly contact or team meeting is owed in them (issue 12 defect 2).
    The member's ITP stays open across the gap, so plan dates alone would count the gap as enrolled."""
    x = b.x
    bad = {id(r.row) for r in x.bad}
    gap_from, gap_to = week_start(6), week_start(9)        # Monday 2026-02-16 .. Sunday 2026-03-08
    steady = [m for m in members if m.enroll < WINDOW_START and m.end is None]
    for m in steady[8:]:
        rows = [r for r in x.tables["contacts.csv"] if r["member_id"] == m.member_id
                and gap_from <= _d(r["contact_date"]) < gap_to]
        if any(id(r) in bad for r in rows):
            continue
        for r in rows:
            x.tables["contacts.csv"].remove(r)
        m.episodes = [(m.enroll, gap_from - timedelta(days=1)), (gap_to, None)]
        x.compliant.append((m.member_id, f"two enrollments (enrollments.csv), not enrolled {gap_from.isoformat()} to "
                            f"{(gap_to - timedelta(days=1)).isoformat()}, no contact then; its ITP stays open: no weekly "
                            "quality-contact or team-meeting finding for the gap"))
        return


def _cmp_contact(b: Builder, m: Member, day: date, team_staff: list[str], start: time | None = None,
                 status: str | None = None, contact_type: str = "QC", minutes: int | None = None,
                 billed: bool = True):
    rng = b.rng
    status = status or b.status()
    billed = billed and status == "DONE"
    mode = "F2F" if rng.random() < 0.75 else "TH"
    setting = "OFC" if mode == "TH" else rng.choice(["OFC", "HOME", "HOME", "COMM"])
    return b.contact(m, day, start or b.time_of_day(), minutes or b.duration(30, 120), mode,
                     rng.choice(team_staff), setting, contact_type=contact_type, status=status,
                     billable=billed, unit="DAY" if billed else "", units="1" if billed else "",
                     dx=billed)   # a billed day carries the diagnosis, as a claim line does


def _cmp_violations(b: Builder, members: list[Member], staff: dict[str, list[str]]) -> None:
    x = b.x
    steady = [m for m in members if m.enroll < WINDOW_START and m.end is None]
    if len(steady) < 5:
        return
    # A 42 CFR Part 2 consent recorded without its signed form (no revocation statement or signature
    # to show; § 2.31) for a member whose SUD contacts are shared.
    part2 = [r for r in x.tables["consents.csv"] if r["part2"] == "Y" and r["member_id"] != steady[0].member_id]
    if part2:
        part2[0]["form_file"] = ""
        x.finding(part2[0]["member_id"], "42 CFR Part 2 § 2.31", "Part 2 consent without the signed form "
                  "(revocation statement, signature)", "all-consent-part2-elements")
    # A 4th billable day in one week (000 Service Requirements (5): up to 3 billable days per week).
    m = steady[0]
    week = 5
    have = {r["contact_date"] for r in x.tables["contacts.csv"] if r["member_id"] == m.member_id
            and r["billable"] == "Y" and week_start(week) <= _d(r["contact_date"]) < week_start(week + 1)}
    for d in range(5):
        day = week_start(week) + timedelta(days=d)
        if len(have) >= 4:
            break
        if fmt_date(day) not in have:
            _cmp_contact(b, m, day, staff[m.team], status="DONE")
            have.add(fmt_date(day))
    x.finding(m.member_id, "000 Service Requirements (5)",
              f"4 billable days in the week of {week_start(week).isoformat()} (at most 3)",
              rule="mt-cmp-billable-days-per-week")
    # A week with no contact at all, and a week where every contact was a no-show
    # (000 Service Requirements (3): weekly quality contacts).
    for m, week, how in ((steady[1], 8, "no contact"), (steady[2], 10, "only no-shows")):
        rows = [r for r in x.tables["contacts.csv"] if r["member_id"] == m.member_id
                and week_start(week) <= _d(r["contact_date"]) < week_start(week + 1)]
        for r in rows:
            if how == "no contact" or r["contact_type"] == "TM":
                x.tables["contacts.csv"].remove(r)
            else:
                r.update(status="NOSHOW", billable="N", billing_unit="", units="")
        x.finding(m.member_id, "000 Service Requirements (3)",
                  f"no quality contact in the week of {week_start(week).isoformat()} ({how})",
                  rule="mt-cmp-weekly-quality-contact")
        x.finding(m.member_id, "000 Service Requirements (4)",
                  f"no team meeting about the member in the week of {week_start(week).isoformat()}",
                  rule="mt-cmp-weekly-team-meeting")
    # A crisis contact on the night of the DST change: 01:40 MST + 60 min ends 03:40 MDT. (steady[5]: the
    # member of members.csv line 8, steady[3], is held back whole as its Patient row is rejected.)
    m = steady[5]
    # Not billed: the week already has its billable days.
    _cmp_contact(b, m, DST_SPRING, staff[m.team], start=time(1, 40), contact_type="CRI", status="DONE",
                 minutes=60, billed=False)
    # A referral with only a mild level of impairment: fails mt-cmp-sr-1 (000 Medical Necessity (3)).
    r = next(r for r in x.tables["referrals.csv"] if r["member_id"] == steady[4].member_id)
    x.break_row("referrals.csv", r, "loi_level", "1",
                "level of impairment mild, CMP needs moderate (profile invariant mt-cmp-sr-1)", stage="validate",
                rule="mt-cmp-referral-loi")


def _cmp_bad_rows(b: Builder, members: list[Member], staff: dict[str, list[str]], orgs: dict[str, str]):
    x = b.x
    # Quality contacts of weeks that keep others, so each bad row costs only itself.
    contacts = [r for r in x.tables["contacts.csv"] if r["contact_type"] == "QC"]
    picks = [contacts[i] for i in (37, 211, 402, 877)] if len(contacts) > 900 else contacts[1:5]
    x.break_row("contacts.csv", picks[0], "mode", "VID", "contact mode code not in the lookup")
    x.break_row("contacts.csv", picks[1], "contact_date", "02/30/2026", "date does not exist")
    x.break_row("contacts.csv", picks[2], "practitioner_id", "", "required practitioner missing")
    # A contact inside the spring-forward gap: 02:30 does not exist in America/Denver on 03/08/2026.
    m = members[5]
    row = _cmp_contact(b, m, DST_SPRING, staff[m.team], start=time(1, 0), contact_type="CRI", status="DONE",
                       minutes=45, billed=False)
    x.break_row("contacts.csv", row, "start_time", "02:30",
                "local time in the DST gap (03/08/2026 02:30 America/Denver)")
    x.break_row("members.csv", x.tables["members.csv"][6], "dob", "", "required date of birth missing")
    act = x.tables["plan_activities.csv"][-3]
    x.break_row("plan_activities.csv", act, "component", "MEDS", "service component code not in the lookup")
    owner = next(p["member_id"] for p in x.tables["plans.csv"] if p["plan_id"] == act["plan_id"])
    x.finding(owner, "000 Service Requirements (2)",
              "billed contacts not covered by an ITP: the member's plan is rejected with its bad activity row",
              rule="mt-cmp-itp-documents-billed-services")


def _cmp_stays(b: Builder, members: list[Member], orgs: dict[str, str]) -> None:
    rng = b.rng
    for m in members[::15]:
        admit = datetime.combine(WINDOW_START + timedelta(days=rng.randint(10, 80)), time(rng.randint(0, 23), 10))
        b.stay(m, "IP", admit, admit + timedelta(days=rng.randint(3, 12), hours=5), orgs["hospital"])


def _cmp_rosters(b: Builder, members: list[Member], teams: dict[str, str]) -> None:
    """Month-end PACT/MCT and CMP counts per team (000 Provider Requirements (4): CMP <= 20%)."""
    x = b.x
    ends = [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 26)]
    for key, team in teams.items():
        for i, as_of in enumerate(ends):
            cmp_n = sum(1 for m in members if m.team == team and m.active_on(as_of))
            base = max(5 * cmp_n + b.rng.randint(0, 15), 5)
            short = key == "mct" and i == len(ends) - 1 and cmp_n > 2
            if short:   # at the last count the MCT team has shrunk below 5 members per CMP member
                base = 5 * cmp_n - 10
                x.finding(f"(team {team})", "000 Provider Requirements (4)",
                          f"{cmp_n} CMP members vs {base} MCT members on {as_of.isoformat()} (over 20%)",
                          rule="mt-cmp-team-cmp-share")
            x.add("rosters.csv", roster_id=f"{team}-{key.upper()}-{as_of:%Y%m}", team_org_id=team,
                  roster_type=key.upper(), as_of_date=fmt_date(as_of), member_count=base)
            x.add("rosters.csv", roster_id=f"{team}-CMP-{as_of:%Y%m}", team_org_id=team, roster_type="CMP",
                  as_of_date=fmt_date(as_of), member_count=cmp_n)


def imr_export(rng: random.Random, n_members: int) -> Export:
    x = Export("mt-imr")
    b = Builder(x, rng, "IMR", "YI", PLACES, AREA)
    orgs = _agency(b)
    team = b.org("YP-ORG-4", "YPBH IMR Program", "TEAM", parent=orgs["agency"], with_npi=False)
    clinicians = b.hire("LMHP", team, 3)
    aides = b.hire("PARA", team, 3) + b.hire("CPSS", team, 2)

    members = []
    for _ in range(n_members):
        m = b.member(team, new_share=0.25, payer_id=f"{rng.randint(100000000, 999999999)}")
        members.append(m)
        received = datetime.combine(m.enroll - timedelta(days=rng.randint(3, 20)), b.time_of_day())
        b.referral(m, received, orgs["agency"], team, sdmi="Y", medical_necessity="Y")
        comps = sorted(rng.sample(IMR_COMPONENTS, rng.randint(2, 4)), key=IMR_COMPONENTS.index)
        m.plan_id, _ = b.plan(m, "ITP", m.enroll, m.enroll, rng.choice(clinicians), comps,
                              title="ITP: member chose IMR",
                              end=m.enroll + timedelta(days=365))   # the plan year: CarePlan.period.end
        b.consent(m, orgs["agency"], orgs["payer"], "TX;PAY",
                  datetime.combine(m.enroll - timedelta(days=1), b.time_of_day()))

    # Weekly IMR sessions; aides work under a trained clinical supervisor (003 Provider Requirements).
    # Claims are held (billable N): no IMR HCPCS code is confirmed (docs/design.md Billing codes).
    for m in members:
        for w in b.active_weeks(m):
            if rng.random() < 0.1:
                continue
            day = b.weekdays(w, 1)[0]
            if not m.active_on(day):
                continue
            who = rng.choice(clinicians + aides)
            b.contact(m, day, b.time_of_day(), b.duration(45, 75), rng.choice(["F2F", "F2F", "TH"]), who,
                      "OFC", contact_type="RT", status=b.status(0.06, 0.03),
                      supervisor=rng.choice(clinicians) if who in aides else "", billable=False,
                      dx=True)   # the session addresses the member's diagnosis (Encounter.reasonCode)
    if len(members) >= 6:
        contacts = x.tables["contacts.csv"]
        x.break_row("contacts.csv", contacts[len(contacts) // 3], "billable", "Y",
                    "billable IMR contact without a HCPCS code (profile invariant mt-imr-enc-2)", stage="validate",
                    rule="mt-imr-hcpcs-billed")
        x.tables["contacts.csv"][len(contacts) // 3]["billing_unit"] = "UNIT"
        x.break_row("referrals.csv", x.tables["referrals.csv"][2], "sdmi", "N",
                    "referral without SDMI (mt-imr-servicerequest reasonCode sdmi 1..1; 003 Medical Necessity (1))",
                    stage="validate", rule="mt-imr-referral-sdmi")
        x.break_row("plans.csv", x.tables["plans.csv"][4], "plan_type", "TXP", "plan type code not in the lookup")
        x.finding(x.tables["plans.csv"][4]["member_id"], "003 Medical Necessity Criteria (2)",
                  "no ITP shows IMR as chosen: the member's plan row is rejected", rule="mt-imr-itp-chooses-imr")
        x.break_row("contacts.csv", contacts[len(contacts) // 2], "duration_min", "1h",
                    "duration is not a number")
    for m in b.members[3:5]:   # re-admitted members: an earlier enrollment that ended (a discharge date)
        b.earlier_discharge(m)
    b.enrollments_and_coverage(orgs["payer"], "MT-MEDICAID", "Montana Medicaid")
    return x


def _d(s: str) -> date:
    return datetime.strptime(s, "%m/%d/%Y").date()
