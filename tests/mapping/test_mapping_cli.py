"""The CLI: map, run (one program and all), mapping check/explain/test, exit codes."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from fhiradapter.cli import cli
from fhiradapter.provenance import build_source, parse_source, source_of
from fhiradapter.mapping.errorfile import read_errors

FIXTURE = Path(__file__).parent / "fixtures" / "example"
MAPPING = str(FIXTURE / "mapping.yaml")
INPUT = str(FIXTURE / "input")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_map_reports_bad_rows_by_file_and_line_and_exits_1(tmp_path):
    result = invoke("map", "--mapping", MAPPING, INPUT, "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "rejected contacts.csv:6 column 'mode' at Encounter.type[0].coding[0].code" in result.stdout
    assert "rows: 10 read = 8 mapped + 2 rejected" in result.stdout
    assert (tmp_path / "summary.json").is_file() and (tmp_path / "ndjson" / "Encounter.ndjson").is_file()


def test_map_exit_0_when_every_row_maps(tmp_path):
    src = tmp_path / "in"
    shutil.copytree(FIXTURE / "input", src)
    lines = (src / "contacts.csv").read_text().splitlines(keepends=True)
    (src / "contacts.csv").write_text("".join(lines[:5]))   # drop the two bad rows
    result = invoke("map", "--mapping", MAPPING, str(src), "--out", str(tmp_path / "out"), "--no-bundles")
    assert result.exit_code == 0, result.stdout
    assert not (tmp_path / "out" / "bundles").exists()


def test_map_usage_errors_exit_2(tmp_path):
    assert invoke("map", "--mapping", MAPPING, str(tmp_path / "nope"), "--out", str(tmp_path)).exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("fhiradapter-mapping: 1\nid: x\n")
    result = invoke("map", "--mapping", str(bad), INPUT, "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "bad.yaml" in result.stderr


def test_check_with_input_finds_unknown_columns(tmp_path):
    src = tmp_path / "in"
    shutil.copytree(FIXTURE / "input", src)
    text = (src / "contacts.csv").read_text().replace("duration_min", "minutes", 1)
    (src / "contacts.csv").write_text(text)
    result = invoke("mapping", "check", MAPPING, "--input", str(src))
    assert result.exit_code == 1
    line = next(line for line in result.stdout.splitlines() if "'duration_min'" in line)
    # the mapping file and line of the source, and where the mapping reads the column
    assert line.startswith("error: ") and "mapping.yaml:14: sources.contacts: column 'duration_min' (template " in line
    assert line.endswith("at Encounter.period.end) is not in the header of contacts.csv")
    assert invoke("mapping", "check", MAPPING).exit_code == 0


def test_explain_lists_columns_and_elements():
    result = invoke("mapping", "explain", MAPPING, "--json")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {"template": "contact", "resourceType": "Encounter", "file": "contacts.csv", "columns": "contacts.mode",
            "element": "Encounter.type[0].coding[0].code", "via": "lookup contact_mode"} in rows
    assert any(r["columns"] == "plan_activities.component" for r in rows)


def test_mapping_test_passes_and_reports_diffs(tmp_path):
    assert invoke("mapping", "test", MAPPING).exit_code == 0
    copy = tmp_path / "example"
    shutil.copytree(FIXTURE, copy)
    enc = copy / "expected" / "ndjson" / "Encounter.ndjson"
    enc.write_text(enc.read_text().replace("-05:00", "+00:00", 1))
    result = invoke("mapping", "test", str(copy / "mapping.yaml"))
    assert result.exit_code == 1
    assert "--- expected/ndjson/Encounter.ndjson" in result.stdout and "FAIL: example export" in result.stdout


def test_run_single_program_validates(tmp_path):
    result = invoke("run", "--program", "mt-cmp", INPUT, "--mapping", MAPPING, "--out", str(tmp_path))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert result.exit_code == 1
    assert summary["rows"]["read"] == summary["rows"]["mapped"] + summary["rows"]["rejected"]
    # the fixture's contacts lack serviceProvider, which the mt-cmp Encounter profile requires
    errors = list(read_errors(tmp_path / "errors.ndjson"))
    stages = {(e["file"], e["line"]): e["stage"] for e in errors}
    assert stages[("contacts.csv", 2)] == "validate"
    assert stages[("contacts.csv", 6)] == "map"
    assert all(i["message"].startswith("contacts.csv:2") for e in errors if e["line"] == 2 for i in e["issues"])
    assert (tmp_path / "findings.ndjson").is_file()


def test_run_all_programs_uses_subfolders(tmp_path, monkeypatch):
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    shutil.copy(FIXTURE / "mapping.yaml", mappings / "mt-cmp.yaml")
    examples = tmp_path / "examples"
    shutil.copytree(FIXTURE / "input", examples / "mt-cmp")
    monkeypatch.setattr("fhiradapter.paths.mappings_dir", lambda: mappings)
    result = invoke("run", "--program", "all", str(examples), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert (tmp_path / "out" / "mt-cmp" / "summary.json").is_file()
    assert "[mt-imr] error: input folder" in result.stderr
    assert "[mt-cmp] rows:" in result.stdout


def test_meta_source_round_trip(tmp_path):
    invoke("map", "--mapping", MAPPING, INPUT, "--out", str(tmp_path))
    first = json.loads((tmp_path / "ndjson" / "Encounter.ndjson").read_text().splitlines()[1])
    origin = source_of(first)
    assert (origin.mapping_id, origin.mapping_version, origin.file, origin.line) == ("example-contacts", "1.0.0",
                                                                                   "contacts.csv", 4)
    uri = build_source("m", "2.0", "sub dir/a:b.csv", 9)
    assert uri == "urn:fhiradapter:m:2.0:sub%20dir/a%3Ab.csv:9"
    assert parse_source(uri).file == "sub dir/a:b.csv"
    assert parse_source("urn:other:x") is None and parse_source("urn:fhiradapter:m:1:f.csv:x") is None
def test_progress_bar_on_request_goes_to_stderr(tmp_path):
    result = invoke("map", "--mapping", MAPPING, INPUT, "--out", str(tmp_path), "--progress")
    assert result.exit_code == 1
    # click draws the bar only on a terminal; elsewhere it prints the label once, on stderr
    assert result.stderr.startswith("mapping")
    assert not result.stdout.startswith("mapping")


def test_run_twice_gives_identical_files(tmp_path):
    for name in ("a", "b"):
        invoke("run", "--program", "mt-cmp", INPUT, "--mapping", MAPPING, "--out", str(tmp_path / name))
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files and all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file()) == files


def test_unwritable_output_is_a_usage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = invoke("map", "--mapping", MAPPING, INPUT, "--out", str(blocker / "out"))
    assert result.exit_code == 2 and "cannot write the output" in result.stderr




# -- one grammar for map and run (issue 17 §3) -----------------------------------------------------------

def test_map_and_run_take_input_the_same_way_and_the_old_spelling_still_works(tmp_path):
    new = invoke("map", INPUT, "--mapping", MAPPING, "--out", str(tmp_path / "new"))
    old = invoke("map", "--mapping", MAPPING, "--input", INPUT, "--out", str(tmp_path / "old"))
    assert new.exit_code == old.exit_code == 1          # the fixture has planted bad rows
    assert "deprecated" not in new.stderr
    assert "note: `--input DIR` is deprecated; give the export folder as INPUT" in old.stderr
    assert (tmp_path / "new" / "ndjson").is_dir() and (tmp_path / "old" / "ndjson").is_dir()
    both = invoke("map", INPUT, "--input", INPUT, "--mapping", MAPPING, "--out", str(tmp_path / "x"))
    assert both.exit_code == 2 and "give the export folder once" in both.output


def test_run_with_mapping_takes_the_program_from_it(tmp_path):
    result = invoke("run", INPUT, "--mapping", MAPPING, "--out", str(tmp_path))
    assert result.exit_code == 1, result.output        # ran (rows rejected), no usage error
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["program"] == "mt-cmp" and summary["validation"] == "profiles+rules"
    assert (tmp_path / "findings.ndjson").is_file()


def test_run_without_program_names_what_is_missing(tmp_path):
    bare = tmp_path / "bare.yaml"
    bare.write_text(Path(MAPPING).read_text().replace("program: mt-cmp\ntimezone", "timezone"))
    result = invoke("run", INPUT, "--mapping", str(bare), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "give --program ID: the mapping" in result.output
    result = invoke("run", INPUT, "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "give --program ID (or --mapping FILE" in result.output


def test_console_counts_rejected_rows_as_errors_ndjson_does(tmp_path, monkeypatch):
    from fhiradapter.cli import mapping as cli_mapping
    monkeypatch.setattr(cli_mapping, "MAX_PRINTED_ERRORS", 1)
    result = invoke("map", INPUT, "--mapping", MAPPING, "--out", str(tmp_path))
    rows = [e for e in read_errors(tmp_path / "errors.ndjson") if e["line"] is not None]
    assert len(rows) >= 2
    printed = [line for line in result.stdout.splitlines() if line.startswith("rejected ")]
    assert len(printed) == 1
    assert f"... {len(rows) - 1} more rejected rows in {tmp_path / 'errors.ndjson'}" in result.stdout
