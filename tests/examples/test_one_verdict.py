"""Issue 12 defect 7: `run` and `validate` give one verdict per member record, and `validate DIR`
skips the reports `run` writes beside the FHIR output."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .support import EXAMPLES, run_cli


@pytest.fixture(scope="module")
def dc_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dc")
    code, output = run_cli(["run", "--program", "dc-cs", str(EXAMPLES / "dc-cs"), "--out", str(out), "--no-progress"])
    assert code == 1, output
    return out


def _counts(output: str) -> tuple[int, int]:
    found = re.search(r"(\d+) error\(s\), (\d+) warning\(s\)", output)
    assert found, output
    return int(found.group(1)), int(found.group(2))


def test_validate_of_run_output_agrees_with_run(dc_out: Path) -> None:
    summary = json.loads((dc_out / "summary.json").read_text())
    # Practitioners sit only in the shared Bundle: validate reads them for every member, as run does
    for folder in ("bundles", "ndjson"):
        code, output = run_cli(["validate", str(dc_out / folder)])
        assert _counts(output) == (summary["findings"]["error"], summary["findings"]["warning"]), folder
        assert "performers of" not in output   # no 'performer not in the record' warnings
    # the folder itself: the reports are skipped, not called invalid FHIR
    code, output = run_cli(["validate", str(dc_out), "--min-severity", "error"])
    for name in ("summary.json", "errors.ndjson", "findings.ndjson", "output.json"):
        assert name not in output


def test_a_team_finding_is_reported_once_by_validate(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    run_cli(["run", "--program", "mt-cmp", str(EXAMPLES / "mt-cmp"), "--out", str(out), "--no-progress"])
    summary = json.loads((out / "summary.json").read_text())
    code, output = run_cli(["validate", str(out / "bundles")])
    assert output.count("mt-cmp-team-cmp-share") == 1
    assert _counts(output) == (summary["findings"]["error"], summary["findings"]["warning"])
