"""The second export shape: nested JSON from a case-management system (docs/agency-export.md).

Derived from the mt-cmp CSV export of the same seed, so both exports state the same facts for the
members it carries; the JSON mapping gives the same resources as mappings/mt-cmp.yaml for them.
Only clean rows are carried (the deliberately bad CSV rows stay in the CSV example).
"""
from __future__ import annotations

from datetime import datetime

from .common import Export, Row

SEX = {"M": "male", "F": "female", "X": "other", "U": "unknown"}
MODE = {"F2F": "in-person", "TH": "video", "PH": "phone", "COL": "collateral"}
PURPOSE = {"QC": "quality-contact", "CRI": "crisis", "FC": "first-contact", "RT": "routine", "TM": "team-meeting"}
OUTCOME = {"DONE": "completed", "NOSHOW": "no-show", "CANCEL": "cancelled", "ERROR": "entered-in-error"}
SETTING = {"OFC": "office", "HOME": "home", "COMM": "community", "RES": "residential", "INPT": "hospital",
           "JAIL": "jail", "JDC": "juvenile-detention", "SHEL": "shelter"}
SERVICE = {"MED": "medication", "CM": "case-management", "CRIS": "crisis", "IMR": "illness-management",
           "CLS": "community-living", "SNI": "support-network", "EMP": "employment", "COD": "co-occurring",
           "THER": "therapy", "PEER": "peer-support"}
STATE = {"ACTIVE": "active", "CLOSED": "closed", "DRAFT": "draft", "HOLD": "on-hold", "REVOKED": "revoked",
         "ACCEPTED": "accepted", "OPEN": "open", "DECLINED": "declined"}
ACT_STATE = {"NS": "not-started", "SCHED": "scheduled", "IP": "in-progress", "DONE": "done", "HOLD": "on-hold",
             "STOP": "stopped", "CANC": "cancelled"}
SEVERITY = {"0": "none", "1": "mild", "2": "moderate", "3": "severe", "4": "extreme"}
PURPOSES = {"TX": "treatment", "PAY": "payment", "CM": "care-management", "COC": "coordination"}
ORG_KIND = {"AGENCY": "provider", "TEAM": "team", "PAYER": "payer", "CARETEAM": "care-team", "FACILITY": "facility"}
CREDENTIAL = {"MD-PSY": "MD (psychiatry)", "RN": "RN", "LICSW": "LICSW", "LMHP": "LCPC", "CPSS": "CBHPSS",
              "PARA": "BA aide"}


def _iso(local: str, with_time: bool) -> str:
    if with_time:
        return datetime.strptime(local, "%m/%d/%Y %H:%M").strftime("%Y-%m-%dT%H:%M")
    return datetime.strptime(local, "%m/%d/%Y").strftime("%Y-%m-%d")


def _opt(d: dict) -> dict:
    """Leave out empty values, as the case-management system does."""
    return {k: v for k, v in d.items() if v not in ("", None, [], {})}


def build(export: Export, n_clients: int, agency_slug: str) -> dict:
    bad = {id(b.row) for b in export.bad}
    t = export.tables
    clean = lambda name: [r for r in t[name] if id(r) not in bad]   # noqa: E731
    members = clean("members.csv")[:n_clients]
    ids = {m["member_id"] for m in members}
    # A member whose plan, referral or consent row is broken is left out entirely.
    for name in ("referrals.csv", "plans.csv", "consents.csv"):
        ids -= {r["member_id"] for r in t[name] if id(r) in bad}
    members = [m for m in members if m["member_id"] in ids]
    plan_ids = {p["plan_id"] for p in t["plans.csv"] if p["member_id"] in ids}
    bad_plans = {a["plan_id"] for a in t["plan_activities.csv"] if id(a) in bad}
    members = [m for m in members
               if not any(p["plan_id"] in bad_plans for p in t["plans.csv"] if p["member_id"] == m["member_id"])]
    ids = {m["member_id"] for m in members}
    del plan_ids

    def by_member(name: str) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {}
        for r in clean(name):
            if r["member_id"] in ids:
                out.setdefault(r["member_id"], []).append(r)
        return out

    referrals, plans, contacts, consents, periods, coverages = (by_member(n) for n in (
        "referrals.csv", "plans.csv", "contacts.csv", "consents.csv", "enrollments.csv", "coverages.csv"))
    activities: dict[str, list[Row]] = {}
    for a in t["plan_activities.csv"]:
        activities.setdefault(a["plan_id"], []).append(a)

    clients = []
    for m in members:
        mid = m["member_id"]
        ref = referrals[mid][0]
        enrollment = {
            "program": "community-maintenance",
            "referral": _opt({
                "id": ref["referral_id"], "receivedAt": _iso(ref["received_datetime"], True),
                "fromOrgId": ref["referral_source_org_id"], "toOrgId": ref["performer_org_id"],
                "state": STATE[ref["status"]], "sdmi": ref["sdmi"] == "Y",
                "medicalNecessity": ref["medical_necessity"] == "Y",
                "impairment": [{"area": int(ref["loi_area"]), "severity": SEVERITY[ref["loi_level"]]}]
                if ref["loi_area"] else [],
                "diagnosis": ref["dx_code"], "note": ref["note"], "requestedStart": _iso(ref["requested_start"], False)
                if ref["requested_start"] else "", "referralForm": ref["referral_form"]}),
            "plans": [_opt({
                "id": p["plan_id"], "kind": "treatment-plan", "title": p["title"], "state": STATE[p["status"]],
                "effective": _iso(p["start_date"], False),
                "ends": _iso(p["end_date"], False) if p["end_date"] else "",
                "written": _iso(p["created_date"], False), "authorId": p["author_id"], "goal": p["goal"],
                "teamId": p["team_org_id"],
                "services": [_opt({"id": a["activity_id"], "service": SERVICE[a["component"]],
                                   "state": ACT_STATE[a["status"]], "description": a["description"]})
                             for a in activities.get(p["plan_id"], [])]})
                for p in plans.get(mid, [])],
            "visits": [_visit(c) for c in contacts.get(mid, [])],
            "consents": [_opt({
                "id": k["consent_id"], "signedAt": _iso(k["signed_datetime"], True), "state": k["status"].lower(),
                "custodianOrgId": k["custodian_org_id"], "recipientOrgId": k["recipient_org_id"],
                "purposes": [PURPOSES[p] for p in k["purpose"].split(";")],
                "from": _iso(k["start_date"], False), "to": _iso(k["end_date"], False) if k["end_date"] else "",
                "part2": k["part2"] == "Y", "signedForm": k["form_file"]}) for k in consents.get(mid, [])],
            # the enrollment's admission-discharge periods (a re-enrolled client has two)
            "periods": [_opt({
                "id": e["enrollment_id"], "from": _iso(e["start_date"], False),
                "to": _iso(e["end_date"], False) if e["end_date"] else "", "state": STATE[e["status"]],
                "teamId": e["team_org_id"], "caseManagerId": e["care_manager_id"], "referralId": e["referral_id"],
                "diagnosis": e["dx_code"]}) for e in periods.get(mid, [])],
        }
        clients.append(_opt({
            "id": mid,
            "name": _opt({"family": m["last_name"], "given": [g for g in (m["first_name"], m["middle_name"]) if g]}),
            "birthDate": _iso(m["dob"], False), "gender": SEX[m["sex"]],
            "address": _opt({"street": m["address_line"], "city": m["city"], "state": m["state"],
                             "postalCode": m["zip"]}),
            "phone": m["phone"], "language": m["language"], "medicaidId": m["payer_member_id"],
            "sdmiStatus": {"Y": "yes", "N": "no", "P": "pending"}.get(m["sdmi"], ""),
            "primaryDiagnosis": m["primary_dx"],
            "enrollments": [enrollment],
            "coverage": [_opt({
                "id": v["coverage_id"], "payerId": v["payer_org_id"], "memberId": v["payer_member_id"],
                "plan": v["plan_code"], "planName": v["plan_name"], "from": _iso(v["start_date"], False),
                "to": _iso(v["end_date"], False) if v["end_date"] else ""}) for v in coverages.get(mid, [])],
        }))

    return {
        "export": {"system": "CaseTrack (fictional case-management system)", "agency": agency_slug,
                   "generated": "2026-04-27", "version": "3.2"},
        "organizations": [_opt({"id": o["org_id"], "name": o["name"], "kind": ORG_KIND[o["org_type"]],
                                "parentId": o["parent_org_id"], "npi": o["npi"],
                                "providerNumber": o["payer_provider_number"], "phone": o["phone"],
                                "address": _opt({"street": o["address_line"], "city": o["city"],
                                                 "state": o["state"], "postalCode": o["zip"]}),
                                "active": o["active"] == "Y"})
                          for o in t["organizations.csv"]],
        "staff": [_opt({"id": p["practitioner_id"], "name": {"family": p["last_name"], "given": [p["first_name"]]},
                        "npi": p["npi"], "credential": CREDENTIAL[p["qualification"]], "active": p["active"] == "Y"})
                  for p in t["practitioners.csv"]],
        "clients": clients,
        "rosters": [{"id": r["roster_id"], "teamId": r["team_org_id"], "type": r["roster_type"].lower(),
                     "asOf": _iso(r["as_of_date"], False), "count": int(r["member_count"])}
                    for r in t["rosters.csv"]],
    }


def _visit(c: Row) -> dict:
    billing = _opt({"billable": c["billable"] == "Y",
                    "unit": {"DAY": "day", "15M": "quarter-hour", "UNIT": "unit"}.get(c["billing_unit"], ""),
                    "units": _number(c["units"])})
    start = datetime.strptime(f"{c['contact_date']} {c['start_time']}", "%m/%d/%Y %H:%M")
    return _opt({
        "id": c["contact_id"], "start": start.strftime("%Y-%m-%dT%H:%M"), "minutes": int(c["duration_min"]),
        "how": MODE[c["mode"]], "purpose": PURPOSE[c["contact_type"]] if c["contact_type"] else "", "outcome": OUTCOME[c["status"]],
        "staffId": c["practitioner_id"], "supervisorId": c["supervisor_id"], "teamId": c["org_id"],
        "location": SETTING[c["setting"]], "billing": billing, "referralId": c["referral_id"],
        "diagnosis": c["dx_code"],
        "sud": c["sud_related"] == "Y", "placeOfService": c["place_of_service"]})


def _number(text: str) -> int | float | None:
    if not text:
        return None
    value = float(text)
    return int(value) if value.is_integer() else value
