"""DC MHRS Community Support export (001_531c4a09cf20a817.txt §3418), with the ACT contacts of
members who also have Assertive Community Treatment (same-day rule §3418.10)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from .builder import Builder, Member, quarter_hours_nearest
from .common import Export

PLACES = [("Washington", "DC", "200")]
AREA = "202"
COMPONENTS = list("ABCDEFGH")
QUALIFIED = ["MD-PSY", "PHD-PSY", "LICSW", "APRN", "RN", "LPC", "LISW", "CAC"]  # §3418.11 (a)-(h)


def cs_export(rng: random.Random, n_members: int) -> Export:
    x = Export("dc-cs")
    b = Builder(x, rng, "CS", "AR", PLACES, AREA)
    agency = b.org("AR-ORG-1", "Anacostia Riverside Community Services (fictional)", "AGENCY",
                   provider_number="DCMHRS-77120")
    payer = b.org("AR-ORG-9", "DC Medicaid (DHCF)", "PAYER", with_npi=False)
    teams = [b.org("AR-ORG-2", "ARCS Community Support Team East", "TEAM", parent=agency, with_npi=False),
             b.org("AR-ORG-3", "ARCS Community Support Team West", "TEAM", parent=agency, with_npi=False)]
    act_team = b.org("AR-ORG-5", "Harbor ACT Team (fictional)", "TEAM", with_npi=False)
    qualified = {t: b.hire("LICSW", t, 2) + b.hire("LPC", t) + b.hire("RN", t) + b.hire("LISW", t) for t in teams}
    for q in ("MD-PSY", "PHD-PSY", "APRN", "CAC"):
        for t in teams:
            qualified[t] += b.hire(q, t)
    credentialed = {t: b.hire("CRED", t, 3) for t in teams}   # supervised, §3418.12
    act_staff = b.hire("LICSW", act_team, 2)

    members: list[Member] = []
    for i in range(n_members):
        m = b.member(teams[i % 2], new_share=0.2, min_age=12, max_age=75,
                     payer_id=f"{rng.randint(10000000, 99999999)}", sdmi=rng.choice(["Y", "Y", "N", ""]))
        m.extra["act"] = "Y" if rng.random() < 0.1 else ""
        members.append(m)
        received = datetime.combine(m.enroll - timedelta(days=rng.randint(1, 14)), b.time_of_day())
        b.referral(m, received, payer, m.team, medical_necessity="Y")
        author = rng.choice(qualified[m.team][:4])
        irp, _ = b.plan(m, rng.choice(["IRP", "IRP", "IPC"]), m.enroll, m.enroll, author,
                        sorted(rng.sample(COMPONENTS, 3)), title="Individualized Recovery Plan",
                        end=m.enroll + timedelta(days=365))   # the plan year: CarePlan.period.end
        m.plan_id, _ = b.plan(m, "ISSP", m.enroll + timedelta(days=7), m.enroll + timedelta(days=7), author,
                              sorted(rng.sample(COMPONENTS, rng.randint(2, 4))), title="Community Support ISSP")
        b.consent(m, agency, payer, "TX;PAY;COC", datetime.combine(m.enroll, b.time_of_day()))

    for m in members:
        act_days = set()
        for w in b.active_weeks(m):
            days = b.weekdays(w, rng.choice([1, 1, 2, 2, 3]))
            if m.extra["act"]:
                act_day = b.weekdays(w, 1)[0]
                if act_day not in days and m.active_on(act_day):
                    act_days.add(act_day)
                    row = b.contact(m, act_day, b.time_of_day(), b.duration(30, 60), "F2F",
                                    rng.choice(act_staff), "COMM", contact_type="RT", org=act_team, program="ACT")
                    row["sud_related"] = "N"    # the ACT team's contact: exported for §3418.10 only
            for day in days:
                if m.active_on(day):
                    _cs_contact(b, m, day, qualified[m.team], credentialed[m.team])
    if len(members) >= 10:
        _violations(b, members, qualified, credentialed, act_staff, act_team)
    for m in b.members[3:5]:   # re-admitted members: an earlier enrollment that ended (a discharge date)
        b.earlier_discharge(m)
    b.enrollments_and_coverage(payer, "DC-MEDICAID", "DC Medicaid")
    return x


def _cs_contact(b: Builder, m: Member, day, qualified: list[str], credentialed: list[str], **over):
    rng = b.rng
    mode = rng.choices(["F2F", "PH", "COL", "TH"], weights=[60, 20, 15, 5])[0]
    setting = over.pop("setting", None) or ("OFC" if mode in ("PH", "TH") else
                                            rng.choices(["OFC", "HOME", "COMM", "RES"], [35, 30, 25, 10])[0])
    beds = str(rng.randint(4, 16)) if setting == "RES" else ""
    who = rng.choice(qualified + credentialed)
    supervisor = rng.choice(qualified[:3]) if who in credentialed else ""
    status = b.status()
    minutes = b.duration(15, 90)
    done = status == "DONE"
    return b.contact(m, day, b.time_of_day(), minutes, mode, who, setting, contact_type="RT", status=status,
                     supervisor=supervisor, beds=beds, billable=done, unit="15M" if done else "",
                     units=quarter_hours_nearest(minutes) if done else "", hcpcs="H0036" if done else "",
                     modifiers="UK" if mode == "COL" and done else "", dx=done, **over)


def _violations(b: Builder, members, qualified, credentialed, act_staff, act_team) -> None:
    x = b.x
    contacts = x.tables["contacts.csv"]
    # CS billed on the same day as ACT (001 §3418.10).
    act_rows = [r for r in contacts if r["program"] == "ACT"]
    for r in act_rows[3:5]:
        m = next(m for m in members if m.member_id == r["member_id"])
        row = _cs_contact(b, m, _d(r["contact_date"]), qualified[m.team], credentialed[m.team])
        row.update(status="DONE", billable="Y", billing_unit="15M", units="2", hcpcs="H0036", modifiers="",
                   duration_min="30", mode="F2F", setting="HOME", setting_beds="")
        x.finding(m.member_id, "001 §3418.10", f"Community Support and ACT on {r['contact_date']}",
                  rule="dc-cs-no-same-day-act")
    # Credentialed staff without a supervising qualified practitioner (001 §3418.12).
    cred = {p for ps in credentialed.values() for p in ps}
    r = next(r for r in contacts[100:] if r["practitioner_id"] in cred and r["status"] == "DONE")
    r["supervisor_id"] = ""
    x.finding(r["member_id"], "001 §3418.12", f"credentialed staff without supervisor on {r['contact_date']}",
              rule="dc-cs-qualified-practitioner")
    # A cancelled contact marked billable (issue 12): nothing was delivered, so nothing may be billed.
    r = next(r for r in contacts[200:] if r["program"] == "CS" and r["status"] == "CANCEL")
    r.update(billable="Y", billing_unit="15M", units="2", hcpcs="H0036")
    x.finding(r["member_id"], "001 §3418 (conditions of payment)", f"cancelled contact on {r['contact_date']} "
              f"marked billable", rule="all-billable-not-delivered")
    # Residential facility over 16 beds and a CS contact in jail: both break §3418.5 invariants.
    done = [r for r in contacts if r["program"] == "CS" and r["status"] == "DONE"]
    r = done[len(done) // 4]
    r.update(setting="RES")
    x.break_row("contacts.csv", r, "setting_beds", "20",
                "residential facility with 20 beds (profile invariant dc-cs-enc-2; 001 §3418.5(c))", stage="validate",
                rule="dc-cs-service-setting")
    x.break_row("contacts.csv", done[len(done) // 3], "setting", "JAIL",
                "Community Support in jail (profile invariant dc-cs-enc-1; 001 §3418.5)", stage="validate",
                rule="dc-cs-service-setting")
    # Map-stage bad rows.
    x.break_row("contacts.csv", done[len(done) // 2], "status", "NOSHW", "status code not in the lookup")
    r = next(r for r in done[len(done) // 2 + 1:] if r["setting"] == "RES")
    x.break_row("contacts.csv", r, "setting_beds", "sixteen", "bed count is not an integer")
    x.break_row("members.csv", x.tables["members.csv"][7], "sex", "Q", "sex code not in the lookup")
    # An orphan: a contact whose organization is in no organizations.csv row, so its Encounter's
    # serviceProvider would point at nothing: held back (issue 12 defect 1), the rest of the member goes out.
    held_member = x.tables["members.csv"][7]["member_id"]
    r = next(r for r in done[len(done) * 3 // 5:] if r["member_id"] != held_member and r["setting"] == "HOME")
    x.break_row("contacts.csv", r, "org_id", "AR-ORG-404",
                "serviceProvider: an organization that is in no organizations.csv row", stage="held-back")
    x.break_row("consents.csv", x.tables["consents.csv"][9], "signed_datetime", "2026-01-12 10:00",
                "date-time not in MM/DD/YYYY HH:MM")


def _d(s: str):
    return datetime.strptime(s, "%m/%d/%Y").date()
