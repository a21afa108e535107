"""dc-cs rules (001_531c4a09cf20a817.txt) and the confirmed DC billing codes."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from rules_factories import billing, contact, findings, patient, practitioner, setting

P = "dc-cs"
AS_OF = date(2026, 4, 1)
PRACS = [practitioner("prac-1", "licsw"), practitioner("staff-1", "credentialed-staff"),
         practitioner("sup-1", "psychologist"), practitioner("peer-1", "peer-specialist")]


def cs(start: str, **kw) -> dict:
    kw.setdefault("where", setting("home"))
    return contact(P, start, **kw)


def test_no_community_support_on_an_act_day() -> None:
    act = contact("dc-act", "2026-02-03T09:00:00-05:00")
    ok = [patient(), act, cs("2026-02-04T10:00:00-05:00")]
    assert findings(ok, "dc-cs-no-same-day-act", as_of=AS_OF, timezone="America/New_York") == []
    bad = [patient(), act, cs("2026-02-03T15:00:00-05:00")]
    issues = findings(bad, "dc-cs-no-same-day-act", as_of=AS_OF, timezone="America/New_York")
    assert len(issues) == 1 and issues[0].extra_expressions == [f"Encounter.where(id='{act['id']}').period.start"]


def test_same_day_is_judged_in_the_agency_time_zone_across_dst() -> None:
    # ACT at 06:30Z on 2026-03-09 = 00:30 Monday in Denver (MDT), but 23:30 Sunday in Phoenix (no DST)
    record = [patient(), contact("dc-act", "2026-03-09T06:30:00Z"), cs("2026-03-09T10:00:00-06:00")]
    assert len(findings(record, "dc-cs-no-same-day-act", as_of=AS_OF, timezone="America/Denver")) == 1
    assert findings(record, "dc-cs-no-same-day-act", as_of=AS_OF, timezone="America/Phoenix") == []


def test_service_setting() -> None:
    ok = [patient(), cs("2026-02-03T10:00:00-05:00", where=setting("residential-facility", 16)),
          cs("2026-02-04T10:00:00-05:00", where=setting("provider-site"))]
    assert findings(ok, "dc-cs-service-setting", as_of=AS_OF) == []
    bad = [patient(), cs("2026-02-03T10:00:00-05:00", where=setting("residential-facility", 17)),
           cs("2026-02-04T10:00:00-05:00", where=setting("inpatient")),
           cs("2026-02-05T10:00:00-05:00", where=setting("residential-facility"))]
    bad.append(contact(P, "2026-02-06T10:00:00-05:00"))  # no setting at all
    assert len(findings(bad, "dc-cs-service-setting", as_of=AS_OF)) == 4


def test_qualified_practitioner_or_supervised_credentialed_staff() -> None:
    ok = [patient(), *PRACS, cs("2026-02-03T10:00:00-05:00"),
          cs("2026-02-04T10:00:00-05:00", performer="staff-1", supervisor="sup-1")]
    assert findings(ok, "dc-cs-qualified-practitioner", as_of=AS_OF) == []
    bad = [patient(), *PRACS, cs("2026-02-04T10:00:00-05:00", performer="staff-1"),
           cs("2026-02-05T10:00:00-05:00", performer="peer-1")]
    issues = findings(bad, "dc-cs-qualified-practitioner", as_of=AS_OF)
    assert [i.severity for i in issues] == ["error", "error"]


def test_performers_missing_from_record_are_one_warning() -> None:
    record = [patient()] + [cs(f"2026-02-0{d}T10:00:00-05:00", performer="elsewhere") for d in (3, 4, 5)]
    issues = findings(record, "dc-cs-qualified-practitioner", as_of=AS_OF)
    assert [i.severity for i in issues] == ["warning"] and "3 Community Support" in issues[0].message


def test_billing_code_follows_the_confirmed_table() -> None:
    ok = [patient(), cs("2026-02-03T10:00:00-05:00", bill=billing(code="H0036", modifiers=("HQ",), unit="15-min"))]
    assert findings(ok, "all-billing-code", as_of=AS_OF) == []
    bad = [patient(),
           cs("2026-02-03T10:00:00-05:00", bill=billing(code="H2015", unit="15-min")),
           cs("2026-02-04T10:00:00-05:00", bill=billing(code="H0036", modifiers=("HR",), unit="15-min")),
           cs("2026-02-05T10:00:00-05:00", bill=billing(code="H0036", unit="per-diem"))]
    issues = findings(bad, "all-billing-code", as_of=AS_OF)
    assert len(issues) == 3 and "29 DCMR §5213.1" in issues[0].message


def test_billing_code_rows_apply_only_within_their_dates(tmp_path: Path) -> None:
    table = tmp_path / "codes.csv"
    table.write_text("program,code,modifier,unit,effective_from,effective_to,status,source_citation\n"
                     "dc-cs,H0036,,15-min,2020-01-01,2025-12-31,confirmed,test table\n", encoding="utf-8")
    record = [patient(), cs("2026-02-03T10:00:00-05:00", bill=billing(code="H2015", unit="15-min"))]
    assert findings(record, "all-billing-code", as_of=AS_OF, billing_codes=str(table)) == []
    old = [patient(), cs("2025-02-03T10:00:00-05:00", bill=billing(code="H2015", unit="15-min"))]
    assert len(findings(old, "all-billing-code", as_of=AS_OF, billing_codes=str(table))) == 1


def test_unconfirmed_programs_are_never_code_checked() -> None:
    record = [patient(), contact("mt-imr", "2026-02-03T10:00:00-07:00", bill=billing(code="ANY", unit="session"))]
    assert findings(record, "all-billing-code", as_of=AS_OF) == []


def test_performer_referenced_by_urn_uuid_resolves() -> None:
    enc = cs("2026-02-03T10:00:00-05:00", performer=None)
    enc["participant"] = [{"individual": {"reference": "urn:uuid:3f1c2a6e-0000-5000-8000-000000000001"}}]
    prac = practitioner("3f1c2a6e-0000-5000-8000-000000000001", "peer-specialist")
    issues = findings([patient(), prac, enc], "dc-cs-qualified-practitioner", as_of=AS_OF)
    assert [i.severity for i in issues] == ["error"]   # resolved, and not qualified
