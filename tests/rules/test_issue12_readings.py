"""Issue 12 defect 3: silent passes the rules now report (each with a member record that shows it)."""
from __future__ import annotations

from datetime import date

from rules_factories import (PATIENT_REF, billing, communication, contact, episode, findings, organization, patient, plan,
                             practitioner, referral, setting)
from rules_factories import stay as stay_encounter


def test_referral_without_received_date_is_a_finding() -> None:
    sr = referral("ma-csp", "2026-02-02T09:00:00-05:00")
    dated = [patient(), sr, contact("ma-csp", "2026-02-02T15:00:00-05:00")]
    assert findings(dated, "ma-csp-first-contact-attempt", as_of=date(2026, 3, 1)) == []
    undated = dict(sr)
    del undated["authoredOn"]
    issues = findings([patient(), undated, contact("ma-csp", "2026-02-02T15:00:00-05:00")],
                      "ma-csp-first-contact-attempt", as_of=date(2026, 3, 1))
    assert len(issues) == 1 and "no received date" in issues[0].message
    assert issues[0].expression == f"ServiceRequest.where(id='{sr['id']}').authoredOn"


def test_cancelled_contact_flagged_billable_is_a_finding() -> None:
    done = contact("mt-imr", "2026-02-03T10:00:00-07:00", bill=billing())
    cancelled = contact("mt-imr", "2026-02-04T10:00:00-07:00", status="cancelled", bill=billing())
    not_billed = contact("mt-imr", "2026-02-05T10:00:00-07:00", status="cancelled", bill=billing(billable=False))
    issues = findings([patient(), done, cancelled, not_billed], "all-billable-not-delivered", as_of=date(2026, 3, 1))
    assert [i.expression for i in issues] == [f"Encounter.where(id='{cancelled['id']}').status"]


def _terminated(notice_to: str) -> list[dict]:
    service = plan("ma-csp", "csp-service-plan", "2025-10-01", end="2026-03-31", status="completed",
                   termination="planned")
    notice = communication("2026-02-20T10:00:00-05:00")
    notice["recipient"] = [{"reference": notice_to}]
    return [patient(), organization("cca-care-team"), service, notice]


def test_termination_notice_only_to_the_member_does_not_notify_cca() -> None:
    assert findings(_terminated("Organization/cca-care-team"), "ma-csp-planned-termination-notice",
                    as_of=date(2026, 4, 30)) == []
    issues = findings(_terminated(PATIENT_REF["reference"]), "ma-csp-planned-termination-notice",
                      as_of=date(2026, 4, 30))
    assert len(issues) == 1


def test_pre_discharge_meeting_198_days_early_does_not_count() -> None:
    tcm = episode("pa-tcm", "2025-06-01", end="2026-03-31")

    def meeting(day: str) -> dict:
        return contact("pa-tcm", f"{day}T10:00:00-04:00", ctype="pre-discharge-planning")
    on_time = [patient(), tcm, meeting("2026-02-10")]          # 49 days before the end
    assert findings(on_time, "pa-tcm-pre-discharge-meeting", as_of=date(2026, 4, 30)) == []
    early = [patient(), tcm, meeting("2025-09-14")]            # 198 days before the end
    issues = findings(early, "pa-tcm-pre-discharge-meeting", as_of=date(2026, 4, 30))
    assert len(issues) == 1 and "held earlier" in issues[0].message


# ---- defect 5: contact semantics ------------------------------------------------------------------

def _tcm_plan() -> dict:
    return episode("pa-tcm", "2026-01-05")


def test_a_collateral_call_is_not_contacting_the_member_after_discharge() -> None:
    stay = stay_encounter("inpatient-psychiatric", "2026-02-01T10:00:00-05:00", "2026-02-09T11:00:00-05:00")
    family = contact("pa-tcm", "2026-02-10T10:00:00-05:00", mode="collateral")
    member = contact("pa-tcm", "2026-02-10T10:00:00-05:00", mode="phone")
    assert findings([patient(), _tcm_plan(), stay, member], "pa-tcm-post-discharge-contact",
                    as_of=date(2026, 3, 1)) == []
    assert len(findings([patient(), _tcm_plan(), stay, family], "pa-tcm-post-discharge-contact",
                        as_of=date(2026, 3, 1))) == 1


def test_a_cancelled_stay_triggers_no_discharge_rule() -> None:
    stay = stay_encounter("inpatient-psychiatric", "2026-02-01T10:00:00-05:00", "2026-02-09T11:00:00-05:00")
    stay["status"] = "cancelled"
    assert findings([patient(), _tcm_plan(), stay], "pa-tcm-post-discharge-contact", as_of=date(2026, 3, 1)) == []


def test_a_contact_before_the_referral_arrived_is_no_response_to_it() -> None:
    sr = referral("ma-csp", "2026-02-03T14:00:00-05:00")          # Tuesday afternoon
    before = contact("ma-csp", "2026-02-03T09:00:00-05:00")       # that morning, before the referral
    issues = findings([patient(), sr, before], "ma-csp-first-contact-attempt", as_of=date(2026, 3, 1))
    assert len(issues) == 1
    after = contact("ma-csp", "2026-02-04T09:00:00-05:00")
    assert findings([patient(), sr, before, after], "ma-csp-first-contact-attempt", as_of=date(2026, 3, 1)) == []


def test_an_expired_licence_does_not_qualify() -> None:
    prac = practitioner("prac-1", "licsw")
    prac["qualification"][0]["period"] = {"start": "2020-01-01", "end": "2026-01-31"}
    enc = contact("dc-cs", "2026-02-03T10:00:00-05:00", where=setting("home"))
    early = contact("dc-cs", "2026-01-20T10:00:00-05:00", where=setting("home"))
    issues = findings([patient(), prac, early, enc], "dc-cs-qualified-practitioner", as_of=date(2026, 3, 1))
    assert [i.expression for i in issues] == [f"Encounter.where(id='{enc['id']}').participant"]
