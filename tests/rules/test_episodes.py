"""Issue 12 defect 2: enrollment and discharge come from the program's EpisodeOfCare when the record has
one, not from care-plan dates (each test shows the plan-only record's false finding too)."""
from __future__ import annotations

from datetime import date, timedelta

from fhiradapter import canonical as c
from rules_factories import PATIENT_REF, billing, cc, contact, findings, patient, plan


def episode(program: str, start: str, end: str | None = None, status: str | None = None) -> dict:
    period = {"start": start} | ({"end": end} if end else {})
    return {"resourceType": "EpisodeOfCare", "id": f"eoc-{program}-{start}", "status": status or (
        "finished" if end else "active"), "type": [cc(c.PROGRAM_SYSTEM, program)], "patient": PATIENT_REF,
        "period": period}


def _weekly(start: date, end: date) -> list[dict]:
    out, day = [], start
    while day <= end:
        out.append(contact("mt-cmp", f"{day.isoformat()}T10:00:00-07:00", ctype="quality-contact",
                           bill=billing(unit="per-diem", bundled=True)))
        out.append(contact("mt-cmp", f"{day.isoformat()}T15:00:00-07:00", ctype="team-meeting"))
        day += timedelta(days=7)
    return out


def test_weeks_between_two_enrollments_are_not_enrolled() -> None:
    itp = plan("mt-cmp", "itp", "2026-01-05", end="2026-04-26")   # one plan spanning both enrollments
    contacts = _weekly(date(2026, 1, 6), date(2026, 2, 10)) + _weekly(date(2026, 3, 17), date(2026, 4, 21))
    plans_only = [patient(), itp, *contacts]
    for rule in ("mt-cmp-weekly-quality-contact", "mt-cmp-weekly-team-meeting"):
        assert findings(plans_only, rule, as_of=date(2026, 4, 26)), rule   # the gap counted as enrolled
    episodes = [episode("mt-cmp", "2026-01-05", "2026-02-14"), episode("mt-cmp", "2026-03-16", "2026-04-26")]
    with_episodes = plans_only + episodes
    for rule in ("mt-cmp-weekly-quality-contact", "mt-cmp-weekly-team-meeting"):
        assert findings(with_episodes, rule, as_of=date(2026, 4, 26)) == [], rule
    # a week with no contact inside an episode is still a finding, about that episode
    gap = [r for r in with_episodes if not (r.get("period", {}).get("start", "").startswith("2026-03-31"))]
    issues = findings(gap, "mt-cmp-weekly-quality-contact", as_of=date(2026, 4, 26))
    assert len(issues) == 1 and issues[0].expression.startswith("EpisodeOfCare.where(id='eoc-mt-cmp-2026-03-16')")


def test_a_revised_service_plan_is_no_discharge() -> None:
    first = plan("pa-tcm", "service-plan", "2025-10-01", end="2026-02-28", status="completed")
    revised = plan("pa-tcm", "service-plan", "2026-03-01")
    contacts = [contact("pa-tcm", f"2026-0{m}-10T10:00:00-05:00") for m in (1, 2, 3, 4)]
    plans_only = [patient(), first, revised, *contacts]
    assert findings(plans_only, "pa-tcm-pre-discharge-meeting", as_of=date(2026, 4, 30))
    assert findings(plans_only, "pa-tcm-discharge-summary", as_of=date(2026, 4, 30))
    with_episode = plans_only + [episode("pa-tcm", "2025-10-01")]
    assert findings(with_episode, "pa-tcm-pre-discharge-meeting", as_of=date(2026, 4, 30)) == []
    assert findings(with_episode, "pa-tcm-discharge-summary", as_of=date(2026, 4, 30)) == []
    # the episode's own end is the discharge
    ended = plans_only + [episode("pa-tcm", "2025-10-01", "2026-03-20")]
    assert findings(ended, "pa-tcm-discharge-summary", as_of=date(2026, 4, 30))
