"""Member records from input files for `fhiradapter rules check`: a Bundle is one member record;
NDJSON/loose resources are grouped by their subject/patient reference. Reference data without a
subject (Practitioner, Organization, Location, Group) is shared by every record of the input."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from ..outcome import Issue

_SUBJECT = ("subject", "patient", "beneficiary")
_WHERE_ID = re.compile(r"^([A-Za-z]+)\.where\(id='((?:[^'\\]|\\.)*)'\)")


@dataclass
class MemberInput:
    source: str
    key: str
    resources: list[dict] = field(default_factory=list)
    lines: dict[tuple[str, str], int] = field(default_factory=dict)    # NDJSON line per resource
    entries: dict[tuple[str, str], int] = field(default_factory=dict)  # Bundle entry per resource

    def stamp(self, issue: Issue) -> Issue:
        """Name file and NDJSON line / Bundle entry of the resource the issue is about."""
        issue.source = issue.source or self.source
        m = _WHERE_ID.match(issue.expression or "")
        if m:
            key = (m.group(1), m.group(2).replace("\\'", "'"))
            if key in self.lines:
                issue.line = self.lines[key]
            elif key in self.entries:
                issue.entry = self.entries[key]
        return issue


def member_key(res: dict) -> str | None:
    if res.get("resourceType") == "Patient" and isinstance(res.get("id"), str):
        return f"Patient/{res['id']}"
    for name in _SUBJECT:
        ref = res.get(name)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return ref["reference"].split("/_history")[0]
    return None


def group(source: str, items: Iterable[tuple[int | None, object]]) -> tuple[list[MemberInput], list[Issue]]:
    """(line, parsed JSON) pairs of one input → member records, plus issues about unusable items."""
    members: dict[str, MemberInput] = {}
    shared: list[dict] = []
    records: list[MemberInput] = []
    problems: list[Issue] = []
    for line, data in items:
        if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
            problems.append(Issue("error", "structure", "not a FHIR resource (no resourceType)", source=source,
                                  line=line))
            continue
        if data["resourceType"] == "Bundle":
            record = MemberInput(source, f"Bundle/{data.get('id') or len(records)}")
            for i, entry in enumerate(data.get("entry") or []):
                res = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(res, dict):
                    record.resources.append(res)
                    record.entries[(str(res.get("resourceType")), str(res.get("id")))] = i
            records.append(record)
            continue
        key = member_key(data)
        if key is None:
            shared.append(data)
            continue
        record = members.setdefault(key, MemberInput(source, key))
        record.resources.append(data)
        if line is not None:
            record.lines[(data["resourceType"], str(data.get("id")))] = line
    for record in members.values():
        record.resources.extend(shared)
        records.append(record)
    return records, problems
