"""Rules issue 12 adds (each with a record that passes and one that fails): CSP eligibility, CSP aftercare plan
forwarded with consent, TCM participation in discharge planning during a stay, DC staffing ratio."""
from __future__ import annotations

from datetime import date

from fhiradapter.rules import catalogue
from rules_factories import (PATIENT_REF, communication, consent, contact, episode, findings, patient, plan, referral, roster,
                             stay)

ICD = "http://hl7.org/fhir/sid/icd-10-cm"


def _csp_referral(*, dx: str | None = "F33.1", reasons: tuple[str, ...] = ("medical-necessity-documented",)) -> dict:
    sr = referral("ma-csp", "2026-02-02T09:00:00-05:00", reasons=reasons)
    if dx:
        sr.setdefault("reasonCode", []).append({"coding": [{"system": ICD, "code": dx}]})
    return sr


def test_csp_eligibility_needs_a_disorder_and_the_risk_of_admission() -> None:
    as_of = date(2026, 3, 1)
    assert findings([patient(), _csp_referral()], "ma-csp-eligibility", as_of=as_of) == []
    assert findings([patient(), _csp_referral(dx="F10.20")], "ma-csp-eligibility", as_of=as_of) == []  # SUD
    no_dx = findings([patient(), _csp_referral(dx=None)], "ma-csp-eligibility", as_of=as_of)
    assert len(no_dx) == 1 and "ICD-10-CM chapter F" in no_dx[0].message
    physical = findings([patient(), _csp_referral(dx="E11.9")], "ma-csp-eligibility", as_of=as_of)
    assert len(physical) == 1
    no_risk = _csp_referral(reasons=())
    issues = findings([patient(), no_risk], "ma-csp-eligibility", as_of=as_of)
    assert len(issues) == 1 and "high risk of 24-hour admission" in issues[0].message
    # a psychiatric admission before the referral shows the risk
    admitted = stay("inpatient-psychiatric", "2026-01-10T20:00:00-05:00", "2026-01-20T11:00:00-05:00")
    assert findings([patient(), no_risk, admitted], "ma-csp-eligibility", as_of=as_of) == []


def _discharged(*, forwarded: bool, consented: bool = True) -> list[dict]:
    service = plan("ma-csp", "csp-service-plan", "2025-10-01", end="2026-03-31", status="completed")
    aftercare = plan("ma-csp", "aftercare-plan", "2026-03-31", created="2026-03-29", pid="acp-1")
    record = [patient(), service, aftercare]
    if consented:
        record.append(consent("ma-csp", "2025-10-01", "2027-10-01", recipient="Organization/cca-care-team"))
    if forwarded:
        copy = communication("2026-03-31T15:00:00-04:00", reason="discharge-planning")
        copy["about"] = [{"reference": "CarePlan/acp-1"}]
        record.append(copy)
    return record


def test_aftercare_plan_forwarded_to_cca_when_consent_is_given() -> None:
    as_of = date(2026, 4, 30)
    assert findings(_discharged(forwarded=True), "ma-csp-aftercare-forwarded", as_of=as_of) == []
    issues = findings(_discharged(forwarded=False), "ma-csp-aftercare-forwarded", as_of=as_of)
    assert len(issues) == 1 and issues[0].severity == "warning"
    assert issues[0].expression == "CarePlan.where(id='acp-1').id"
    # without consent nothing may be forwarded: no finding
    assert findings(_discharged(forwarded=False, consented=False), "ma-csp-aftercare-forwarded", as_of=as_of) == []
    # a copy sent only to the member does not reach the Care Team
    to_member = _discharged(forwarded=True)
    to_member[-1]["recipient"] = [PATIENT_REF]
    assert len(findings(to_member, "ma-csp-aftercare-forwarded", as_of=as_of)) == 1


def test_tcm_takes_part_in_discharge_planning_during_a_stay() -> None:
    as_of = date(2026, 4, 30)
    tcm = episode("pa-tcm", "2025-06-01")   # enrolled in TCM: the EpisodeOfCare says (issue 12 defect 2)
    hospital = stay("inpatient-psychiatric", "2026-02-02T20:00:00-05:00", "2026-02-12T11:00:00-05:00")
    planning = contact("pa-tcm", "2026-02-05T10:00:00-05:00", ctype="discharge-planning")
    visit = contact("pa-tcm", "2026-02-05T10:00:00-05:00")
    assert findings([patient(), tcm, hospital, planning], "pa-tcm-discharge-planning-participation", as_of=as_of) == []
    issues = findings([patient(), tcm, hospital, visit], "pa-tcm-discharge-planning-participation", as_of=as_of)
    assert len(issues) == 1 and issues[0].severity == "warning"
    # a planning meeting after the discharge is not participation during the stay
    late = contact("pa-tcm", "2026-02-13T10:00:00-05:00", ctype="discharge-planning")
    assert len(findings([patient(), tcm, hospital, late], "pa-tcm-discharge-planning-participation",
                        as_of=as_of)) == 1
    # still in hospital: not judged yet
    ongoing = stay("inpatient-psychiatric", "2026-04-20T20:00:00-04:00")
    assert findings([patient(), tcm, ongoing], "pa-tcm-discharge-planning-participation", as_of=as_of) == []
    # without an enrollment episode the rule says it could not judge, rather than passing
    unknown = findings([patient(), hospital, visit], "pa-tcm-discharge-planning-participation", as_of=as_of)
    assert len(unknown) == 1 and unknown[0].severity == "information" and "not evaluated" in unknown[0].message


def test_dc_staffing_ratio_from_rosters() -> None:
    as_of = date(2026, 3, 1)
    record = [patient(), contact("dc-cs", "2026-02-02T10:00:00-05:00")]
    ok = [roster("dc-cs-staff", "agency", 4), roster("dc-cs-youth", "agency", 20), roster("dc-cs-adults", "agency", 100)]
    assert findings(record, "dc-cs-staffing-ratio", as_of=as_of, rosters=ok) == []   # needs 1 + 2.5
    short = [roster("dc-cs-staff", "agency", 3), roster("dc-cs-youth", "agency", 20),
             roster("dc-cs-adults", "agency", 100)]
    issues = findings(record, "dc-cs-staffing-ratio", as_of=as_of, rosters=short)
    assert len(issues) == 1 and "needs at least 3.5" in issues[0].message and issues[0].severity == "error"
    no_staff = [roster("dc-cs-adults", "agency", 100)]
    assert [i.severity for i in findings(record, "dc-cs-staffing-ratio", as_of=as_of, rosters=no_staff)] == ["warning"]


def test_the_four_rules_are_checkable_and_cite_the_seed_sections() -> None:
    rules = {r.id: r for r in catalogue()}
    for rule_id, section in (("ma-csp-eligibility", "Covered Services"),
                             ("ma-csp-aftercare-forwarded", "Discharge Planning"),
                             ("pa-tcm-discharge-planning-participation", "1.2.2"),
                             ("dc-cs-staffing-ratio", "§3418.7")):
        assert rules[rule_id].checkable and section in rules[rule_id].citation


def _service_plan(goal: dict | None, *, activities: bool = True) -> dict:
    comp = (("https://fhiradapter.org/fhir/CodeSystem/ma-csp-service-component", "case-management"),)
    res = plan("ma-csp", "csp-service-plan", "2026-01-10", activities=comp if activities else ())
    if goal is not None:
        res["contained"] = [{"resourceType": "Goal", "id": "goal", "lifecycleStatus": "active",
                             "description": {"text": "Keep stable housing"}, "subject": PATIENT_REF} | goal]
        res["goal"] = [{"reference": "#goal"}]
    return res


def test_csp_plan_has_measurable_goals_and_interventions() -> None:
    as_of = date(2026, 3, 1)
    measurable = {"target": [{"dueDate": "2026-04-10"}]}
    assert findings([patient(), _service_plan(measurable)], "ma-csp-plan-goals", as_of=as_of) == []
    for plan_res, what in ((_service_plan(None), "measurable goal"),
                           (_service_plan({}), "measurable goal"),                 # a goal without a target
                           (_service_plan(measurable, activities=False), "interventions")):
        issues = findings([patient(), plan_res], "ma-csp-plan-goals", as_of=as_of)
        assert len(issues) == 1 and what in issues[0].message, what
