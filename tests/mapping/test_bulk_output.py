"""FHIR Bulk Data conventions of an output folder (issue 17 §5): the output.json manifest, errors.ndjson
as OperationOutcome NDJSON (valid R4, keeping file/line/column, no record values) and Bundle files a
person can find by the member reference that findings.ndjson and report.html print."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fhiradapter.cli import cli
from fhiradapter.mapping.errorfile import from_outcome, read_errors, to_outcome

FIXTURE = Path(__file__).parent / "fixtures" / "example"
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`run` on the fixture export with one more planted bad value (a date that does not exist)."""
    base = tmp_path_factory.mktemp("bulk")
    shutil.copytree(FIXTURE / "input", base / "in")
    members = base / "in" / "members.csv"
    members.write_text(members.read_text().replace("11/30/1990", "02/31/1990"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(base / "in"), "--mapping", str(FIXTURE / "mapping.yaml"),
                                      "--out", str(base / "out")])
    assert result.exit_code == 1, result.output
    return base / "out"


def test_manifest_follows_the_bulk_data_complete_status_body(ran: Path) -> None:
    manifest = json.loads((ran / "output.json").read_text())
    assert set(manifest) >= {"transactionTime", "request", "requiresAccessToken", "output", "error"}
    assert INSTANT.match(manifest["transactionTime"])
    assert manifest["requiresAccessToken"] is False
    assert "fhiradapter run --program mt-cmp" in manifest["request"]
    # every NDJSON file is listed once, with its type and its line count; urls resolve from the manifest
    listed = {item["type"]: item for item in manifest["output"]}
    on_disk = {p.stem: p for p in (ran / "ndjson").glob("*.ndjson")}
    assert set(listed) == set(on_disk)
    for rtype, item in listed.items():
        rows = _lines(ran / item["url"])
        assert item["count"] == len(rows) and {r["resourceType"] for r in rows} == {rtype}
    (error,) = manifest["error"]
    assert error["type"] == "OperationOutcome" and error["count"] == len(_lines(ran / error["url"])) > 0


def test_transaction_time_is_the_end_of_the_exports_latest_day_so_reruns_are_identical(ran: Path,
                                                                                       tmp_path: Path) -> None:
    again = CliRunner().invoke(cli, ["run", str(ran.parent / "in"), "--mapping", str(FIXTURE / "mapping.yaml"),
                                     "--out", str(tmp_path / "again")])
    assert again.exit_code == 1
    assert (tmp_path / "again" / "output.json").read_bytes() == (ran / "output.json").read_bytes()
    assert (tmp_path / "again" / "report.html").read_bytes() == (ran / "report.html").read_bytes()
    # the end of a day in the agency's zone (America/New_York), not the clock
    assert re.fullmatch(r"20\d\d-\d\d-\d\dT23:59:59-0[45]:00", json.loads((ran / "output.json").read_text())["transactionTime"])


def test_rejected_rows_are_valid_operation_outcomes_with_file_line_and_column(ran: Path) -> None:
    from fhiradapter.validator import Validator
    validator = Validator(rules=False)
    outcomes = _lines(ran / "errors.ndjson")
    for n, outcome in enumerate(outcomes, start=1):
        assert outcome["resourceType"] == "OperationOutcome"
        problems = [i for i in validator.validate_resource(outcome, source="errors.ndjson", line=n) if i.is_error]
        assert not problems, [i.message for i in problems]
    dob = next(o for o in outcomes if any(i.get("expression") == ["Patient.birthDate"] for i in o["issue"]))
    (issue,) = dob["issue"]
    assert issue["location"] == ["members.csv:3"]
    assert issue["diagnostics"] == "members.csv:3 column 'dob'"
    assert issue["details"]["text"].startswith("members.csv:3 column 'dob' at Patient.birthDate: ")
    assert {"system": "https://fhiradapter.org/fhir/CodeSystem/fhiradapter-row-stage", "code": "map"} in dob["meta"]["tag"]
    assert "02/31/1990" not in (ran / "errors.ndjson").read_text()    # no record value by default


def test_error_records_round_trip_through_the_outcome_form(ran: Path) -> None:
    flat = list(read_errors(ran))
    assert flat and all(r["file"] and r["issues"] for r in flat)
    for record in flat:
        assert from_outcome(to_outcome(record)) == record
    pointer = {"file": "export.json", "line": 1, "record": "clients[3]", "template": None, "stage": "held-back",
               "issues": [{"severity": "error", "code": "not-found", "column": "a, b", "expression": "Encounter.subject",
                           "message": "export.json:1 clients[3]: held back"}]}
    assert from_outcome(to_outcome(pointer)) == pointer


def test_a_members_bundle_is_named_by_the_member_reference(ran: Path) -> None:
    names = sorted(p.name for p in (ran / "bundles").glob("*.json"))
    assert names and "000-shared.json" not in names[1:]   # when there, sent first: members reference it
    for name in (n for n in names if n != "000-shared.json"):
        bundle = json.loads((ran / "bundles" / name).read_text())
        first = bundle["entry"][0]["resource"]
        assert name == f"Patient-{first['id']}.json" and first["resourceType"] == "Patient"
    for finding in _lines(ran / "findings.ndjson"):
        if finding["member"]:
            assert (ran / "bundles" / (finding["member"].replace("/", "-") + ".json")).is_file()
