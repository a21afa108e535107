"""CCA Community Support Program export (002_a91a28d9256cacc7.txt, PS #010)."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from .builder import Builder, Member
from .common import business_days_after
from .common import WINDOW_END, WINDOW_START, Export, fmt_date, fmt_dt

PLACES = [("Springfield", "MA", "011"), ("Holyoke", "MA", "010"), ("Chicopee", "MA", "010")]
AREA = "413"
PLAN_COMPONENTS = ["CM", "NA", "SP", "SC", "TRV", "TRN", "BEN", "NAT", "CRS", "TEL"]
CRISIS_COMPONENTS = ["CPP", "CRS"]


def csp_export(rng: random.Random, n_members: int) -> Export:
    x = Export("ma-csp")
    b = Builder(x, rng, "CSP", "PV", PLACES, AREA)
    agency = b.org("PV-ORG-1", "Pioneer Valley Community Support (fictional)", "AGENCY",
                   provider_number="CCA-PRV-203518")
    team = b.org("PV-ORG-2", "PVCS CSP Team", "TEAM", parent=agency, with_npi=False,
                 provider_number="CCA-PRV-203518")
    payer = b.org("PV-ORG-9", "Commonwealth Care Alliance", "PAYER", with_npi=False)
    care_team = b.org("PV-ORG-8", "CCA Care Team", "CARETEAM", parent=payer, with_npi=False)
    hospital = b.org("PV-ORG-7", "Connecticut River Inpatient Unit (fictional)", "FACILITY")
    workers = b.hire("PARA", team, 6) + b.hire("CPSS", team)
    supervisors = b.hire("MLC", team, 2)    # licensed masters-level supervisors (002 Staffing)

    members: list[Member] = []
    for _ in range(n_members):
        m = b.member(team, new_share=0.45, payer_id=f"CCA{rng.randint(1000000, 9999999)}", sud_share=0.2)
        roll = rng.random()
        if roll < 0.08 and m.enroll < WINDOW_START + timedelta(days=20):
            m.end = WINDOW_START + timedelta(days=rng.randint(60, 105))
            m.extra["term"] = "PLANNED"
        elif roll < 0.1 and m.enroll < WINDOW_START:
            m.end = WINDOW_START + timedelta(days=rng.randint(30, 100))
            m.extra["term"] = "UNPLANNED"
        members.append(m)

    for m in members:
        _member_records(b, m, agency, care_team, hospital, workers, supervisors)
    for m in members:
        _weekly(b, m)
    if len(members) >= 12:
        _violations(b, members, workers, supervisors, care_team)
    b.enrollments_and_coverage(payer, "CCA-SCO", "Commonwealth Care Alliance")
    return x


def _member_records(b: Builder, m: Member, agency, care_team, hospital, workers, supervisors) -> None:
    rng = b.rng
    worker = rng.choice(workers)
    supervisor = rng.choice(supervisors)
    m.extra.update(worker=worker, supervisor=supervisor)
    # Referral received, first contact within 24 hours, needs assessment within 2 weeks
    # (002 Assessment, Treatment/Recovery Planning and Documentation).
    received = datetime.combine(m.enroll, time(rng.randint(8, 15), rng.choice([5, 20, 35, 50])))
    source = care_team if rng.random() < 0.7 else hospital
    b.referral(m, received, source, m.team, medical_necessity="Y",
               note=rng.choice(["", "", "Call CCA Care Team at 866-420-9332 (option 4), \"urgent\""]))
    first = received + timedelta(hours=rng.randint(2, 20))
    b.consent(m, agency, care_team, "TX;CM;COC", first)     # given on the first call (002: "If the Member consents")
    _contact(b, m, first.date(), first.time(), "PH", "FC", setting="OFC")
    na_day = m.enroll + timedelta(days=rng.randint(5, 12))
    _contact(b, m, na_day, None, "F2F", "NA", setting="HOME")
    # Service plan, its quarterly reviews (new versions) and the crisis prevention plan (partOf).
    created = m.enroll + timedelta(days=rng.randint(12, 20))
    comps = sorted(rng.sample(PLAN_COMPONENTS, rng.randint(3, 5)), key=PLAN_COMPONENTS.index)
    prev = ""
    versions = []
    while created <= WINDOW_END and (m.end is None or created < m.end):
        closing = m.end is not None and created + timedelta(days=90) > m.end
        pid, row = b.plan(m, "CSP", m.enroll, created, m.extra["supervisor"], comps, replaces=prev,
                          status="ACTIVE", title="CSP treatment/service plan")
        # a measurable goal with a target date (002 Assessment ...: "measurable goals")
        row.update(goal=GOALS[int(m.member_id[-2:]) % len(GOALS)],
                   goal_target_date=fmt_date(created + timedelta(days=90)))
        if prev:
            for r in b.x.tables["plans.csv"]:
                if r["plan_id"] == prev:
                    r["status"] = "CLOSED"
                    r["end_date"] = r["end_date"] or fmt_date(created - timedelta(days=1))
        versions.append((pid, row, created))
        prev = pid
        created += timedelta(days=rng.randint(75, 88))     # at least quarterly
        if closing:
            break
    if not versions:
        return
    m.plan_id = versions[-1][0]
    crisis_created = versions[0][2] + timedelta(days=rng.randint(0, 5))
    b.plan(m, "CPP", crisis_created, crisis_created, m.extra["supervisor"], CRISIS_COMPONENTS,
           parent=versions[0][0], title="Crisis prevention plan")
    if m.end:
        _terminate(b, m, versions[-1][1], care_team)


GOALS = ("Attend all outpatient appointments for 3 months", "Keep stable housing for 90 days",
         "Use the crisis plan instead of the emergency room", "Reconnect with a primary care provider")


def _terminate(b: Builder, m: Member, plan_row, care_team) -> None:
    """Planned: 30 days notice; unplanned: notice within 1 business day (002 Components of Service)."""
    rng = b.rng
    plan_row.update(status="CLOSED", end_date=fmt_date(m.end), termination_kind=m.extra["term"])
    if m.extra["term"] == "PLANNED":
        sent = datetime.combine(m.end - timedelta(days=rng.randint(31, 40)), b.time_of_day())
    else:
        sent = datetime.combine(business_days_after(m.end, 1), b.time_of_day(8, 11))
    # Written aftercare plan at discharge (002 Discharge Planning).
    aftercare, _ = b.plan(m, "ACP", m.end, m.end - timedelta(days=2), m.extra["supervisor"], ["SC", "NAT", "CRS"],
                          title="Aftercare plan")
    b.x.add("communications.csv", communication_id=b.next_id("N", 4), member_id=m.member_id, program="CSP",
            kind="TERMN", sent_datetime=fmt_dt(sent), recipient_org_id=care_team,
            sender_id=m.extra["worker"], plan_id=plan_row["plan_id"], medium=rng.choice(["PH", "FAX", "EM"]))
    # With consent, a copy of the aftercare plan goes to the CCA Care Team (002 Discharge Planning); the
    # first discharged member's copy is never sent (a planted finding).
    if not any(r["member_id"] != m.member_id for r in b.x.tables["communications.csv"]):
        b.x.finding(m.member_id, "002 Discharge Planning (aftercare plan forwarded with consent)",
                    "consent given but the aftercare plan is not forwarded to the CCA Care Team",
                    rule="ma-csp-aftercare-forwarded")
        return
    b.x.add("communications.csv", communication_id=b.next_id("N", 4), member_id=m.member_id, program="CSP",
            kind="AFTC", sent_datetime=fmt_dt(datetime.combine(m.end, time(15, 0))), recipient_org_id=care_team,
            sender_id=m.extra["worker"], plan_id=aftercare, medium="FAX")


def _contact(b: Builder, m: Member, day: date, start: time | None, mode: str, contact_type: str,
             setting: str = "", status: str = "DONE"):
    rng = b.rng
    minutes = b.duration(20, 90)
    worker = m.extra["worker"]
    # Claims are held (billable N): the CSP HCPCS code is not confirmed (docs/design.md Billing codes)
    # and a CSP claim must carry one (002 Billing Procedures). The usual charge is still exported.
    done = status == "DONE"
    return b.contact(m, day, start or b.time_of_day(), minutes, mode, worker,
                     setting or rng.choice(["HOME", "HOME", "COMM", "SHEL", "OFC"]), contact_type=contact_type,
                     status=status, supervisor=m.extra["supervisor"], billable=False,
                     unit="UNIT" if done else "", units="1" if done else "",
                     charge="48.50" if done else "", dx=done)


def _weekly(b: Builder, m: Member) -> None:
    rng = b.rng
    for w in b.active_weeks(m):
        for day in b.weekdays(w, rng.choice([1, 1, 2])):
            if m.active_on(day) and day > m.enroll + timedelta(days=1):
                mode = rng.choices(["F2F", "PH", "TH", "COL"], [60, 20, 10, 10])[0]
                _contact(b, m, day, None, mode, "RT", status=b.status(0.07, 0.03))


def _violations(b: Builder, members: list[Member], workers, supervisors, care_team) -> None:
    x = b.x
    new = [m for m in members if m.enroll >= WINDOW_START and m.end is None]
    old = [m for m in members if m.enroll < WINDOW_START and m.end is None]
    # A service plan version without a measurable goal (002 Assessment ...: "measurable goals").
    m = old[1]
    latest = [r for r in x.tables["plans.csv"] if r["member_id"] == m.member_id and r["plan_type"] == "CSP"][-1]
    latest.update(goal="", goal_target_date="")
    x.finding(m.member_id, "002 Assessment ... (plan with measurable goals)",
              "the current service plan version has no measurable goal", rule="ma-csp-plan-goals")
    # Late first contact: 3 days after the referral (002: contact within 24 hours / 1 business day).
    m = new[0]
    fc = next(r for r in x.tables["contacts.csv"] if r["member_id"] == m.member_id and r["contact_type"] == "FC")
    fc["contact_date"] = fmt_date(m.enroll + timedelta(days=3))
    x.finding(m.member_id, "002 Assessment ... (contact within 24 hours)", "first contact 3 days after referral",
              rule="ma-csp-first-contact-24h")
    # Needs assessment after the first 2 weeks.
    m = new[1]
    na = next(r for r in x.tables["contacts.csv"] if r["member_id"] == m.member_id and r["contact_type"] == "NA")
    na["contact_date"] = fmt_date(m.enroll + timedelta(days=20))
    x.finding(m.member_id, "002 Assessment ... (needs assessment in first 2 weeks)",
              "needs assessment 20 days after referral", rule="ma-csp-needs-assessment-2-weeks")
    # A plan review more than a quarter after the previous version.
    m = old[0]
    versions = [r for r in x.tables["plans.csv"] if r["member_id"] == m.member_id and r["plan_type"] == "CSP"]
    if len(versions) >= 2:
        later = datetime.strptime(versions[1]["created_date"], "%m/%d/%Y") + timedelta(days=40)
        versions[1]["created_date"] = fmt_date(later.date())
        x.finding(m.member_id, "002 Assessment ... (plan updated at a minimum quarterly)",
                  "service plan review more than a quarter after the previous version",
                  rule="ma-csp-plan-quarterly-review")
    # Late termination notices.
    for kind, days, what in (("PLANNED", -10, "planned termination notice 10 days before the end (30 required)"),
                             ("UNPLANNED", 5, "unplanned termination notified 5 days after (1 business day)")):
        ms = [m for m in members if m.extra.get("term") == kind]
        if not ms:
            continue
        m = ms[0]
        comm = next(r for r in x.tables["communications.csv"] if r["member_id"] == m.member_id)
        comm["sent_datetime"] = fmt_dt(datetime.combine(m.end + timedelta(days=days), time(10, 0)))
        x.finding(m.member_id, "002 Components of Service (termination notice)", what,
                  rule=f"ma-csp-{kind.lower()}-termination-notice")
    # A billable contact without a HCPCS code (002 Billing Procedures: HCPCS on the claim).
    r = next(r for r in x.tables["contacts.csv"] if r["member_id"] == old[1].member_id and r["status"] == "DONE"
             and r["contact_type"] == "RT")
    x.break_row("contacts.csv", r, "billable", "Y",
                "billable CSP contact without a HCPCS code (profile invariant of ma-csp-encounter; 002 Billing Procedures)",
                stage="validate", rule="ma-csp-claim-elements")
    # A crisis prevention plan without the service plan it belongs to (invariant ma-csp-cp-1).
    cpp = [r for r in x.tables["plans.csv"] if r["plan_type"] == "CPP"]
    x.break_row("plans.csv", cpp[2], "parent_plan_id", "",
                "crisis prevention plan without partOf (profile invariant ma-csp-cp-1)", stage="validate",
                rule="ma-csp-crisis-plan")
    # Map-stage bad rows.
    x.break_row("referrals.csv", x.tables["referrals.csv"][5], "received_datetime", "13/45/2026 10:00",
                "date-time does not parse")
    plain = [r for r in x.tables["consents.csv"] if r["part2"] == "N"]
    x.break_row("consents.csv", plain[min(8, len(plain) - 1)], "purpose", "TX;RES", "purpose code not in the lookup")
    x.break_row("members.csv", x.tables["members.csv"][10], "payer_member_id", "",
                "CCA ID missing (required for CSP claims, 002 Billing Procedures)")
