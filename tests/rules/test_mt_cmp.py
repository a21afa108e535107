"""mt-cmp rules (000_90208eba930f2875.txt): each with a compliant and a violating member record."""
from __future__ import annotations

from datetime import date

from fhiradapter import canonical as c
from rules_factories import billing, contact, episode, findings, loi, patient, plan, referral, roster

P = "mt-cmp"
AS_OF = date(2026, 3, 1)
BILL = billing(unit="per-diem", bundled=True)


def _days(*days: str, bill: dict | None = BILL, mode: str = "face-to-face") -> list[dict]:
    return [contact(P, f"{d}T10:00:00-07:00", bill=bill, mode=mode) for d in days]


def test_three_billable_days_ok_four_is_a_finding() -> None:
    ok = [patient()] + _days("2026-02-02", "2026-02-03", "2026-02-04", "2026-02-04")  # 2 contacts, 1 day
    assert findings(ok, "mt-cmp-billable-days-per-week", as_of=AS_OF) == []
    bad = [patient()] + _days("2026-02-02", "2026-02-03", "2026-02-04", "2026-02-06")
    issues = findings(bad, "mt-cmp-billable-days-per-week", as_of=AS_OF)
    assert len(issues) == 1 and issues[0].severity == "error"
    assert issues[0].expression == f"Encounter.where(id='{bad[4]['id']}').extension"
    assert "[Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (5)]" in issues[0].message


def test_non_billable_contacts_do_not_count_as_billable_days() -> None:
    record = [patient()] + _days("2026-02-02", "2026-02-03", "2026-02-04") + \
        _days("2026-02-05", bill=billing(billable=False, unit="per-diem", bundled=True))
    assert findings(record, "mt-cmp-billable-days-per-week", as_of=AS_OF) == []


def test_week_start_is_configurable() -> None:
    record = [patient()] + _days("2026-02-02", "2026-02-03", "2026-02-04", "2026-02-08")  # Mon-Wed + Sunday
    assert len(findings(record, "mt-cmp-billable-days-per-week", as_of=AS_OF)) == 1
    assert findings(record, "mt-cmp-billable-days-per-week", as_of=AS_OF, week_start="sunday") == []


def test_weekly_quality_contact() -> None:
    enrolled = episode(P, "2026-02-02")
    ok = [patient(), enrolled] + _days("2026-02-03", "2026-02-10", "2026-02-17", mode="telehealth")
    assert findings(ok, "mt-cmp-weekly-quality-contact", as_of=date(2026, 2, 23)) == []
    # the second week has only a phone contact: it is not a quality contact
    bad = [patient(), enrolled] + _days("2026-02-03", "2026-02-17") + _days("2026-02-10", mode="phone")
    issues = findings(bad, "mt-cmp-weekly-quality-contact", as_of=date(2026, 2, 23))
    assert len(issues) == 1 and "ISO week 2026-W07" in issues[0].message


def test_a_team_meeting_is_not_a_quality_contact_with_the_member() -> None:
    enrolled = episode(P, "2026-02-02")
    meeting = contact(P, "2026-02-10T09:00:00-07:00", ctype="team-meeting", mode="face-to-face")
    record = [patient(), enrolled] + _days("2026-02-03", "2026-02-17") + [meeting]
    issues = findings(record, "mt-cmp-weekly-quality-contact", as_of=date(2026, 2, 23))
    assert len(issues) == 1 and "ISO week 2026-W07" in issues[0].message


def test_weekly_quality_contact_ignores_the_week_still_running() -> None:
    record = [patient(), episode(P, "2026-02-02")] + _days("2026-02-03")
    assert findings(record, "mt-cmp-weekly-quality-contact", as_of=date(2026, 2, 12)) == []


def test_contact_mode_of_billable_contacts() -> None:
    ok = [patient()] + _days("2026-02-02", mode="telehealth")
    assert findings(ok, "mt-cmp-contact-mode", as_of=AS_OF) == []
    bad = [patient()] + _days("2026-02-02", mode="phone")
    issues = findings(bad, "mt-cmp-contact-mode", as_of=AS_OF)
    assert len(issues) == 1 and issues[0].expression.endswith(".type")


def test_referral_sdmi() -> None:
    assert findings([patient(), referral(P, "2026-01-05")], "mt-cmp-referral-sdmi", as_of=AS_OF) == []
    issues = findings([patient(), referral(P, "2026-01-05", reasons=())], "mt-cmp-referral-sdmi", as_of=AS_OF)
    assert len(issues) == 1 and issues[0].expression.startswith("ServiceRequest.where(id=")


def test_missing_referral_with_contacts_is_a_finding() -> None:
    issues = findings([patient()] + _days("2026-02-02"), "mt-cmp-referral-sdmi", as_of=AS_OF)
    assert len(issues) == 1 and issues[0].expression == "Patient.where(id='p1')"


def test_referral_level_of_impairment() -> None:
    ok = referral(P, "2026-01-05", impairment=[loi("4", "moderate")])
    assert findings([patient(), ok], "mt-cmp-referral-loi", as_of=AS_OF) == []
    bad = referral(P, "2026-01-05", impairment=[loi("3", "mild")])
    assert len(findings([patient(), bad], "mt-cmp-referral-loi", as_of=AS_OF)) == 1
    assert len(findings([patient(), referral(P, "2026-01-05")], "mt-cmp-referral-loi", as_of=AS_OF)) == 1


def test_bundled_daily_billing() -> None:
    assert findings([patient()] + _days("2026-02-02"), "mt-cmp-bundled-billing", as_of=AS_OF) == []
    bad = [patient()] + _days("2026-02-02", bill=billing(unit="15-min", bundled=False))
    assert len(findings(bad, "mt-cmp-bundled-billing", as_of=AS_OF)) == 1


CMP_CASE_MGMT = ((c.service_component_system(P), "case-management"),)


def test_billed_services_documented_in_itp() -> None:
    itp = plan(P, "itp", "2026-02-01", activities=CMP_CASE_MGMT)
    assert findings([patient(), itp] + _days("2026-02-02"), "mt-cmp-itp-documents-billed-services",
                    as_of=AS_OF) == []
    issues = findings([patient(), itp] + _days("2026-01-20"), "mt-cmp-itp-documents-billed-services", as_of=AS_OF)
    assert len(issues) == 1


def test_a_plan_covering_the_date_but_listing_no_cmp_service_does_not_document_it() -> None:
    # issue 12 defect 5: "documented in the ITP" = the plan lists the billed service
    bare = plan(P, "itp", "2026-02-01")
    other = plan(P, "itp", "2026-02-01", activities=((c.service_component_system("mt-imr"), "goal-setting"),))
    withdrawn = plan(P, "itp", "2026-02-01", activities=CMP_CASE_MGMT)
    withdrawn["activity"][0]["detail"]["status"] = "cancelled"
    for itp in (bare, other, withdrawn):
        issues = findings([patient(), itp] + _days("2026-02-02"), "mt-cmp-itp-documents-billed-services", as_of=AS_OF)
        assert len(issues) == 1 and "does not list a mt-cmp service" in issues[0].message
        assert issues[0].extra_expressions == [f"CarePlan.where(id='{itp['id']}').activity"]
    # a contact naming its component needs that component in the plan
    named = _days("2026-02-02")[0]
    named["type"].append({"coding": [{"system": c.service_component_system(P), "code": "med-management"}]})
    issues = findings([patient(), plan(P, "itp", "2026-02-01", activities=CMP_CASE_MGMT), named],
                      "mt-cmp-itp-documents-billed-services", as_of=AS_OF)
    assert len(issues) == 1 and "its service component" in issues[0].message


def test_weekly_team_meeting_is_a_warning() -> None:
    enrolled = episode(P, "2026-02-02")
    meetings = [contact(P, f"{d}T09:00:00-07:00", ctype="team-meeting", mode="face-to-face")
                for d in ("2026-02-04", "2026-02-11")]
    assert findings([patient(), enrolled] + meetings, "mt-cmp-weekly-team-meeting", as_of=date(2026, 2, 16)) == []
    issues = findings([patient(), enrolled, meetings[0]], "mt-cmp-weekly-team-meeting", as_of=date(2026, 2, 16))
    assert [i.severity for i in issues] == ["warning"]


def test_weeks_before_the_extract_window_are_not_judged() -> None:
    # enrolled long before the export's contacts begin (2026-02-02)
    record = [patient(), episode(P, "2025-03-03")] + _days("2026-02-03", "2026-02-10")
    assert len(findings(record, "mt-cmp-weekly-quality-contact", as_of=date(2026, 2, 16))) == 1
    assert findings(record, "mt-cmp-weekly-quality-contact", as_of=date(2026, 2, 16),
                    data_from=date(2026, 2, 2)) == []


def test_no_itp_at_all_is_one_finding_for_all_billed_contacts() -> None:
    record = [patient()] + _days("2026-02-02", "2026-02-03", "2026-02-04")
    issues = findings(record, "mt-cmp-itp-documents-billed-services", as_of=AS_OF)
    assert len(issues) == 1 and "3 billable" in issues[0].message and len(issues[0].extra_expressions) == 2


def test_team_cmp_share_from_config_rosters() -> None:
    record = [patient()] + _days("2026-02-02")
    ok = [roster("pact-mct", "team-a", 20), roster("cmp", "team-a", 4)]
    assert findings(record, "mt-cmp-team-cmp-share", as_of=AS_OF, rosters=ok) == []
    bad = [roster("pact-mct", "team-a", 20), roster("cmp", "team-a", 5)]
    issues = findings(record, "mt-cmp-team-cmp-share", as_of=AS_OF, rosters=bad)
    assert len(issues) == 1 and issues[0].expression.endswith(".quantity")
    assert issues[0].extra_expressions and "Group.where" in issues[0].extra_expressions[0]


def test_team_cmp_share_from_groups_in_the_record() -> None:
    record = [patient(), roster("pact-mct", "team-b", 9), roster("cmp", "team-b", 2)] + _days("2026-02-02")
    assert len(findings(record, "mt-cmp-team-cmp-share", as_of=AS_OF)) == 1
    assert findings(record[:1] + record[3:], "mt-cmp-team-cmp-share", as_of=AS_OF) == []


def test_team_cmp_share_pairs_monthly_roster_snapshots() -> None:
    record = [patient()] + _days("2026-02-02")
    jan_p, jan_c = roster("pact-mct", "team-a", 205), roster("cmp", "team-a", 39)
    mar_p, mar_c = roster("pact-mct", "team-a", 210), roster("cmp", "team-a", 44)
    for group, month in ((jan_p, "2026-01-31"), (jan_c, "2026-01-31"), (mar_p, "2026-03-31"), (mar_c, "2026-03-31")):
        group["name"] = f"roster as of {month}"
    issues = findings(record, "mt-cmp-team-cmp-share", as_of=AS_OF, rosters=[jan_p, jan_c, mar_p, mar_c])
    assert len(issues) == 1 and "as of 2026-03-31" in issues[0].message and mar_c["id"] in issues[0].expression
    # a snapshot date in characteristic.period wins over the name
    mar_c["characteristic"] = [{"code": {"text": "enrolled"}, "valueBoolean": True, "exclude": False,
                                "period": {"end": "2026-01-31"}}]
    issues = findings(record, "mt-cmp-team-cmp-share", as_of=AS_OF, rosters=[jan_p, mar_c])
    assert len(issues) == 1 and "39" not in issues[0].message and "44 CMP" in issues[0].message
