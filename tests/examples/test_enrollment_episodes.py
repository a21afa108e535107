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
