"""skip:, constant resources, distinct: and declared columns (docs/mapping-language.md)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fhiradapter.mapping.errors import MappingLoadError
from fhiradapter.mapping.loader import load_mapping

ROOT = Path(__file__).resolve().parents[2]

VISITS = """\
sources:
  visits:
    file: visits.csv
    skip:
      - reason: cancelled
        when: {equals: [{$col: status}, CANC]}
      - reason: test client
        when: {matches: [{$col: client}, "^TEST"]}
lookups:
  sex: {map: {M: male, F: female}}
resources:
  - name: agency
    key: main
    template:
      resourceType: Organization
      name: The Agency
  - name: client
    source: visits
    distinct: true
    key: {$col: client}
    template:
      resourceType: Patient
      gender: {$lookup: sex, col: sex}
  - name: staff
    source: visits
    distinct: true
    key: {$col: npi}
    template:
      resourceType: Practitioner
      name: [{family: {$col: staff}}]
  - name: visit
    source: visits
    key: {$col: visit}
    template:
      resourceType: Encounter
      status: finished
      class: {system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: AMB}
      subject: {$ref: client, key: {$col: client}}
      participant: [{individual: {$ref: staff, key: {$col: npi}}}]
      serviceProvider: {$ref: agency, key: main}
"""

ROWS = """\
visit,client,sex,npi,staff,status
V1,C1,F,111,Stone,KEPT
V2,C1,F,222,Kemp,KEPT
V3,C2,M,111,Stone,CANC
V4,TEST9,M,111,Stone,KEPT
V5,C2,X,222,Kemp,KEPT
V6,C2,M,222,Kemp,KEPT
V7,C3,F,111,Stone,CANC
"""


def test_skip_counts_rows_per_reason_and_keeps_the_invariant(mapper):
    result = mapper(VISITS, {"visits.csv": ROWS})
    rows = result.summary["rows"]
    assert rows == {"read": 7, "mapped": 3, "rejected": 1, "skipped": 3}
    assert rows["read"] == rows["mapped"] + rows["rejected"] + rows["skipped"]
    assert result.summary["files"]["visits.csv"] == rows
    assert result.summary["skipped"] == {"cancelled": 2, "test client": 1}
    # skipped rows are no errors; the one rejected row (sex X) is
    assert [e["line"] for e in result.errors] == [6]
    assert {e["identifier"][0]["value"] for e in result.resources("Encounter")} == {"V1", "V2", "V6"}


def test_a_mapping_without_skip_writes_no_skipped_counts(mapper):
    body = VISITS.replace("""    skip:
      - reason: cancelled
        when: {equals: [{$col: status}, CANC]}
      - reason: test client
        when: {matches: [{$col: client}, "^TEST"]}
""", "")
    result = mapper(body, {"visits.csv": "visit,client,sex,npi,staff,status\nV1,C1,F,111,Stone,KEPT\n"})
    assert result.summary["rows"] == {"read": 1, "mapped": 1, "rejected": 0}
    assert "skipped" not in result.summary


def test_constant_resource_is_made_once_and_referenced(mapper):
    result = mapper(VISITS, {"visits.csv": ROWS})
    (agency,) = result.resources("Organization")
    assert agency["name"] == "The Agency"
    assert agency["meta"]["source"].startswith("urn:fhiradapter:t:1.0.0:mapping.yaml:")
    line = int(agency["meta"]["source"].rsplit(":", 1)[1])
    text = (result.out.parent / "mapping.yaml").read_text(encoding="utf-8").splitlines()
    assert text[line - 1].strip() == "- name: agency"
    for encounter in result.resources("Encounter"):
        assert encounter["serviceProvider"] == {"reference": f"Organization/{agency['id']}"}
    shared = json.loads((result.out / "bundles" / "000-shared.json").read_text(encoding="utf-8"))
    assert shared["entry"][0]["resource"]["id"] == agency["id"]   # written first


def test_distinct_makes_one_resource_per_key_from_the_first_written_row(mapper):
    result = mapper(VISITS, {"visits.csv": ROWS})
    patients = result.resources("Patient")
    # C1 from line 2; C2's first row (line 4) is skipped and line 6 is rejected: line 7 makes it
    assert [(p["identifier"][0]["value"], p["meta"]["source"].rsplit(":", 1)[1]) for p in patients] == [
        ("C1", "2"), ("C2", "7")]
    assert [p["identifier"][0]["value"] for p in result.resources("Practitioner")] == ["111", "222"]
    refs = {e["participant"][0]["individual"]["reference"] for e in result.resources("Encounter")}
    assert refs == {f"Practitioner/{p['id']}" for p in result.resources("Practitioner")}


def test_reruns_are_byte_identical(mapper):
    first = mapper(VISITS, {"visits.csv": ROWS})
    second = mapper(VISITS, {"visits.csv": ROWS})
    files = sorted(p.relative_to(first.out) for p in first.out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second.out) for p in second.out.rglob("*") if p.is_file())
    for name in files:
        assert (first.out / name).read_bytes() == (second.out / name).read_bytes(), name


@pytest.mark.parametrize(("template", "message"), [
    ("key: {$col: id}\n    template: {resourceType: Organization, name: x}",
     "mapping.yaml:8: resources[0]: a constant resource (no source:) cannot read columns (id)"),
    ("key: main\n    template: {resourceType: Organization, name: {$col: org_name}}",
     "mapping.yaml:8: resources[0]: a constant resource (no source:) cannot read columns (org_name)"),
    ("key: main\n    distinct: true\n    template: {resourceType: Organization, name: x}",
     "mapping.yaml:10: resources[0].distinct: a constant resource (no source:) takes no distinct:"),
])
def test_constant_resources_cannot_read_rows(write_mapping, template, message):
    path = write_mapping(f"""\
sources: {{visits: {{file: visits.csv}}}}
resources:
  - name: org
    {template}
  - name: visit
    source: visits
    key: {{$col: visit}}
    template: {{resourceType: Encounter, status: finished}}
""")
    with pytest.raises(MappingLoadError) as caught:
        load_mapping(path)
    assert message in str(caught.value)


def test_skip_on_a_related_source_is_a_mapping_error(write_mapping):
    path = write_mapping("""\
sources:
  visits: {file: visits.csv}
  notes:
    file: notes.csv
    index: visit
    skip: [{reason: old, when: {present: {$col: old}}}]
resources:
  - name: visit
    source: visits
    key: {$col: visit}
    template: {resourceType: Encounter, status: finished}
""")
    with pytest.raises(MappingLoadError, match=r"sources.notes.skip: skip: applies to mapped sources"):
        load_mapping(path)


def test_skip_reason_is_schema_checked(write_mapping):
    path = write_mapping("""\
sources:
  visits: {file: visits.csv, skip: [{when: {present: {$col: x}}}]}
resources:
  - name: visit
    source: visits
    key: {$col: visit}
    template: {resourceType: Encounter, status: finished}
""")
    with pytest.raises(MappingLoadError, match="'reason' is a required property"):
        load_mapping(path)


def test_declared_columns_catch_a_misspelled_column_at_load(write_mapping):
    path = write_mapping("""\
sources:
  visits: {file: visits.csv, columns: [visit, client, status]}
resources:
  - name: visit
    source: visits
    key: {$col: visit}
    when: {equals: [{$col: stauts}, KEPT]}
    template: {resourceType: Encounter, status: finished}
""")
    with pytest.raises(MappingLoadError) as caught:
        load_mapping(path)
    (problem,) = caught.value.problems
    assert str(problem).endswith("mapping.yaml:7: sources.visits.columns: column 'stauts' (visit at Encounter "
                                 "(which rows)) is not among the declared columns of visits.csv (did you mean "
                                 "'status'?)")


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "mapping", "check", *args],
                          capture_output=True, text=True, timeout=120)


def test_mapping_check_reads_the_header_from_the_test_data(write_mapping, tmp_path):
    (tmp_path / "t" / "in").mkdir(parents=True)
    (tmp_path / "t" / "in" / "visits.csv").write_text("visit,client,status\nV1,C1,KEPT\n", encoding="utf-8")
    path = write_mapping("""\
sources: {visits: {file: visits.csv}}
resources:
  - name: visit
    source: visits
    key: {$col: vist}
    template: {resourceType: Encounter, status: finished}
tests: [{name: t, input: t/in, expect: t/out}]
""")
    done = _check(str(path))
    assert done.returncode == 1
    assert "sources.visits: column 'vist' (template 'visit' key) is not in the header of the test data" in done.stdout
    assert "(did you mean 'visit'?)" in done.stdout


@pytest.mark.parametrize(("content", "hint"), [
    ("visit;client;status\r\nV1;C1;KEPT\r\n".encode(), "the file looks ';'-delimited; set delimiter: \";\""),
    ("visit,client,status\nV1,C1,KEPT\n".encode("utf-16"), "the file is UTF-16"),
    ("visit\tclient\tstatus\n".encode(), "the file looks tab-delimited; set delimiter: \"\\t\""),
    (b"\xef\xbb\xbfvisit,client,status\n", "the file is UTF-8 (it starts with a UTF-8 byte-order mark), not latin-1"),
])
def test_mapping_check_says_what_the_file_looks_like(write_mapping, tmp_path, content, hint):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "visits.csv").write_bytes(content)
    encoding = "latin-1" if content.startswith(b"\xef\xbb\xbf") else "utf-8"
    path = write_mapping(f"""\
sources: {{visits: {{file: visits.csv, encoding: {encoding}, columns: [visit, client, status]}}}}
resources:
  - name: visit
    source: visits
    key: {{$col: visit}}
    template: {{resourceType: Encounter, status: finished, subject: {{$ref: {{type: Patient}}, key: {{$col: client}}}}}}
""")
    done = _check(str(path), "--input", str(tmp_path / "in"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert hint in done.stdout


def test_map_says_once_what_a_mismatched_file_looks_like(mapper):
    body = """\
sources: {visits: {file: visits.csv}}
resources:
  - name: visit
    source: visits
    key: {$col: visit}
    template: {resourceType: Encounter, status: finished, subject: {$ref: {type: Patient}, key: {$col: client}}}
"""
    result = mapper(body, {"visits.csv": b"visit;client\r\nV1;C1\r\nV2;C2\r\n"})
    assert result.summary["rows"] == {"read": 2, "mapped": 0, "rejected": 2}
    assert result.summary["file_warnings"] == [
        "visits.csv: the header lacks 2 of the 2 columns the mapping reads: the file looks ';'-delimited; "
        "set delimiter: \";\""]


def test_a_skip_condition_that_cannot_be_tested_rejects_its_row_by_line(mapper):
    body = """\
sources:
  visits:
    file: visits.csv
    skip: [{reason: cancelled, when: {equals: [{$col: status}, CANC]}}]
resources:
  - name: visit
    source: visits
    key: {$col: visit}
    template: {resourceType: Encounter, status: finished}
"""
    result = mapper(body, {"visits.csv": "visit,client\nV1,C1\n"})
    assert result.summary["rows"] == {"read": 1, "mapped": 0, "rejected": 1, "skipped": 0}
    assert result.messages == ["visits.csv:2 column 'status' at (skip): column not in the file header"]


def test_explain_lists_what_skip_reads():
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "mapping", "explain",
                           str(ROOT / "examples" / "walkthrough" / "mapping.yaml"), "--json"],
                          capture_output=True, text=True, timeout=120)
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert {"template": "skip:visits", "resourceType": "(no resource)", "file": "visits.csv",
            "columns": "visits.Status", "element": "(rows skipped)", "via": "skip 'cancelled visit'"} in rows
    agency = next(r for r in rows if r["template"] == "agency")
    assert agency["file"] == "the mapping, once per run" and agency["columns"] == ""
