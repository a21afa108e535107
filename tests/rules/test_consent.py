"""All-program consent rules: recipient/purpose/dates, and 42 CFR Part 2 for SUD-labelled records."""
from __future__ import annotations

from datetime import date

from fhiradapter import canonical as c
from rules_factories import consent, contact, findings, organization, patient

AS_OF = date(2026, 6, 1)
REC = "all-consent-recipient"


def enc(start: str = "2026-02-03T10:00:00-07:00", program: str = "mt-cmp", sud: bool = False) -> dict:
    res = contact(program, start)
    if sud:
        res["meta"] = {"security": [{"system": c.ACT_CODE_SYSTEM, "code": "SUD"}]}
    return res


def test_active_consent_for_recipient_and_purpose_covers_the_data() -> None:
    record = [patient(), consent("mt-cmp", "2026-01-01", "2026-12-31"), enc()]
    assert findings(record, REC, as_of=AS_OF, recipient="Organization/payer", purpose="HPAYMT") == []


def test_other_recipient_or_purpose_or_dates_are_findings() -> None:
    record = [patient(), consent("mt-cmp", "2026-01-01", "2026-12-31"), enc()]
    issues = findings(record, REC, as_of=AS_OF, recipient="Organization/other")
    assert len(issues) == 1 and issues[0].code == "security" and issues[0].expression.endswith(".period.start")
    assert len(findings(record, REC, as_of=AS_OF, recipient="Organization/payer", purpose="COC")) == 1
    expired = [patient(), consent("mt-cmp", "2025-01-01", "2025-12-31"), enc()]
    assert len(findings(expired, REC, as_of=AS_OF, recipient="Organization/payer")) == 1
    inactive = [patient(), consent("mt-cmp", "2026-01-01", status="inactive"), enc()]
    assert len(findings(inactive, REC, as_of=AS_OF, recipient="Organization/payer")) == 1


def test_consent_for_another_program_does_not_cover() -> None:
    record = [patient(), consent("mt-imr", "2026-01-01"), enc()]
    assert len(findings(record, REC, as_of=AS_OF, recipient="Organization/payer")) == 1


def test_recipient_by_identifier() -> None:
    payer = organization("payer")
    record = [patient(), payer, consent("mt-cmp", "2026-01-01"), enc()]
    ident = "https://cca.example/provider|payer-1"
    assert findings(record, REC, as_of=AS_OF, recipient=ident) == []
    assert len(findings(record, REC, as_of=AS_OF, recipient="https://cca.example/provider|nobody")) == 1


def test_nested_deny_provision_wins() -> None:
    deny = {"type": "deny", "dataPeriod": {"start": "2026-02-01", "end": "2026-02-28"}}
    record = [patient(), consent("mt-cmp", "2026-01-01", deny=deny), enc()]
    assert len(findings(record, REC, as_of=AS_OF, recipient="Organization/payer")) == 1
    record = [patient(), consent("mt-cmp", "2026-01-01", deny=deny), enc("2026-03-03T10:00:00-07:00")]
    assert findings(record, REC, as_of=AS_OF, recipient="Organization/payer") == []


def test_release_date_is_judged_against_provision_period_and_data_date_against_data_period() -> None:
    # consent in force Jan-Mar 2026: data from February may leave in March, not in June
    record = [patient(), consent("mt-cmp", "2026-01-01", "2026-03-31"), enc()]
    assert findings(record, REC, as_of=date(2026, 3, 15), recipient="Organization/payer") == []
    assert len(findings(record, REC, as_of=AS_OF, recipient="Organization/payer")) == 1
    # dataPeriod limits which data the consent covers
    limited = consent("mt-cmp", "2026-01-01")
    limited["provision"]["dataPeriod"] = {"start": "2026-03-01"}
    assert len(findings([patient(), limited, enc()], REC, as_of=AS_OF, recipient="Organization/payer")) == 1


def test_no_recipient_configured_means_no_release_check() -> None:
    assert findings([patient(), enc()], REC, as_of=AS_OF) == []


def test_sud_labelled_data_needs_part2_consent() -> None:
    ok = [patient(), consent("mt-cmp", "2026-01-01", part2=True), enc(sud=True)]
    assert findings(ok, "all-consent-part2", as_of=AS_OF, recipient="Organization/payer") == []
    assert findings(ok, "all-consent-part2", as_of=AS_OF) == []
    bad = [patient(), consent("mt-cmp", "2026-01-01"), enc(sud=True), enc()]
    issues = findings(bad, "all-consent-part2", as_of=AS_OF, recipient="Organization/payer")
    assert len(issues) == 1 and issues[0].expression.endswith(".meta.security") and issues[0].code == "security"
    assert issues[0].severity == "error"


def test_part2_without_a_release_checks_the_consent_in_force_on_the_data_date() -> None:
    lapsed = [patient(), consent("mt-cmp", "2025-01-01", "2026-01-31", part2=True), enc(sud=True)]
    issues = findings(lapsed, "all-consent-part2", as_of=AS_OF)
    assert [i.severity for i in issues] == ["warning"]
    in_force = [patient(), consent("mt-cmp", "2025-06-01", "2026-05-31", part2=True), enc(sud=True)]
    assert findings(in_force, "all-consent-part2", as_of=AS_OF) == []


def test_part2_by_security_label_on_the_provision() -> None:
    labelled = consent("mt-cmp", "2026-01-01")
    labelled["provision"]["securityLabel"] = [{"system": c.ACT_CODE_SYSTEM, "code": "42CFRPart2"}]
    assert findings([patient(), labelled, enc(sud=True)], "all-consent-part2", as_of=AS_OF) == []


def test_a_standing_team_is_reference_data_a_members_care_team_is_released() -> None:
    """A CareTeam naming no subject (a program team a plan points to) needs no consent, like its
    Organization; a CareTeam about the member is the member's data and does."""
    team = {"resourceType": "CareTeam", "id": "team-1", "status": "active", "name": "PACT Team"}
    expired = consent("mt-cmp", "2025-01-01", "2025-12-31")
    assert findings([patient(), expired, team], REC, as_of=AS_OF, recipient="Organization/payer") == []
    own = dict(team, id="team-2", subject={"reference": "Patient/p1"})
    issues = findings([patient(), expired, own], REC, as_of=AS_OF, recipient="Organization/payer")
    assert len(issues) == 1 and "CareTeam/team-2" in issues[0].message
