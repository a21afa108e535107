"""`fhiradapter validate`: inputs, formats, exit codes, as a user runs it."""
from __future__ import annotations

import json
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from validator_support import ENCOUNTER, EXAMPLES, INVALID
from fhiradapter.cli import cli


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["validate", *args], input=input, catch_exceptions=False)


def _write(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj, indent=2))
    return path


def test_valid_file_exit_0(tmp_path):
    r = run(str(_write(tmp_path / "e.json", ENCOUNTER)), "--no-rules")
    assert r.exit_code == 0, r.output
    assert r.output.strip().splitlines()[-1].startswith("OK:")


def test_invalid_file_exit_1_with_location(tmp_path):
    bad = dict(ENCOUNTER, status="bogus")
    f = _write(tmp_path / "bad.json", bad)
    r = run(str(f), "--no-rules")
    assert r.exit_code == 1
    assert f"{f}: ERROR Encounter.status:" in r.output
    assert "bogus" not in r.output


def test_missing_path_and_bad_option_exit_2(tmp_path):
    assert run(str(tmp_path / "nope.json")).exit_code == 2
    assert run(str(tmp_path), "--format", "xml").exit_code == 2
    f = _write(tmp_path / "e.json", ENCOUNTER)
    assert run(str(f), "--profile", "https://example.org/StructureDefinition/none").exit_code == 2


def test_json_syntax_error_has_line_and_column(tmp_path):
    f = tmp_path / "broken.json"
    f.write_text('{\n  "resourceType": "Encounter",\n  "status": finished\n}\n')
    r = run(str(f))
    assert r.exit_code == 1
    assert "line 3, column" in r.output and "Traceback" not in r.output


def test_ndjson_streams_with_line_numbers(tmp_path):
    f = tmp_path / "Encounter.ndjson"
    lines = [json.dumps(ENCOUNTER), json.dumps(dict(ENCOUNTER, status="bogus")), "{not json", ""]
    f.write_text("\n".join(lines))
    r = run(str(f), "--no-rules")
    assert r.exit_code == 1
    assert f"{f}:2: ERROR Encounter.status" in r.output
    assert f"{f}:3: FATAL" in r.output
    assert f"{f}:1: ERROR" not in r.output
    # "not checked" notes are given once per file, not once per line
    assert r.output.count("binding-not-checked") <= 1


def test_json_format_one_outcome_per_input(tmp_path):
    a = _write(tmp_path / "a.json", ENCOUNTER)
    b = _write(tmp_path / "b.json", dict(ENCOUNTER, status="bogus"))
    r = run(str(a), str(b), "--format", "json", "--no-rules")
    outcomes = [json.loads(line) for line in r.output.splitlines()]
    assert [o["resourceType"] for o in outcomes] == ["OperationOutcome", "OperationOutcome"]
    bad = [i for i in outcomes[1]["issue"] if i["severity"] == "error"]
    assert bad[0]["expression"] == ["Encounter.status"] and bad[0]["code"] == "code-invalid"
    assert outcomes[0]["issue"][0]["severity"] == "information"


def test_junit_format(tmp_path):
    a = _write(tmp_path / "a.json", ENCOUNTER)
    b = _write(tmp_path / "b.json", dict(ENCOUNTER, status="bogus"))
    r = run(str(a), str(b), "--format", "junit", "--no-rules")
    suite = ET.fromstring(r.output)
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    assert len(suite.findall("testcase/failure")) == 1


def test_stdin_and_directory(tmp_path):
    r = run("-", "--no-rules", input=json.dumps(ENCOUNTER))
    assert r.exit_code == 0
    r = run(str(EXAMPLES), "--no-rules")
    assert r.exit_code == 0 and f"{len(list(EXAMPLES.glob('*.json')))} input(s)" in r.output
    r = run(str(INVALID), "--no-rules", "--min-severity", "error")
    assert r.exit_code == 1 and "INFORMATION" not in r.output


def test_bundle_entry_location(tmp_path):
    b = {"resourceType": "Bundle", "type": "collection",
         "entry": [{"fullUrl": "urn:uuid:22222222-2222-4222-8222-222222222222",
                    "resource": dict(ENCOUNTER, status="bogus")}]}
    r = run(str(_write(tmp_path / "b.json", b)), "--no-rules")
    assert "b.json#0: ERROR Bundle.entry[0].resource.status" in r.output


def test_ig_folder_and_tgz_add_profiles(tmp_path):
    sd = {
        "resourceType": "StructureDefinition", "id": "enc-needs-reason",
        "url": "https://example.org/StructureDefinition/enc-needs-reason", "name": "EncNeedsReason",
        "status": "active", "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
        "type": "Encounter", "derivation": "constraint",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Encounter",
        "differential": {"element": [{"id": "Encounter.reasonCode", "path": "Encounter.reasonCode", "min": 1}]},
    }
    ig = tmp_path / "ig"
    ig.mkdir()
    _write(ig / "StructureDefinition-enc-needs-reason.json", sd)
    enc = dict(ENCOUNTER, meta={"profile": [sd["url"]]})
    f = _write(tmp_path / "e.json", enc)
    without = run(str(f), "--no-rules")
    assert without.exit_code == 0 and "WARNING" in without.output and "not known" in without.output
    strict = run(str(f), "--no-rules", "--strict-profiles")
    assert strict.exit_code == 1 and "not known" in strict.output
    with_dir = run(str(f), "--no-rules", "--ig", str(ig))
    assert with_dir.exit_code == 1 and "Encounter.reasonCode" in with_dir.output
    tgz = tmp_path / "ig.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(ig / "StructureDefinition-enc-needs-reason.json", "package/StructureDefinition-enc.json")
    with_tgz = run(str(f), "--no-rules", "--ig", str(tgz))
    assert "Encounter.reasonCode" in with_tgz.output
    enc["reasonCode"] = [{"text": "x"}]
    _write(f, enc)
    assert run(str(f), "--no-rules", "--ig", str(ig)).exit_code == 0


def test_program_option_applies_program_profiles(tmp_path):
    f = _write(tmp_path / "e.json", ENCOUNTER)
    assert run(str(f), "--no-rules").exit_code == 0
    assert run(str(f), "--no-rules", "--program", "mt-cmp").exit_code == 1


def test_python_api_returns_operation_outcome():
    from fhiradapter.validator import validate
    out = validate(dict(ENCOUNTER, status="bogus"), rules=False)
    assert out["resourceType"] == "OperationOutcome"
    assert any(i["severity"] == "error" for i in out["issue"])
    ok = validate(dict(ENCOUNTER), rules=False)
    assert all(i["severity"] != "error" for i in ok["issue"])


def test_ndjson_member_records_span_files(tmp_path, node_free_rules):
    """Rules see a member's resources across NDJSON files (Encounter.ndjson + ServiceRequest.ndjson)."""
    enc = json.loads((EXAMPLES / "Encounter-mt-cmp-encounter-example.json").read_text())
    sr = json.loads((EXAMPLES / "ServiceRequest-mt-cmp-servicerequest-example.json").read_text())
    cp = json.loads((EXAMPLES / "CarePlan-mt-cmp-careplan-example.json").read_text())
    a = tmp_path / "Encounter.ndjson"
    a.write_text(json.dumps(enc) + "\n")
    b = tmp_path / "Other.ndjson"
    b.write_text(json.dumps(sr) + "\n" + json.dumps(cp) + "\n")
    alone = run(str(a))
    assert "[mt-cmp-referral-sdmi]" in alone.output          # no referral in this file
    together = run(str(a), str(b))
    assert "[mt-cmp-referral-sdmi]" not in together.output   # the referral is in the other file
    assert "[mt-cmp-itp-documents-billed-services]" not in together.output


def test_bundle_with_program_applies_profiles_to_entries(tmp_path):
    b = {"resourceType": "Bundle", "type": "collection",
         "entry": [{"fullUrl": "urn:uuid:22222222-2222-4222-8222-222222222222", "resource": dict(ENCOUNTER)}]}
    f = _write(tmp_path / "b.json", b)
    assert run(str(f), "--no-rules").exit_code == 0
    r = run(str(f), "--no-rules", "--program", "mt-cmp")
    assert r.exit_code == 1 and "b.json#0: ERROR Bundle.entry[0].resource.serviceType" in r.output


def test_output_file(tmp_path):
    f = _write(tmp_path / "bad.json", dict(ENCOUNTER, status="bogus"))
    out = tmp_path / "report.xml"
    r = run(str(f), "--no-rules", "--format", "junit", "-o", str(out))
    assert r.exit_code == 1 and r.output == ""
    assert ET.fromstring(out.read_text()).get("failures") == "1"
