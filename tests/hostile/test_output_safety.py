"""Nothing is written, overwritten or deleted outside the output folder, whatever the records hold
or the output folder contains; and one resource never comes from two rows."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fhiradapter.cli import cli
from fhiradapter.mapping.errorfile import read_errors

FIXTURE = Path(__file__).parents[1] / "mapping" / "fixtures" / "example"
REPO = Path(__file__).parents[2]

MEMBER_FROM_CELL = """\
fhiradapter-mapping: 1
id: hostile
version: 1.0.0
agency: hostile-agency
timezone: America/New_York
sources:
  members: {file: members.csv}
  notes: {file: notes.csv}
resources:
  - name: patient
    source: members
    key: {$col: member_id}
    template:
      resourceType: Patient
  - name: note
    source: notes
    key: {$col: note_id}
    member: {$concat: ["Group/", {$col: member}]}
    template:
      resourceType: Communication
      status: completed
      subject: {reference: {$concat: ["Group/", {$col: member}]}}
"""


def _map(mapping: Path, input_dir: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["map", "--mapping", str(mapping), str(input_dir),
                                      "--out", str(out), *extra])
    return result.exit_code, result.output


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_a_cell_in_the_member_reference_cannot_choose_a_path(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "m.yaml").write_text(MEMBER_FROM_CELL)
    # the member is a Group no template maps, so the rows with well-formed ids are not held back as
    # orphans: their Bundle file names are what is under test
    (tmp_path / "in" / "members.csv").write_text("member_id\nM1\n")
    hostile = ["../../../escaped", "/tmp/abs", "a/b", "x" * 65, "..", "ok.id-1"]
    (tmp_path / "in" / "notes.csv").write_text("note_id,member\n" + "".join(
        f'N{i},"{m}"\n' for i, m in enumerate(hostile)))
    out = tmp_path / "deep" / "er" / "out"
    before = _files(tmp_path)
    code, text = _map(tmp_path / "m.yaml", tmp_path / "in", out)
    assert code == 1, text
    created = _files(tmp_path) - before
    assert all(c.startswith("deep") for c in created), created
    errors = list(read_errors(out / "errors.ndjson"))
    assert [e["line"] for e in errors] == [2, 3, 4, 5]
    assert all("member reference is not Type/id" in e["issues"][0]["message"] for e in errors)
    assert {"Group-ok.id-1.json", "Group-...json"} <= {p.name for p in (out / "bundles").iterdir()}
    for text_out in (out / "errors.ndjson").read_text(), text:
        assert "escaped" not in text_out and "/tmp/abs" not in text_out


def test_planted_links_in_the_output_are_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "Patient.ndjson").write_text("keep me")
    (victim / "precious.json").write_text("keep me too")
    (victim / "summary.json").write_text("mine")
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(victim / "summary.json", out / "summary.json")
    os.symlink(victim / "summary.json", out / "summary.json.tmp")
    os.symlink(victim / "Patient.ndjson", out / "errors.ndjson")
    code, text = _map(FIXTURE / "mapping.yaml", FIXTURE / "input", out)
    assert code in (0, 1), text
    assert (victim / "summary.json").read_text() == "mine"
    assert (victim / "Patient.ndjson").read_text() == "keep me"
    assert not (out / "summary.json").is_symlink() and json.loads((out / "summary.json").read_text())["rows"]

    shutil.rmtree(out / "ndjson")
    os.symlink(victim, out / "ndjson")          # a link to a folder elsewhere: refused, nothing deleted
    code, text = _map(FIXTURE / "mapping.yaml", FIXTURE / "input", out)
    assert code == 2 and "symbolic link" in text
    assert sorted(p.name for p in victim.iterdir()) == ["Patient.ndjson", "precious.json", "summary.json"]
    assert (victim / "Patient.ndjson").read_text() == "keep me"

    os.unlink(out / "ndjson")
    shutil.rmtree(out / "bundles")
    os.symlink(victim, out / "bundles")
    code, text = _map(FIXTURE / "mapping.yaml", FIXTURE / "input", out)
    assert code == 2 and "symbolic link" in text
    assert (victim / "precious.json").read_text() == "keep me too"


def test_mapping_test_update_never_deletes_outside_the_mapping_folder(tmp_path: Path) -> None:
    folder = tmp_path / "mapping"
    shutil.copytree(FIXTURE, folder)
    victim = tmp_path / "victim"
    (victim / "ndjson").mkdir(parents=True)
    (victim / "ndjson" / "data.ndjson").write_text("keep")
    text = (folder / "mapping.yaml").read_text()
    assert "expect:" in text
    for target in ("../victim", str(victim)):
        hostile = folder / "hostile.yaml"
        lines = [line if "expect:" not in line else line.split("expect:")[0] + f"expect: {target}"
                 for line in text.splitlines()]
        hostile.write_text("\n".join(lines) + "\n")
        result = CliRunner().invoke(cli, ["mapping", "test", str(hostile), "--update"])
        assert result.exit_code == 2, result.output
        assert "outside the mapping's folder" in result.output
        assert (victim / "ndjson" / "data.ndjson").read_text() == "keep"


def test_duplicate_source_keys_are_row_errors_not_duplicate_bundle_entries(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(FIXTURE / "input", folder)
    contacts = (folder / "contacts.csv").read_text().splitlines(keepends=True)
    second = next(i for i, line in enumerate(contacts) if line.startswith("C2,"))
    contacts.append(contacts[second])     # the same contact again, at the end
    (folder / "contacts.csv").write_text("".join(contacts))
    out = tmp_path / "out"
    code, text = _map(FIXTURE / "mapping.yaml", folder, out)
    assert code == 1
    errors = list(read_errors(out / "errors.ndjson"))
    dup = [e for e in errors if e["issues"][0]["code"] == "duplicate"]
    assert len(dup) == 1 and f"already used by line {second + 1}" in dup[0]["issues"][0]["message"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows"]["read"] == summary["rows"]["mapped"] + summary["rows"]["rejected"]
    for bundle in (out / "bundles").iterdir():
        entries = json.loads(bundle.read_text())["entry"]
        urls = [e["request"]["url"] for e in entries]
        assert len(urls) == len(set(urls)), bundle.name


def test_shipped_json_mapping_with_the_clients_key_renamed_fails(tmp_path: Path) -> None:
    folder = tmp_path / "cj"
    shutil.copytree(REPO / "examples" / "casemgmt-json", folder)
    export = folder / "casemgmt-export.json"
    export.write_text(export.read_text().replace('"clients"', '"customers"'))
    code, text = _map(REPO / "mappings" / "casemgmt-json-mt-cmp.yaml", folder, tmp_path / "out")
    assert code == 1
    assert "record_path 'clients[*]' matches nothing in this document" in text


def test_a_resource_id_that_is_no_fhir_id_is_a_row_error_before_any_path(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids are generated (a template cannot set one); should that ever change, an id that would
    name a path or URL (`../x`) rejects its row instead of being written."""
    from fhiradapter.mapping import engine
    monkeypatch.setattr(engine, "uuid5_text", lambda text: "../" + text[-8:])
    out = tmp_path / "out"
    before = _files(tmp_path)
    code, text = _map(FIXTURE / "mapping.yaml", FIXTURE / "input", out)
    assert code == 1
    assert all(c.startswith("out") for c in _files(tmp_path) - before)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["resources"] == {}
    assert "the resource id is not a valid FHIR id" in (out / "errors.ndjson").read_text()
    assert not (out / "bundles").exists() or not list((out / "bundles").iterdir())
