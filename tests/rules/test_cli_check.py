"""`fhiradapter rules check`: member records from Bundles and NDJSON, options, exit codes."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from fhiradapter.cli.rules import rules
from rules_factories import (billing, consent, contact, organization, patient, plan, practitioner, roster,
                             setting)


def _ndjson(path: Path, resources: list, raw_lines: tuple[str, ...] = ()) -> Path:
    lines = [json.dumps(r) for r in resources] + list(raw_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _member(pid: str, performer_quals: str) -> list[dict]:
    enc = contact("dc-cs", "2026-02-03T10:00:00-05:00", where=setting("home"), performer=f"prac-{pid}")
    enc["subject"] = {"reference": f"Patient/{pid}"}
    return [{"resourceType": "Patient", "id": pid}, enc, practitioner(f"prac-{pid}", performer_quals)]


def test_ndjson_grouped_by_subject_with_shared_reference_data(tmp_path: Path) -> None:
    good, bad = _member("a", "licsw"), _member("b", "peer-specialist")
    path = _ndjson(tmp_path / "all.ndjson", good + bad, raw_lines=("{not json",))
    result = CliRunner().invoke(rules, ["check", str(path), "--as-of", "2026-03-01"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "dc-cs-qualified-practitioner" in line]
    # the finding is about member b's Encounter: NDJSON line 5
    assert len(lines) == 1 and lines[0].startswith(f"{path}:5: ERROR Encounter.where(id='{bad[1]['id']}')")
    assert f"{path}:7: FATAL" in result.output   # the broken line is named, the rest still checked


def test_clean_bundle_exits_0_and_json_is_an_operation_outcome(tmp_path: Path) -> None:
    members = _member("a", "licsw")
    path = tmp_path / "member.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                "entry": [{"resource": r} for r in members]}), encoding="utf-8")
    result = CliRunner().invoke(rules, ["check", str(path), "--as-of", "2026-03-01", "--format", "json"])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["code"] == "informational"


def test_recipient_and_roster_options(tmp_path: Path) -> None:
    enc = contact("mt-cmp", "2026-02-03T10:00:00-07:00", bill=billing(unit="per-diem", bundled=True))
    record = [patient(), organization("payer"), plan("mt-cmp", "itp", "2026-02-01"),
              consent("mt-cmp", "2026-01-01"), enc]
    path = _ndjson(tmp_path / "m.ndjson", record)
    args = ["check", str(path), "--as-of", "2026-02-08"]
    ok = CliRunner().invoke(rules, args + ["--recipient", "Organization/payer", "--purpose", "HPAYMT"])
    assert "all-consent-recipient" not in ok.output
    other = CliRunner().invoke(rules, args + ["--recipient", "Organization/someone-else"])
    assert "all-consent-recipient" in other.output and other.exit_code == 1
    groups = tmp_path / "rosters.json"
    groups.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": roster("pact-mct", "team-a", 10)}, {"resource": roster("cmp", "team-a", 3)}]}), encoding="utf-8")
    share = CliRunner().invoke(rules, args + ["--roster", str(groups)])
    assert "mt-cmp-team-cmp-share" in share.output


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    path = _ndjson(tmp_path / "m.ndjson", [patient()])
    assert CliRunner().invoke(rules, ["check", str(path), "--timezone", "Mars/Base"]).exit_code == 2
    assert CliRunner().invoke(rules, ["check", str(tmp_path / "missing.json")]).exit_code == 2
    (tmp_path / "r.json").write_text("{}", encoding="utf-8")
    assert CliRunner().invoke(rules, ["check", str(path), "--roster", str(tmp_path / "r.json")]).exit_code == 2


def test_team_level_roster_finding_is_printed_once_for_many_members(tmp_path: Path) -> None:
    resources = []
    for pid in ("a", "b", "c"):
        enc = contact("mt-cmp", "2026-02-03T10:00:00-07:00")
        enc["subject"] = {"reference": f"Patient/{pid}"}
        resources += [{"resourceType": "Patient", "id": pid}, enc]
    path = _ndjson(tmp_path / "team.ndjson", resources)
    groups = tmp_path / "g.json"
    groups.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": roster("pact-mct", "team-a", 10)}, {"resource": roster("cmp", "team-a", 3)}]}), encoding="utf-8")
    result = CliRunner().invoke(rules, ["check", str(path), "--as-of", "2026-02-08", "--roster", str(groups)])
    assert result.output.count("mt-cmp-team-cmp-share") == 1


def test_data_from_auto_skips_first_contact_checks_for_referrals_before_the_input(tmp_path: Path) -> None:
    from rules_factories import referral
    resources = []
    for pid, received, first in (("old", "2025-09-30T11:00:00-04:00", "2026-01-05T10:00:00-05:00"),
                                 ("new", "2026-01-06T11:00:00-05:00", "2026-01-08T10:00:00-05:00")):
        sr, enc = referral("ma-csp", received, reasons=()), contact("ma-csp", first, mode="phone")
        sr["subject"] = enc["subject"] = {"reference": f"Patient/{pid}"}
        resources += [{"resourceType": "Patient", "id": pid}, sr, enc]
    path = _ndjson(tmp_path / "csp.ndjson", resources)
    args = ["check", str(path), "--timezone", "America/New_York", "--as-of", "2026-02-01"]
    auto = CliRunner().invoke(rules, args)
    assert auto.output.count("ma-csp-first-contact-attempt") == 1        # only the new member's late contact
    assert "contacts taken as complete from 2026-01-05" in auto.output
    assert CliRunner().invoke(rules, args + ["--data-from", "none"]).output.count("ma-csp-first-contact-attempt") == 2
    assert CliRunner().invoke(rules, args + ["--data-from", "01/05/2026"]).exit_code == 2
