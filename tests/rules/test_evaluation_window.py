"""Issue 12 defect 3: the evaluation date is the export's end (the latest date of the whole input, or a
setting), not each member's own latest record; every finding says which period was judged."""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from click.testing import CliRunner

from fhiradapter.cli.rules import rules
from fhiradapter.rules import RuleConfig, run_rules
from rules_factories import billing, contact, episode, plan

BILL = billing(unit="per-diem", bundled=True)


def _member(pid: str, last: date) -> list[dict]:
    """An mt-cmp member enrolled from 2026-01-05 (open plan) with a weekly contact up to `last`."""
    ref = {"reference": f"Patient/{pid}"}
    items = [{"resourceType": "Patient", "id": pid}, plan("mt-cmp", "itp", "2026-01-05"), episode("mt-cmp", "2026-01-05")]
    day = date(2026, 1, 6)
    while day <= last:
        items.append(contact("mt-cmp", f"{day.isoformat()}T10:00:00-07:00", bill=BILL))
        day += timedelta(days=7)
    for res in items[1:]:
        res["patient" if res["resourceType"] == "EpisodeOfCare" else "subject"] = ref
    return items


def test_a_member_whose_contacts_stop_early_is_judged_to_the_export_end(tmp_path: Path) -> None:
    active, stopped = _member("a", date(2026, 4, 21)), _member("b", date(2026, 2, 10))
    path = tmp_path / "export.ndjson"
    path.write_text("\n".join(json.dumps(r) for r in active + stopped) + "\n", encoding="utf-8")
    result = CliRunner().invoke(rules, ["check", str(path), "--data-from", "none"])
    lines = [line for line in result.output.splitlines() if "mt-cmp-weekly-quality-contact" in line]
    # member b: no contact from the week of 2026-02-16 to the export's end (2026-04-21); member a is clean
    assert len(lines) == 1 and stopped[3]["id"] not in lines[0] and "period judged: up to 2026-04-21" in lines[0]
    assert result.exit_code == 1
    # alone, member b's record is judged up to its own last record: the silent pass the default avoids
    alone = run_rules(stopped, config=RuleConfig())
    assert not [i for i in alone if i.rule == "mt-cmp-weekly-quality-contact"]
    # a set export end judges to it
    set_end = run_rules(stopped, config=RuleConfig(export_end=date(2026, 3, 15)))
    found = [i for i in set_end if i.rule == "mt-cmp-weekly-quality-contact"]
    assert len(found) == 1 and "period judged: up to 2026-03-15" in found[0].message
