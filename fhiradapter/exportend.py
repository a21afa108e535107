"""The period a run judges (issue 12 defect 3): the evaluation date defaults to the end of the export,
i.e. the latest date of the whole input, not each member's own latest record, so a member whose
contacts stop weeks before the end of the export is judged for those weeks.

Outside the rules package (issue 18): `map` keeps the export's end for its manifest, and importing
fhiradapter.rules (every rule module, down to the holidays library) cost it ~0.1 CPU-s a run.
fhiradapter.rules.window re-exports LatestDate."""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

# the program rules' date paths (fhiradapter.rules.record.DATE_PATHS; tests/rules pin them equal)
DATE_PATHS = ("period.start", "period.end", "authoredOn", "created", "sent", "date", "dateTime",
              "recordedDate", "effectiveDateTime", "issued", "occurrenceDateTime")
_PARTS = tuple((path.split(".")) for path in DATE_PATHS)
_HEADS = tuple((parts[0], tuple(parts[1:])) for parts in _PARTS)   # (first element, the rest)
# reference data: its dates say nothing about the export's period
_UNDATED = frozenset({"Patient", "Practitioner", "PractitionerRole", "Organization", "Location"})


class LatestDate:
    """Keeps the latest calendar date seen at the rules' date paths (the date part as written: mapped
    values carry the agency's offset, so it is the agency-local day)."""

    def __init__(self) -> None:
        self.text: str | None = None

    def add(self, resource: Any) -> None:
        if not isinstance(resource, dict) or resource.get("resourceType") in _UNDATED:
            return
        for head, rest in _HEADS:   # once per resource read: most resources lack most of these
            value: Any = resource.get(head)
            if value is None:
                continue
            for part in rest:
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, str) and len(value) >= 10 and (self.text is None or value[:10] > self.text):
                try:
                    date.fromisoformat(value[:10])
                except ValueError:
                    continue   # a malformed date is the validator's finding, not the export's end
                self.text = value[:10]

    def add_text(self, text: str | None) -> None:
        """Take the latest date another LatestDate found (its .text; a worker process's with --jobs)."""
        if text is not None and (self.text is None or text > self.text):
            self.text = text

    def add_all(self, resources: Iterable[Any]) -> None:
        for resource in resources:
            self.add(resource)

    def merge(self, other: LatestDate) -> None:
        if other.text is not None and (self.text is None or other.text > self.text):
            self.text = other.text

    @property
    def day(self) -> date | None:
        """The latest date, capped at today (planned future appointments are not the export's end)."""
        if self.text is None:
            return None
        return min(date.fromisoformat(self.text), date.today())
