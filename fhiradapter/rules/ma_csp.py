"""Commonwealth Care Alliance Community Support Program, PS #010 (002_a91a28d9256cacc7.txt)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Iterator

from .. import canonical as c
from .calendar import add_business_days, add_months, end_of_day, start_of
from .common import hcpcs_coding, not_evaluated
from .record import MemberRecord, describe, ext, has_code, ref_key, sub_ext_value
from .registry import Finding, note, rule

P, SRC = "ma-csp", "002_a91a28d9256cacc7.txt"
ASSESS = "Assessment, Treatment/Recovery Planning and Documentation"
COMPONENTS = "Components of Service/Provider Responsibilities"


def _received(record: MemberRecord, sr: dict[str, Any]) -> tuple[datetime, date, bool] | None:
    moment = record.when(sr, "authoredOn")
    if moment is None:
        return None
    has_time = isinstance(moment, datetime)
    instant = start_of(moment, record.zone)
    return instant, instant.date(), has_time


def _attempts(record: MemberRecord) -> list[dict[str, Any]]:
    """Contacts (finished Encounters, any mode) and logged attempts: `first-contact` Encounters in any
    status but planned or entered-in-error (e.g. cancelled when the member was not reached)."""
    found = []
    for enc in record.contacts(P, finished_only=False):
        if enc.get("status") == "finished" or (
                "first-contact" in record.contact_types(enc) and enc.get("status") not in ("entered-in-error", "planned")):
            found.append(enc)
    return found


def _before_input(record: MemberRecord, day: date) -> bool:
    """The referral predates the contacts the input holds: its first contacts cannot be judged."""
    complete_from = record.contacts_from(P)
    return complete_from is not None and day < complete_from


def _judged_referrals(record: MemberRecord) -> Iterator[tuple[dict[str, Any], datetime, date, bool]]:
    """(referral, received instant, received local day, whether a time was given) for each referral
    whose follow-up the input can show: a receipt date is known and the contacts reach back to it."""
    for sr in record.referrals(P):
        got = _received(record, sr)
        if got is not None and not _before_input(record, got[1]):
            yield (sr, *got)


def _undated_referrals(record: MemberRecord) -> Iterator[Finding]:
    """A referral without a receipt date cannot be judged: a finding, not a silent pass (issue 12)."""
    for sr in record.referrals(P):
        if sr.get("authoredOn") is None:
            yield Finding(f"{describe(sr)} has no received date (authoredOn), so the first-contact deadline "
                          f"cannot be judged", sr, "authoredOn")


def _since(record: MemberRecord, instant: datetime, day: date, has_time: bool) -> datetime:
    """From when a contact answers a referral: its receipt instant (a contact logged before the referral
    arrived is no response to it: issue 12 defect 5); a date-only receipt, from the start of that day."""
    return instant if has_time else start_of(day, record.zone)


def _first_after(record: MemberRecord, encounters: list[dict[str, Any]], since: datetime) -> tuple[dict[str, Any], datetime] | None:
    best: tuple[dict[str, Any], datetime] | None = None
    for enc in encounters:
        at = record.instant(enc, "period.start")
        if at is not None and at >= since and (best is None or at < best[1]):
            best = (enc, at)
    return best


@rule(id="ma-csp-first-contact-attempt", program=P, severity="error", source=SRC, section=COMPONENTS,
      statement="Staff attempt to contact the member within 1 business day of receipt of the initial referral.")
def first_contact_attempt(record: MemberRecord) -> Iterator[Finding]:
    yield from _undated_referrals(record)
    attempts = _attempts(record)
    for sr, instant, day, has_time in _judged_referrals(record):
        deadline = end_of_day(add_business_days(day, 1), record.zone)
        first = _first_after(record, attempts, _since(record, instant, day, has_time))
        if first is None:
            if deadline.date() <= record.as_of:
                yield Finding(f"no contact or contact attempt follows referral {describe(sr)} by the end of the "
                              f"first business day after its receipt", sr, "authoredOn")
        elif first[1] >= deadline:
            yield Finding(f"the first contact or attempt ({describe(first[0])}) after referral {describe(sr)} came "
                          f"later than 1 business day after receipt", first[0], "period.start", [(sr, "authoredOn")])


@rule(id="ma-csp-first-contact-24h", program=P, severity="warning", source=SRC, section=ASSESS,
      statement="The provider contacts the member within 24 hours of the referral being made.")
def first_contact_24h(record: MemberRecord) -> Iterator[Finding]:
    contacts = record.contacts(P)
    for sr, instant, day, has_time in _judged_referrals(record):
        # a date-only authoredOn gives no hour: allow until the end of the next calendar day
        deadline = instant + timedelta(hours=24) if has_time else end_of_day(day + timedelta(days=1), record.zone)
        first = _first_after(record, contacts, _since(record, instant, day, has_time))
        if first is None:
            if deadline.date() < record.as_of:
                yield Finding(f"no completed contact with the member within 24 hours of referral {describe(sr)}",
                              sr, "authoredOn")
        elif first[1] > deadline:
            yield Finding(f"the first completed contact ({describe(first[0])}) came more than 24 hours after "
                          f"referral {describe(sr)}", first[0], "period.start", [(sr, "authoredOn")])


@rule(id="ma-csp-needs-assessment-2-weeks", program=P, severity="error", source=SRC, section=ASSESS,
      statement="A comprehensive needs assessment is completed in the first 2 weeks (14 days) after referral.")
def needs_assessment(record: MemberRecord) -> Iterator[Finding]:
    assessments = [e for e in record.contacts(P) if "needs-assessment" in record.contact_types(e)]
    for sr, instant, day, has_time in _judged_referrals(record):
        due = day + timedelta(days=14)
        first = _first_after(record, assessments, _since(record, instant, day, has_time))
        if first is None:
            if due < record.as_of:
                yield Finding(f"no completed needs-assessment contact within 2 weeks of referral {describe(sr)}",
                              sr, "authoredOn")
        elif first[1].date() > due:
            yield Finding(f"the needs assessment {describe(first[0])} was completed more than 2 weeks after "
                          f"referral {describe(sr)}", first[0], "period.start", [(sr, "authoredOn")])


def _service_plans(record: MemberRecord) -> list[dict[str, Any]]:
    return record.plans(P, "csp-service-plan")


@rule(id="ma-csp-plan-quarterly-review", program=P, severity="error", source=SRC, section=ASSESS,
      statement="The treatment/service plan is updated at least quarterly (each review within 3 calendar months of the last).")
def quarterly_review(record: MemberRecord) -> Iterator[Finding]:
    plans = _service_plans(record)
    if not plans:
        return
    dates: list[tuple[date, dict[str, Any], str]] = []
    for plan in plans:
        day = record.day(plan, "created") or record.day(plan, "period.start")
        if day:
            dates.append((day, plan, "created"))
    for enc in record.contacts(P):
        if "service-plan-review" in record.contact_types(enc):
            day = record.day(enc, "period.start")
            if day:
                dates.append((day, enc, "period.start"))
    if not dates:
        return
    dates.sort(key=lambda item: item[0])
    ends = [record.day(p, "period.end") for p in plans]
    open_ended = any(e is None for e in ends) or any(p.get("status") == "active" for p in plans)
    horizon = record.as_of if open_ended else min(max(e for e in ends if e), record.as_of)
    for (day, res, path), (next_day, next_res, next_path) in zip(dates, dates[1:]):
        if next_day > add_months(day, 3):
            yield Finding(f"more than 3 months pass between plan review {describe(res)} and the next "
                          f"({describe(next_res)})", next_res, next_path, [(res, path)])
    last_day, last_res, last_path = dates[-1]
    if add_months(last_day, 3) < horizon:
        yield Finding(f"the service plan has not been reviewed within 3 months after {describe(last_res)}",
                      last_res, last_path)


@rule(id="ma-csp-crisis-plan", program=P, severity="error", source=SRC, section=ASSESS,
      statement="The provider and member develop a crisis prevention plan (CarePlan crisis-prevention-plan, partOf the service plan).")
def crisis_plan(record: MemberRecord) -> Iterator[Finding]:
    plans = _service_plans(record)
    if not plans:
        return
    crisis = [p for p in record.plans(plan_type="crisis-prevention-plan") if p.get("status") != "revoked"]
    if not crisis:
        yield Finding(f"the member has a CSP service plan ({describe(plans[-1])}) but no crisis prevention plan "
                      f"(CarePlan category bh-plan-type|crisis-prevention-plan)", plans[-1], "category")
        return
    plan_keys = {f"CarePlan/{p.get('id')}" for p in plans}
    if not any(ref_key(ref) in plan_keys for cp in crisis for ref in cp.get("partOf") or []):
        yield Finding(f"crisis prevention plan {describe(crisis[-1])} is not linked (partOf) to a CSP service plan",
                      crisis[-1], "partOf", severity="warning")


def _to_an_organization(record: MemberRecord, comm: dict[str, Any]) -> bool:
    """'Notify CCA' (docs/rules.md): a recipient is an Organization (CCA, its Care Team); a notice sent
    only to the member (or a relative) does not tell CCA."""
    for recipient in comm.get("recipient") or []:
        target = record.resolve(recipient)
        kind = target.get("resourceType") if target else (ref_key(recipient) or "").split("/", 1)[0]
        if kind == "Organization":
            return True
    return False


def _notices(record: MemberRecord) -> list[tuple[dict[str, Any], datetime]]:
    found = []
    for comm in record.of_type("Communication"):
        if has_code(comm.get("reasonCode"), c.CONTACT_TYPE_SYSTEM, "termination-notice") \
                and comm.get("status") not in ("entered-in-error", "not-done") and _to_an_organization(record, comm):
            sent = record.instant(comm, "sent")
            if sent is not None:
                found.append((comm, sent))
    return sorted(found, key=lambda item: item[1])


def _terminations(record: MemberRecord, kind: str) -> Iterator[tuple[dict[str, Any], date]]:
    for plan in _service_plans(record):
        item = ext(plan, c.EXT_TERMINATION_KIND)
        end = record.day(plan, "period.end")
        if item and item.get("valueCode") == kind and end:
            yield plan, end


@rule(id="ma-csp-planned-termination-notice", program=P, severity="error", source=SRC, section=COMPONENTS,
      statement="Planned termination is noticed to relevant parties and CCA's Care Team at least 30 days before it.")
def planned_notice(record: MemberRecord) -> Iterator[Finding]:
    if (absent := not_evaluated(record, "communications")) is not None:
        yield absent
        return
    notices = _notices(record)
    for plan, end in _terminations(record, "planned"):
        due = end - timedelta(days=30)
        if due > record.as_of:
            continue
        if not any(sent.date() <= due for _, sent in notices):
            late = [comm for comm, sent in notices if sent.date() > due]
            yield Finding(f"planned termination of {describe(plan)} has no termination-notice Communication sent "
                          f"30 or more days before the end date"
                          + (f" ({', '.join(describe(x) for x in late)} came later)" if late else ""),
                          plan, "period.end", [(x, "sent") for x in late])


@rule(id="ma-csp-unplanned-termination-notice", program=P, severity="error", source=SRC, section=COMPONENTS,
      statement="For unplanned termination, all relevant parties including CCA are notified within 1 business day.")
def unplanned_notice(record: MemberRecord) -> Iterator[Finding]:
    if (absent := not_evaluated(record, "communications")) is not None:
        yield absent
        return
    notices = _notices(record)
    for plan, end in _terminations(record, "unplanned"):
        deadline = add_business_days(end, 1)
        if deadline >= record.as_of:
            continue
        if not any(end <= sent.date() <= deadline for _, sent in notices):
            yield Finding(f"unplanned termination of {describe(plan)} has no termination-notice Communication "
                          f"within 1 business day after the end date", plan, "period.end")


@rule(id="ma-csp-claim-elements", program=P, severity="error", source=SRC, section="Billing Procedures",
      statement="Claims carry member name, address, DOB and CCA ID, provider number, date of service, diagnosis, HCPCS code and usual charge.")
def claim_elements(record: MemberRecord) -> Iterator[Finding]:
    billable = record.billable_contacts(P)
    if not billable:
        return
    patient = record.patient()
    if patient is None:
        yield Finding("billable ma-csp contacts but no Patient in the member record (name, address, date of "
                      "birth and CCA ID are claim elements)", billable[0], "subject")
    else:
        missing = [el for el in ("name", "address", "birthDate", "identifier") if not patient.get(el)]
        if missing:
            yield Finding(f"{describe(patient)} lacks claim element(s): {', '.join(missing)}", patient, missing[0],
                          [(patient, m) for m in missing[1:]])
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for enc in billable:
        missing = []
        if not (enc.get("period") or {}).get("start"):
            missing.append("period.start (date of service)")
        if not (enc.get("diagnosis") or enc.get("reasonCode")):
            missing.append("diagnosis")
        if hcpcs_coding(record, enc) is None:
            missing.append("ext-billing code (HCPCS)")
        if not isinstance(sub_ext_value(record.billing(enc), "charge"), dict):
            missing.append("ext-billing charge (usual charge)")
        org = record.resolve(enc.get("serviceProvider"))
        if not enc.get("serviceProvider") or (org is not None and not org.get("identifier")):
            missing.append("serviceProvider identifier (CCA provider number)")
        if missing:
            groups.setdefault(tuple(missing), []).append(enc)
    # one finding per set of missing elements: a systematic gap is one finding, not one per claim
    for gaps, encs in groups.items():
        what = "billable contact" if len(encs) == 1 else f"{len(encs)} billable contacts"
        yield Finding(f"{what} ({', '.join(describe(e) for e in encs)}) lack claim element(s): "
                      f"{'; '.join(gaps)}", encs[0], "extension", [(e, "extension") for e in encs[1:]])


@rule(id="ma-csp-aftercare-plan", program=P, severity="warning", source=SRC,
      section="Discharge Planning, Community and Collateral Linkages",
      statement="A written aftercare plan (CarePlan aftercare-plan) exists at discharge.")
def aftercare_plan(record: MemberRecord) -> Iterator[Finding]:
    ended = [p for p in _service_plans(record) if p.get("status") in ("completed", "revoked")
             and (record.day(p, "period.end") or record.as_of) <= record.as_of]
    if ended and not record.plans(plan_type="aftercare-plan") and not any(
            p.get("status") == "active" for p in _service_plans(record)):
        yield Finding(f"the CSP service plan {describe(ended[-1])} has ended but no aftercare plan (CarePlan "
                      f"category bh-plan-type|aftercare-plan) is in the record", ended[-1], "status")


def _goal(record: MemberRecord, plan: dict[str, Any], ref: Any) -> dict[str, Any] | None:
    """A Goal a CarePlan.goal reference points at: contained ('#id') or in the record."""
    target = ref.get("reference") if isinstance(ref, dict) else None
    if isinstance(target, str) and target.startswith("#"):
        return next((r for r in plan.get("contained") or [] if isinstance(r, dict)
                     and r.get("resourceType") == "Goal" and r.get("id") == target[1:]), None)
    found = record.resolve(ref)
    return found if found and found.get("resourceType") == "Goal" else None


def _measurable(goal: dict[str, Any]) -> bool:
    """A target with a due date or duration, or a measure with a detail to reach."""
    for target in goal.get("target") or []:
        if isinstance(target, dict) and (target.get("dueDate") or target.get("dueDuration")
                                         or (target.get("measure") and any(k.startswith("detail") for k in target))):
            return True
    return False


@rule(id="ma-csp-plan-goals", program=P, severity="error", source=SRC, section=ASSESS,
      statement="The treatment/service plan has clearly defined interventions (activities) and measurable goals "
                "(CarePlan.goal → a Goal with a target date or measure).")
def plan_goals(record: MemberRecord) -> Iterator[Finding]:
    for plan in _service_plans(record):
        if plan.get("status") in ("revoked", "entered-in-error", "draft"):
            continue
        goals = [g for ref in plan.get("goal") or [] if (g := _goal(record, plan, ref)) is not None]
        missing = []
        if not any(_measurable(g) for g in goals):
            missing.append("a measurable goal (CarePlan.goal to a Goal with target.dueDate or a measure)")
        if not plan.get("activity"):
            missing.append("interventions (CarePlan.activity)")
        if missing:
            yield Finding(f"the CSP service plan {describe(plan)} has no {' and no '.join(missing)}", plan,
                          "goal" if len(missing) == 2 or "goal" in missing[0] else "activity")


ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
# 24-hour levels of care a stay Encounter can record (bh-stay-type; partial hospitalization is not 24-hour)
TWENTY_FOUR_HOUR = ("inpatient-psychiatric", "residential-treatment")


@rule(id="ma-csp-eligibility", program=P, severity="error", source=SRC, section="Covered Services",
      statement="The referral documents a mental health, substance use or co-occurring disorder (ICD-10-CM chapter F) "
                "and the high risk of 24-hour admission (medical necessity documented, or a 24-hour stay before it).")
def eligibility(record: MemberRecord) -> Iterator[Finding]:
    for sr in record.referrals(P):
        if sr.get("status") in ("revoked", "entered-in-error"):
            continue
        dx = [coding for concept in sr.get("reasonCode") or [] if isinstance(concept, dict)
              for coding in concept.get("coding") or [] if isinstance(coding, dict)
              and coding.get("system") == ICD10CM and str(coding.get("code") or "").upper().startswith("F")]
        if not dx:
            yield Finding(f"{describe(sr)} documents no mental health, substance use or co-occurring disorder "
                          f"(an ICD-10-CM chapter F code in reasonCode)", sr, "reasonCode")
        received = record.day(sr, "authoredOn")
        prior_stay = any((start := record.day(stay, "period.start")) is not None and received is not None
                         and start <= received for stay in record.stays(*TWENTY_FOUR_HOUR))
        if not has_code(sr.get("reasonCode"), c.ELIGIBILITY_SYSTEM, "medical-necessity-documented") and not prior_stay:
            yield Finding(f"{describe(sr)} documents no high risk of 24-hour admission (reasonCode "
                          f"bh-eligibility-criterion|medical-necessity-documented, or a 24-hour stay before the "
                          f"referral in the record)", sr, "reasonCode")


def _consent_given(record: MemberRecord, day: date) -> bool:
    """An active permit Consent naming a recipient (IRCP) in force on `day`: 'when consent is given'."""
    for consent in record.of_type("Consent"):
        provision = consent.get("provision") if isinstance(consent.get("provision"), dict) else None
        if consent.get("status") != "active" or not provision or provision.get("type", "permit") != "permit":
            continue
        if not any(isinstance(a, dict) and has_code(a.get("role"), c.PARTICIPATION_TYPE_SYSTEM, "IRCP")
                   for a in provision.get("actor") or []):
            continue
        start, end = record.day(provision, "period.start"), record.day(provision, "period.end")
        if (start is None or start <= day) and (end is None or day <= end):
            return True
    return False


@rule(id="ma-csp-aftercare-forwarded", program=P, severity="warning", source=SRC,
      section="Discharge Planning, Community and Collateral Linkages",
      statement="When consent is given, a copy of the aftercare plan is forwarded to the CCA Care Team and other "
                "parties (a Communication about the aftercare plan to an Organization).")
def aftercare_forwarded(record: MemberRecord) -> Iterator[Finding]:
    if (absent := not_evaluated(record, "communications")) is not None:
        if record.plans(plan_type="aftercare-plan"):
            yield absent
        return
    for plan in record.plans(plan_type="aftercare-plan"):
        made = record.day(plan, "created") or record.plan_start(plan)
        if made is None or made > record.as_of or not _consent_given(record, made):
            continue   # no consent given: nothing may be forwarded (state limits hold the plan back)
        key = ref_key({"reference": f"CarePlan/{plan.get('id')}"})
        sent = [m for m in record.of_type("Communication")
                if any(ref_key(a) == key for a in m.get("about") or [] if isinstance(a, dict))
                and any(str(ref_key(r) or "").startswith("Organization/") for r in m.get("recipient") or []
                        if isinstance(r, dict))]
        if not sent:
            yield Finding(f"consent is given but no copy of the aftercare plan {describe(plan)} is forwarded "
                          f"(no Communication about it to an Organization such as the CCA Care Team)", plan, "id")


for _id, _section, _statement, _reason in (
    ("ma-csp-licensed-organization", COMPONENTS, "The CSP is part of a licensed MA mental health or substance abuse services organization.", "a licensing fact about the agency, not member data"),
    ("ma-csp-urgent-coverage", COMPONENTS, "Urgent coverage 24/7, 365 days a year with referral to Emergency Services.", "an availability obligation; a member record shows only contacts that happened"),
    ("ma-csp-mobile-settings", COMPONENTS, "Mobile services in settings deemed safe for member and provider.", "'deemed safe' is a judgement and the list of settings is open ('includes')"),
    ("ma-csp-provider-meetings", COMPONENTS, "Staff participate in provider meetings scheduled by CCA Clinical Teams as appropriate.", "CCA's meeting schedule is not in the member record"),
    ("ma-csp-member-involvement", COMPONENTS, "The member is involved to the maximum extent possible in planning and discharge.", "'maximum extent possible' cannot be measured from coded data"),
    ("ma-csp-documentation", COMPONENTS, "All services (face-to-face, phone, telehealth, collateral) and progress toward goals are documented.", "whether every service was documented cannot be shown from the documented services themselves"),
    ("ma-csp-staffing", "Staffing Requirements", "Bachelor-level paraprofessionals supervised by a licensed masters-level clinician, trained in the listed areas.", "staff training and supervision structure are personnel records outside the member record"),
    ("ma-csp-referral-activation", ASSESS, "The provider contacts the referral source immediately and joins inpatient discharge planning with consent.", "contact with the referral source is not represented in the data contract (a design choice: the export has no contact-with-referral-source row; a contact type for it would make it checkable)"),
    ("ma-csp-member-signature", "Discharge Planning, Community and Collateral Linkages", "The discharge and service plan incorporate the member's signature.", "signatures live in documents, not in the coded CarePlan"),
    ("ma-csp-quality-management", "Quality Management", "The facility keeps a quality management plan and reports outcome data on request.", "an agency obligation, not member data"),
    ("ma-csp-eligibility-verification", "Billing Procedures", "Insurance eligibility is confirmed on a regular and frequent basis (EVS).", "eligibility checks are not recorded in the member record"),
    ("ma-csp-crisis-referral-approval", COMPONENTS, "Crisis referrals to the outpatient or ESP provider are made with a supervisor's approval when clinically indicated.", "supervisor approval of a referral is not represented in the data contract"),
    ("ma-csp-needs-assessment-updates", ASSESS, "The needs assessment is updated as needed.", "'as needed' sets no interval to check"),
    ("ma-csp-aftercare-crisis-plan", "Discharge Planning, Community and Collateral Linkages", "An updated crisis or risk management safety plan is part of the aftercare plan at discharge.", "the contract links a crisis plan to the service plan (partOf) only; 'updated' cannot be told from the data"),
    ("ma-csp-cultural-linguistic", COMPONENTS, "Linguistically appropriate and culturally sensitive support navigation.", "a quality of care, not a data fact"),
):
    note(id=_id, program=P, source=SRC, section=_section, statement=_statement, reason=_reason)
