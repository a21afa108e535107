"""The run report's weekly counts are kept compactly (issue 18: one array per member, not a dict of
dates); they must read exactly as counting {Monday: contacts} per member would, with Encounters taken
out again (held back) and weeks before a member's first one."""
from __future__ import annotations

import random
from datetime import date, timedelta

from fhiradapter.canonical import profile_url
from fhiradapter.report.collect import WeeklyCounts


def test_counts_read_as_contacts_per_member_per_week() -> None:
    rng = random.Random(3)
    counted, profile = WeeklyCounts("mt-cmp"), profile_url("mt-cmp", "Encounter")
    expected: dict[str, dict[date, int]] = {}
    written: list[dict[str, object]] = []
    for _ in range(5000):
        if written and rng.random() < 0.3:
            encounter, step = written.pop(rng.randrange(len(written))), -1
        else:
            day = date(2024, 1, 1) + timedelta(days=rng.randrange(500))
            encounter = {"meta": {"profile": [profile]}, "subject": {"reference": f"Patient/M{rng.randrange(80)}"},
                         "period": {"start": f"{day.isoformat()}T09:00:00-07:00"}}
            step = 1
            written.append(encounter)
        counted.add(encounter, step)
        day = date.fromisoformat(encounter["period"]["start"][:10])  # type: ignore[index]
        member = encounter["subject"]["reference"]  # type: ignore[index]
        weeks = expected.setdefault(member, {})
        week = day - timedelta(days=day.weekday())
        if weeks.get(week, 0) + step > 0:
            weeks[week] = weeks.get(week, 0) + step
        else:
            weeks.pop(week, None)
            if not weeks:
                del expected[member]
    table = counted.counts
    assert list(table) == sorted(expected)
    assert {member: table[member] for member in table} == expected
    every_week = [week for weeks in expected.values() for week in weeks]
    assert table.first_and_last() == (min(every_week), max(every_week))   # the report's columns
    # an Encounter of another profile, or with no start, is not counted
    counted.add({"meta": {"profile": ["x"]}, "subject": {"reference": "Patient/Z"}, "period": {"start": "2024-01-01"}})
    counted.add({"meta": {"profile": [profile]}, "subject": {"reference": "Patient/Z"}})
    assert "Patient/Z" not in counted.counts
