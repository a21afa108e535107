"""Small factories for member records in the FHIR JSON shapes of docs/design.md."""
from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from fhiradapter import canonical as c
from fhiradapter.rules import RuleConfig, run_rules

_ids = itertools.count(1)
PATIENT_REF = {"reference": "Patient/p1"}


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def cc(system: str, code: str) -> dict:
    return {"coding": [{"system": system, "code": code}]}


def patient(**extra: Any) -> dict:
    res = {"resourceType": "Patient", "id": "p1"}
    res.update(extra)
    return res


def full_patient() -> dict:
    return patient(name=[{"family": "Doe", "given": ["J"]}], birthDate="1980-01-01",
                   address=[{"line": ["1 Main St"], "city": "Boston", "state": "MA"}],
                   identifier=[{"system": "https://cca.example/member-id", "value": "X1"}])


def organization(oid: str = "agency", identifier: bool = True) -> dict:
    res: dict = {"resourceType": "Organization", "id": oid}
    if identifier:
        res["identifier"] = [{"system": "https://cca.example/provider", "value": f"{oid}-1"}]
    return res


def practitioner(pid: str, *quals: str) -> dict:
    return {"resourceType": "Practitioner", "id": pid,
            "qualification": [{"code": cc(c.QUALIFICATION_SYSTEM, q)} for q in quals]}


def billing(*, billable: bool = True, unit: str | None = None, bundled: bool | None = None,
            code: str | None = None, modifiers: tuple[str, ...] = (), charge: float | None = None) -> dict:
    parts: list[dict] = [{"url": "billable", "valueBoolean": billable}]
    if unit:
        parts.append({"url": "unitType", "valueCode": unit})
    if bundled is not None:
        parts.append({"url": "bundled", "valueBoolean": bundled})
    if code:
        parts.append({"url": "code", "valueCoding": {"system": c.HCPCS_SYSTEM, "code": code}})
    for mod in modifiers:
        parts.append({"url": "modifier", "valueCoding": {"system": c.HCPCS_SYSTEM, "code": mod}})
    if charge is not None:
        parts.append({"url": "charge", "valueMoney": {"value": charge, "currency": "USD"}})
    return {"url": c.EXT_BILLING, "extension": parts}


def setting(code: str, beds: int | None = None) -> dict:
    parts: list[dict] = [{"url": "setting", "valueCoding": {"system": c.SERVICE_SETTING_SYSTEM, "code": code}}]
    if beds is not None:
        parts.append({"url": "bedCapacity", "valueInteger": beds})
    return {"url": c.EXT_SERVICE_SETTING, "extension": parts}


def contact(program: str, start: str, *, mode: str = "face-to-face", ctype: str | None = None,
            status: str = "finished", bill: dict | None = None, where: dict | None = None,
            performer: str | None = "prac-1", supervisor: str | None = None, **extra: Any) -> dict:
    types = [cc(c.CONTACT_MODE_SYSTEM, mode)]
    if ctype:
        types.append(cc(c.CONTACT_TYPE_SYSTEM, ctype))
    res: dict = {"resourceType": "Encounter", "id": _id(program), "status": status,
                 "class": {"system": c.ACT_CODE_SYSTEM, "code": "HH"},
                 "serviceType": cc(c.PROGRAM_SYSTEM, program), "type": types, "subject": PATIENT_REF,
                 "period": {"start": start}, "serviceProvider": {"reference": "Organization/agency"}}
    parts = []
    if performer:
        parts.append({"type": [cc(c.PARTICIPATION_TYPE_SYSTEM, "PPRF")],
                      "individual": {"reference": f"Practitioner/{performer}"}})
    if supervisor:
        parts.append({"type": [cc(c.PARTICIPATION_TYPE_SYSTEM, "RESP")],
                      "individual": {"reference": f"Practitioner/{supervisor}"}})
    if parts:
        res["participant"] = parts
    exts = [e for e in (bill, where) if e]
    if exts:
        res["extension"] = exts
    res.update(extra)
    return res


def stay(kind: str, start: str, end: str | None = None) -> dict:
    cls = {"partial-hospitalization": "SS", "jail": "FLD", "juvenile-detention": "FLD"}.get(kind, "IMP")
    period = {"start": start}
    if end:
        period["end"] = end
    return {"resourceType": "Encounter", "id": _id(kind), "status": "finished" if end else "in-progress",
            "class": {"system": c.ACT_CODE_SYSTEM, "code": cls}, "type": [cc(c.STAY_TYPE_SYSTEM, kind)],
            "subject": PATIENT_REF, "period": period}


def loi(area: str, level: str) -> dict:
    return {"url": c.EXT_LEVEL_OF_IMPAIRMENT, "extension": [
        {"url": "area", "valueCoding": {"system": c.LOI_AREA_SYSTEM, "code": area}},
        {"url": "level", "valueCoding": {"system": c.LOI_LEVEL_SYSTEM, "code": level}}]}


def referral(program: str, authored: str, *, reasons: tuple[str, ...] = ("sdmi",),
             impairment: list[dict] | None = None) -> dict:
    res: dict = {"resourceType": "ServiceRequest", "id": _id(f"sr-{program}"), "status": "active",
                 "intent": "order", "category": [cc(c.PROGRAM_SYSTEM, program)],
                 "code": cc(c.PROGRAM_SYSTEM, program), "subject": PATIENT_REF, "authoredOn": authored}
    if reasons:
        res["reasonCode"] = [cc(c.ELIGIBILITY_SYSTEM, r) for r in reasons]
    if impairment:
        res["extension"] = impairment
    return res


def plan(program: str, plan_type: str, start: str, *, end: str | None = None, created: str | None = None,
         status: str = "active", activities: tuple[tuple[str, str], ...] = (), termination: str | None = None,
         part_of: str | None = None, pid: str | None = None) -> dict:
    period = {"start": start}
    if end:
        period["end"] = end
    res: dict = {"resourceType": "CarePlan", "id": pid or _id(f"cp-{plan_type}"), "status": status,
                 "intent": "plan", "subject": PATIENT_REF, "period": period, "created": created or start,
                 "category": [cc(c.US_CORE_CAREPLAN_CATEGORY, "assess-plan"), cc(c.PROGRAM_SYSTEM, program),
                              cc(c.PLAN_TYPE_SYSTEM, plan_type)]}
    if activities:
        res["activity"] = [{"detail": {"status": "in-progress", "code": cc(system, code)}}
                           for system, code in activities]
    if termination:
        res["extension"] = [{"url": c.EXT_TERMINATION_KIND, "valueCode": termination}]
    if part_of:
        res["partOf"] = [{"reference": f"CarePlan/{part_of}"}]
    return res


def episode(program: str, start: str, end: str | None = None, *, status: str | None = None,
            eid: str | None = None) -> dict:
    """An enrollment (EpisodeOfCare of the program): finished when it has an end, else active."""
    period = {"start": start} | ({"end": end} if end else {})
    return {"resourceType": "EpisodeOfCare", "id": eid or _id("eoc"), "status": status or ("finished" if end else "active"),
            "type": [cc(c.PROGRAM_SYSTEM, program)], "patient": PATIENT_REF, "period": period,
            "managingOrganization": {"reference": "Organization/agency"}}


def consent(program: str, start: str, end: str | None = None, *, recipient: str = "Organization/payer",
            purposes: tuple[str, ...] = ("HPAYMT", "TREAT"), part2: bool = False, status: str = "active",
            deny: dict | None = None) -> dict:
    provision: dict = {"type": "permit", "period": {"start": start, **({"end": end} if end else {})},
                       "actor": [{"role": cc(c.PARTICIPATION_TYPE_SYSTEM, "IRCP"),
                                  "reference": {"reference": recipient}}],
                       "purpose": [{"system": c.ACT_REASON_SYSTEM, "code": p} for p in purposes]}
    if deny:
        provision["provision"] = [deny]
    res: dict = {"resourceType": "Consent", "id": _id("consent"), "status": status,
                 "scope": cc(c.CONSENT_SCOPE_SYSTEM, "patient-privacy"),
                 "category": [cc(c.LOINC_SYSTEM, "59284-0"), cc(c.PROGRAM_SYSTEM, program)],
                 "patient": PATIENT_REF, "dateTime": start, "provision": provision,
                 "policyRule": cc("http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN")}
    if part2:
        res["policy"] = [{"uri": c.PART2_POLICY_URI}]
    return res


def communication(sent: str, reason: str = "termination-notice",
                  recipient: str = "Organization/cca-care-team") -> dict:
    return {"resourceType": "Communication", "id": _id("comm"), "status": "completed", "subject": PATIENT_REF,
            "reasonCode": [cc(c.CONTACT_TYPE_SYSTEM, reason)], "sent": sent,
            "recipient": [{"reference": recipient}]}


def discharge_summary(when: str) -> dict:
    return {"resourceType": "DocumentReference", "id": _id("doc"), "status": "current",
            "type": cc(c.LOINC_SYSTEM, "18842-5"), "subject": PATIENT_REF, "date": when}


def roster(kind: str, team: str, quantity: int) -> dict:
    return {"resourceType": "Group", "id": _id(f"roster-{kind}"), "type": "person", "actual": True,
            "code": cc(c.ROSTER_SYSTEM, kind), "managingEntity": {"reference": f"Organization/{team}"},
            "quantity": quantity}


def findings(resources: list[dict], rule_id: str, *, as_of: date, **config: Any) -> list:
    """The issues one rule reports for a record (all programs the record names)."""
    issues = run_rules(resources, config=RuleConfig(as_of=as_of, **config))
    return [i for i in issues if i.rule == rule_id]
