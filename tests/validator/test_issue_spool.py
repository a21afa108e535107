"""`validate` with program rules holds each NDJSON input's issues, and the rule findings, until every
input is read; past a bound they go to temporary files (issue 18: memory flat from 100,000 to 1,000,000
resources) and the report is the same as when everything is held in memory."""
from __future__ import annotations

import pickle
import random
from pathlib import Path

import pytest

from fhiradapter.outcome import Issue
from fhiradapter.validator import Validator, spool
from fhiradapter.validator.runner import Groups, check_path, run_member_rules
from fhiradapter.validator.spool import IssueSpool, OrderedSpool

from test_member_spill import _inputs as _member_inputs  # noqa: E402  (beside this file)


def _inputs(tmp_path: Path) -> list[str]:
    return _member_inputs(tmp_path, errors=True)


def _report(files: list[str]) -> tuple[list[tuple[object, ...]], list[int]]:
    v = Validator(rules=True)
    groups = Groups()
    results = {}
    for f in files:
        result = check_path(v, f, groups=groups)
        results[result.source] = result
    run_member_rules(v, groups, None, results)
    spilled = [r.issues._spilled for r in results.values()]   # type: ignore[attr-defined]
    return [(i.source, i.line, i.severity, i.rule, i.expression, i.message)
            for r in results.values() for i in r.issues], spilled


def test_spooled_issues_and_findings_give_the_same_report_as_when_held_in_memory(tmp_path, monkeypatch):
    files = _inputs(tmp_path)
    expected, spilled = _report(files)
    assert not any(spilled)
    assert any(i[3] and i[2] == "error" for i in expected)            # profile errors were found
    assert any("period judged" in str(i[5]) for i in expected)        # and program rule findings
    monkeypatch.setattr(spool, "IN_MEMORY", 5)     # a few in memory, the rest in temporary files
    got, spilled = _report(files)
    assert all(spilled)
    assert got == expected


def test_a_spool_counts_iterates_and_pickles_every_issue_in_order():
    issues = [Issue("error", "value", f"message {n}", rule=f"r{n}") for n in range(23)]
    held = IssueSpool(limit=4)
    for issue in issues[:10]:
        held.append(issue)
    held.extend(issues[10:])
    assert len(held) == 23 and held
    assert [i.message for i in held] == [i.message for i in issues]
    assert any(i.is_error for i in held)
    copy = pickle.loads(pickle.dumps(held))       # whole, e.g. from a worker process
    assert [i.message for i in copy] == [i.message for i in issues]
    assert held == issues
    held.close()
    assert not held and list(held) == []


@pytest.mark.parametrize("limit", [3, 1000])
def test_ordered_spool_gives_items_back_by_key_then_arrival(limit):
    rng = random.Random(4)
    put = [(rng.randrange(20), n) for n in range(200)]
    found = OrderedSpool(limit=limit)
    for key, n in put:
        found.put(key, ("finding", n))
    assert list(found) == [("finding", n) for _, n in sorted(put, key=lambda t: (t[0], t[1]))]
    found.close()
