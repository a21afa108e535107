"""PerformCare Targeted Case Management role expectations, CM-040 (004_55627d390f551fcd.txt)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Iterator

from .. import canonical as c
from .calendar import add_business_days
from .common import no_episode, not_evaluated
from .record import MemberRecord, describe, ext, has_code, sub_ext_value
from .registry import Finding, note, rule

P, SRC = "pa-tcm", "004_55627d390f551fcd.txt"
HOSPITAL = ("inpatient-psychiatric", "partial-hospitalization")
DISCHARGE_SUMMARY = "18842-5"


def _in_tcm(record: MemberRecord, day: date) -> bool:
    """Whether TCM was open on `day`: a TCM EpisodeOfCare covers it."""
    return record.enrolled_on(P, day)


def _discharges(record: MemberRecord, *, planned: bool) -> list[dict[str, Any]]:
    """What shows a TCM discharge: a TCM EpisodeOfCare's period.end (planned: any episode with an end;
    done: finished episodes). A plan's end is never read as one: a revised plan is no discharge (issue 12
    defect 2)."""
    return [e for e in record.episodes(P) if record.day(e, "period.end") is not None
            and (planned or e.get("status") == "finished")]


def _before_input(record: MemberRecord, day: date) -> bool:
    complete_from = record.contacts_from(P)
    return complete_from is not None and day < complete_from


@rule(id="pa-tcm-post-discharge-contact", program=P, severity="error", source=SRC, section="1.2.2.1",
      statement="After discharge from mental health inpatient or partial hospitalization, TCM contacts the member within 2 business days.")
def post_discharge_contact(record: MemberRecord) -> Iterator[Finding]:
    if (absent := not_evaluated(record, "stays")) is not None:
        yield absent
        return
    if record.stays(*HOSPITAL) and (absent := no_episode(record, P)) is not None:
        yield absent
        return
    # contacting the member: a collateral contact (with family or providers) is not (issue 12 defect 5)
    contacts = [e for e in record.contacts(P) if record.contact_mode(e) != "collateral"]
    for stay in record.stays(*HOSPITAL):
        discharged = record.instant(stay, "period.end")
        if discharged is None or not _in_tcm(record, discharged.date()) or _before_input(record, discharged.date()):
            continue
        deadline = add_business_days(discharged.date(), 2)
        if deadline >= record.as_of and not contacts:
            continue
        in_time = [e for e in contacts if (at := record.instant(e, "period.start")) is not None
                   and at >= discharged and at.date() <= deadline]
        if not in_time and deadline < record.as_of:
            yield Finding(f"no TCM contact within 2 business days after discharge from {describe(stay)} "
                          f"({record.stay_type(stay)})", stay, "period.end")


@rule(id="pa-tcm-contact-during-admission", program=P, severity="warning", source=SRC, section="1.2.2",
      statement="While the member is in mental health inpatient or partial hospitalization, TCM has at least one contact.")
def contact_during_admission(record: MemberRecord) -> Iterator[Finding]:
    if (absent := not_evaluated(record, "stays")) is not None:
        yield absent
        return
    if record.stays(*HOSPITAL) and (absent := no_episode(record, P)) is not None:
        yield absent
        return
    contacts = record.contacts(P)
    for stay in record.stays(*HOSPITAL):
        admitted, discharged = record.instant(stay, "period.start"), record.instant(stay, "period.end")
        if admitted is None or discharged is None or not _in_tcm(record, admitted.date()) \
                or _before_input(record, admitted.date()):
            continue
        if not any(admitted <= at <= discharged for e in contacts
                   if (at := record.instant(e, "period.start")) is not None):
            yield Finding(f"no TCM contact during {describe(stay)}", stay, "period")


DISCHARGE_PLANNING = frozenset({"discharge-planning"})   # bh-contact-type, export code DCP


@rule(id="pa-tcm-discharge-planning-participation", program=P, severity="warning", source=SRC, section="1.2.2",
      statement="While the member is in mental health inpatient or partial hospitalization, TCM is an active "
                "participant in discharge planning (a discharge-planning contact during the stay).")
def discharge_planning_participation(record: MemberRecord) -> Iterator[Finding]:
    if (absent := not_evaluated(record, "stays")) is not None:
        yield absent
        return
    if record.stays(*HOSPITAL) and (absent := no_episode(record, P)) is not None:   # in TCM: the episode says
        yield absent
        return
    meetings = [e for e in record.contacts(P) if record.contact_types(e) & DISCHARGE_PLANNING]
    for stay in record.stays(*HOSPITAL):
        admitted, discharged = record.instant(stay, "period.start"), record.instant(stay, "period.end")
        if admitted is None or discharged is None or not _in_tcm(record, admitted.date()) \
                or _before_input(record, admitted.date()) or discharged.date() > record.as_of:
            continue
        if not any(admitted <= at <= discharged for e in meetings
                   if (at := record.instant(e, "period.start")) is not None):
            yield Finding(f"no TCM discharge-planning contact (contact type discharge-planning) "
                          f"during {describe(stay)}", stay, "period")


PRE_DISCHARGE_EARLIEST = 90   # days before the planned discharge: twice the policy's 45-day mark


@rule(id="pa-tcm-pre-discharge-meeting", program=P, severity="error", source=SRC, section="2.2",
      statement="A pre-discharge planning meeting is held at least 45 days before the planned TCM discharge.")
def pre_discharge_meeting(record: MemberRecord) -> Iterator[Finding]:
    if (absent := no_episode(record, P)) is not None:
        yield absent
        return
    meetings = [e for e in record.contacts(P) if "pre-discharge-planning" in record.contact_types(e)]
    for plan in _discharges(record, planned=True):
        end = record.day(plan, "period.end")
        if end is None:
            continue
        due = end - timedelta(days=45)
        if due > record.as_of or _before_input(record, due):
            continue
        # "a Forty-Five (45) day pre-discharge planning meeting": held at the 45-day mark, read as within
        # 45 to PRE_DISCHARGE_EARLIEST days before the planned discharge (docs/rules.md); a meeting months
        # earlier plans no discharge that is at hand
        earliest = end - timedelta(days=PRE_DISCHARGE_EARLIEST)
        on_time = [m for m in meetings if (d := record.day(m, "period.start")) and earliest <= d <= due
                   and record.covers(plan, d)]
        if not on_time:
            early = [m for m in meetings if (d := record.day(m, "period.start")) and d < earliest
                     and record.covers(plan, d)]
            yield Finding(f"no pre-discharge-planning meeting 45 to {PRE_DISCHARGE_EARLIEST} days before the planned "
                          f"discharge of {describe(plan)}"
                          + (f" ({len(early)} held earlier than that)" if early else ""),
                          plan, "period.end", [(m, "period.start") for m in early])


@rule(id="pa-tcm-discharge-summary", program=P, severity="warning", source=SRC, section="2.4",
      statement="A TCM Discharge Summary (DocumentReference LOINC 18842-5) is submitted within 30 calendar days of TCM discharge.")
def discharge_summary(record: MemberRecord) -> Iterator[Finding]:
    if (absent := not_evaluated(record, "documents")) is not None:
        yield absent
        return
    if (absent := no_episode(record, P)) is not None:
        yield absent
        return
    summaries = [d for d in record.of_type("DocumentReference")
                 if has_code(d.get("type"), c.LOINC_SYSTEM, DISCHARGE_SUMMARY) and d.get("status") != "entered-in-error"]
    for plan in _discharges(record, planned=False):
        end = record.day(plan, "period.end")
        if end is None:
            continue
        due = end + timedelta(days=30)
        if any((d := record.day(s, "date")) and end <= d <= due for s in summaries) or due >= record.as_of:
            continue
        yield Finding(f"no discharge summary dated within 30 calendar days after TCM discharge of "
                      f"{describe(plan)}", plan, "period.end", [(s, "date") for s in summaries])


@rule(id="pa-tcm-jail-eligibility", program=P, severity="error", source=SRC, section="1.4.2.1",
      statement="No TCM contacts while the member is in jail: eligibility ends the day before jail admission.")
def jail(record: MemberRecord) -> Iterator[Finding]:
    if (absent := not_evaluated(record, "stays")) is not None:
        yield absent
        return
    for stay in record.stays("jail"):
        admitted = record.day(stay, "period.start")
        if admitted is None:
            continue
        released = record.instant(stay, "period.end")
        lost_from = admitted - timedelta(days=1)
        for enc in record.contacts(P):
            at = record.instant(enc, "period.start")
            if at is None or at.date() < lost_from:
                continue
            if released is None or at < released:
                yield Finding(f"{describe(enc)} falls while the member was in jail ({describe(stay)}) or on the day "
                              f"before admission, when eligibility had ended", enc, "period.start",
                              [(stay, "period")])


def _detention_days(record: MemberRecord, stay: dict[str, Any], enc: dict[str, Any]) -> int | None:
    """Day number of the contact within the detention placement (admission day = day 1), or None."""
    admitted = record.day(stay, "period.start")
    released = record.instant(stay, "period.end")
    at = record.instant(enc, "period.start")
    if admitted is None or at is None or at.date() < admitted or (released is not None and at >= released):
        return None
    return (at.date() - admitted).days + 1


@rule(id="pa-tcm-detention-35-days", program=P, severity="error", source=SRC, section="1.4.2.2",
      statement="No TCM contacts beyond the first 35 days of juvenile detention (eligibility changes to MA Fee-for-Service).")
def detention_35(record: MemberRecord) -> Iterator[Finding]:
    if (absent := not_evaluated(record, "stays")) is not None:
        yield absent
        return
    for stay in record.stays("juvenile-detention"):
        for enc in record.contacts(P):
            day_no = _detention_days(record, stay, enc)
            if day_no is not None and day_no > 35:
                yield Finding(f"{describe(enc)} falls on day {day_no} of juvenile detention ({describe(stay)}), after "
                              f"the first 35 days", enc, "period.start", [(stay, "period")])


@rule(id="pa-tcm-detention-offsite", program=P, severity="error", source=SRC, section="1.4.2.2",
      statement="During the first 35 days of juvenile detention, TCM is delivered offsite from the detention center.")
def detention_offsite(record: MemberRecord) -> Iterator[Finding]:
    if (absent := not_evaluated(record, "stays")) is not None:
        yield absent
        return
    for stay in record.stays("juvenile-detention"):
        for enc in record.contacts(P):
            day_no = _detention_days(record, stay, enc)
            if day_no is None or day_no > 35:
                continue
            setting = sub_ext_value(ext(enc, c.EXT_SERVICE_SETTING), "setting")
            code = setting.get("code") if isinstance(setting, dict) else None
            if code is None:
                yield Finding(f"{describe(enc)} falls during juvenile detention but has no ext-service-setting, so "
                              f"offsite delivery cannot be shown", enc, "extension", severity="warning")
            elif code == "juvenile-detention":
                yield Finding(f"{describe(enc)} was delivered at the detention center during juvenile detention",
                              enc, "extension", [(stay, "period")])


for _id, _section, _statement, _reason in (
    ("pa-tcm-ispt-out-of-home", "1.1.1-1.1.6", "For an out-of-home treatment recommendation TCM schedules the ISPT meeting and submits a complete request.", "the recommendation and the request packet (submission sheet, evaluation, sign-in sheet, summary) are not in the data contract"),
    ("pa-tcm-30-day-planning", "1.2.1.1", "TCM participates in 30-day planning meetings and pre-discharge planning for RTF/CRR-HH members.", "meeting schedules of the out-of-home provider are not in the member record; participation is shown only where an ispt-meeting contact exists"),
    ("pa-tcm-fbmhs-roles", "1.3.1", "Roles with FBMHS are defined at the first 30-day treatment team meeting.", "role agreements are narrative"),
    ("pa-tcm-notify-on-end", "1.1.6", "If TCM ends during ISPT scheduling or referral, the TCM notifies PerformCare immediately.", "notices to PerformCare about the referral process are not represented"),
    ("pa-tcm-contact-limits", "1.2.1, 1.2.1.2, 1.3.1.1", "TCM may continue beyond the regulatory contact limits for members in RTF/CRR-HH or FBMHS, and re-initiate up to 90 days before RTF discharge.", "permissions, not requirements: nothing to find"),
    ("pa-tcm-shelter-exempt", "1.4.2.2.1", "Children in shelters stay active with PerformCare with no change in eligibility.", "an exemption: shelter stays are simply not treated as detention by the detention rules"),
    ("pa-tcm-non-participation-review", "2.3", "Before a non-participation discharge the TCM considers circumstances, clinical situation, risk and re-engagement.", "the considerations are narrative judgement"),
):
    note(id=_id, program=P, source=SRC, section=_section, statement=_statement, reason=_reason)
