"""The programs table (fhiradapter/programs.py): each program's agency time zone is the default of
`rules check`, `validate` and run_rules; --timezone overrides it (issue 12, defect 4)."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from fhiradapter import canonical
from fhiradapter.cli.rules import rules
from fhiradapter.cli.validate import validate
from fhiradapter.programs import PROGRAM_TABLE, timezone_for
from fhiradapter.rules import RULE_MODULES, RuleConfig, run_rules
from rules_factories import contact, patient, practitioner, setting

RULE = "dc-cs-no-same-day-act"


def _dc_record() -> tuple[list[dict], dict, dict]:
    """A DC member: a false same-day clash in Denver (CS 23:30, ACT 01:00 next day New York time) and a
    real one Denver misses (CS 00:30 and ACT 10:00 on the same New York day)."""
    false_cs = contact("dc-cs", "2026-02-02T23:30:00-05:00", where=setting("home"))
    false_act = contact("dc-act", "2026-02-03T01:00:00-05:00")
    real_cs = contact("dc-cs", "2026-02-05T00:30:00-05:00", where=setting("home"))
    real_act = contact("dc-act", "2026-02-05T10:00:00-05:00")
    return [patient(), practitioner("prac-1", "licsw"), false_cs, false_act, real_cs, real_act], false_cs, real_cs


def test_table_drives_program_ids_rule_modules_and_zones() -> None:
    assert canonical.PROGRAMS == tuple(p.id for p in PROGRAM_TABLE)
    assert all(p.rule_module in RULE_MODULES for p in PROGRAM_TABLE)
    zones = {p.id: p.timezone for p in PROGRAM_TABLE}
    assert zones == {"mt-cmp": "America/Denver", "mt-imr": "America/Denver", "dc-cs": "America/New_York",
                     "ma-csp": "America/New_York", "pa-tcm": "America/New_York"}
    assert timezone_for({"dc-cs"}) == "America/New_York"
    assert all("txt" not in p.citation for p in PROGRAM_TABLE)   # public titles, not seed file names


def test_run_rules_judges_a_dc_record_in_new_york_time_by_default() -> None:
    record, _false_cs, real_cs = _dc_record()
    found = [i for i in run_rules(record, config=RuleConfig(as_of=date(2026, 3, 1))) if i.rule == RULE]
    assert [i.expression for i in found] == [f"Encounter.where(id='{real_cs['id']}').period.start"]
    # the option overrides the table: Denver sees the other clash and misses the real one
    denver = [i for i in run_rules(record, config=RuleConfig(as_of=date(2026, 3, 1), timezone="America/Denver"))
              if i.rule == RULE]
    assert real_cs["id"] not in " ".join(i.expression or "" for i in denver) and len(denver) == 1


def test_rules_check_and_validate_default_to_the_program_zone(tmp_path: Path) -> None:
    record, false_cs, real_cs = _dc_record()
    path = tmp_path / "member.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in record]}),
                    encoding="utf-8")
    checked = CliRunner().invoke(rules, ["check", str(path), "--as-of", "2026-03-01"])
    lines = [line for line in checked.output.splitlines() if RULE in line]
    assert len(lines) == 1 and real_cs["id"] in lines[0], checked.output
    overridden = CliRunner().invoke(rules, ["check", str(path), "--as-of", "2026-03-01", "--timezone", "America/Denver"])
    lines = [line for line in overridden.output.splitlines() if RULE in line]
    assert len(lines) == 1 and false_cs["id"] in lines[0], overridden.output
    validated = CliRunner().invoke(validate, [str(path)])
    lines = [line for line in validated.output.splitlines() if RULE in line]
    assert len(lines) == 1 and "entry[4]" in lines[0], validated.output
