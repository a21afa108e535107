"""One member's resources, indexed for the rules, with the readers every rule shares.

Readers never raise on bad data: an unreadable date is reported once as a data problem (naming the
resource and element) and the resource is skipped by the rule that needed it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from functools import lru_cache
from typing import Any

from .. import canonical as c
from .calendar import BadDate, local_date, parse_fhir, start_of
from .config import RuleConfig

# where the rules read a resource's dates (also used to find the record's latest date)
DATE_PATHS = ("period.start", "period.end", "authoredOn", "created", "sent", "date", "dateTime",
              "recordedDate", "effectiveDateTime", "issued", "occurrenceDateTime")
# (first element, path): _evaluation_date skips a path whose first element the resource lacks
_DATE_HEADS = tuple((path.split(".", 1)[0], path) for path in DATE_PATHS)
_PATH_PARTS: dict[str, tuple[str, ...]] = {}
_MISSING = object()


@lru_cache(maxsize=65536)  # the same dateTimes recur across members (fixed slots); results are immutable
def _parse_cached(value: str, zone: tzinfo) -> datetime | date:
    return parse_fhir(value, zone)


def codings(concept: Any) -> list[dict]:
    """The codings of a CodeableConcept (or of a list of them)."""
    if isinstance(concept, list):
        return [cd for item in concept for cd in codings(item)]
    if isinstance(concept, dict):
        return [cd for cd in concept.get("coding") or [] if isinstance(cd, dict)]
    return []


def codes(concept: Any, system: str) -> set[str]:
    return {cd.get("code") for cd in codings(concept) if cd.get("system") == system and cd.get("code")}


def has_code(concept: Any, system: str, code: str) -> bool:
    return code in codes(concept, system)


def ext(resource: dict, url: str) -> dict | None:
    for item in resource.get("extension") or []:
        if isinstance(item, dict) and item.get("url") == url:
            return item
    return None


def sub_ext_value(extension: dict | None, name: str) -> Any:
    """value[x] of a sub-extension of a complex extension (None when absent)."""
    if not extension:
        return None
    for item in extension.get("extension") or []:
        if isinstance(item, dict) and item.get("url") == name:
            for key, value in item.items():
                if key.startswith("value"):
                    return value
    return None


def ref_key(reference: Any) -> str | None:
    """'Type/id' of a Reference (full URLs and urn:uuid keep their tail)."""
    if not isinstance(reference, dict):
        return None
    text = reference.get("reference")
    if not isinstance(text, str) or not text:
        return None
    if text.startswith("urn:uuid:"):
        return text
    parts = text.rstrip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return "/".join(parts[-2:]) if len(parts) >= 2 else text


def key_of(resource: dict) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def describe(resource: dict) -> str:
    """How messages name a resource: type and id only."""
    rid = resource.get("id")
    return f"{resource.get('resourceType')}/{rid}" if rid else f"a {resource.get('resourceType')} without id"


@dataclass
class MemberRecord:
    resources: list[dict]
    config: RuleConfig
    problems: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.zone = self.config.zone
        # resources are not changed while rules run: memoise the readers the rules share
        self._when_cache: dict[tuple[int, str], datetime | date | None] = {}
        self._list_cache: dict[tuple, list[dict]] = {}
        self._memo: dict[tuple, Any] = {}
        self.by_type: dict[str, list[dict]] = {}
        self.by_key: dict[str, dict] = {}
        for res in self.resources:
            if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
                continue
            self.by_type.setdefault(res["resourceType"], []).append(res)
            if res.get("id"):
                self.by_key[key_of(res)] = res
                # mapped Bundles use fullUrl urn:uuid:{id} (docs/design.md), and references may too
                self.by_key.setdefault(f"urn:uuid:{res['id']}", res)
                full = res.get("_fullUrl")
                if isinstance(full, str):
                    self.by_key[full] = res
        self.as_of: date = self._evaluation_date()

    def _evaluation_date(self) -> date:
        """config.as_of (or today) when given; otherwise the latest date the record shows, capped at
        the current date: data says nothing about days after its last entry (docs/rules.md)."""
        if self.config.as_of or self.config.today:
            return self.config.evaluation_date()
        now = datetime.now(self.zone).date()
        latest = None
        for res in self.resources:
            if not isinstance(res, dict) or res.get("resourceType") in ("Patient", "Practitioner", "Organization"):
                continue
            for head, path in _DATE_HEADS:
                if res.get(head) is None:
                    continue  # nothing to read (self.day would give None and record no problem)
                day = self.day(res, path)
                if day is not None and (latest is None or day > latest):
                    latest = day
        return min(latest, now) if latest else now

    # ---- generic access -------------------------------------------------------------------
    def of_type(self, resource_type: str) -> list[dict]:
        return self.by_type.get(resource_type, [])

    def resolve(self, reference: Any) -> dict | None:
        key = ref_key(reference)
        return self.by_key.get(key) if key else None

    def when(self, resource: dict, path: str) -> datetime | date | None:
        """Read a date/dateTime at a dotted path; bad values are recorded as data problems."""
        key = (id(resource), path)
        cache = self._when_cache
        moment = cache.get(key, _MISSING)
        if moment is _MISSING:
            moment = cache[key] = self._read_when(resource, path)
        return moment  # type: ignore[return-value]

    def _read_when(self, resource: dict, path: str) -> datetime | date | None:
        parts = _PATH_PARTS.get(path)
        if parts is None:
            parts = _PATH_PARTS[path] = tuple(path.split("."))
        value: Any = resource
        for part in parts:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return None
        try:
            if isinstance(value, str):
                return _parse_cached(value, self.zone)
            return parse_fhir(value, self.zone)
        except BadDate:
            self.problems[(describe(resource), path)] = (
                f"{describe(resource)}.{path} is not a valid FHIR date/dateTime; rules that need it skipped it")
            return None

    def day(self, resource: dict, path: str) -> date | None:
        moment = self.when(resource, path)
        return local_date(moment) if moment is not None else None

    def instant(self, resource: dict, path: str) -> datetime | None:
        moment = self.when(resource, path)
        return start_of(moment, self.zone) if moment is not None else None

    # ---- programs -------------------------------------------------------------------------
    def programs_of(self, resource: dict) -> set[str]:
        key = ("programs", id(resource))
        if key not in self._memo:
            found: set[str] = set()
            for element in ("serviceType", "category", "code"):
                found |= codes(resource.get(element), c.PROGRAM_SYSTEM)
            self._memo[key] = found
        return self._memo[key]

    def programs(self) -> set[str]:
        found: set[str] = set()
        for res in self.resources:
            if isinstance(res, dict):
                found |= self.programs_of(res)
        return found & set(c.PROGRAMS)

    # ---- program contacts and stays -------------------------------------------------------
    def is_stay(self, enc: dict) -> bool:
        key = ("stay", id(enc))
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = bool(codes(enc.get("type"), c.STAY_TYPE_SYSTEM))
        return found

    def stay_type(self, enc: dict) -> str | None:
        found = codes(enc.get("type"), c.STAY_TYPE_SYSTEM)
        return next(iter(sorted(found)), None)

    def contacts(self, program: str, *, finished_only: bool = True) -> list[dict]:
        """Program contacts (Encounters with serviceType bh-program|program), by start."""
        key = ("contacts", program, finished_only)
        if key in self._list_cache:
            return list(self._list_cache[key])
        found = [e for e in self.of_type("Encounter")
                 if has_code(e.get("serviceType"), c.PROGRAM_SYSTEM, program) and not self.is_stay(e)
                 and (not finished_only or e.get("status") == "finished")]
        self._list_cache[key] = sorted(found, key=lambda e: self._sort_key(e, "period.start"))
        return list(self._list_cache[key])

    def contacts_from(self, program: str) -> date | None:
        """First day from which the input's contacts are complete (config.data_from: the start of an
        extract window), or None when the record is taken as complete. Checks that need contacts
        from before that day (a first contact after an older referral, a week before the window)
        are not judged: the data cannot show them."""
        return self.config.data_from

    def stays(self, *types: str) -> list[dict]:
        found = [e for e in self.of_type("Encounter") if self.is_stay(e)
                 and (not types or self.stay_type(e) in types) and e.get("status") != "entered-in-error"]
        return sorted(found, key=lambda e: self._sort_key(e, "period.start"))

    def contact_mode(self, enc: dict) -> str | None:
        key = ("mode", id(enc))
        if key not in self._memo:
            self._memo[key] = next(iter(sorted(codes(enc.get("type"), c.CONTACT_MODE_SYSTEM))), None)
        return self._memo[key]

    def contact_types(self, enc: dict) -> set[str]:
        """(shared per record: callers only read it)"""
        key = ("types", id(enc))
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = codes(enc.get("type"), c.CONTACT_TYPE_SYSTEM)
        return found

    def billing(self, enc: dict) -> dict | None:
        return ext(enc, c.EXT_BILLING)

    def is_billable(self, enc: dict) -> bool:
        key = ("billable", id(enc))
        if key not in self._memo:
            self._memo[key] = sub_ext_value(self.billing(enc), "billable") is True
        return self._memo[key]

    # ---- referrals and plans --------------------------------------------------------------
    def referrals(self, program: str) -> list[dict]:
        found = [s for s in self.of_type("ServiceRequest")
                 if has_code(s.get("category"), c.PROGRAM_SYSTEM, program)
                 and s.get("status") not in ("entered-in-error",)]
        return sorted(found, key=lambda s: self._sort_key(s, "authoredOn"))

    def plans(self, program: str | None = None, plan_type: str | None = None) -> list[dict]:
        key = ("plans", program, plan_type)
        if key in self._list_cache:
            return list(self._list_cache[key])
        found = []
        for plan in self.of_type("CarePlan"):
            if plan.get("status") == "entered-in-error":
                continue
            if program and not has_code(plan.get("category"), c.PROGRAM_SYSTEM, program):
                continue
            if plan_type and not has_code(plan.get("category"), c.PLAN_TYPE_SYSTEM, plan_type):
                continue
            found.append(plan)
        self._list_cache[key] = sorted(found, key=lambda p: self._sort_key(p, "created", "period.start"))
        return list(self._list_cache[key])

    def plan_start(self, plan: dict) -> date | None:
        return self.day(plan, "period.start") or self.day(plan, "created")

    def covers(self, plan: dict, day: date) -> bool:
        start, end = self.plan_start(plan), self.day(plan, "period.end")
        return (start is None or start <= day) and (end is None or day <= end)

    def enrollment(self, program: str) -> tuple[date, date | None] | None:
        """From the earliest program plan start to the latest plan end (None while any plan is open)."""
        plans = [p for p in self.plans(program) if self.plan_start(p)]
        if not plans:
            return None
        start = min(self.plan_start(p) for p in plans)  # type: ignore[type-var]
        ends = [self.day(p, "period.end") for p in plans]
        end = None if any(e is None for e in ends) else max(ends)  # type: ignore[type-var]
        return start, end

    def patient(self) -> dict | None:
        patients = self.of_type("Patient")
        return patients[0] if patients else None

    # ---- helpers --------------------------------------------------------------------------
    def _sort_key(self, res: dict, *paths: str) -> tuple:
        for path in paths:
            moment = self.when(res, path)
            if moment is not None:
                return (0, start_of(moment, self.zone).timestamp(), str(res.get("id")))
        return (1, 0.0, str(res.get("id")))
