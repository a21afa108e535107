"""Member-less reference data read through SharedData (indexed once per run) gives the findings that
appending it to every member record gave (issue 18), and `validate` still lets a member's own copy of
a shared resource win."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from fhiradapter import api, canonical as c
from fhiradapter.rules import RuleConfig, run_rules
from fhiradapter.rules.shared import SharedData
from rules_factories import (billing, cc, communication, consent, contact, episode, full_patient, organization,
                             plan, practitioner, referral, roster)


def _members() -> list[list[dict]]:
    """Records of several programs that read shared data: performers, recipients, rosters."""
    dc = [full_patient(), episode("dc-cs", "2026-01-02"), referral("dc-cs", "2026-01-02"),
          contact("dc-cs", "2026-01-05T10:00:00-05:00", performer="qualified"),
          contact("dc-cs", "2026-01-06T10:00:00-05:00", performer="unqualified"),
          contact("dc-cs", "2026-01-07T10:00:00-05:00", performer="staff", supervisor="qualified"),
          contact("dc-cs", "2026-01-08T10:00:00-05:00", performer="nobody")]
    dc[3]["participant"][0]["individual"] = {"reference": "urn:uuid:qualified"}   # a urn:uuid reference
    # its own copy of a shared Practitioner, unqualified: 'Practitioner/qualified' named the last resource
    # holding it in the appended list (the shared one), 'urn:uuid:qualified' the first (this one)
    dc.append(practitioner("qualified"))
    mt = [full_patient(), episode("mt-cmp", "2026-01-01"), referral("mt-cmp", "2026-01-01"),
          plan("mt-cmp", "itp", "2026-01-01"),
          contact("mt-cmp", "2026-02-02T10:00:00-07:00", bill=billing(unit="per-diem", bundled=True))]
    ma = [full_patient(), referral("ma-csp", "2026-01-05T09:00:00-05:00"),
          consent("ma-csp", "2026-01-01", recipient="Organization/payer", part2=True),
          communication("2026-02-01T10:00:00-05:00", recipient="Organization/cca-care-team"),
          contact("ma-csp", "2026-01-06T10:00:00-05:00", performer="qualified")]
    return [dc, mt, ma]


def _shared() -> list[dict]:
    staff = practitioner("staff", "credentialed-staff")
    staff["_fullUrl"] = "https://agency.example/fhir/Practitioner/staff"
    role = {"resourceType": "PractitionerRole", "id": "role-1", "period": {"start": "not a date"},
            "practitioner": {"reference": "Practitioner/qualified"}}
    sud = {"resourceType": "Communication", "id": "standing-notice", "status": "completed",   # no subject: shared
           "sent": "2026-03-03", "meta": {"security": [{"code": "SUD"}]}}
    return [organization("agency"), organization("payer"), practitioner("qualified", "psychologist"),
            practitioner("unqualified"), staff, role, sud, roster("cmp", "team-a", 3),
            roster("pact-mct", "team-a", 10), roster("dc-cs-adults", "agency", 90),
            {**organization("cca-care-team"), "type": [cc(c.PROGRAM_SYSTEM, "ma-csp")]}]


@pytest.mark.parametrize("config", [
    dict(export_end=date(2026, 3, 1)),           # as validate, run and rules check judge
    dict(),                                      # each record's own latest date (reads shared dates too)
    dict(as_of=date(2026, 3, 1), recipient="Organization/payer", purpose="HPAYMT"),
], ids=["export-end", "record-latest", "release"])
def test_indexed_reference_data_gives_the_findings_of_appended_reference_data(config: dict) -> None:
    shared = _shared()
    indexed = SharedData(shared)
    for record in _members():
        appended = run_rules(record + shared, config=RuleConfig(**config))
        found = run_rules(record, config=RuleConfig(**config), shared=indexed)
        assert [repr(i) for i in found] == [repr(i) for i in appended]
        assert appended   # the records do have findings to compare


def test_shared_findings_cover_performers_rosters_and_bad_dates() -> None:
    """What the shared data makes the rules say (so the comparison above compares something)."""
    dc, mt, _ = _members()
    found = run_rules(dc, config=RuleConfig(), shared=SharedData(_shared()))
    rules = {i.rule for i in found}
    assert "dc-cs-qualified-practitioner" in rules    # the unqualified performer, the missing one
    assert "dc-cs-staffing-ratio" in rules             # the agency's roster without a staff roster
    assert any("PractitionerRole/role-1.period.start" in i.message for i in found if i.code == "value")
    supervised = [i for i in found if i.rule == "dc-cs-qualified-practitioner" and "Encounter.where(id='"
                  + dc[5]["id"] + "')" in (i.expression or "")]
    assert not supervised   # credentialed staff supervised by the qualified practitioner: no finding
    assert {i.rule for i in run_rules(mt, config=RuleConfig(), shared=SharedData(_shared()))} >= {"mt-cmp-team-cmp-share"}


def test_validate_reads_a_members_own_copy_of_a_shared_practitioner(tmp_path: Path) -> None:
    """A member record that carries its own Practitioner with the id of a shared one is judged with its
    own (the shared one is left out of that record), in `validate` over NDJSON."""
    dc = _members()[0]
    own = practitioner("unqualified", "psychologist")   # the record's copy is qualified
    own["subject"] = {"reference": "Patient/p1"}         # (keyed to the member, as an export may do)
    shared = _shared()
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "member.ndjson").write_text("\n".join(json.dumps(r) for r in dc + [own]) + "\n", encoding="utf-8")
    (folder / "shared.ndjson").write_text("\n".join(json.dumps(r) for r in shared) + "\n", encoding="utf-8")
    found = [i for r in api.validate_paths([str(folder)], timezone="America/New_York") for i in r.issues
             if i.rule == "dc-cs-qualified-practitioner"]
    messages = " ".join(i.message for i in found)
    assert "Practitioner/unqualified" not in messages
    assert "are not in the member record" in messages   # Practitioner/nobody is still missing
