"""The engine: program inference, Issue/OperationOutcome shape, no patient values, bad data."""
from __future__ import annotations

import json
from datetime import date

import fhirpathpy
import pytest

from fhiradapter.outcome import RULE_SYSTEM, operation_outcome
from fhiradapter.rules import RuleConfig, catalogue, run_rules
from fhiradapter.rules import registry
from fhiradapter.rules.record import MemberRecord
from fhiradapter.rules.registry import Finding, Rule
from rules_factories import billing, contact, episode, full_patient, plan, referral

AS_OF = date(2026, 3, 1)


def _over_limit() -> list[dict]:
    bill = billing(unit="per-diem", bundled=True)
    return [full_patient(), plan("mt-cmp", "itp", "2026-01-01"), referral("mt-cmp", "2026-01-01")] + [
        contact("mt-cmp", f"2026-02-0{d}T10:00:00-07:00", bill=bill) for d in (2, 3, 4, 5)]


def test_findings_go_into_an_operation_outcome_with_rule_coding_and_citation() -> None:
    record = _over_limit()
    issues = run_rules(record, config=RuleConfig(as_of=AS_OF))
    outcome = operation_outcome(issues)
    hit = [i for i in outcome["issue"] if i["details"].get("coding") ==
           [{"system": RULE_SYSTEM, "code": "mt-cmp-billable-days-per-week"}]]
    assert len(hit) == 1
    assert hit[0]["code"] == "business-rule" and hit[0]["severity"] == "error"
    assert hit[0]["details"]["text"].endswith("[Montana DPHHS BHDD Provider Manual, Community Maintenance Program, Service Requirements (5)]")
    # the expression is FHIRPath that selects the element in the named resource
    target = record[-1]
    assert fhirpathpy.evaluate(target, hit[0]["expression"][0]) != []


def test_messages_carry_no_patient_values() -> None:
    issues = run_rules(_over_limit(), config=RuleConfig(as_of=AS_OF))
    assert issues
    text = json.dumps([i.message for i in issues])
    for value in ("Doe", "1980", "Main St", "X1", "2026-02-05"):
        assert value not in text


def test_programs_are_inferred_or_given() -> None:
    dc = [full_patient(), contact("dc-cs", "2026-02-03T10:00:00-05:00")]  # no setting: a dc-cs finding
    inferred = {i.rule for i in run_rules(dc, config=RuleConfig(as_of=AS_OF))}
    assert "dc-cs-service-setting" in inferred and not any(r and r.startswith("mt-cmp") for r in inferred)
    assert not any(i.rule == "dc-cs-service-setting"
                   for i in run_rules(dc, programs={"mt-cmp"}, config=RuleConfig(as_of=AS_OF)))


def test_unreadable_date_is_reported_once_and_processing_goes_on() -> None:
    record = _over_limit()
    record.append(contact("mt-cmp", "yesterday at noon", bill=billing(unit="per-diem", bundled=True)))
    issues = run_rules(record, config=RuleConfig(as_of=AS_OF))
    problems = [i for i in issues if i.code == "value"]
    assert len(problems) == 1 and "period.start is not a valid FHIR date" in problems[0].message
    assert any(i.rule == "mt-cmp-billable-days-per-week" for i in issues)


def test_malformed_program_codes_do_not_crash_program_inference() -> None:
    # programs=None: the programs come from bh-program codings; a code that is a list is no program
    bad = contact("mt-cmp", "2026-02-03T10:00:00-05:00")
    bad["serviceType"] = {"coding": [{"system": "https://fhiradapter.org/fhir/CodeSystem/bh-program",
                                      "code": ["mt-cmp"]}]}
    issues = run_rules([full_patient(), bad, contact("dc-cs", "2026-02-03T10:00:00-05:00")],
                       config=RuleConfig(as_of=AS_OF))
    assert any(i.rule == "dc-cs-service-setting" for i in issues)   # the well-formed contact is judged


def test_garbage_resources_do_not_crash() -> None:
    issues = run_rules([{"resourceType": "Encounter"}, "not a dict", {"no": "type"}],  # type: ignore[list-item]
                       programs={"mt-cmp", "dc-cs", "ma-csp", "pa-tcm", "mt-imr"}, config=RuleConfig(as_of=AS_OF))
    assert all(i.code != "exception" for i in issues)


def test_a_failing_rule_becomes_a_warning_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(record):
        raise KeyError("x")
    broken = Rule(id="mt-cmp-broken", program="mt-cmp", severity="error", source="s", section="x",
                  statement="test", check=boom)
    monkeypatch.setitem(registry._RULES, broken.id, broken)
    issues = run_rules(_over_limit(), config=RuleConfig(as_of=AS_OF))
    failed = [i for i in issues if i.rule == "mt-cmp-broken"]
    assert len(failed) == 1 and failed[0].severity == "warning" and "KeyError" in failed[0].message
    assert any(i.rule == "mt-cmp-billable-days-per-week" for i in issues)


def test_catalogue_entries_are_complete() -> None:
    rules = catalogue()
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids))
    for r in rules:
        assert r.program in ("all", "mt-cmp", "mt-imr", "dc-cs", "ma-csp", "pa-tcm")
        assert r.source and r.section and r.statement
        assert (r.check is not None) == r.checkable
        assert r.checkable or r.reason_if_not


def test_without_as_of_the_record_is_judged_up_to_its_latest_date() -> None:
    # contacts every week Feb 2 - Feb 22; nothing after: the data says nothing about later weeks
    record = [full_patient(), plan("mt-cmp", "itp", "2026-02-02"), episode("mt-cmp", "2026-02-02")] + [
        contact("mt-cmp", f"2026-02-{d:02d}T10:00:00-07:00") for d in (3, 10, 17, 22)]
    assert not [i for i in run_rules(record) if i.rule == "mt-cmp-weekly-quality-contact"]
    late = RuleConfig(as_of=date(2026, 4, 1))
    gaps = [i for i in run_rules(record, config=late) if i.rule == "mt-cmp-weekly-quality-contact"]
    assert len(gaps) == 1 and "5 consecutive weeks" in gaps[0].message


def test_unusable_billing_table_is_a_warning(tmp_path) -> None:
    bad = tmp_path / "codes.csv"
    bad.write_text("program,code\n", encoding="utf-8")
    record = [full_patient(), contact("dc-cs", "2026-02-03T10:00:00-05:00", bill=billing(code="H0036", unit="15-min"))]
    issues = [i for i in run_rules(record, config=RuleConfig(as_of=AS_OF, billing_codes=str(bad)))
              if i.rule == "all-billing-code"]
    assert len(issues) == 1 and issues[0].severity == "warning" and "missing column" in issues[0].message


def test_a_removed_rule_stops_running(monkeypatch: pytest.MonkeyPatch) -> None:
    # run_rules remembers its rule list per program set: a catalogue change must still be seen
    broken = Rule(id="mt-cmp-broken", program="mt-cmp", severity="error", source="s", section="x",
                  statement="test", check=lambda record: iter([Finding("seen")]))
    monkeypatch.setitem(registry._RULES, broken.id, broken)
    assert any(i.rule == "mt-cmp-broken" for i in run_rules(_over_limit(), config=RuleConfig(as_of=AS_OF)))
    monkeypatch.undo()
    assert not any(i.rule == "mt-cmp-broken" for i in run_rules(_over_limit(), config=RuleConfig(as_of=AS_OF)))


def test_the_same_datetime_is_read_in_each_records_zone() -> None:
    # parsed dateTimes are shared across member records per zone, never across zones
    late = "2026-02-03T05:30:00Z"   # Feb 2 in Denver, Feb 3 in Tokyo
    denver = MemberRecord([contact("mt-cmp", late)], RuleConfig(timezone="America/Denver"))
    tokyo = MemberRecord([contact("mt-cmp", late)], RuleConfig(timezone="Asia/Tokyo"))
    assert denver.as_of == date(2026, 2, 2) and tokyo.as_of == date(2026, 2, 3)
    assert [denver.day(e, "period.start") for e in denver.contacts("mt-cmp")] == [date(2026, 2, 2)]
    assert [tokyo.day(e, "period.start") for e in tokyo.contacts("mt-cmp")] == [date(2026, 2, 3)]


def test_malformed_contact_type_codes_are_ignored_like_program_codes() -> None:
    # Encounter.type is read through its own index; a code that is a list is no code there either
    odd = contact("mt-cmp", "2026-02-03T10:00:00-05:00")
    odd["type"] = [{"coding": [{"system": "https://fhiradapter.org/fhir/CodeSystem/bh-contact-mode", "code": ["x"]}]}]
    record = MemberRecord([full_patient(), odd], RuleConfig(as_of=AS_OF))
    assert record.contact_mode(odd) is None and not record.is_stay(odd)
    issues = run_rules([full_patient(), odd], config=RuleConfig(as_of=AS_OF))
    assert not any(i.code == "exception" for i in issues)
