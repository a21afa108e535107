"""Validate input paths: one `Result` per input, NDJSON streamed line by line.

With program rules on, NDJSON resources are grouped into member records by subject/patient reference
(in memory up to a bound, past it in member-hashed temporary files: members_spill.py); with rules off,
NDJSON runs in constant memory.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from ..members import member_key
from ..outcome import Issue
from .engine import Validator
from .inputs import read
from .members_spill import IN_MEMORY, MemberGroups
from .spool import IssueSpool, OrderedSpool
from .submission import SHARED_TYPES


@dataclass(slots=True)
class Result:
    source: str
    # held until the rules have run on every input: past a bound on disk (spool.py)
    issues: list[Issue] = field(default_factory=IssueSpool)
    resources: int = 0
    ndjson: bool = False

    @property
    def has_errors(self) -> bool:
        return any(i.is_error for i in self.issues)




class Groups(MemberGroups):
    """The member records of the NDJSON inputs, plus their member-less reference data (few: in memory)."""

    def __init__(self, limit: int = IN_MEMORY) -> None:
        super().__init__(limit)
        self.shared: list[dict[str, Any]] = []


def check_path(v: Validator, path: str, *, profile: str | None = None, program: str | None = None,
               rules: bool | None = None, groups: Groups | None = None) -> Result:
    """Validate one input file (or '-'). Raises inputs.InputError if it cannot be read.

    NDJSON member records often span files (Encounter.ndjson, ServiceRequest.ndjson, ...): pass one
    `groups` dict for all inputs and call `run_member_rules` after the last; without it, the rules
    run on this file's records alone.
    """
    want_rules = v.rules if rules is None else rules
    result: Result | None = None
    own_groups = groups is None
    if groups is None:
        groups = Groups()
    notes_seen: set[Any] = set()
    for item in read(path):
        if result is None:
            result = Result(item.source, ndjson=item.line is not None)
        if item.issue is not None:
            result.issues.append(item.issue)
            continue
        result.resources += 1
        if item.line is None:   # a whole JSON file: resource or Bundle; rules run on Bundles (member records)
            is_bundle = isinstance(item.resource, dict) and item.resource.get("resourceType") == "Bundle"
            result.issues.extend(v.validate_resource(item.resource, profile=profile, program=program,
                                                     source=item.source, run_rules=want_rules and is_bundle))
            if isinstance(item.resource, dict) and item.resource.get("resourceType") == "Bundle":
                entries = item.resource.get("entry")
                result.resources += len(entries) if isinstance(entries, list) else 0
            continue
        result.issues.extend(v.validate_resource(item.resource, profile=profile, program=program,
                                                 source=item.source, line=item.line, run_rules=False,
                                                 notes_seen=notes_seen))
        if want_rules and isinstance(item.resource, dict):
            key = member_key(item.resource)
            if key is not None:
                groups.add(key, item.source, item.line, item.resource)
            elif item.resource.get("resourceType") in SHARED_TYPES:   # read beside every member record
                groups.shared.append(item.resource)
    if result is None:
        result = Result("<stdin>" if path == "-" else path)
        result.issues.append(Issue("error", "structure", "input is empty: no resource found",
                                   source=result.source, rule="empty-input"))
    if own_groups and (len(groups) or groups.shared):
        run_member_rules(v, groups, program, {result.source: result})
    return result


def run_member_rules(v: Validator, groups: Groups, program: str | None, results: dict[str, Result]) -> None:
    """Program rules on NDJSON member records; each finding goes to the file and line it is about.
    Member-less reference data (Practitioners, Organizations) joins every record, as in `run`.

    Records come one partition at a time; their findings are put back in the order of each record's
    first resource, and a finding about shared data is kept for the first record in that order, so
    the report is the same however the records were spilled."""
    if groups.shared:
        v.shared_context = (*v.shared_context, *groups.shared)
    found = OrderedSpool()   # (first resource's position, the record's findings): bounded memory
    for first, _member, members in groups.records():
        resources = [r for _, _, r in members]
        exprs = [r.get("resourceType", "Resource") for r in resources]
        placed = []
        for k, issue, shared_key in v.rules_for_record(resources, program, exprs):
            source, line = (members[k][0], members[k][1]) if k is not None else (members[0][0], None)
            placed.append((source, line, issue, shared_key))
        if placed:
            found.put(first, placed, len(placed))
    groups.close()
    seen: set[Any] = v.__dict__.setdefault("_shared_findings", set())
    for placed in found:
        for source, line, issue, shared_key in placed:
            if shared_key is not None:   # a team's finding: once per run
                if shared_key in seen:
                    continue
                seen.add(shared_key)
            issue.source = source
            issue.line = line
            target = results.get(source)
            if target is not None:
                target.issues.append(issue)
    found.close()
    groups.shared = []


def check_paths(v: Validator, paths: list[str], **kwargs: Any) -> Iterator[Result]:
    for p in paths:
        yield check_path(v, p, **kwargs)
