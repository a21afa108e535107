"""`validate` with program rules groups NDJSON member records in bounded memory (issue 18): past a
bound the records go to member-hashed temporary files, and the report is the same as when all of them
are held in memory."""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from fhiradapter.validator import Validator
from fhiradapter.validator.members_spill import MemberGroups
from fhiradapter.validator.runner import Groups, check_path, run_member_rules

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from validate_bench import corpus, varied_corpus, with_errors  # noqa: E402  (the benchmark's corpus generator)


def _inputs(tmp_path: Path, errors: bool = False) -> list[str]:
    """Six members' records (all program profiles), shuffled and split over two NDJSON files;
    errors: 1 resource in 4 carries errors."""
    resources = varied_corpus(corpus(), 6 * len(corpus()))
    if errors:
        resources = with_errors(resources)
    random.Random(18).shuffle(resources)
    files = []
    for n in range(2):
        path = tmp_path / f"part{n}.ndjson"
        path.write_text("".join(json.dumps(r) + "\n" for r in resources[n::2]), encoding="utf-8")
        files.append(str(path))
    return files


def _report(files: list[str], groups: Groups) -> list[tuple[object, ...]]:
    v = Validator(rules=True)
    results = {}
    for f in files:
        result = check_path(v, f, groups=groups)
        results[result.source] = result
    run_member_rules(v, groups, None, results)
    return [(i.source, i.line, i.severity, i.rule, i.expression, i.message)
            for r in results.values() for i in r.issues]


def test_spilled_member_records_give_the_same_report_as_records_in_memory(tmp_path):
    files = _inputs(tmp_path)
    in_memory = Groups()
    expected = _report(files, in_memory)
    assert not in_memory.spilled
    spilled = Groups(limit=7)            # a few resources in memory, the rest in temporary files
    got = _report(files, spilled)
    assert spilled.spilled
    assert any("period judged" in str(i[5]) for i in expected)   # the program rules did find something
    assert got == expected


def test_each_member_record_comes_back_whole_and_in_arrival_order(tmp_path):
    groups = MemberGroups(limit=3, partitions=4)
    sent = []
    for n in range(40):
        member = f"Patient/p{n % 7}"
        resource = {"resourceType": "Encounter", "id": f"e{n}", "subject": {"reference": member}}
        groups.add(member, f"f{n % 2}.ndjson", n + 1, resource)
        sent.append((member, f"f{n % 2}.ndjson", n + 1, resource))
    assert groups.spilled
    records = list(groups.records())
    assert sorted(member for _, member, _ in records) == sorted({m for m, *_ in sent})
    for first, member, items in records:
        mine = [(s, line, r) for m, s, line, r in sent if m == member]
        assert items == mine                       # whole, in arrival order, values intact
        assert first == mine[0][1] - 1             # the arrival number of its first resource
    groups.close()


def test_a_partition_larger_than_its_share_is_split_again_and_records_stay_whole(monkeypatch):
    """An input larger than the partitions were sized for: each oversized part is split by another
    hash before it is read, so memory stays at about one part."""
    from fhiradapter.validator import members_spill
    monkeypatch.setattr(members_spill, "PARTITION_BYTES", 2_000)
    groups = MemberGroups(limit=0, partitions=2)
    sent: dict[str, list[int]] = {}
    for n in range(300):
        member = f"Patient/p{n % 37:03d}"
        groups.add(member, "in.ndjson", n + 1, {"resourceType": "Encounter", "id": f"e{n}", "subject": {"reference": member}})
        sent.setdefault(member, []).append(n + 1)
    depths: list[int] = []
    original = members_spill.MemberGroups._read

    def watch(self: MemberGroups, part: object, sources: list[str], depth: int) -> object:
        depths.append(depth)
        return original(self, part, sources, depth)
    monkeypatch.setattr(members_spill.MemberGroups, "_read", watch)
    got = {member: [line for _, line, _ in items] for _, member, items in groups.records()}
    assert got == sent
    assert max(depths) > 1     # the two parts (~9 KB each) were split again
