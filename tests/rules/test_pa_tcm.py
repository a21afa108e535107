"""pa-tcm rules (004_55627d390f551fcd.txt)."""
from __future__ import annotations

from datetime import date

from rules_factories import contact, discharge_summary, episode, findings, patient, plan, setting, stay

P = "pa-tcm"
AS_OF = date(2026, 9, 1)
TCM_PLAN = plan(P, "isp", "2026-01-01")
TCM_EPISODE = episode(P, "2026-01-01")   # the enrollment the discharge rules read


def tcm(start: str, **kw) -> dict:
    return contact(P, start, **kw)


def test_contact_within_two_business_days_of_discharge_skips_the_observed_holiday() -> None:
    # discharged Thursday 2026-07-02; Friday 07-03 is Independence Day observed → 2nd business day is Tue 07-07
    hospital = stay("inpatient-psychiatric", "2026-06-25T12:00:00-04:00", "2026-07-02T11:00:00-04:00")
    ok = [patient(), TCM_PLAN, TCM_EPISODE, hospital, tcm("2026-07-07T10:00:00-04:00")]
    assert findings(ok, "pa-tcm-post-discharge-contact", as_of=AS_OF, timezone="America/New_York") == []
    bad = [patient(), TCM_PLAN, TCM_EPISODE, hospital, tcm("2026-07-08T10:00:00-04:00")]
    issues = findings(bad, "pa-tcm-post-discharge-contact", as_of=AS_OF, timezone="America/New_York")
    assert len(issues) == 1 and issues[0].expression.endswith(".period.end")


def test_discharge_before_the_extract_window_is_not_judged() -> None:
    hospital = stay("inpatient-psychiatric", "2025-12-20T12:00:00-05:00", "2025-12-30T11:00:00-05:00")
    record = [patient(), plan(P, "isp", "2025-06-01"), episode(P, "2025-06-01"), hospital, tcm("2026-01-12T10:00:00-05:00")]
    assert len(findings(record, "pa-tcm-post-discharge-contact", as_of=AS_OF)) == 1
    assert findings(record, "pa-tcm-post-discharge-contact", as_of=AS_OF, data_from=date(2026, 1, 5)) == []


def test_partial_hospitalization_counts_and_pending_deadline_is_not_a_finding() -> None:
    php = stay("partial-hospitalization", "2026-08-20T08:00:00-04:00", "2026-08-31T15:00:00-04:00")
    record = [patient(), TCM_PLAN, TCM_EPISODE, php]
    assert findings(record, "pa-tcm-post-discharge-contact", as_of=date(2026, 9, 1),
                    timezone="America/New_York") == []
    assert len(findings(record, "pa-tcm-post-discharge-contact", as_of=date(2026, 9, 10),
                        timezone="America/New_York")) == 1


def test_contact_during_admission_is_a_warning() -> None:
    hospital = stay("inpatient-psychiatric", "2026-06-01T12:00:00-04:00", "2026-06-10T11:00:00-04:00")
    ok = [patient(), TCM_PLAN, TCM_EPISODE, hospital, tcm("2026-06-05T10:00:00-04:00")]
    assert findings(ok, "pa-tcm-contact-during-admission", as_of=AS_OF) == []
    issues = findings([patient(), TCM_PLAN, TCM_EPISODE, hospital], "pa-tcm-contact-during-admission", as_of=AS_OF)
    assert [i.severity for i in issues] == ["warning"]


def test_pre_discharge_meeting_45_days_ahead() -> None:
    ending = episode(P, "2026-01-01", end="2026-06-30", status="active")   # planned discharge
    ok = [patient(), ending, tcm("2026-05-10T10:00:00-04:00", ctype="pre-discharge-planning")]
    assert findings(ok, "pa-tcm-pre-discharge-meeting", as_of=AS_OF) == []
    late = [patient(), ending, tcm("2026-06-01T10:00:00-04:00", ctype="pre-discharge-planning")]
    assert len(findings(late, "pa-tcm-pre-discharge-meeting", as_of=AS_OF)) == 1


def test_discharge_summary_within_30_calendar_days() -> None:
    done = episode(P, "2026-01-01", end="2026-03-31")
    assert findings([patient(), done, discharge_summary("2026-04-20")], "pa-tcm-discharge-summary",
                    as_of=AS_OF) == []
    issues = findings([patient(), done, discharge_summary("2026-05-15")], "pa-tcm-discharge-summary", as_of=AS_OF)
    assert [i.severity for i in issues] == ["warning"]


def test_no_contacts_from_the_day_before_jail_admission() -> None:
    jail = stay("jail", "2026-04-10T14:00:00-04:00", "2026-05-01T09:00:00-04:00")
    ok = [patient(), TCM_PLAN, jail, tcm("2026-04-08T10:00:00-04:00"), tcm("2026-05-01T13:00:00-04:00")]
    assert findings(ok, "pa-tcm-jail-eligibility", as_of=AS_OF) == []
    bad = [patient(), TCM_PLAN, jail, tcm("2026-04-09T10:00:00-04:00"), tcm("2026-04-20T10:00:00-04:00")]
    assert len(findings(bad, "pa-tcm-jail-eligibility", as_of=AS_OF)) == 2


def test_juvenile_detention_35_days() -> None:
    detention = stay("juvenile-detention", "2026-04-01T10:00:00-04:00")
    ok = [patient(), TCM_PLAN, detention, tcm("2026-05-05T10:00:00-04:00", where=setting("community"))]  # day 35
    assert findings(ok, "pa-tcm-detention-35-days", as_of=AS_OF) == []
    bad = [patient(), TCM_PLAN, detention, tcm("2026-05-06T10:00:00-04:00", where=setting("community"))]  # day 36
    issues = findings(bad, "pa-tcm-detention-35-days", as_of=AS_OF)
    assert len(issues) == 1 and "day 36" in issues[0].message


def test_shelter_stay_is_not_detention() -> None:
    record = [patient(), TCM_PLAN, stay("shelter", "2026-04-01T10:00:00-04:00"),
              tcm("2026-06-06T10:00:00-04:00", where=setting("shelter"))]
    assert findings(record, "pa-tcm-detention-35-days", as_of=AS_OF) == []
    assert findings(record, "pa-tcm-detention-offsite", as_of=AS_OF) == []


def test_detention_contacts_are_offsite() -> None:
    detention = stay("juvenile-detention", "2026-04-01T10:00:00-04:00", "2026-04-20T10:00:00-04:00")
    ok = [patient(), TCM_PLAN, detention, tcm("2026-04-10T10:00:00-04:00", where=setting("community"))]
    assert findings(ok, "pa-tcm-detention-offsite", as_of=AS_OF) == []
    bad = [patient(), TCM_PLAN, detention, tcm("2026-04-10T10:00:00-04:00", where=setting("juvenile-detention"))]
    assert [i.severity for i in findings(bad, "pa-tcm-detention-offsite", as_of=AS_OF)] == ["error"]


def test_discharge_summary_not_due_yet_is_not_a_finding_even_with_an_older_summary() -> None:
    done = episode(P, "2026-01-01", end="2026-08-20")
    old = discharge_summary("2025-05-01")   # from an earlier episode
    assert findings([patient(), done, old], "pa-tcm-discharge-summary", as_of=date(2026, 9, 1)) == []
    assert len(findings([patient(), done, old], "pa-tcm-discharge-summary", as_of=date(2026, 9, 30))) == 1
