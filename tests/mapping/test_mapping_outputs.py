"""Output folder: determinism, the summary invariant, bundles per member, POST mode, partitions."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from fhiradapter.mapping import writers
from fhiradapter.mapping.loader import load_mapping
from fhiradapter.mapping.run import map_input

FIXTURE = Path(__file__).parent / "fixtures" / "example"


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_runs_are_byte_identical_and_stale_files_go(tmp_path):
    mapping = load_mapping(FIXTURE / "mapping.yaml")
    map_input(mapping, FIXTURE / "input", tmp_path / "a")
    (tmp_path / "b" / "bundles").mkdir(parents=True)
    (tmp_path / "b" / "bundles" / "stale-1.json").write_text("{}")
    map_input(mapping, FIXTURE / "input", tmp_path / "b")
    first, second = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert first == second
    assert "bundles/stale-1.json" not in second
    assert not any(b"T" in v and b"Z\"" in v for k, v in first.items() if k == "summary.json")  # no clock time


def test_partitioned_grouping_gives_the_same_bundles(tmp_path, monkeypatch):
    mapping = load_mapping(FIXTURE / "mapping.yaml")
    map_input(mapping, FIXTURE / "input", tmp_path / "a")
    monkeypatch.setattr(writers, "PARTITION_SIZE", 2)   # force several spool partitions
    map_input(mapping, FIXTURE / "input", tmp_path / "b")
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_bundles_per_member_patient_first_and_chunked(tmp_path):
    mapping = load_mapping(FIXTURE / "mapping.yaml")
    summary = map_input(mapping, FIXTURE / "input", tmp_path, max_entries=2)
    patients = {p["id"]: p for p in map(json.loads, (tmp_path / "ndjson/Patient.ndjson").read_text().splitlines())}
    ada = next(pid for pid, p in patients.items() if p["identifier"][0]["value"] == "M001")
    names = sorted(p.name for p in (tmp_path / "bundles").glob("*.json"))
    # named by the member reference findings and the report print (Patient/<id> -> Patient-<id>.json)
    assert f"Patient-{ada}.json" in names and f"Patient-{ada}.part2.json" in names
    first = json.loads((tmp_path / "bundles" / f"Patient-{ada}.json").read_text())
    second = json.loads((tmp_path / "bundles" / f"Patient-{ada}.part2.json").read_text())
    assert first["type"] == "transaction" and len(first["entry"]) == 2
    assert first["entry"][0]["resource"]["resourceType"] == "Patient"
    entry = first["entry"][0]
    assert entry["fullUrl"] == f"urn:uuid:{ada}"
    assert entry["request"] == {"method": "PUT", "url": f"Patient/{ada}"}
    members = {e["resource"].get("subject", {}).get("reference") for e in first["entry"][1:] + second["entry"]}
    assert members == {f"Patient/{ada}"}
    assert summary["bundles"] == len(names)


def test_post_mode_uses_conditional_create_and_local_urn_refs(tmp_path):
    mapping = load_mapping(FIXTURE / "mapping.yaml")
    map_input(mapping, FIXTURE / "input", tmp_path, method="post")
    bundle = json.loads(next((tmp_path / "bundles").glob("*.json")).read_text())
    patient = bundle["entry"][0]
    assert patient["request"]["method"] == "POST" and patient["request"]["url"] == "Patient"
    assert patient["request"]["ifNoneExist"].startswith("identifier=https://fhiradapter.org/fhir/sid/example-agency/patient|")
    for entry in bundle["entry"][1:]:
        assert entry["resource"]["subject"]["reference"] == patient["fullUrl"]
        # a Practitioner that is not in this Bundle keeps its Type/id reference
        for participant in entry["resource"].get("participant", []):
            assert participant["individual"]["reference"].startswith("Practitioner/")


def test_shared_resources_go_to_the_shared_bundle(mapper):
    result = mapper("""\
    sources:
      orgs: {file: orgs.csv}
    resources:
      - name: org
        source: orgs
        key: {$col: id}
        template: {resourceType: Organization, name: {$col: name}}
    """, {"orgs.csv": "id,name\n1,A\n2,B\n"})
    bundles = sorted(p.name for p in (result.out / "bundles").glob("*.json"))
    assert bundles == ["000-shared.json"]


ROWS = st.lists(st.tuples(st.sampled_from(["ok", "code", "date", "key", "fields"]),
                          st.text(alphabet='ab",;\n\' ', max_size=6)), min_size=0, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS)
def test_rows_read_equal_mapped_plus_rejected(tmp_path_factory, rows):
    base = tmp_path_factory.mktemp("inv")
    (base / "in").mkdir()
    (base / "m.yaml").write_text((FIXTURE / "mapping.yaml").read_text().split("tests:")[0])
    shutil.copy(FIXTURE / "input" / "members.csv", base / "in")
    (base / "in" / "plans.csv").write_text("plan_id,member_id,start,status\n")
    (base / "in" / "plan_activities.csv").write_text("plan_id,component\n")
    lines, bad = ["contact_id,member_id,date,time,duration_min,mode,status,staff_id,note"], 0
    for i, (kind, note) in enumerate(rows):
        note = '"' + note.replace('"', '""') + '"'
        row = {"ok": f"C{i},M001,03/08/2025,10:00,60,F2F,DONE,S01,{note}",
               "code": f"C{i},M001,03/08/2025,10:00,60,ZZ,DONE,S01,{note}",
               "date": f"C{i},M001,2025-03-08,10:00,60,F2F,DONE,S01,{note}",
               "key": f",M001,03/08/2025,10:00,60,F2F,DONE,S01,{note}",
               "fields": f"C{i},M001,03/08/2025,10:00,60,F2F,DONE,S01,{note},x"}[kind]
        bad += kind != "ok"
        lines.append(row)
    (base / "in" / "contacts.csv").write_text("\n".join(lines) + "\n")
    summary = map_input(load_mapping(base / "m.yaml"), base / "in", base / "out")
    contacts = summary["files"]["contacts.csv"]
    assert contacts == {"read": len(rows), "mapped": len(rows) - bad, "rejected": bad}
    assert summary["rows"]["read"] == summary["rows"]["mapped"] + summary["rows"]["rejected"]
    errors = (base / "out" / "errors.ndjson").read_text().splitlines()
    assert len(errors) == bad


def test_provenance_is_opt_in_with_a_given_time(tmp_path):
    mapping = load_mapping(FIXTURE / "mapping.yaml")
    map_input(mapping, FIXTURE / "input", tmp_path / "plain")
    assert not (tmp_path / "plain" / "ndjson" / "Provenance.ndjson").exists()
    summary = map_input(mapping, FIXTURE / "input", tmp_path / "prov", provenance_time="2026-04-27T00:00:00Z",
                        max_entries=3)
    provenances = [json.loads(x) for x in (tmp_path / "prov/ndjson/Provenance.ndjson").read_text().splitlines()]
    assert len(provenances) == summary["bundles"]
    for path in (tmp_path / "prov" / "bundles").glob("*.json"):
        bundle = json.loads(path.read_text())
        *entries, last = bundle["entry"]
        assert len(bundle["entry"]) <= 3 and last["resource"]["resourceType"] == "Provenance"
        assert last["resource"]["recorded"] == "2026-04-27T00:00:00Z"
        assert last["resource"]["target"] == [{"reference": e["request"]["url"]} for e in entries]
    map_input(mapping, FIXTURE / "input", tmp_path / "prov2", provenance_time="2026-04-27T00:00:00Z", max_entries=3)
    assert _tree(tmp_path / "prov") == _tree(tmp_path / "prov2")


def _without_fast_path(path: Path):
    mapping = load_mapping(path)
    for template in mapping.templates:
        template.fast = None
    return mapping


def test_generated_fast_path_gives_the_same_output_as_the_closures(tmp_path):
    repo = Path(__file__).resolve().parents[2]
    cases = [(FIXTURE / "mapping.yaml", FIXTURE / "input")]
    for program in ("mt-cmp", "dc-cs", "pa-tcm"):
        if (repo / "mappings" / f"{program}.yaml").is_file() and (repo / "examples" / program).is_dir():
            cases.append((repo / "mappings" / f"{program}.yaml", repo / "examples" / program))
    json_mapping = repo / "mappings" / "casemgmt-json-mt-cmp.yaml"
    if json_mapping.is_file():
        cases.append((json_mapping, repo / "examples" / "casemgmt-json"))
    for i, (mapping_path, input_dir) in enumerate(cases):
        map_input(load_mapping(mapping_path), input_dir, tmp_path / f"fast{i}", bundles=False)
        map_input(_without_fast_path(mapping_path), input_dir, tmp_path / f"slow{i}", bundles=False)
        assert _tree(tmp_path / f"fast{i}") == _tree(tmp_path / f"slow{i}"), mapping_path.name


def test_a_rerun_replaces_only_our_files_and_keeps_the_journal(tmp_path):
    """The staged output moves in over the previous run's files; the delivery journal and a person's own
    files in OUT stay, and no staging folder is left beside OUT."""
    mapping = load_mapping(FIXTURE / "mapping.yaml")
    out = tmp_path / "out"
    map_input(mapping, FIXTURE / "input", out)
    (out / "outbox.sqlite").write_bytes(b"journal")
    (out / "notes.txt").write_text("mine")
    (out / "bundles" / "Patient-gone.json").write_text("{}")   # a member no longer in the export
    first = _tree(out)
    map_input(mapping, FIXTURE / "input", out)
    second = _tree(out)
    assert (out / "outbox.sqlite").read_bytes() == b"journal" and (out / "notes.txt").read_text() == "mine"
    assert "bundles/Patient-gone.json" not in second
    assert {k: v for k, v in first.items() if k != "bundles/Patient-gone.json"} == second
    assert (out / "output.json").is_file() and (out / "report.html").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
