"""The state-limits table (issue 12): `map`/`run` hold back what may go to the payer only with the member's
consent when no consent permits it, with everything that references it, citing the law."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from fhiradapter.cli import cli
from fhiradapter.mapping.errorfile import read_errors
from fhiradapter.release import Limit, load_limits, limits_for, permits_release

REPO = Path(__file__).resolve().parents[2]


def _copy(tmp_path: Path, program: str) -> Path:
    src = tmp_path / "in"
    shutil.copytree(REPO / "examples" / program, src)
    return src


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _map(program: str, src: Path, out: Path) -> list[dict]:
    result = CliRunner().invoke(cli, ["map", "--mapping", str(REPO / "mappings" / f"{program}.yaml"),
                                      "--input", str(src), "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    return list(read_errors(out / "errors.ndjson"))   # OperationOutcome lines, read back as rows


def _ids(out: Path, kind: str) -> set[str]:
    path = out / "ndjson" / f"{kind}.ndjson"
    return {json.loads(line)["id"] for line in path.read_text().splitlines()} if path.exists() else set()


def _bundle_refs_resolve(out: Path) -> None:
    """No member Bundle references a resource that is in no output (nothing is sent half)."""
    present = {f"{p.stem}/{json.loads(line)['id']}" for p in (out / "ndjson").glob("*.ndjson")
               for line in p.read_text().splitlines()}
    for bundle in (out / "bundles").glob("*.json"):
        text = bundle.read_text()
        for ref in set(__import__("re").findall(r'"reference":"([A-Z][A-Za-z]+/[^"]+)"', text)):
            assert ref in present or ref.startswith("Organization/"), (bundle.name, ref)


def test_table_rows_and_the_every_state_part2_row() -> None:
    table = load_limits()
    assert {row.state for row in table} == {"PA", "DC", "MA", "MT", "*"}
    assert all(row.citation for row in table)
    pa = limits_for("PA", table)
    assert {row.state for row in pa} == {"PA", "*"}
    assert "55 Pa. Code § 5100.32" in pa[0].citation
    ma = next(row for row in table if row.state == "MA")
    aftercare = {"resourceType": "CarePlan", "category": [{"coding": [
        {"system": "https://fhiradapter.org/fhir/CodeSystem/bh-plan-type", "code": "aftercare-plan"}]}]}
    service = {"resourceType": "CarePlan", "category": [{"coding": [
        {"system": "https://fhiradapter.org/fhir/CodeSystem/bh-plan-type", "code": "csp-service-plan"}]}]}
    assert ma.withholds(aftercare) and not ma.withholds(service)
    assert Limit("X", frozenset({"Patient"}), (), "law").withholds({"resourceType": "CarePlan"})


def test_pa_member_without_consent_keeps_only_what_5100_32_lets_go(tmp_path: Path) -> None:
    src = _copy(tmp_path, "pa-tcm")
    consents = _rows(src / "consents.csv")
    member = consents[2]["member_id"]
    _write(src / "consents.csv", [r for r in consents if r["member_id"] != member])
    errors = _map("pa-tcm", src, tmp_path / "out")
    held = [e for e in errors if e["stage"] == "held-back" and e["issues"][0]["code"] == "security"]
    files = {e["file"] for e in held}
    assert {"referrals.csv", "plans.csv"} <= files
    # the member row's diagnosis (Condition) may not go, its Patient may: the row is not taken out whole
    from_members = [e for e in held if e["file"] == "members.csv"]
    assert all(e["issues"][0]["message"].split(": held back: ", 1)[1].startswith("Condition may not go")
               for e in from_members)
    member_line = next(n for n, r in enumerate(_rows(src / "members.csv"), start=2) if r["member_id"] == member)
    patients = [json.loads(line) for line in (tmp_path / "out" / "ndjson" / "Patient.ndjson").read_text().splitlines()]
    assert any(p["meta"]["source"].endswith(f"members.csv:{member_line}") for p in patients)
    assert all("55 Pa. Code § 5100.32(a)(2)" in e["issues"][0]["message"] for e in held)
    # the member's contacts cite the withheld referral: they go with it; no value is echoed
    contacts = [r for r in _rows(src / "contacts.csv") if r["member_id"] == member]
    assert sum(1 for e in held if e["file"] == "contacts.csv") == sum(1 for r in contacts if r["referral_id"])
    assert not any(member in e["issues"][0]["message"] for e in held)
    _bundle_refs_resolve(tmp_path / "out")
    # with the consent back nothing is held
    _write(src / "consents.csv", consents)
    errors = _map("pa-tcm", src, tmp_path / "out2")
    assert not [e for e in errors if e["issues"][0]["code"] == "security"]


def test_sud_contacts_need_a_part2_consent(tmp_path: Path) -> None:
    src = _copy(tmp_path, "mt-cmp")
    consents = _rows(src / "consents.csv")
    part2 = next(r for r in consents if r["part2"] == "Y")
    sud_contacts = [r for r in _rows(src / "contacts.csv")
                    if r["member_id"] == part2["member_id"] and r["sud_related"] == "Y"]
    assert sud_contacts
    part2["part2"] = "N"
    part2["form_file"] = ""
    _write(src / "consents.csv", consents)
    errors = _map("mt-cmp", src, tmp_path / "out")
    held = [e for e in errors if e["stage"] == "held-back" and e["issues"][0]["code"] == "security"]
    assert held and all("42 CFR Part 2 § 2.33" in e["issues"][0]["message"] for e in held)
    held_lines = {e["line"] for e in held if e["file"] == "contacts.csv"}
    assert len(held_lines) >= len(sud_contacts)
    kept = _ids(tmp_path / "out", "Encounter")
    assert kept and not any("42CFRPart2" in line for line in
                            (tmp_path / "out" / "ndjson" / "Encounter.ndjson").read_text().splitlines()
                            if json.loads(line)["subject"]["reference"].endswith(part2["member_id"]))
    _bundle_refs_resolve(tmp_path / "out")


def test_a_revoked_or_expired_consent_permits_nothing() -> None:
    from datetime import date
    consent = {"resourceType": "Consent", "status": "active", "provision": {
        "type": "permit", "period": {"start": "2026-01-01", "end": "2026-06-30"},
        "actor": [{"role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                        "code": "IRCP"}]}, "reference": {"reference": "Organization/payer"}}]}}
    assert permits_release(consent, date(2026, 3, 1))
    assert not permits_release(consent, date(2026, 7, 1))
    assert not permits_release(consent | {"status": "inactive"}, date(2026, 3, 1))
    assert not permits_release(consent, date(2026, 3, 1), part2=True)
