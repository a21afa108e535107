"""The second export shape (nested case-management JSON, examples/casemgmt-json) through the engine."""
from __future__ import annotations

import json
from pathlib import Path


from fhiradapter.mapping.loader import load_mapping
from fhiradapter.mapping.run import map_input
from fhiradapter.mapping.errorfile import read_errors

REPO = Path(__file__).resolve().parents[2]
MAPPING = REPO / "mappings" / "casemgmt-json-mt-cmp.yaml"
EXPORT = REPO / "examples" / "casemgmt-json" / "casemgmt-export.json"



def _lines(path: Path) -> list[str]:
    return path.read_text("utf-8").splitlines()


def test_nested_export_maps_with_real_line_numbers(tmp_path):
    summary = map_input(load_mapping(MAPPING), EXPORT.parent, tmp_path)
    rows = summary["rows"]
    assert rows["read"] == rows["mapped"] + rows["rejected"] and rows["read"] > 300
    text = _lines(EXPORT)
    encounters = [json.loads(x) for x in _lines(tmp_path / "ndjson" / "Encounter.ndjson")]
    for encounter in encounters[:50]:
        line = int(encounter["meta"]["source"].rsplit(":", 1)[1])
        assert text[line - 1].strip().startswith("{")          # the visit object starts on that line
        assert encounter["subject"]["reference"].startswith("Patient/")
        assert encounter["period"]["start"][-6:] in ("-07:00", "-06:00")   # America/Denver, across DST


def test_bad_nested_record_is_rejected_with_its_line_and_pointer(tmp_path):
    doc = json.loads(EXPORT.read_text("utf-8"))
    visit = doc["clients"][0]["enrollments"][0]["visits"][1]
    visit["how"] = "hologram"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / EXPORT.name).write_text(json.dumps(doc, indent=1), "utf-8")
    summary = map_input(load_mapping(MAPPING), tmp_path / "in", tmp_path / "out")
    errors = list(read_errors(tmp_path / "out" / "errors.ndjson"))
    assert summary["rows"]["rejected"] == 1 and len(errors) == 1
    (error,) = errors
    assert error["record"] == "clients[0].enrollments[0].visits[1]"
    line = _lines(tmp_path / "in" / EXPORT.name)[error["line"] - 1]
    assert line.strip() == "{"
    issue = error["issues"][0]
    assert issue["code"] == "code-invalid" and issue["column"] == "how"
    assert issue["message"].startswith(f"{EXPORT.name}:{error['line']} column 'how' at Encounter.")
    assert "hologram" not in issue["message"]
