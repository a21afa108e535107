"""Issue 12 defect 8: an optional source file that is absent is a warning naming the file, and the rules
that need its data report "not evaluated: no stays in the input" instead of passing."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from fhiradapter.cli import cli

REPO = Path(__file__).resolve().parents[2]


def test_renamed_stays_file_is_a_warning_and_stay_rules_say_not_evaluated(tmp_path: Path) -> None:
    src = tmp_path / "in"
    shutil.copytree(REPO / "examples" / "pa-tcm", src)
    (src / "stays.csv").rename(src / "stays-2026.csv")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", "--program", "pa-tcm", str(src), "--out", str(out), "--no-progress"])
    assert "warning: stays.csv: not in the input folder, so no stays are mapped" in result.output
    # an absent file no pa-tcm rule needs (rosters.csv) is not worth a warning
    assert "rosters.csv: not in the input folder" not in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert any(w.startswith("stays.csv:") for w in summary["file_warnings"])
    findings = [json.loads(line) for line in (out / "findings.ndjson").read_text().splitlines()]
    findings = [f for f in findings if f["stage"] == "rules"]
    rules = {f["issue"]["details"]["coding"][0]["code"] for f in findings
             if "not evaluated: no stays in the input" in f["issue"]["details"]["text"]}
    assert rules == {"pa-tcm-post-discharge-contact", "pa-tcm-contact-during-admission", "pa-tcm-jail-eligibility",
                     "pa-tcm-discharge-planning-participation",
                     "pa-tcm-detention-35-days", "pa-tcm-detention-offsite"}
    # the planted stay findings are gone with the stays, but not silently
    assert not any(f["issue"]["details"]["coding"][0]["code"] == "pa-tcm-jail-eligibility"
                   and f["issue"]["severity"] == "error" for f in findings)


def test_absent_enrollments_file_is_a_warning_and_enrollment_rules_say_not_evaluated(tmp_path: Path) -> None:
    """Without enrollments.csv the discharge rules do not fall back to plan dates (issue 12 defect 2)."""
    src = tmp_path / "in"
    shutil.copytree(REPO / "examples" / "pa-tcm", src)
    (src / "enrollments.csv").unlink()
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", "--program", "pa-tcm", str(src), "--out", str(out), "--no-progress"])
    assert "warning: enrollments.csv: not in the input folder, so no enrollments are mapped" in result.output
    findings = [json.loads(line) for line in (out / "findings.ndjson").read_text().splitlines()]
    findings = [f for f in findings if f["stage"] == "rules"]
    by_rule: dict[str, set[str]] = {}
    for f in findings:
        if "not evaluated: no enrollment episode" in f["issue"]["details"]["text"]:
            assert f["issue"]["severity"] == "information"
            by_rule.setdefault(f["issue"]["details"]["coding"][0]["code"], set()).add(f["member"])
    members = len((src / "members.csv").read_text().splitlines()) - 1
    assert len(by_rule["pa-tcm-pre-discharge-meeting"]) == len(by_rule["pa-tcm-discharge-summary"]) == members
    # no discharge is guessed from a plan's end: the planted late discharge summary is not evaluated either
    assert not any(f["issue"]["details"]["coding"][0]["code"] in ("pa-tcm-discharge-summary", "pa-tcm-pre-discharge-meeting")
                   and f["issue"]["severity"] in ("error", "warning") for f in findings)
