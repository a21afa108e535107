"""Validate input paths: one `Result` per input, NDJSON streamed line by line.

With program rules on, NDJSON resources are grouped into member records by subject/patient reference
(held in memory until the file ends); with rules off, NDJSON runs in constant memory.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from ..members import member_key
from ..outcome import Issue
from .engine import Validator
from .inputs import read
from .submission import SHARED_TYPES


@dataclass(slots=True)
class Result:
    source: str
    issues: list[Issue] = field(default_factory=list)
    resources: int = 0
    ndjson: bool = False

    @property
    def has_errors(self) -> bool:
        return any(i.is_error for i in self.issues)


Groups = dict[str, list[tuple[str, int, dict[str, Any]]]]   # member key -> (source, line, resource)
SHARED_KEY = ""   # groups[SHARED_KEY]: member-less reference data of the NDJSON inputs


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
        groups = {}
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
                groups.setdefault(key, []).append((item.source, item.line, item.resource))
            elif item.resource.get("resourceType") in SHARED_TYPES:   # read beside every member record
                groups.setdefault(SHARED_KEY, []).append((item.source, item.line, item.resource))
    if result is None:
        result = Result("<stdin>" if path == "-" else path)
        result.issues.append(Issue("error", "structure", "input is empty: no resource found",
                                   source=result.source, rule="empty-input"))
    if own_groups and groups:
        run_member_rules(v, groups, program, {result.source: result})
    return result


def run_member_rules(v: Validator, groups: Groups, program: str | None, results: dict[str, Result]) -> None:
    """Program rules on NDJSON member records; each finding goes to the file and line it is about.
    Member-less reference data (Practitioners, Organizations) joins every record, as in `run`."""
    shared = [r for _, _, r in groups.pop(SHARED_KEY, [])]
    if shared:
        v.shared_context = (*v.shared_context, *shared)
    for members in groups.values():
        resources = [r for _, _, r in members]
        exprs = [r.get("resourceType", "Resource") for r in resources]
        for k, issue in v.rules_for(resources, program, exprs):
            source, line = (members[k][0], members[k][1]) if k is not None else (members[0][0], None)
            issue.source = source
            issue.line = line
            target = results.get(source)
            if target is not None:
                target.issues.append(issue)
    groups.clear()


def check_paths(v: Validator, paths: list[str], **kwargs: Any) -> Iterator[Result]:
    for p in paths:
        yield check_path(v, p, **kwargs)
