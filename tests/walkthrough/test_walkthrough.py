"""docs/walkthrough.md, executed as written: its commands run and their output is the one shown."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "walkthrough.md"


def doc_commands() -> list[tuple[str, list[str]]]:
    """(command, output lines shown) of every `$ ` line in the doc's console blocks, in order."""
    found: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append((line[2:], []))
            elif found:
                found[-1][1].append(line)
    return found


def run_shell(command: str, walk: Path) -> tuple[int, list[str]]:
    env = dict(os.environ, WALK=str(walk), PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    text = (done.stdout + done.stderr).replace(str(walk), "$WALK")
    return done.returncode, text.splitlines()


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, list[str], list[str]]]:
    walk = tmp_path_factory.mktemp("walk")
    results = {}
    for command, shown in doc_commands():
        code, lines = run_shell(command, walk)
        results[command] = (code, lines, shown)
    results["$WALK"] = (0, [str(walk)], [])
    return results


def _one(results: dict[str, tuple[int, list[str], list[str]]], needle: str) -> tuple[int, list[str], list[str]]:
    matches = [r for c, r in results.items() if needle in c]
    assert len(matches) == 1, f"the walkthrough has no single command with {needle!r}"
    return matches[0]


def test_the_doc_shows_the_four_steps():
    commands = [c for c, _ in doc_commands()]
    assert any("generate.py" in c for c in commands)
    assert any("mapping check" in c and "typos.yaml" in c for c in commands)
    assert any(c.startswith("fhiradapter run ") for c in commands)


def test_commands_print_what_the_doc_shows(walkthrough):
    for command, (_code, lines, shown) in walkthrough.items():
        if command == "$WALK" or command.startswith("fhiradapter run "):
            continue   # the run's console is checked below by its meaning (its wording is not the point)
        assert lines == shown, f"`{command}` printed something else than docs/walkthrough.md shows"


def test_mapping_check_catches_the_five_planted_typos(walkthrough):
    code, lines, _ = _one(walkthrough, "typos.yaml")
    assert code == 2
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 5
    expected = [  # (what, file:line or file, path)
        ("'gendr'", "typos.yaml:53", "resources[2].template.gendr", "did you mean 'gender'"),
        ("not a dateTime", "typos.yaml:54", "resources[2].template.birthDate", "use $date"),
        ("is a list in FHIR", "typos.yaml:84", "resources[4].template.participant", "list item"),
        ("'StaffNP'", "typos.yaml:14", "sources.visits.columns", "did you mean 'StaffNPI'"),
        ("';'-delimited", "typos.yaml:13", "sources.visits", 'set delimiter: ";"'),
    ]
    for what, where, path, hint in expected:
        line = next((e for e in errors if what in e), None)
        assert line is not None, f"no error about {what}"
        assert f"{where}: {path}: " in line and hint in line
    # the typos are the only differences from the good mapping, which passes
    code, lines, _ = _one(walkthrough, "mapping check examples/walkthrough/mapping.yaml")
    assert code == 0 and "0 error(s)" in lines[-1]


def _read_run(walkthrough) -> tuple[int, Path]:
    code, _lines, _ = _one(walkthrough, "fhiradapter run ")
    return code, Path(walkthrough["$WALK"][1][0]) / "out"


def test_run_succeeds_with_every_row_accounted_for(walkthrough):
    code, out = _read_run(walkthrough)
    assert code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rows = summary["rows"]
    assert rows == {"read": 40, "mapped": 36, "rejected": 0, "skipped": 4}
    assert rows["read"] == rows["mapped"] + rows["rejected"] + rows["skipped"]
    assert summary["skipped"] == {"cancelled visit": 4}
    assert summary["resources"] == {"Encounter": 36, "Location": 1, "Organization": 1, "Patient": 8,
                                    "Practitioner": 3}
    # the shown console line says the same
    _c, lines, shown = _one(walkthrough, "fhiradapter run ")
    assert any("40 read = 36 mapped + 0 rejected + 4 skipped" in line for line in lines)


def _ndjson(out: Path, kind: str) -> list[dict]:
    return [json.loads(line) for line in (out / "ndjson" / f"{kind}.ndjson").read_text(encoding="utf-8").splitlines()]


def test_constant_and_distinct_resources_are_referenced(walkthrough):
    _code, out = _read_run(walkthrough)
    (agency,) = _ndjson(out, "Organization")
    (clinic,) = _ndjson(out, "Location")
    assert agency["meta"]["source"].endswith(":mapping.yaml:28")   # the template's line in the mapping
    patients = {f"Patient/{p['id']}" for p in _ndjson(out, "Patient")}
    staff = {f"Practitioner/{p['id']}" for p in _ndjson(out, "Practitioner")}
    assert {i["value"] for p in _ndjson(out, "Practitioner") for i in p["identifier"]} == {
        "1234567893", "1497758544", "1245319599"}
    for encounter in _ndjson(out, "Encounter"):
        assert encounter["serviceProvider"]["reference"] == f"Organization/{agency['id']}"
        assert encounter["location"][0]["location"]["reference"] == f"Location/{clinic['id']}"
        assert encounter["subject"]["reference"] in patients
        assert encounter["participant"][0]["individual"]["reference"] in staff
        assert re.fullmatch(r"2026-03-\d\dT\d\d:\d\d:00-0[56]:00", encounter["period"]["start"])


def test_a_second_run_is_byte_identical(walkthrough, tmp_path):
    code, out = _read_run(walkthrough)
    command = next(c for c in walkthrough if c.startswith("fhiradapter run ")).replace("$WALK/out", str(tmp_path / "again"))
    again_code, _ = run_shell(command, Path(walkthrough["$WALK"][1][0]))
    assert again_code == code == 0
    first = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and p.suffix != ".sqlite"}
    second = {p.relative_to(tmp_path / "again"): p.read_bytes() for p in sorted((tmp_path / "again").rglob("*"))
              if p.is_file() and p.suffix != ".sqlite"}
    assert first == second


def test_run_writes_report_and_bulk_manifest(walkthrough):
    _code, out = _read_run(walkthrough)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "visits.csv" in report and "cancelled visit" in report
    assert "<script src=\"http" not in report   # self-contained
    manifest = json.loads((out / "output.json").read_text(encoding="utf-8"))
    counts = {item["type"]: item["count"] for item in manifest["output"]}
    assert counts["Encounter"] == 36 and counts["Organization"] == 1
    assert "transactionTime" in manifest and isinstance(manifest["error"], list)


def test_the_golden_test_data_is_the_generators_output_and_passes(tmp_path):
    code, _ = run_shell(f"python examples/walkthrough/generate.py {tmp_path}", tmp_path)
    assert code == 0
    committed = ROOT / "examples" / "walkthrough" / "tests" / "input" / "visits.csv"
    assert (tmp_path / "visits.csv").read_bytes() == committed.read_bytes(), \
        "regenerate: python examples/walkthrough/generate.py examples/walkthrough/tests/input"
    code, lines = run_shell("fhiradapter mapping test examples/walkthrough/mapping.yaml", tmp_path)
    assert code == 0 and lines[-1] == "1 passed, 0 failed"
