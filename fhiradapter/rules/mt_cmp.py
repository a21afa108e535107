"""Montana Community Maintenance Program (000_90208eba930f2875.txt)."""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from typing import Any, Iterator

from .. import canonical as c
from .calendar import run_label, week_label, week_runs, week_start
from .common import billed_without_plan, full_weeks, missing_sdmi, no_episode
from .record import MemberRecord, codes, describe, ref_key, sub_ext_value
from .registry import Finding, note, rule

P, SRC = "mt-cmp", "000_90208eba930f2875.txt"
QUALIFYING_MODES = frozenset({"face-to-face", "telehealth"})


# A team meeting discusses the member without the member (SR (4)); a quality contact is an
# interaction "between the team and members" (SR (3)), so team meetings never qualify.
NOT_MEMBER_CONTACT_TYPES = frozenset({"team-meeting"})


def _qualifying(record: MemberRecord) -> list[dict[str, Any]]:
    return [e for e in record.contacts(P) if record.contact_mode(e) in QUALIFYING_MODES
            and NOT_MEMBER_CONTACT_TYPES.isdisjoint(record.contact_types(e))]


@rule(id="mt-cmp-billable-days-per-week", program=P, severity="error", source=SRC,
      section="Service Requirements (5)",
      statement="At most 3 billable days per week per member (a day with one or more billable contacts is one billable day).")
def billable_days(record: MemberRecord) -> Iterator[Finding]:
    weeks: dict[date, dict[date, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    first = record.config.week_start_index
    for enc in record.contacts(P):
        day = record.day(enc, "period.start")
        if day is not None and record.is_billable(enc):
            weeks[week_start(day, first)][day].append(enc)
    for week, days in sorted(weeks.items()):
        if len(days) > 3:
            ordered = sorted(days)
            excess = [e for d in ordered[3:] for e in days[d]]
            yield Finding(f"{len(days)} billable days in {week_label(week)} (at most 3 may be billed); "
                          f"days beyond the third: {', '.join(describe(e) for e in excess)}",
                          excess[0], "extension", [(e, "extension") for e in excess[1:]])


@rule(id="mt-cmp-weekly-quality-contact", program=P, severity="error", source=SRC,
      section="Service Requirements (3)",
      statement="Each member receives a quality contact (face-to-face or telehealth) every week of enrollment.")
def weekly_quality_contact(record: MemberRecord) -> Iterator[Finding]:
    if (absent := no_episode(record, P)) is not None:
        yield absent
        return
    first = record.config.week_start_index
    covered = {week_start(d, first) for d in (record.day(e, "period.start") for e in _qualifying(record)) if d}
    for start, end, shown_by in record.enrollment_spans(P):   # each enrollment (EpisodeOfCare) on its own
        complete_from = record.contacts_from(P)
        if complete_from and complete_from > start:
            start = complete_from  # weeks before the input's contacts begin are not judged
        missing = [week for week in full_weeks(record, start, end) if week not in covered]
        for run in week_runs(missing):
            yield Finding(f"no face-to-face or telehealth mt-cmp contact in {run_label(run)} of the enrollment "
                          f"of {describe(shown_by)}", shown_by, "period")


@rule(id="mt-cmp-contact-mode", program=P, severity="error", source=SRC,
      section="Service Requirements (3), (5)",
      statement="Quality contacts and billable-day contacts are face-to-face or telehealth.")
def contact_mode(record: MemberRecord) -> Iterator[Finding]:
    for enc in record.contacts(P):
        counted = record.is_billable(enc) or "quality-contact" in record.contact_types(enc)
        mode = record.contact_mode(enc)
        if counted and mode not in QUALIFYING_MODES:
            yield Finding(f"{describe(enc)} is counted as a quality contact or billable day but its contact "
                          f"mode is {'another mode' if mode else 'missing'}, not face-to-face or telehealth", enc, "type")


@rule(id="mt-cmp-referral-sdmi", program=P, severity="error", source=SRC,
      section="Medical Necessity Criteria (1)",
      statement="The referral documents that the member meets the SDMI criteria.")
def referral_sdmi(record: MemberRecord) -> Iterator[Finding]:
    yield from missing_sdmi(record, P)


@rule(id="mt-cmp-referral-loi", program=P, severity="error", source=SRC,
      section="Medical Necessity Criteria (3)",
      statement="The referral documents a moderate level of impairment in LOI Area 3 or Area 4.")
def referral_loi(record: MemberRecord) -> Iterator[Finding]:
    for sr in record.referrals(P):
        found = False
        for item in sr.get("extension") or []:
            if not isinstance(item, dict) or item.get("url") != c.EXT_LEVEL_OF_IMPAIRMENT:
                continue
            area, level = sub_ext_value(item, "area"), sub_ext_value(item, "level")
            area_ok = isinstance(area, dict) and area.get("system") == c.LOI_AREA_SYSTEM and area.get("code") in ("3", "4")
            level_ok = isinstance(level, dict) and level.get("system") == c.LOI_LEVEL_SYSTEM and level.get("code") == "moderate"
            found = found or (area_ok and level_ok)
        if not found:
            yield Finding(f"{describe(sr)} has no ext-level-of-impairment with level 'moderate' in area 3 "
                          f"(Family/Interpersonal Relationships) or 4 (Mood/Thought Functioning)", sr, "extension")


@rule(id="mt-cmp-bundled-billing", program=P, severity="error", source=SRC,
      section="Service Requirements (5), (6)",
      statement="CMP is billed as a bundled service at the daily rate (billing unit per-diem, bundled = true).")
def bundled(record: MemberRecord) -> Iterator[Finding]:
    for enc in record.billable_contacts(P):
        line = record.billing(enc)
        unit, is_bundled = sub_ext_value(line, "unitType"), sub_ext_value(line, "bundled")
        if unit != "per-diem" or is_bundled is not True:
            yield Finding(f"billable {describe(enc)} is not billed as a bundled daily service "
                          f"(ext-billing unitType must be per-diem and bundled true)", enc, "extension")


@rule(id="mt-cmp-itp-documents-billed-services", program=P, severity="error", source=SRC,
      section="Service Requirements (2)",
      statement="Billed services are documented in the member's Individualized Treatment Plan.")
def itp_documents(record: MemberRecord) -> Iterator[Finding]:
    yield from billed_without_plan(record, P)


@rule(id="mt-cmp-weekly-team-meeting", program=P, severity="warning", source=SRC,
      section="Service Requirements (4)",
      statement="The team meets each week to discuss the member's progress (a team-meeting Encounter about the member each enrolled week).")
def weekly_team_meeting(record: MemberRecord) -> Iterator[Finding]:
    if (absent := no_episode(record, P)) is not None:
        yield absent
        return
    first = record.config.week_start_index
    meetings = [e for e in record.contacts(P) if "team-meeting" in record.contact_types(e)]
    covered = {week_start(d, first) for d in (record.day(e, "period.start") for e in meetings) if d}
    for start, end, shown_by in record.enrollment_spans(P):
        complete_from = record.contacts_from(P)
        if complete_from and complete_from > start:
            start = complete_from
        missing = [week for week in full_weeks(record, start, end) if week not in covered]
        for run in week_runs(missing):
            yield Finding(f"no mt-cmp team-meeting Encounter about the member in {run_label(run)}", shown_by, "period")


_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def _snapshot(group: dict[str, Any]) -> str:
    """The date a roster count holds for. The contract has no element for it (docs/rules.md): read
    characteristic.period, else an ISO date in Group.name ('PACT roster as of 2026-01-31')."""
    for item in group.get("characteristic") or []:
        period = item.get("period") if isinstance(item, dict) else None
        if isinstance(period, dict) and (period.get("end") or period.get("start")):
            return str(period.get("end") or period.get("start"))[:10]
    found = _ISO_DATE.search(str(group.get("name") or ""))
    return found.group(1) if found else ""


def roster_counts(groups: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, tuple[int, dict[str, Any]]]]:
    """(team, snapshot date) → roster kind → (member count, Group)."""
    teams: dict[tuple[str, str], dict[str, tuple[int, dict[str, Any]]]] = defaultdict(dict)
    for group in groups:
        if not isinstance(group, dict) or group.get("resourceType") != "Group":
            continue
        kinds = codes(group.get("code"), c.ROSTER_SYSTEM)
        team = ref_key(group.get("managingEntity")) or "(no managingEntity)"
        count = group.get("quantity")
        if not isinstance(count, int):
            count = len(group.get("member") or [])
        for kind in kinds:
            teams[(team, _snapshot(group))][kind] = (count, group)
    return teams


@rule(id="mt-cmp-team-cmp-share", program=P, severity="error", source=SRC,
      section="Provider Requirements (4)", needs="rosters",
      statement="A team's CMP members are at most 20% of its PACT/MCT members (1 CMP member per 5 PACT/MCT members).")
def team_share(record: MemberRecord) -> Iterator[Finding]:
    groups = list(record.config.rosters or []) + record.of_type("Group")
    unique = list({id(g): g for g in groups}.values())
    for (team, snapshot), kinds in sorted(roster_counts(unique).items()):
        if "cmp" not in kinds:
            continue
        when = f" as of {snapshot}" if snapshot else ""
        cmp_count, cmp_group = kinds["cmp"]
        if "pact-mct" not in kinds:
            yield Finding(f"team {team} has a CMP roster{when} ({describe(cmp_group)}) but no PACT/MCT roster for "
                          f"the same date, so the 20% limit cannot be shown", cmp_group, "code", severity="warning")
            continue
        pact_count, pact_group = kinds["pact-mct"]
        if cmp_count * 5 > pact_count:
            yield Finding(f"team {team} serves {cmp_count} CMP members against {pact_count} PACT/MCT members{when} "
                          f"(limit {pact_count // 5})", cmp_group, "quantity", [(pact_group, "quantity")])


_NOT = "not in the data the adapter carries"
note(id="mt-cmp-not-danger", program=P, source=SRC, section="Medical Necessity Criteria (2)",
     statement="The member is not a danger to self or others (53-21-102 MCA emergency situation).",
     reason="a clinical judgement; no coded element carries it in the data contract")
note(id="mt-cmp-willing-to-engage", program=P, source=SRC, section="Medical Necessity Criteria (4)",
     statement="The member is able and willing to actively engage in CMP services.",
     reason="a clinical judgement " + _NOT)
note(id="mt-cmp-approved-team", program=P, source=SRC, section="Provider Requirements (1)-(3)",
     statement="CMP is provided by a department-approved PACT/MCT team that meets Policy 455 quality measures.",
     reason="provider approval and team size are enrolment facts held by the department, " + _NOT)
note(id="mt-cmp-components-available", program=P, source=SRC, section="Service Requirements (1)",
     statement="Each team makes the ten core service components (a)-(j) available.",
     reason="availability is a team capability; a member record only shows components planned or delivered")
note(id="mt-cmp-quality-contact-content", program=P, source=SRC, section="Service Requirements (3)(a)-(f)",
     statement="Quality contacts are purposeful interactions integrated with services (decision making, recovery, supports, health monitoring, treatment).",
     reason="the content of a contact is narrative; the data shows only its mode and type")
note(id="mt-cmp-no-prior-auth", program=P, source=SRC, section="Utilization Management (1)",
     statement="Prior authorization is not required.",
     reason="a permission, not a requirement: nothing to find")
