"""The program rules over the mapped examples report the planted violations, and nothing else:
the example data is compliant apart from what examples/README.md lists."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from fhiradapter.canonical import PROGRAMS

from .support import EXAMPLES, documented, planted_findings, records_by_line, resources

TIMEZONE = {"mt-cmp": "America/Denver", "mt-imr": "America/Denver"}
EXPORTED_ON = date(2026, 4, 27)   # the day after the examples' last day


def member_records(out: Path) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """Resources per member (Patient reference) with the shared reference data added to each,
    and the member key (agency member_id) of each Patient reference."""
    members: dict[str, list[dict]] = defaultdict(list)
    shared, keys = [], {}
    for r in resources(out):
        if r["resourceType"] == "Patient":
            ref = f"Patient/{r['id']}"
            members[ref].append(r)
            keys[ref] = r["identifier"][0]["value"]
            continue
        ref = (r.get("subject") or r.get("patient") or {}).get("reference")
        (members[ref] if ref else shared).append(r)
    return {ref: rs + shared for ref, rs in members.items()}, keys


def member_of_row(program: str, file: str, line: int) -> str:
    return records_by_line(EXAMPLES / program / file)[line]["member_id"]


@pytest.mark.parametrize("program", PROGRAMS)
def test_rules_report_exactly_the_planted_violations(program: str, mapped: dict[str, Path]) -> None:
    rules = pytest.importorskip("fhiradapter.rules")
    config = rules.RuleConfig(timezone=TIMEZONE.get(program, "America/New_York"), as_of=EXPORTED_ON)
    records, keys = member_records(mapped[program])
    found: set[tuple[str, str]] = set()
    for ref, rs in records.items():
        for issue in rules.run_rules(rs, programs={program}, config=config):
            if issue.severity in ("error", "warning") and issue.rule:
                found.add((keys.get(ref, ref), issue.rule))
    expected = {(f.member, f.rule) for f in planted_findings() if f.program == program}
    bad, _ = documented("validate")
    # `map` output still holds the rows validation would reject; their rules report them.
    expected |= {(member_of_row(program, b.file, b.line), b.rule) for b in bad if b.program == program}
    team_rules = {rule for member, rule in expected if member.startswith("(team")}
    expected = {(m, r) for m, r in expected if r not in team_rules}
    for rule in team_rules:       # a roster finding is reported in every member record that holds the rosters
        assert any(r == rule for _, r in found), f"{rule} not reported"
    found = {(m, r) for m, r in found if r not in team_rules}
    assert sorted(expected - found) == [], "planted violations the rules do not report"
    assert sorted(found - expected) == [], "findings on data that should be compliant"
