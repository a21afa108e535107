"""District of Columbia MHRS Community Support, §3418 (001_531c4a09cf20a817.txt).

The `Comment [bjb..]` lines and the 'Draft Review' pages of the seed are a working group's notes,
not policy: no rule comes from them.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any, Iterator

from .. import canonical as c
from .record import MemberRecord, codes, describe, ext, sub_ext_value
from .registry import Finding, note, rule

P, SRC = "dc-cs", "001_531c4a09cf20a817.txt"
ALLOWED_SETTINGS = frozenset({"provider-site", "home", "community", "residential-facility"})
MAX_BEDS = 16
# §3418.11 (a)-(h) in bh-practitioner-qualification codes
QUALIFIED = frozenset({"psychiatrist", "psychologist", "licsw", "aprn", "rn", "lpc", "lisw", "addiction-counselor"})
PART_SYSTEM = c.PARTICIPATION_TYPE_SYSTEM


@rule(id="dc-cs-no-same-day-act", program=P, severity="error", source=SRC, section="§3418.10",
      statement="Community Support is not billed on a day the member had an ACT contact.")
def no_same_day_act(record: MemberRecord) -> Iterator[Finding]:
    act_days: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for enc in record.contacts("dc-act"):
        day = record.day(enc, "period.start")
        if day:
            act_days[day].append(enc)
    for enc in record.contacts(P):
        day = record.day(enc, "period.start")
        if day in act_days and sub_ext_value(record.billing(enc), "billable") is not False:
            acts = act_days[day]
            yield Finding(f"{describe(enc)} is a Community Support contact on the same agency-local day as ACT "
                          f"contact {', '.join(describe(a) for a in acts)}", enc, "period.start",
                          [(a, "period.start") for a in acts])


@rule(id="dc-cs-service-setting", program=P, severity="error", source=SRC, section="§3418.5",
      statement="Delivered at the provider site, in a natural setting (home, community) or in a residential facility of 16 beds or fewer.")
def service_setting(record: MemberRecord) -> Iterator[Finding]:
    for enc in record.contacts(P):
        item = ext(enc, c.EXT_SERVICE_SETTING)
        setting = sub_ext_value(item, "setting")
        code = setting.get("code") if isinstance(setting, dict) and setting.get("system") == c.SERVICE_SETTING_SYSTEM else None
        if code is None:
            yield Finding(f"{describe(enc)} has no ext-service-setting setting, so the §3418.5 setting limit "
                          f"cannot be shown", enc, "extension")
        elif code not in ALLOWED_SETTINGS:
            yield Finding(f"{describe(enc)} was delivered in a setting that §3418.5 does not allow",
                          enc, "extension")
        elif code == "residential-facility":
            beds = sub_ext_value(item, "bedCapacity")
            if not isinstance(beds, int):
                yield Finding(f"{describe(enc)} was delivered in a residential facility without bedCapacity, so "
                              f"the 16-bed limit cannot be shown", enc, "extension")
            elif beds > MAX_BEDS:
                yield Finding(f"{describe(enc)} was delivered in a residential facility of more than {MAX_BEDS} "
                              f"beds", enc, "extension")


def _qualifications(practitioner: dict[str, Any] | None, record: MemberRecord | None = None,
                    day: date | None = None) -> set[str]:
    """The practitioner's qualification codes; with a day, only those whose `period` covers it (an
    expired or not yet valid licence does not qualify: issue 12 defect 5)."""
    if not practitioner:
        return set()
    found: set[str] = set()
    for q in practitioner.get("qualification") or []:
        if not isinstance(q, dict):
            continue
        if record is not None and day is not None and isinstance(q.get("period"), dict):
            start, end = record.day(q, "period.start"), record.day(q, "period.end")
            if (start is not None and day < start) or (end is not None and day > end):
                continue
        found |= codes(q.get("code"), c.QUALIFICATION_SYSTEM)
    return found


def _participants(enc: dict[str, Any], role: str | None) -> list[dict[str, Any]]:
    found = []
    for part in enc.get("participant") or []:
        if not isinstance(part, dict):
            continue
        roles = codes(part.get("type"), PART_SYSTEM)
        if (role is None and "RESP" not in roles) or (role is not None and role in roles):
            found.append(part)
    return found


@rule(id="dc-cs-qualified-practitioner", program=P, severity="error", source=SRC, section="§3418.11, §3418.12",
      statement="The performer is a qualified practitioner (§3418.11 (a)-(h)) or credentialed staff supervised by one.")
def qualified_practitioner(record: MemberRecord) -> Iterator[Finding]:
    unknown: list[dict[str, Any]] = []
    for enc in record.contacts(P):
        performers = _participants(enc, None)
        if not performers:
            yield Finding(f"{describe(enc)} names no performer (participant.individual)", enc, "participant")
            continue
        for part in performers:
            prac = record.resolve(part.get("individual"))
            if prac is None:
                unknown.append(enc)
                continue
            day = record.day(enc, "period.start")
            quals = _qualifications(prac, record, day)
            if quals & QUALIFIED:
                continue
            if "credentialed-staff" in quals:
                supervisors = [record.resolve(s.get("individual")) for s in _participants(enc, "RESP")]
                if any(_qualifications(s, record, day) & QUALIFIED for s in supervisors if s):
                    continue
                yield Finding(f"{describe(enc)} was performed by credentialed staff ({describe(prac)}) without a "
                              f"supervising qualified practitioner (participant type RESP)", enc, "participant",
                              [(prac, "qualification")])
                continue
            yield Finding(f"the performer {describe(prac)} of {describe(enc)} holds no §3418.11 qualification valid "
                          f"on the day of the contact and is not credentialed staff", enc, "participant", [(prac, "qualification")])
    if unknown:  # one note per record: the Practitioners were not given with it
        yield Finding(f"the performers of {len(unknown)} Community Support contact(s) are not in the member record, "
                      f"so their §3418.11 qualifications cannot be shown (include the Practitioner resources)",
                      unknown[0], "participant", [(e, "participant") for e in unknown[1:]], severity="warning")


note(id="dc-cs-children-coordination", program=P, source=SRC, section="§3418.4",
     statement="Services to children and youth include coordination with family and other systems of care.",
     reason="'when appropriate' is a clinical judgement; coordination activities have no required code in the contract")
note(id="dc-cs-organizational-plan", program=P, source=SRC, section="§3418.6",
     statement="Each provider has a Community Support Organizational Plan covering models, staffing, LOF assessments and ISSP adjustment.",
     reason="an agency policy document, not member data")
note(id="dc-cs-accessibility", program=P, source=SRC, section="§3418.8",
     statement="Delivered per the service accessibility requirements of §3410.20.",
     reason="§3410.20 is not among the seeds")
note(id="dc-cs-no-annual-limit", program=P, source=SRC, section="§3418.9",
     statement="No annual limits on service.",
     reason="a permission, not a requirement: nothing to find")
note(id="dc-cs-interventions", program=P, source=SRC, section="§3418.1-§3418.3",
     statement="Community Support consists of the listed interventions, by a team or individually assigned staff.",
     reason="definitions; the profile binds activities to the dc-cs service components instead")


# §3418.7 rosters (bh-roster codes): consumers served by age group and staff, per provider and date
STAFF_RATIO = {"dc-cs-youth": 20, "dc-cs-adults": 40}   # consumers per staff person


@rule(id="dc-cs-staffing-ratio", program=P, severity="error", source=SRC, section="§3418.7", needs="rosters",
      statement="Staffing ratio at least 1:20 for children and youth and 1:40 for adults (staff roster against "
                "the youth and adult consumer rosters of the provider on the same date).")
def staffing_ratio(record: MemberRecord) -> Iterator[Finding]:
    from .mt_cmp import roster_counts   # the roster reader the CMP 20% cap uses
    groups = list(record.config.rosters or []) + record.of_type("Group")
    unique = list({id(g): g for g in groups}.values())
    for (provider, snapshot), kinds in sorted(roster_counts(unique).items()):
        served = {kind: kinds[kind] for kind in STAFF_RATIO if kind in kinds}
        if not served:
            continue
        when = f" as of {snapshot}" if snapshot else ""
        first = next(iter(served.values()))[1]
        if "dc-cs-staff" not in kinds:
            yield Finding(f"provider {provider} has consumer rosters{when} but no staff roster (bh-roster "
                          f"dc-cs-staff) for the same date, so the §3418.7 ratio cannot be shown", first, "code",
                          severity="warning")
            continue
        staff, staff_group = kinds["dc-cs-staff"]
        needed = sum(count / STAFF_RATIO[kind] for kind, (count, _g) in served.items())
        if staff < needed:
            counts = ", ".join(f"{count} {kind.removeprefix('dc-cs-')}" for kind, (count, _g) in served.items())
            yield Finding(f"provider {provider} has {staff} Community Support staff for {counts}{when} "
                          f"(needs at least {needed:.1f}: 1 per 20 children and youth, 1 per 40 adults)",
                          staff_group, "quantity", [(g, "quantity") for _c, g in served.values()])
