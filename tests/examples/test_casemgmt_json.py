"""The second export shape (nested JSON) yields the same FHIR facts as the CSV export."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .support import EXAMPLES, MAPPINGS, resources, run_cli
from fhiradapter.mapping.errorfile import read_errors


def without_source(r: dict) -> dict:
    r = json.loads(json.dumps(r))
    r["meta"].pop("source")
    if not r["meta"]:
        del r["meta"]
    return r


def member_of(r: dict) -> str | None:
    if r["resourceType"] == "Patient":
        return f"Patient/{r['id']}"
    return (r.get("subject") or r.get("patient") or r.get("beneficiary") or {}).get("reference")


def test_json_export_gives_the_same_resources_as_the_csv_export(mapped: dict[str, Path]) -> None:
    from_csv = {(r["resourceType"], r["id"]): without_source(r) for r in resources(mapped["mt-cmp"])}
    from_json = [without_source(r) for r in resources(mapped["casemgmt-json"])]
    types = Counter(r["resourceType"] for r in from_json)
    assert set(types) == {"Patient", "Organization", "Practitioner", "Group", "ServiceRequest", "CarePlan",
                          "Encounter", "Consent", "Condition", "Location", "CareTeam", "Goal", "DocumentReference",
                          "EpisodeOfCare", "Coverage"}
    assert types["Encounter"] > 100
    for r in from_json:
        key = (r["resourceType"], r["id"])
        assert key in from_csv, f"{key} not produced from the CSV export"
        assert r == from_csv[key], key
    # Every CSV resource about the carried clients is in the JSON output too (stays are not exported).
    patients = {f"Patient/{r['id']}" for r in from_json if r["resourceType"] == "Patient"}
    about = {k for k, r in from_csv.items()
             if member_of(r) in patients and not (k[0] == "Encounter" and "serviceType" not in r)}
    assert about <= {(r["resourceType"], r["id"]) for r in from_json}
    assert not list(read_errors(mapped["casemgmt-json"] / "errors.ndjson"))


def test_json_rows_are_strict_and_point_at_the_record(tmp_path: Path) -> None:
    doc = json.loads((EXAMPLES / "casemgmt-json/casemgmt-export.json").read_text(encoding="utf-8"))
    doc["clients"][1]["enrollments"][0]["visits"][2]["how"] = "carrier-pigeon"
    doc["clients"][3]["birthDate"] = "03/19/1967"
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "casemgmt-export.json").write_text(json.dumps(doc), encoding="utf-8")
    code, _ = run_cli(["map", "--mapping", str(MAPPINGS / "casemgmt-json-mt-cmp.yaml"), str(folder),
                       "--out", str(tmp_path / "out"), "--no-progress", "--no-bundles"])
    assert code == 1
    errors = list(read_errors(tmp_path / "out/errors.ndjson"))
    text = (tmp_path / "out/errors.ndjson").read_text()
    held = [e for e in errors if e["stage"] == "held-back"]
    errors = [e for e in errors if e["stage"] != "held-back"]
    assert len(errors) == 2
    # the client whose record is rejected takes its referral, plan, consent and visits with it
    assert held and all("depends on casemgmt-export.json:1 clients[3]" in e["issues"][0]["message"]
                        and e["record"].startswith("clients[3]") for e in held)
    codes = sorted(i["code"] for e in errors for i in e["issues"])
    assert codes == ["code-invalid", "value"]
    assert "carrier-pigeon" not in text and "03/19/1967" not in text
    assert any("clients[1]" in json.dumps(e) and "visits[2]" in json.dumps(e) for e in errors)
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert summary["rows"]["read"] == summary["rows"]["mapped"] + summary["rows"]["rejected"]
    assert summary["rows"]["rejected"] == 2 + len(held)
