"""Done-when: `validate` on a member Bundle reports rule findings beside profile findings."""
from __future__ import annotations

from fhiradapter.outcome import RULE_SYSTEM
from rules_factories import billing, contact, full_patient, plan, referral


def test_member_bundle_gets_rule_and_profile_findings_in_one_outcome() -> None:
    from fhiradapter.validator import validate
    bill = billing(unit="per-diem", bundled=True)
    contacts = [contact("mt-cmp", f"2026-02-0{d}T10:00:00-07:00", bill=bill) for d in (2, 3, 4, 5)]
    del contacts[0]["class"]  # a profile error: Encounter.class is required
    members = [full_patient(), plan("mt-cmp", "itp", "2026-01-01"), referral("mt-cmp", "2026-01-01")] + contacts
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": f"urn:uuid:{i}", "resource": r} for i, r in enumerate(members)]}
    outcome = validate(bundle)
    rule_issues = [i for i in outcome["issue"] if any(c.get("system") == RULE_SYSTEM
                                                      for c in i["details"].get("coding", []))]
    other = [i for i in outcome["issue"] if i not in rule_issues and i["severity"] == "error"]
    assert any(c["code"] == "mt-cmp-billable-days-per-week" for i in rule_issues for c in i["details"]["coding"])
    assert any("class" in " ".join(i.get("expression", [])) for i in other)
    # the rule finding points at the Bundle entry of the 4th billable day
    hit = next(i for i in rule_issues if i["details"]["coding"][0]["code"] == "mt-cmp-billable-days-per-week")
    assert hit["expression"][0].startswith(f"Bundle.entry[{len(members) - 1}].resource")
