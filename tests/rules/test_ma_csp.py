"""ma-csp rules (002_a91a28d9256cacc7.txt)."""
from __future__ import annotations

from datetime import date

from rules_factories import (billing, communication, contact, findings, full_patient, organization, patient, plan,
                             referral)

P = "ma-csp"
TZ = {"timezone": "America/New_York"}
AS_OF = date(2026, 9, 1)


def csp(start: str, **kw) -> dict:
    return contact(P, start, **kw)


def test_first_attempt_within_one_business_day() -> None:
    sr = referral(P, "2026-02-06T15:00:00-05:00", reasons=())          # Friday afternoon
    ok = [patient(), sr, csp("2026-02-09T10:00:00-05:00", mode="phone")]  # Monday
    assert findings(ok, "ma-csp-first-contact-attempt", as_of=AS_OF, **TZ) == []
    bad = [patient(), sr, csp("2026-02-10T10:00:00-05:00", mode="phone")]  # Tuesday
    issues = findings(bad, "ma-csp-first-contact-attempt", as_of=AS_OF, **TZ)
    assert len(issues) == 1 and issues[0].extra_expressions == [f"ServiceRequest.where(id='{sr['id']}').authoredOn"]


def test_first_attempt_deadline_skips_a_federal_holiday() -> None:
    sr = referral(P, "2026-02-13T15:00:00-05:00", reasons=())          # Friday before Washington's Birthday
    record = [patient(), sr, csp("2026-02-17T10:00:00-05:00", mode="phone")]
    assert findings(record, "ma-csp-first-contact-attempt", as_of=AS_OF, **TZ) == []


def test_logged_unsuccessful_attempt_counts_as_attempt() -> None:
    sr = referral(P, "2026-02-09T09:00:00-05:00", reasons=())
    attempt = csp("2026-02-09T16:00:00-05:00", mode="phone", ctype="first-contact", status="cancelled")
    assert findings([patient(), sr, attempt], "ma-csp-first-contact-attempt", as_of=AS_OF, **TZ) == []
    assert len(findings([patient(), sr], "ma-csp-first-contact-attempt", as_of=AS_OF, **TZ)) == 1


def test_referral_before_the_extract_window_is_not_judged() -> None:
    old = referral(P, "2025-09-30T11:00:00-04:00", reasons=())
    record = [patient(), old, csp("2026-01-05T10:00:00-05:00")]
    assert len(findings(record, "ma-csp-first-contact-attempt", as_of=AS_OF, **TZ)) == 1
    for rule_id in ("ma-csp-first-contact-attempt", "ma-csp-first-contact-24h", "ma-csp-needs-assessment-2-weeks"):
        assert findings(record, rule_id, as_of=AS_OF, data_from=date(2026, 1, 5), **TZ) == []


def test_contact_within_24_hours_is_a_warning_rule() -> None:
    sr = referral(P, "2026-02-09T10:00:00-05:00", reasons=())
    ok = [patient(), sr, csp("2026-02-10T09:00:00-05:00")]
    assert findings(ok, "ma-csp-first-contact-24h", as_of=AS_OF, **TZ) == []
    late = [patient(), sr, csp("2026-02-10T11:00:00-05:00")]
    assert [i.severity for i in findings(late, "ma-csp-first-contact-24h", as_of=AS_OF, **TZ)] == ["warning"]


def test_needs_assessment_within_two_weeks() -> None:
    sr = referral(P, "2026-02-02T10:00:00-05:00", reasons=())
    ok = [patient(), sr, csp("2026-02-16T10:00:00-05:00", ctype="needs-assessment")]     # day 14
    assert findings(ok, "ma-csp-needs-assessment-2-weeks", as_of=AS_OF, **TZ) == []
    late = [patient(), sr, csp("2026-02-17T10:00:00-05:00", ctype="needs-assessment")]   # day 15
    assert len(findings(late, "ma-csp-needs-assessment-2-weeks", as_of=AS_OF, **TZ)) == 1
    assert len(findings([patient(), sr], "ma-csp-needs-assessment-2-weeks", as_of=AS_OF, **TZ)) == 1
    assert findings([patient(), sr], "ma-csp-needs-assessment-2-weeks", as_of=date(2026, 2, 10), **TZ) == []


def test_service_plan_reviewed_quarterly() -> None:
    first = plan(P, "csp-service-plan", "2026-01-15")
    review = csp("2026-04-10T10:00:00-05:00", ctype="service-plan-review")
    assert findings([patient(), first, review], "ma-csp-plan-quarterly-review", as_of=date(2026, 5, 1), **TZ) == []
    second = plan(P, "csp-service-plan", "2026-01-15", created="2026-05-20")
    issues = findings([patient(), first, second], "ma-csp-plan-quarterly-review", as_of=date(2026, 6, 1), **TZ)
    assert len(issues) == 1 and second["id"] in issues[0].expression
    # no review at all after the plan was written, three months have passed
    assert len(findings([patient(), first], "ma-csp-plan-quarterly-review", as_of=date(2026, 4, 20), **TZ)) == 1


def test_crisis_prevention_plan() -> None:
    service = plan(P, "csp-service-plan", "2026-01-15", pid="svc")
    crisis = plan(P, "crisis-prevention-plan", "2026-01-20", part_of="svc")
    assert findings([patient(), service, crisis], "ma-csp-crisis-plan", as_of=AS_OF) == []
    assert [i.severity for i in findings([patient(), service], "ma-csp-crisis-plan", as_of=AS_OF)] == ["error"]
    unlinked = plan(P, "crisis-prevention-plan", "2026-01-20")
    assert [i.severity for i in findings([patient(), service, unlinked], "ma-csp-crisis-plan",
                                         as_of=AS_OF)] == ["warning"]


def test_planned_termination_noticed_30_days_ahead() -> None:
    ending = plan(P, "csp-service-plan", "2026-01-15", end="2026-06-30", status="completed", termination="planned")
    ok = [patient(), ending, communication("2026-05-25T10:00:00-04:00")]
    assert findings(ok, "ma-csp-planned-termination-notice", as_of=AS_OF, **TZ) == []
    late = [patient(), ending, communication("2026-06-10T10:00:00-04:00")]
    issues = findings(late, "ma-csp-planned-termination-notice", as_of=AS_OF, **TZ)
    assert len(issues) == 1 and "Communication.where" in issues[0].extra_expressions[0]


def test_unplanned_termination_noticed_within_one_business_day() -> None:
    ended = plan(P, "csp-service-plan", "2026-01-15", end="2026-06-18", status="revoked", termination="unplanned")
    # Thursday end; Friday 06-19 is Juneteenth → the 1 business day runs to Monday 06-22
    ok = [patient(), ended, communication("2026-06-22T10:00:00-04:00")]
    assert findings(ok, "ma-csp-unplanned-termination-notice", as_of=AS_OF, **TZ) == []
    late = [patient(), ended, communication("2026-06-23T10:00:00-04:00")]
    assert len(findings(late, "ma-csp-unplanned-termination-notice", as_of=AS_OF, **TZ)) == 1


def test_claim_elements_present() -> None:
    line = billing(unit="15-min", code="TEST1", charge=25.0)  # placeholder code: CSP codes are unconfirmed
    enc = csp("2026-02-03T10:00:00-05:00", bill=line, reasonCode=[{"text": "dx"}])
    enc["diagnosis"] = [{"condition": {"reference": "Condition/c1"}}]
    ok = [full_patient(), organization(), enc]
    assert findings(ok, "ma-csp-claim-elements", as_of=AS_OF) == []
    thin = csp("2026-02-03T10:00:00-05:00", bill=billing(unit="15-min", code="TEST1"))
    issues = findings([patient(), organization(identifier=False), thin], "ma-csp-claim-elements", as_of=AS_OF)
    messages = " ".join(i.message for i in issues)
    assert len(issues) == 2 and "birthDate" in messages and "charge" in messages and "provider number" in messages


def test_systematic_claim_gap_is_one_finding_and_unknown_provider_is_not_guessed() -> None:
    line = billing(unit="15-min", charge=25.0)   # no HCPCS code on any contact
    encs = [csp(f"2026-02-0{d}T10:00:00-05:00", bill=line, reasonCode=[{"text": "dx"}]) for d in (3, 4, 5)]
    issues = findings([full_patient()] + encs, "ma-csp-claim-elements", as_of=AS_OF)  # Organization not given
    assert len(issues) == 1 and "3 billable contacts" in issues[0].message
    assert "HCPCS" in issues[0].message and "provider number" not in issues[0].message
    assert len(issues[0].extra_expressions) == 2


def test_aftercare_plan_at_discharge() -> None:
    done = plan(P, "csp-service-plan", "2026-01-15", end="2026-06-30", status="completed")
    after = plan(P, "aftercare-plan", "2026-06-30")
    assert findings([patient(), done, after], "ma-csp-aftercare-plan", as_of=AS_OF) == []
    assert [i.severity for i in findings([patient(), done], "ma-csp-aftercare-plan", as_of=AS_OF)] == ["warning"]
