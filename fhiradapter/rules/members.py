"""Member records from input files for `fhiradapter rules check`: a Bundle is one member record;
NDJSON/loose resources are grouped by their subject/patient reference. Reference data without a
subject (Practitioner, Organization, Location, Group) is shared by every record of the input."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Iterable

from ..members import member_key
from ..outcome import Issue

if TYPE_CHECKING:
    from .config import RuleConfig


@dataclass
class MemberInput:
    key: str
    resources: list[dict[str, Any]] = field(default_factory=list)
    # where each resource came from: (file, NDJSON line or None, Bundle entry or None)
    origins: dict[tuple[str, str], tuple[str, int | None, int | None]] = field(default_factory=dict)

    def stamp(self, issue: Issue) -> Issue:
        """Name file and NDJSON line / Bundle entry of the resource the issue is about."""
        t = issue.target
        origin = self.origins.get((t.type, t.id)) if t is not None else None
        if origin is None and self.origins:
            origin = (next(iter(self.origins.values()))[0], None, None)
        if origin is not None:
            issue.source = issue.source or origin[0]
            issue.line, issue.entry = origin[1], origin[2]
        return issue


def group(items: Iterable[tuple[str, int | None, object]]) -> tuple[list[MemberInput], list[Issue]]:
    """(file, line, parsed JSON) triples of all inputs → member records, plus issues about unusable
    items. A Bundle is one record; other resources are grouped by member across files."""
    members: dict[str, MemberInput] = {}
    shared: list[tuple[dict[str, Any], tuple[str, int | None, int | None]]] = []
    records: list[MemberInput] = []
    problems: list[Issue] = []
    for source, line, data in items:
        if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
            problems.append(Issue("error", "structure", "not a FHIR resource (no resourceType)", source=source,
                                  line=line))
            continue
        if data["resourceType"] == "Bundle":
            record = MemberInput(f"Bundle/{data.get('id') or len(records)}")
            for i, entry in enumerate(data.get("entry") or []):
                res = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(res, dict):
                    record.resources.append(res)
                    record.origins[(str(res.get("resourceType")), str(res.get("id")))] = (source, line, i)
            records.append(record)
            continue
        key = member_key(data)
        origin: tuple[str, int | None, int | None] = (source, line, None)
        if key is None:
            shared.append((data, origin))
            continue
        record = members.setdefault(key, MemberInput(key))
        record.resources.append(data)
        record.origins[(data["resourceType"], str(data.get("id")))] = origin
    for record in members.values():
        for res, origin in shared:
            record.resources.append(res)
            record.origins.setdefault((res["resourceType"], str(res.get("id"))), origin)
        records.append(record)
    return records, problems


def earliest_contact(records: list[MemberInput], config: RuleConfig) -> date | None:
    """The earliest program-contact day across an input's member records: where an extract window
    most likely begins (used by `rules check --data-from auto`)."""
    from .record import MemberRecord, programs_named
    earliest = None
    for member in records:
        record = MemberRecord(member.resources, config.for_programs(programs_named(member.resources)))
        for enc in record.of_type("Encounter"):
            if record.is_stay(enc) or not record.programs_of(enc):
                continue
            day = record.day(enc, "period.start")
            if day is not None and (earliest is None or day < earliest):
                earliest = day
    return earliest
