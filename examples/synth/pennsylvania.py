"""PerformCare Targeted Case Management export (004_55627d390f551fcd.txt, CM-040): ICM, RC, BCM,
with the stays (inpatient, partial hospitalization, jail, juvenile detention) that change what TCM may do."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from .builder import Builder, Member, quarter_hours_ceiling
from .common import business_days_after
from .common import WINDOW_END, WINDOW_START, Export, fmt_date, fmt_dt

PLACES = [("Harrisburg", "PA", "171"), ("Chambersburg", "PA", "172"), ("Carlisle", "PA", "170")]
AREA = "717"
COMPONENTS = ["REC", "ACC", "ASMT", "ADV", "ISPT", "COORD", "IND", "NAT", "SDOH", "PHC", "FUP", "CRP"]
CADENCE = {"ICM": 7, "BCM": 9, "RC": 14}   # days between routine contacts (example agency practice)


def tcm_export(rng: random.Random, n_members: int) -> Export:
    x = Export("pa-tcm")
    b = Builder(x, rng, "TCM", "SR", PLACES, AREA)
    agency = b.org("SR-ORG-1", "Susquehanna Ridge Case Management (fictional)", "AGENCY",
                   provider_number="PC-100384")
    unit = b.org("SR-ORG-2", "SRCM Targeted Case Management Unit", "TEAM", parent=agency, with_npi=False)
    payer = b.org("SR-ORG-9", "PerformCare", "PAYER", with_npi=False)
    ccm = b.org("SR-ORG-8", "PerformCare Clinical Care Management", "CARETEAM", parent=payer, with_npi=False)
    fac = {"IP": b.org("SR-ORG-3", "Blue Mountain Behavioral Hospital (fictional)", "FACILITY"),
           "PHP": b.org("SR-ORG-4", "Blue Mountain Partial Program (fictional)", "FACILITY"),
           "JAIL": b.org("SR-ORG-5", "Keystone County Prison (fictional)", "FACILITY", with_npi=False),
           "JDET": b.org("SR-ORG-6", "Keystone Youth Detention Center (fictional)", "FACILITY", with_npi=False)}
    cms = b.hire("TCM", unit, 8)
    supervisor = b.hire("MLC", unit)[0]

    members: list[Member] = []
    for _i in range(n_members):
        youth = rng.random() < 0.35
        m = b.member(unit, new_share=0.2, min_age=9 if youth else 19, max_age=17 if youth else 64,
                     payer_id=f"{rng.randint(1000000000, 9999999999)}",
                     dx_pool=["F90.2", "F91.3", "F43.10", "F34.81"] if youth else None,
                     sud_share=0.0 if youth else 0.15)
        m.extra.update(tcm=rng.choices(["ICM", "BCM", "RC"], [50, 30, 20])[0], cm=rng.choice(cms),
                       youth="Y" if youth else "")
        if rng.random() < 0.08 and m.enroll < WINDOW_START:
            m.end = WINDOW_START + timedelta(days=rng.randint(50, 100))
        members.append(m)

    for m in members:
        received = datetime.combine(m.enroll - timedelta(days=rng.randint(3, 15)), b.time_of_day())
        b.referral(m, received, ccm, unit, tcm_type=m.extra["tcm"], medical_necessity="Y")
        comps = sorted(rng.sample(COMPONENTS, rng.randint(3, 5)), key=COMPONENTS.index)
        m.plan_id, row = b.plan(m, "ISP", m.enroll, m.enroll + timedelta(days=rng.randint(0, 14)), m.extra["cm"],
                                comps, tcm_type=m.extra["tcm"], title="TCM service plan",
                                status="CLOSED" if m.end else "ACTIVE", end=m.end)
        b.consent(m, agency, ccm, "TX;CM;COC", datetime.combine(m.enroll - timedelta(days=1), b.time_of_day()))

    stays = _stays(b, members, fac)
    for m in members:
        _routine(b, m, stays.get(m.member_id, []))
    for m in members:
        if m.end:
            _discharge(b, m, supervisor)
    if len(members) >= 12:
        _violations(b, members, stays)
        _revised_plan(b, members, stays)
    b.enrollments_and_coverage(payer, "PA-HC-BH", "PerformCare (HealthChoices behavioral health)")
    return x


def _revised_plan(b: Builder, members: list[Member], stays: dict[str, list[tuple]]) -> None:
    """A member whose service plan is revised (the first ISP closed, a new one replacing it the next day)
    but who stays in TCM: not a discharge, so no pre-discharge meeting or discharge summary is owed
    (issue 12 defect 2). Drawn after every other row, so the rows above keep their random draws."""
    m = next((m for m in members if m.end is None and m.enroll < WINDOW_START and m.member_id not in stays), None)
    if m is None:       # a small export (--scale) may have no such member
        return
    revised = WINDOW_START + timedelta(days=30)
    old = next(p for p in b.x.tables["plans.csv"] if p["plan_id"] == m.plan_id)
    old.update(status="CLOSED", end_date=fmt_date(revised - timedelta(days=1)))
    comps = [a["component"] for a in b.x.tables["plan_activities.csv"] if a["plan_id"] == m.plan_id]
    for a in b.x.tables["plan_activities.csv"]:
        if a["plan_id"] == m.plan_id:
            a["status"] = "DONE"
    m.plan_id, _ = b.plan(m, "ISP", revised, revised, m.extra["cm"], comps, tcm_type=m.extra["tcm"],
                          title="TCM service plan (revised)", replaces=old["plan_id"])
    b.x.compliant.append((m.member_id, f"service plan {old['plan_id']} closed on {(revised - timedelta(days=1)).isoformat()} "
                          f"and replaced by {m.plan_id}; the enrollment stays open: no pre-discharge-meeting or "
                          "discharge-summary finding"))


def _contact(b: Builder, m: Member, day: date, mode: str = "", contact_type: str = "RT", setting: str = "",
             status: str = "", start: time | None = None, minutes: int | None = None):
    rng = b.rng
    mode = mode or rng.choices(["F2F", "PH", "COL"], [70, 25, 5])[0]
    status = status or b.status(0.06, 0.03)
    minutes = minutes or b.duration(15, 75)
    done = status == "DONE"
    return b.contact(m, day, start or b.time_of_day(), minutes, mode, m.extra["cm"],
                     setting or ("OFC" if mode != "F2F" else rng.choice(["HOME", "HOME", "COMM", "OFC"])),
                     contact_type=contact_type, status=status, billable=done, unit="15M" if done else "",
                     units=quarter_hours_ceiling(minutes) if done else "", tcm_type=m.extra["tcm"], dx=done)


def _stays(b: Builder, members: list[Member], fac: dict[str, str]) -> dict[str, list[tuple]]:
    """Inpatient and partial stays for some adults and youth; jail for two adults, detention for one youth."""
    rng = b.rng
    out: dict[str, list[tuple]] = {}
    adults = [m for m in members if not m.extra["youth"] and m.end is None and m.enroll < WINDOW_START]
    youth = [m for m in members if m.extra["youth"] and m.end is None and m.enroll < WINDOW_START]
    plan = [(m, "IP") for m in (adults[0:6] + youth[0:2])] + [(m, "PHP") for m in adults[6:8]]
    plan += [(m, "JAIL") for m in adults[8:10]] + [(m, "JDET") for m in youth[2:3]]
    for m, kind in plan:
        admit = datetime.combine(WINDOW_START + timedelta(days=rng.randint(14, 45)), time(rng.randint(0, 23), 25))
        length = {"IP": (5, 16), "PHP": (10, 25), "JAIL": (20, 40), "JDET": (50, 55)}[kind]
        discharge = admit + timedelta(days=rng.randint(*length), hours=rng.randint(1, 6))
        if m is adults[0]:
            discharge = None            # still in hospital at the end of the export
        b.stay(m, kind, admit, discharge, fac[kind])
        out.setdefault(m.member_id, []).append((kind, admit, discharge))
    return out


def _routine(b: Builder, m: Member, stays: list[tuple]) -> None:
    """Routine contacts at the TCM type's cadence, none while detained; during a hospital stay
    one in-person contact, and a follow-up within 2 business days of discharge (004 1.2.2, 1.2.2.1)."""
    rng = b.rng
    day = m.enroll + timedelta(days=rng.randint(0, 4))
    while day <= WINDOW_END and (m.end is None or day <= m.end - timedelta(days=3)):
        inside = [s for s in stays if s[1].date() <= day and (s[2] is None or day <= s[2].date())]
        if day.weekday() < 5 and not inside:
            _contact(b, m, day)
        day += timedelta(days=CADENCE[m.extra["tcm"]] + rng.randint(-1, 1))
    for kind, admit, discharge in stays:
        if kind in ("IP", "PHP"):
            during = admit.date() + timedelta(days=2)
            _contact(b, m, during, "F2F", "DCP", setting="INPT", status="DONE")
            if discharge:
                follow = business_days_after(discharge.date(), rng.choice([1, 2]))
                _contact(b, m, follow, "F2F", "RT", setting="HOME", status="DONE")


def _discharge(b: Builder, m: Member, supervisor: str) -> None:
    """45-day pre-discharge planning meeting; discharge summary within 30 days (004 2.2, 2.4)."""
    rng = b.rng
    _contact(b, m, _weekday(m.end - timedelta(days=45)), "F2F", "PDP", setting="OFC", status="DONE")
    written = datetime.combine(m.end + timedelta(days=rng.randint(3, 25)), b.time_of_day())
    if written.date() > WINDOW_END:
        return      # not written yet on the export day (and not due yet)
    b.x.add("documents.csv", document_id=b.next_id("D", 4), member_id=m.member_id, program="TCM",
            doc_type="DCSUM", document_datetime=fmt_dt(written), discharge_date=fmt_date(m.end),
            author_id=m.extra["cm"], doc_status="FINAL", file_name=f"tcm-discharge-summary-{m.member_id}.pdf",
            content_type="application/pdf")


def _weekday(d: date) -> date:
    while d.weekday() >= 5:
        d -= timedelta(days=1)
    return d


def _violations(b: Builder, members: list[Member], stays: dict[str, list[tuple]]) -> None:
    x = b.x
    # A TCM contact while the member is in jail (004 1.4.2.1: eligibility ends the day before admission).
    jailed = [(mid, s) for mid, ss in stays.items() for s in ss if s[0] == "JAIL"]
    if jailed:
        mid, (_, admit, discharge) = jailed[0]
        m = next(m for m in members if m.member_id == mid)
        day = _weekday(admit.date() + timedelta(days=6))
        _contact(b, m, day, "F2F", "RT", setting="JAIL", status="DONE")
        x.finding(mid, "004 1.4.2.1", f"TCM contact on {fmt_date(day)} while in jail", rule="pa-tcm-jail-eligibility")
    # Juvenile detention beyond 35 days: a contact on day 40 (004 1.4.2.2).
    det = [(mid, s) for mid, ss in stays.items() for s in ss if s[0] == "JDET"]
    if det:
        mid, (_, admit, _) = det[0]
        m = next(m for m in members if m.member_id == mid)
        day = _weekday(admit.date() + timedelta(days=40))
        _contact(b, m, day, "PH", "RT", setting="OFC", status="DONE")
        x.finding(mid, "004 1.4.2.2", f"TCM contact on {fmt_date(day)}, day 40 of juvenile detention (35 max)",
                  rule="pa-tcm-detention-35-days")
    # No follow-up within 2 business days after an inpatient discharge (004 1.2.2.1): move it to day 6.
    ip = [(mid, s) for mid, ss in stays.items() for s in ss if s[0] == "IP" and s[2] is not None]
    if ip:
        mid, (_, admit, discharge) = ip[0]
        for r in x.tables["contacts.csv"]:
            d = datetime.strptime(r["contact_date"], "%m/%d/%Y").date()
            if r["member_id"] == mid and discharge.date() <= d <= discharge.date() + timedelta(days=6):
                r["contact_date"] = fmt_date(discharge.date() + timedelta(days=6 if d.weekday() < 5 else 7))
        x.finding(mid, "004 1.2.2.1", f"no contact within 2 business days of discharge on {fmt_date(discharge.date())}",
                  rule="pa-tcm-post-discharge-contact")
    # A discharge summary 45 days after discharge (004 2.4: within 30 calendar days).
    docs = x.tables["documents.csv"]
    late = [r for r in docs
            if datetime.strptime(r["discharge_date"], "%m/%d/%Y").date() + timedelta(days=45) <= WINDOW_END]
    if late:
        r = late[0]
        end = datetime.strptime(r["discharge_date"], "%m/%d/%Y")
        r["document_datetime"] = fmt_dt(end + timedelta(days=45, hours=11))
        x.finding(r["member_id"], "004 2.4", "discharge summary 45 days after discharge", rule="pa-tcm-discharge-summary")
    # Map-stage bad rows.
    followed = ip[0][0] if ip else ""
    spare = [r for r in x.tables["stays.csv"] if r["stay_type"] == "IP" and r["member_id"] != followed]
    x.break_row("stays.csv", spare[-1], "stay_type", "PRISON", "stay type code not in the lookup")
    contacts = x.tables["contacts.csv"]
    x.break_row("contacts.csv", contacts[len(contacts) // 5], "tcm_type", "", "TCM type missing (required)")
    x.break_row("contacts.csv", contacts[len(contacts) // 2], "contact_date", "4/31/2026", "date does not exist")
    others = [r for r in docs if not late or r is not late[0]]
    if others:
        x.break_row("documents.csv", others[0], "doc_type", "DCS", "document type code not in the lookup")
    x.break_row("plan_activities.csv", x.tables["plan_activities.csv"][-1], "plan_id", "SRP99999",
                "activity of a plan that is not in plans.csv (orphan)")
