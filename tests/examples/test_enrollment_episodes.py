"""Enrollment and discharge come from the member's EpisodeOfCare (issue 12 defect 2), shown on the
member records of the examples: a pa-tcm member whose service plan is revised (closed, and a new
version replacing it) is not discharged, and the weeks between an mt-cmp member's two enrollments are
not enrolled. Without an episode the rules say "not evaluated" instead of reading plan dates."""
from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

from fhiradapter.rules import RuleConfig, run_rules

from .test_rules_on_examples import EXPORTED_ON, member_records

PA_RULES = ("pa-tcm-pre-discharge-meeting", "pa-tcm-discharge-summary")
CMP_RULES = ("mt-cmp-weekly-quality-contact", "mt-cmp-weekly-team-meeting")


def _record_with(out: Path, wanted) -> list[dict]:
    records, _ = member_records(out)
    found = [rs for rs in records.values() if wanted(rs)]
    assert len(found) == 1, f"{len(found)} member records match"
    return found[0]


def _issues(record: list[dict], program: str, zone: str, rules: tuple[str, ...]) -> list:
    config = RuleConfig(timezone=zone, as_of=EXPORTED_ON)
    return [i for i in run_rules(record, programs={program}, config=config) if i.rule in rules]


def _of(record: list[dict], kind: str) -> list[dict]:
    return [r for r in record if r["resourceType"] == kind]


def test_a_revised_tcm_plan_is_not_a_discharge(mapped: dict[str, Path]) -> None:
    record = _record_with(mapped["pa-tcm"], lambda rs: any(r.get("replaces") for r in _of(rs, "CarePlan")))
    plans = {p["id"]: p for p in _of(record, "CarePlan")}
    revised = next(p for p in plans.values() if p.get("replaces"))
    old = plans[revised["replaces"][0]["reference"].split("/")[1]]
    # the first plan is closed with an end date long enough ago that both discharge rules would be due
    assert old["status"] == "completed" and date.fromisoformat(old["period"]["end"]).toordinal() + 45 < EXPORTED_ON.toordinal()
    [episode] = _of(record, "EpisodeOfCare")
    assert episode["status"] == "active" and "end" not in episode["period"]
    assert _issues(record, "pa-tcm", "America/New_York", PA_RULES) == []

    # the same record without its episode: not evaluated, never a false pre-discharge error or summary warning
    without = [r for r in record if r["resourceType"] != "EpisodeOfCare"]
    issues = _issues(without, "pa-tcm", "America/New_York", PA_RULES)
    assert sorted(i.rule for i in issues) == sorted(PA_RULES)
    assert all(i.severity == "information" and "not evaluated: no enrollment episode" in i.message for i in issues)


def test_the_gap_between_two_enrollments_is_not_enrolled(mapped: dict[str, Path]) -> None:
    record = _record_with(mapped["mt-cmp"], lambda rs: len(_of(rs, "EpisodeOfCare")) == 2)
    first, second = sorted(_of(record, "EpisodeOfCare"), key=lambda e: e["period"]["start"])
    assert first["status"] == "finished" and second["status"] == "active"
    gap_from, gap_to = date.fromisoformat(first["period"]["end"]), date.fromisoformat(second["period"]["start"])
    assert (gap_to - gap_from).days > 14
    contacts = [e for e in _of(record, "Encounter") if gap_from < date.fromisoformat(e["period"]["start"][:10]) < gap_to]
    assert contacts == [], "the member had no contact and no team meeting while not enrolled"
    # the member's ITP stays open across the gap: plan dates would call the gap enrolled
    [itp] = _of(record, "CarePlan")
    assert itp["status"] == "active" and "end" not in itp["period"]
    assert _issues(record, "mt-cmp", "America/Denver", CMP_RULES) == []

    # one episode spanning both enrollments (what the plan dates implied): the gap weeks are reported
    spanning = copy.deepcopy(first)
    spanning["status"], spanning["period"] = "active", {"start": first["period"]["start"]}
    merged = [r for r in record if r["resourceType"] != "EpisodeOfCare"] + [spanning]
    issues = _issues(merged, "mt-cmp", "America/Denver", CMP_RULES)
    assert sorted(i.rule for i in issues) == sorted(CMP_RULES)
    assert all("3 consecutive weeks" in i.message for i in issues), [i.message for i in issues]


def test_payer_coverage_diagnosis_and_place_of_service_come_from_the_export(mapped: dict[str, Path]) -> None:
    """Each mapped member has a Coverage with the payer's member id (as on members.csv), the payer, the plan
    and the period; each enrollment an ICD-10-CM diagnosis; each contact the CMS place of service the export
    states (and none where it states none)."""
    from fhiradapter.canonical import PROGRAMS

    from .support import EXAMPLES, records_by_line, resources
    pos_system = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
    for program in PROGRAMS:
        out = resources(mapped[program])
        patients = {f"Patient/{r['id']}": r for r in out if r["resourceType"] == "Patient"}
        coverages = [r for r in out if r["resourceType"] == "Coverage"]
        covered = {c["beneficiary"]["reference"] for c in coverages}
        with_payer_id = {ref for ref, p in patients.items() if len(p["identifier"]) > 1}
        assert with_payer_id and with_payer_id <= covered, program
        orgs = {f"Organization/{r['id']}": r for r in out if r["resourceType"] == "Organization"}
        for cov in coverages:
            member_id = next(i for i in cov["identifier"] if i.get("type"))
            assert member_id["type"]["coding"][0]["code"] == "MB" and member_id["value"] == cov["subscriberId"]
            patient = patients[cov["beneficiary"]["reference"]]
            assert member_id["value"] in {i["value"] for i in patient["identifier"]}
            assert orgs[cov["payor"][0]["reference"]]["type"][0]["coding"][0]["code"] == "pay"
            assert cov["class"][0]["type"]["coding"][0]["code"] == "plan" and cov["period"]["start"]
        conditions = {f"Condition/{r['id']}": r for r in out if r["resourceType"] == "Condition"}
        for episode in (r for r in out if r["resourceType"] == "EpisodeOfCare"):
            [dx] = episode["diagnosis"]
            coding = conditions[dx["condition"]["reference"]]["code"]["coding"][0]
            assert coding["system"] == "http://hl7.org/fhir/sid/icd-10-cm" and coding["code"].startswith("F")
        rows = records_by_line(EXAMPLES / program / "contacts.csv")
        for enc in (r for r in out if r["resourceType"] == "Encounter" and "serviceType" in r):
            line = int(enc["meta"]["source"].rsplit(":", 1)[1])
            stated = rows[line]["place_of_service"]
            found = [e["valueCoding"] for e in enc.get("extension", []) if e["url"].endswith("ext-place-of-service")]
            assert found == ([{"system": pos_system, "code": stated}] if stated else []), (program, line)
