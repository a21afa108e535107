"""`run` gives the program rules each member's record together with the shared resources
(practitioners, organizations, team rosters) that no member owns, as the rules need them."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from fhiradapter.cli import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _rule_findings(out: Path) -> list[dict]:
    lines = (out / "findings.ndjson").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["stage"] == "rules"]


def _rule_id(record: dict) -> str:
    return record["issue"]["details"]["coding"][0]["code"]


def test_dc_cs_practitioner_qualifications_are_checked_in_run(tmp_path):
    CliRunner().invoke(cli, ["run", "--program", "dc-cs", str(EXAMPLES / "dc-cs"), "--out", str(tmp_path)])
    findings = _rule_findings(tmp_path)
    texts = [f["issue"]["details"]["text"] for f in findings]
    assert not [t for t in texts if "not in the member record" in t]
    # examples/README.md plants credentialed staff without a supervisor (001 §3418.12)
    planted = [f for f in findings if _rule_id(f) == "dc-cs-qualified-practitioner"]
    assert planted and all(f["issue"]["severity"] == "error" and f["file"] == "contacts.csv" for f in planted)


def test_mt_cmp_team_roster_share_runs_in_run(tmp_path):
    CliRunner().invoke(cli, ["run", "--program", "mt-cmp", str(EXAMPLES / "mt-cmp"), "--out", str(tmp_path)])
    shares = [f for f in _rule_findings(tmp_path) if _rule_id(f) == "mt-cmp-team-cmp-share"]
    assert len(shares) == 1   # examples/README.md plants one over-20% team roster (000 Provider Req. (4))
