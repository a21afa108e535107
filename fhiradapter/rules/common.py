"""Checks several programs share (each program module registers its own rule that calls these)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Iterator

from .. import canonical as c
from .billing_codes import BillingTableError, confirmed_for, load_billing_codes
from .calendar import week_start
from .record import MemberRecord, codes, describe, has_code, sub_ext_value
from .registry import Finding, rule


def full_weeks(record: MemberRecord, start: date, end: date | None) -> Iterator[date]:
    """Start dates of the weeks lying wholly inside [start, end] (end None → up to as_of) that have
    already ended by as_of. Partial first/last weeks are not required (see docs/rules.md)."""
    first_weekday = record.config.week_start_index
    last = min(end, record.as_of) if end else record.as_of
    week = week_start(start, first_weekday)
    if week < start:
        week += timedelta(days=7)
    while week + timedelta(days=6) <= last:
        yield week
        week += timedelta(days=7)


def not_evaluated(record: MemberRecord, source: str) -> Finding | None:
    """When the mapping source `source` (e.g. "stays") was absent from the input, the rules that need
    its data say so instead of passing (issue 12 defect 8)."""
    if source in record.config.absent_inputs:
        return Finding(f"not evaluated: no {source} in the input (the export's {source} file was absent)",
                       record.patient(), severity="information")
    return None


def no_episode(record: MemberRecord, program: str) -> Finding | None:
    """When the member has program data (contacts, plans or a referral) but no enrollment episode
    (EpisodeOfCare of the program), rules that need the enrollment period say so instead of guessing it
    from plan dates (issue 12 defect 2: a revised plan is no discharge, a gap between enrollments is
    not enrolled)."""
    if record.episodes(program):
        return None
    if record.contacts(program, finished_only=False) or record.plans(program) or record.referrals(program):
        return Finding(f"not evaluated: no enrollment episode (EpisodeOfCare of type bh-program|{program}) in "
                       f"the member record", record.patient(), severity="information")
    return None


def missing_sdmi(record: MemberRecord, program: str) -> Iterator[Finding]:
    """The program's referral must carry reasonCode bh-eligibility-criterion|sdmi."""
    referrals = record.referrals(program)
    if not referrals and record.contacts(program):
        patient = record.patient()
        yield Finding(f"no {program} referral (ServiceRequest) in the member record, so SDMI eligibility "
                      f"is not documented", patient)
        return
    for sr in referrals:
        if not has_code(sr.get("reasonCode"), c.ELIGIBILITY_SYSTEM, "sdmi"):
            yield Finding(f"{describe(sr)} does not carry reasonCode {c.ELIGIBILITY_SYSTEM}|sdmi "
                          f"(SDMI eligibility)", sr, "reasonCode")


# activity statuses that do not list a service: withdrawn or recorded in error
_NOT_LISTED = frozenset({"cancelled", "entered-in-error"})


def listed_services(record: MemberRecord, plan: dict[str, Any], program: str) -> set[str] | None:
    """The program's service components the plan lists (activity.detail.code from the program's
    service-component system, or an activity.reference to a ServiceRequest of the program); None when it
    lists none. '*' stands for "the program's service" (a referenced program ServiceRequest)."""
    system = c.service_component_system(program)
    found: set[str] = set()
    for activity in plan.get("activity") or []:
        if not isinstance(activity, dict):
            continue
        detail: dict[str, Any] = activity["detail"] if isinstance(activity.get("detail"), dict) else {}
        if detail.get("status") in _NOT_LISTED:
            continue
        found |= codes(detail.get("code"), system)
        if has_code(detail.get("code"), c.PROGRAM_SYSTEM, program):
            found.add("*")
        target = record.resolve(activity.get("reference"))
        if target and target.get("resourceType") == "ServiceRequest" and \
                has_code(target.get("category"), c.PROGRAM_SYSTEM, program):
            found.add("*")
    return found or None


def billed_without_plan(record: MemberRecord, program: str) -> Iterator[Finding]:
    """Each billable contact is documented in an ITP: an active/completed/on-hold ITP in effect on its
    date of service *lists the billed service* (an activity of the program's service components; the
    contact's own component when it names one), not only covers the date (issue 12 defect 5)."""
    plans = [p for p in record.plans(plan_type="itp") if p.get("status") in ("active", "completed", "on-hold")]
    billable = record.billable_contacts(program)
    if billable and not plans:  # one cause, one finding
        yield Finding(f"{len(billable)} billable {program} contact(s) but no Individualized Treatment Plan "
                      f"(CarePlan category bh-plan-type|itp) in the member record", billable[0], "period.start",
                      [(e, "period.start") for e in billable[1:]])
        return
    system = c.service_component_system(program)
    for enc in billable:
        day = record.day(enc, "period.start")
        if day is None:
            continue
        in_effect = [p for p in plans if record.covers(p, day)]
        if not in_effect:
            yield Finding(f"billable {describe(enc)} is not covered by any Individualized Treatment Plan "
                          f"(CarePlan category bh-plan-type|itp) in effect on its date of service",
                          enc, "period.start")
            continue
        component = record.type_codes(enc, system)
        lists = [listed_services(record, p, program) for p in in_effect]
        if any(found is not None and (not component or component & found or "*" in found) for found in lists):
            continue
        what = (f"its service component ({system})" if component
                else f"a {program} service (an activity from {system})")
        yield Finding(f"billable {describe(enc)} is not documented in the ITP: the plan in effect on its date "
                      f"of service ({describe(in_effect[-1])}) does not list {what}", enc, "period.start",
                      [(in_effect[-1], "activity")])


def hcpcs_coding(record: MemberRecord, enc: dict[str, Any]) -> dict[str, Any] | None:
    coding = sub_ext_value(record.billing(enc), "code")
    if isinstance(coding, dict) and coding.get("system") == c.HCPCS_SYSTEM and coding.get("code"):
        return coding
    return None


# ---- all-program rule: billing lines agree with the confirmed rows of the billing-code table ----

_TABLES: dict[str, list[Any]] = {}


def _table(record: MemberRecord) -> list[Any]:
    path = record.config.billing_codes or ""
    if path not in _TABLES:
        _TABLES[path] = load_billing_codes(path or None)
    return _TABLES[path]


@rule(id="all-billing-code", program="all", severity="error", source="fhiradapter/data/billing-codes.csv",
      section="confirmed rows (domain-notes.md §2)",
      statement="Where the billing-code table has confirmed rows for a program and date, billable contacts use one of those codes, modifiers and units.")
def billing_code(record: MemberRecord) -> Iterator[Finding]:
    try:
        table = _table(record)
    except BillingTableError as exc:
        yield Finding(f"the billing-code table cannot be used: {exc}", None, severity="warning")
        return
    for enc in record.of_type("Encounter"):
        if not record.is_billable(enc) or enc.get("status") != "finished":
            continue
        day = record.day(enc, "period.start")
        if day is None:
            continue
        for program in sorted(record.programs_of(enc)):
            rows = confirmed_for(table, program, day)
            if not rows:
                continue  # nothing confirmed: never guess a code
            line = record.billing(enc)
            coding = hcpcs_coding(record, enc)
            code = coding.get("code") if coding else None
            mods = []
            for item in (line or {}).get("extension") or []:
                if isinstance(item, dict) and item.get("url") == "modifier" and isinstance(item.get("valueCoding"), dict):
                    mods.append(item["valueCoding"].get("code"))
            matching = [r for r in rows if r.code == code]
            cites = "; ".join(sorted({r.source_citation for r in rows}))
            if not matching:
                yield Finding(f"billable {describe(enc)} ({program}) does not bill a confirmed code "
                              f"({', '.join(sorted({r.code for r in rows}))}) [{cites}]", enc, "extension")
                continue
            allowed = {r.modifier for r in matching if r.modifier}
            bad = [m for m in mods if m not in allowed]
            if bad:
                yield Finding(f"billable {describe(enc)} uses {len(bad)} modifier(s) not "   # not the record's codes
                              f"confirmed for {code} ({', '.join(sorted(allowed))})", enc, "extension")
            units = {r.unit for r in matching if r.unit}
            unit = sub_ext_value(line, "unitType")
            if units and unit not in units:
                yield Finding(f"billable {describe(enc)} bills {'another unit' if unit else 'no unit'}; {code} is billed per "
                              f"{', '.join(sorted(units))}", enc, "extension")


# statuses of a contact that did not take place (R4 Encounter.status): nothing was delivered to bill
NOT_DELIVERED = frozenset({"cancelled", "planned"})


@rule(id="all-billable-not-delivered", program="all", severity="error",
      source="the programs' billing provisions (a claim is for a service delivered)",
      section="e.g. CCA CSP Performance Specification, Billing Procedures; Montana CMP Service Requirements (5)",
      statement="A contact that did not take place (status cancelled or planned) is not marked billable.")
def billable_not_delivered(record: MemberRecord) -> Iterator[Finding]:
    for enc in record.of_type("Encounter"):
        if enc.get("status") in NOT_DELIVERED and record.is_billable(enc) and record.programs_of(enc):
            yield Finding(f"{describe(enc)} has status {enc.get('status')} but ext-billing marks it billable: "
                          f"a contact that did not take place cannot be billed", enc, "status")
