"""What may go to the payer without the member's consent: the state-limits table and the hold-back it drives.

`fhiradapter/data/release-limits.csv` is the one table (state → resource types that may go to a payer
without consent, and what needs consent even where everything else may go, with the law it comes from);
the row `*` applies in every state (42 CFR Part 2). A program's state is in the programs table.

`ReleaseGate` watches what `map`/`run` write: for each member whether a consent permits releasing to a
recipient, and which resources the table withholds without one. At the end `withheld()` names them; the
caller takes them, and everything that references them, out of the output (like an orphan, never half a
member's Bundle) and reports each in errors.ndjson with the citation.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .paths import DATA_DIR
from .part2 import is_marked

DEFAULT_TABLE = DATA_DIR / "release-limits.csv"
PART2_POLICY_URI = "https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2"
PLAN_TYPE_SYSTEM = "https://fhiradapter.org/fhir/CodeSystem/bh-plan-type"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"


@dataclass(frozen=True, slots=True)
class Limit:
    state: str                       # two-letter state, or "*" for every state
    without_consent: frozenset[str]  # resource types that may go without consent; "*" = every type
    needs_consent: tuple[str, ...]   # exceptions: "Type", "Type:plan-type", "security:CODE"
    citation: str

    def withholds(self, resource: dict[str, Any]) -> bool:
        """Whether this row keeps the resource back when the member has no consent."""
        kind = resource.get("resourceType")
        if "*" not in self.without_consent and kind not in self.without_consent:
            return True
        for item in self.needs_consent:
            head, _, tail = item.partition(":")
            if head == "security":
                if tail == "42CFRPart2" and is_marked(resource):
                    return True
            elif head == kind and (not tail or tail in _plan_types(resource)):
                return True
        return False

    def may_withhold(self, kind: str | None, sud: bool = True) -> bool:
        """Whether this row can keep back some resource of type `kind` (else withholds() is False for all);
        sud=False: the resource can carry no Part 2 label (part2.may_be_sud of its template)."""
        if "*" not in self.without_consent and kind not in self.without_consent:
            return True
        return any((head == "security" and sud) or head == kind
                   for head in (item.partition(":")[0] for item in self.needs_consent))

    @property
    def part2(self) -> bool:
        return "security:42CFRPart2" in self.needs_consent


class LimitsTableError(ValueError):
    """The table cannot be used: names file, row and column."""


def load_limits(path: str | Path | None = None) -> list[Limit]:
    path = Path(path) if path else DEFAULT_TABLE
    rows: list[Limit] = []
    with open(path, newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            state, citation = (row.get("state") or "").strip(), (row.get("citation") or "").strip()
            if not state or not citation:
                raise LimitsTableError(f"{path.name}:{line} column '{'state' if not state else 'citation'}' is empty")
            types = frozenset(t.strip() for t in (row.get("without_consent") or "").split(";") if t.strip())
            needs = tuple(t.strip() for t in (row.get("needs_consent") or "").split(";") if t.strip())
            rows.append(Limit(state, types, needs, citation))
    return rows


def limits_for(state: str | None, table: list[Limit] | None = None) -> list[Limit]:
    """The rows that apply to a state (its own and the every-state rows)."""
    table = load_limits() if table is None else table
    return [row for row in table if row.state == "*" or (state and row.state == state)]


def _plan_types(resource: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for concept in resource.get("category") or []:
        for coding in (concept or {}).get("coding") or [] if isinstance(concept, dict) else []:
            if isinstance(coding, dict) and coding.get("system") == PLAN_TYPE_SYSTEM:
                found.add(str(coding.get("code")))
    return found


def _day(value: Any) -> date | None:
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def permits_release(consent: dict[str, Any], day: date | None, part2: bool = False) -> bool:
    """An active permit Consent naming a recipient (provision.actor role IRCP), in force on `day`; for Part 2
    data it must also be a Part 2 consent (policy.uri the eCFR part, or provision.securityLabel 42CFRPart2)."""
    if consent.get("status") != "active":
        return False
    provision: dict[str, Any] = consent["provision"] if isinstance(consent.get("provision"), dict) else {}
    if provision.get("type", "permit") != "permit":
        return False
    actors = [a for a in provision.get("actor") or [] if isinstance(a, dict)]
    if not any(any(isinstance(c, dict) and c.get("system") == PARTICIPATION_TYPE and c.get("code") == "IRCP"
                   for c in (a.get("role") or {}).get("coding") or []) for a in actors):
        return False
    period: dict[str, Any] = provision["period"] if isinstance(provision.get("period"), dict) else {}
    start, end = _day(period.get("start")), _day(period.get("end"))
    if day is not None and ((start and day < start) or (end and day > end)):
        return False
    if part2:
        policies = consent.get("policy") or []
        labels = provision.get("securityLabel") or []
        return any(isinstance(p, dict) and p.get("uri") == PART2_POLICY_URI for p in policies) or \
            any(isinstance(s, dict) and s.get("code") == "42CFRPart2" for s in labels)
    return True


class ReleaseGate:
    """Collects, while resources are written, what the hold-back needs (not the resources themselves)."""

    def __init__(self, state: str | None, table: list[Limit] | None = None):
        self.rows = limits_for(state, table)
        self._candidates: dict[tuple[str, str], tuple[str, list[Limit]]] = {}  # (type, id) -> member, rows
        self._consents: dict[str, list[dict[str, Any]]] = {}
        self._rows_of: dict[tuple[Any, bool], list[Limit]] = {}   # (type, sud) -> the rows that may withhold one

    @property
    def active(self) -> bool:
        return bool(self.rows)

    def written(self, resource: dict[str, Any], member: str | None, sud: bool = True,
                withheld_by: list[int] | None = None) -> None:
        """sud=False: the resource can carry no Part 2 label (its template cannot make SUD data).
        withheld_by: the indexes of the rows that withhold it, when a worker process found them (--jobs)."""
        if not member:
            return   # reference data (organizations, practitioners) belongs to no member
        kind = resource.get("resourceType")
        if kind == "Consent":
            self._consents.setdefault(member, []).append(resource)
        if withheld_by is not None:
            rows = [self.rows[i] for i in withheld_by]
        else:
            candidates = self._rows_of.get((kind, sud))
            if candidates is None:   # once per type, not per resource
                candidates = self._rows_of[(kind, sud)] = [row for row in self.rows if row.may_withhold(kind, sud)]
            if not candidates:
                return
            rows = [row for row in candidates if row.withholds(resource)]
        if rows:
            self._candidates[(str(kind), str(resource.get("id")))] = (member, rows)

    def withheld(self, day: date | None) -> dict[tuple[str, str], str]:
        """(type, id) -> citation of every resource no consent lets go on `day` (the release date)."""
        out: dict[tuple[str, str], str] = {}
        for key, (member, rows) in self._candidates.items():
            consents = self._consents.get(member, [])
            for row in rows:
                if not any(permits_release(c, day, part2=row.part2) for c in consents):
                    out[key] = row.citation
                    break
        return out
