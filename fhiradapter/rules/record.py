"""One member's resources, indexed for the rules, with the readers every rule shares.

Readers never raise on bad data: an unreadable date is reported once as a data problem (naming the
resource and element) and the resource is skipped by the rule that needed it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, AbstractSet, Any, Callable, Literal

from .. import canonical as c
from ..programs import PROGRAM_TABLE
from ..part2 import is_sud
from .calendar import BadDate, parse_fhir, start_of
from .config import RuleConfig

if TYPE_CHECKING:
    from .shared import SharedData

# where the rules read a resource's dates (also used to find the record's latest date)
DATE_PATHS = ("period.start", "period.end", "authoredOn", "created", "sent", "date", "dateTime",
              "recordedDate", "effectiveDateTime", "issued", "occurrenceDateTime")
_PATH_PARTS: dict[str, tuple[str, ...]] = {path: tuple(path.split(".")) for path in DATE_PATHS}
# (first element, path, the elements below it): _evaluation_date skips a path whose first element the
# resource lacks
_DATE_HEADS = tuple((path.split(".", 1)[0], path, _PATH_PARTS[path][1:]) for path in DATE_PATHS)
_DATE_HEAD_NAMES = frozenset(head for head, _, _ in _DATE_HEADS)
_DATE_HEADS_OF = {name: tuple(item for item in _DATE_HEADS if item[0] == name) for name in _DATE_HEAD_NAMES}
# reference data: its dates say nothing about the member's latest day
_UNDATED_TYPES = frozenset({"Patient", "Practitioner", "Organization"})
_NO_DATE: tuple[None, None] = (None, None)
_MISSING = object()
Dated = tuple[datetime | date, date] | tuple[None, None]  # (moment, agency-local day)


# Parsed dateTime strings per zone, shared across member records: the same dateTimes recur across
# members (fixed appointment slots). Values are immutable; the memo is emptied when it reaches
# _PARSED_LIMIT entries, which bounds its memory.
_PARSED: dict[tzinfo, dict[str, tuple[datetime | date, date]]] = {}
_PARSED_LIMIT = 65536


def codings(concept: Any) -> list[dict[str, Any]]:
    """The codings of a CodeableConcept (or of a list of them)."""
    if isinstance(concept, list):
        return [cd for item in concept for cd in codings(item)]
    if isinstance(concept, dict):
        coding = concept.get("coding")
        return [cd for cd in coding if isinstance(cd, dict)] if isinstance(coding, list) else []
    return []


def codes(concept: Any, system: str) -> set[str]:
    """The codes of `system` in a CodeableConcept (or list of them): codings() filtered, in plain
    loops (a hot path of the rules: no intermediate lists or comprehension calls)."""
    found: set[str] = set()
    if isinstance(concept, dict):
        coding = concept.get("coding")
        if not isinstance(coding, list):   # a malformed coding is the validator's finding, not a crash
            return found
        for cd in coding:
            if isinstance(cd, dict) and cd.get("system") == system:
                code = cd.get("code")
                if code and isinstance(code, str):   # a malformed code is the validator's finding, not a crash
                    found.add(code)
    elif isinstance(concept, list):
        for item in concept:
            found |= codes(item, system)
    return found


def _coded_by_system(concept: Any, found: dict[str, list[Any]] | None = None) -> dict[str, list[Any]]:
    """system -> codes of a CodeableConcept (or list of them), in one scan, read as has_code() reads
    it: code in _coded_by_system(concept).get(system, ()) is has_code(concept, system, code) for any
    str system and non-empty str code (a coding that is no list holds nothing, as there)."""
    found = {} if found is None else found
    for item in concept if isinstance(concept, list) else (concept,):
        if isinstance(item, list):
            _coded_by_system(item, found)
        elif isinstance(item, dict):
            coding = item.get("coding")
            if isinstance(coding, list):
                for cd in coding:
                    if isinstance(cd, dict):
                        system, code = cd.get("system"), cd.get("code")
                        if code and isinstance(code, str) and isinstance(system, str):
                            found.setdefault(system, []).append(code)
    return found


def _codes_by_system(concept: Any, found: dict[str, list[Any]] | None = None) -> dict[str, list[Any]]:
    """system -> codes of a CodeableConcept (or list of them), in one scan: codes(concept, system)
    is set(_codes_by_system(concept).get(system, ())) for any str system."""
    found = {} if found is None else found
    for item in concept if isinstance(concept, list) else (concept,):
        if isinstance(item, list):
            _codes_by_system(item, found)
        elif isinstance(item, dict):
            for cd in item.get("coding") or []:
                if isinstance(cd, dict):
                    system, code = cd.get("system"), cd.get("code")
                    if code and isinstance(code, str) and isinstance(system, str):   # as codes()
                        found.setdefault(system, []).append(code)
    return found


def has_code(concept: Any, system: str, code: str) -> bool:
    """code in codes(concept, system), without building the set (the rules' most frequent test)."""
    if isinstance(concept, dict):
        coding = concept.get("coding")
        if isinstance(coding, list) and code and isinstance(code, str):
            for cd in coding:
                if isinstance(cd, dict) and cd.get("code") == code and cd.get("system") == system:
                    return True
        return False
    if isinstance(concept, list):
        for item in concept:
            if has_code(item, system, code):
                return True
    return False


def ext(resource: dict[str, Any], url: str) -> dict[str, Any] | None:
    for item in resource.get("extension") or []:
        if isinstance(item, dict) and item.get("url") == url:
            return item
    return None


def sub_ext_value(extension: dict[str, Any] | None, name: str) -> Any:
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


_TABLE_PROGRAMS = frozenset(c.PROGRAMS)


_NO_CODES: frozenset[str] = frozenset()


def _program_codes_in(value: Any, found: set[str]) -> None:
    """Add codes(value, c.PROGRAM_SYSTEM) to found, in plain loops (every resource of every record)."""
    for item in value if isinstance(value, list) else (value,):
        if isinstance(item, dict):
            coding = item.get("coding")
            if isinstance(coding, list):
                for cd in coding:
                    if isinstance(cd, dict) and cd.get("system") == c.PROGRAM_SYSTEM:
                        code = cd.get("code")
                        if code and isinstance(code, str):
                            found.add(code)
        elif isinstance(item, list):
            _program_codes_in(item, found)


def program_codes(res: dict[str, Any], named: bool = True) -> tuple[AbstractSet[str], AbstractSet[str], AbstractSet[str]]:
    """The bh-program codes of one resource, in one scan: (serviceType's: the programs it serves as a
    contact, MemberRecord.programs_of: serviceType, category, code and an EpisodeOfCare's type, every
    element's: what programs_named reads; with named=False only an EpisodeOfCare's type is read, and
    the third is programs_of: type_programs adds the rest when it is needed)."""
    served: set[str] = set()
    value = res.get("serviceType")
    if value is not None:
        _program_codes_in(value, served)
    of = set(served)
    for name in ("category", "code"):
        value = res.get(name)
        if value is not None:
            _program_codes_in(value, of)
    value = res.get("type")
    if value is None or not (named or res.get("resourceType") == "EpisodeOfCare"):
        return served or _NO_CODES, of or _NO_CODES, of or _NO_CODES
    kinds: set[str] = set()
    _program_codes_in(value, kinds)
    all_codes = of | kinds
    if res.get("resourceType") == "EpisodeOfCare":
        of = all_codes
    return served or _NO_CODES, of or _NO_CODES, all_codes or _NO_CODES


def type_programs(res: dict[str, Any]) -> set[str]:
    """codes(res.get("type"), c.PROGRAM_SYSTEM): what programs_named reads besides programs_of."""
    found: set[str] = set()
    value = res.get("type")
    if value is not None:
        _program_codes_in(value, found)
    return found


def programs_named(resources: list[dict[str, Any]]) -> set[str]:
    """The table programs the resources' bh-program codings name (as MemberRecord.programs(), before a
    record exists: the record's zone depends on it)."""
    found: set[str] = set()
    for res in resources:
        if isinstance(res, dict):
            found |= program_codes(res)[2]
    return found & _TABLE_PROGRAMS


def key_of(resource: dict[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def describe(resource: dict[str, Any]) -> str:
    """How messages name a resource: type and id only."""
    rid = resource.get("id")
    return f"{resource.get('resourceType')}/{rid}" if rid else f"a {resource.get('resourceType')} without id"


class KeyIndex:
    """'Type/id', urn:uuid:{id} and fullUrl -> resource, as one dict filled in the resources' order
    would hold them: 'Type/id' and fullUrl name the last resource that has them (`last`), urn:uuid:{id}
    the first (`first`; mapped Bundles use fullUrl urn:uuid:{id}, docs/design.md, and references may
    too). Kept as two maps so that a member record and the shared data can be looked up together."""

    def __init__(self, resources: list[dict[str, Any]]) -> None:
        self.last: dict[str, dict[str, Any]] = {}
        self.first: dict[str, dict[str, Any]] = {}   # by the id after "urn:uuid:"
        for res in resources:
            if not isinstance(res, dict) or not isinstance(kind := res.get("resourceType"), str) \
                    or not (rid := res.get("id")):
                continue
            self.last[f"{kind}/{rid}"] = res
            self.first.setdefault(str(rid), res)
            full = res.get("_fullUrl")
            if isinstance(full, str):
                self.last[full] = res

    def get(self, key: str) -> dict[str, Any] | None:
        found = self.last.get(key)
        return found if found is not None else self.get_first(key)

    def get_first(self, key: str) -> dict[str, Any] | None:
        """The first resource whose urn:uuid:{id} is `key`."""
        return self.first.get(key[9:]) if key.startswith("urn:uuid:") else None


@dataclass
class MemberRecord:
    """One member's resources and the readers the rules share.

    `shared`: member-less reference data (Practitioners, Organizations, rosters) indexed once per run
    (rules/shared.py); the record reads it as if its resources followed the member's own (`resources`
    then holds the member's only), without copying or re-indexing it per member. `zone_from`: when the
    config names no zone, the programs whose agency zone the record uses ("named": those the record's
    bh-program codings name)."""
    resources: list[dict[str, Any]]
    config: RuleConfig
    problems: dict[tuple[str, str], str] = field(default_factory=dict)
    shared: SharedData | None = None
    zone_from: set[str] | Literal["named"] | None = None

    def __post_init__(self) -> None:
        # resources are not changed while rules run: memoise what the rules read, keyed by id(resource)
        self._dates: dict[tuple[int, str], Dated] = {}    # (resource, path) -> (moment, local day)
        self._list_cache: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        self._programs: dict[int, AbstractSet[str]] = {}          # programs_of
        self._service_programs: dict[int, AbstractSet[str]] = {}  # bh-program codes of Encounter.serviceType
        self._type_codes: dict[int, dict[str, list[Any]]] = {}  # Encounter.type codes by system
        self._categories: dict[int, dict[str, list[Any]]] = {}  # category codes by system
        self._stay: dict[int, bool] = {}
        self._mode: dict[int, str | None] = {}
        self._types: dict[int, set[str]] = {}
        self._billable: dict[int, bool] = {}
        self._sud: dict[int, bool] = {}
        self._keys: KeyIndex | None = None   # built on the first resolve: several programs never resolve
        self._of_type: dict[str, list[dict[str, Any]]] = {}   # own + shared resources of a type
        self.by_type: dict[str, list[dict[str, Any]]] = {}
        # one scan: resources by type and the bh-program codes of each (programs(), programs_of, the zone)
        by_type, programs, served = self.by_type, self._programs, self._service_programs
        for res in self.resources:
            if isinstance(res, dict):
                if isinstance(kind := res.get("resourceType"), str):
                    by_type.setdefault(kind, []).append(res)
                served[id(res)], programs[id(res)], _ = program_codes(res, named=False)
        self._record_programs = set().union(*programs.values()) & _TABLE_PROGRAMS
        if self.shared is not None:
            self._record_programs |= self.shared.programs
        if self.zone_from is not None and self.config.timezone is None:
            self.config = self.config.for_programs(self._zone_programs() if self.zone_from == "named"
                                                   else self.zone_from)
        self.zone = self.config.zone
        self._parsed = _PARSED.setdefault(self.zone, {})
        self.as_of: date = self._evaluation_date()

    def memo(self, key: tuple[Any, ...], build: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """A list of resources a rule module derives from the record, built once per record."""
        found = self._list_cache.get(key)
        if found is None:
            found = self._list_cache[key] = build()
        return found

    def _all(self) -> list[dict[str, Any]]:
        """The member's resources, then the shared ones (as one list held them before the index)."""
        return self.resources if self.shared is None else self.resources + self.shared.resources

    def _evaluation_date(self) -> date:
        """config.as_of (or today) when given; otherwise the latest date the record shows, capped at
        the current date: data says nothing about days after its last entry (docs/rules.md).

        Reads every DATE_PATHS value of the record once, in resource then path order (so problems
        are listed in that order), and leaves them in the cache the rules read from."""
        if self.config.as_of or self.config.today:
            return self.config.evaluation_date()
        if self.config.export_end:
            return self.config.export_end
        now = datetime.now(self.zone).date()
        latest = None
        dates, parsed = self._dates, self._parsed
        for res in self._all():
            if not isinstance(res, dict) or res.get("resourceType") in _UNDATED_TYPES:
                continue
            heads = _DATE_HEAD_NAMES.intersection(res)
            if not heads:
                continue
            # most resources have one dated element: visit its paths only (same order as _DATE_HEADS)
            for head, path, below in _DATE_HEADS if len(heads) > 1 else _DATE_HEADS_OF[next(iter(heads))]:
                value = res.get(head)
                if value is None:
                    continue  # nothing to read (self.day would give None and record no problem)
                for part in below:
                    value = value.get(part) if isinstance(value, dict) else None
                # the cache is empty here (a resource listed twice is read twice, with the same result)
                found: Dated | None = parsed.get(value) if isinstance(value, str) else None  # the common case inline
                if found is None:
                    found = self._parse(res, path, value)
                dates[(id(res), path)] = found
                day = found[1]
                if day is not None and (latest is None or day > latest):
                    latest = day
        return min(latest, now) if latest else now

    # ---- generic access -------------------------------------------------------------------
    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        if self.shared is None:
            return self.by_type.get(resource_type, [])
        found = self._of_type.get(resource_type)
        if found is None:
            own, shared = self.by_type.get(resource_type), self.shared.by_type.get(resource_type)
            found = self._of_type[resource_type] = (own + shared if own and shared else own or shared or [])
        return found

    def resolve(self, reference: Any) -> dict[str, Any] | None:
        """The resource a Reference names, as if the shared resources followed the member's own in one
        list indexed in order: 'Type/id' and fullUrl of the last resource holding them, urn:uuid:{id}
        of the first (KeyIndex)."""
        key = ref_key(reference)
        if not key:
            return None
        if self._keys is None:
            self._keys = KeyIndex(self.resources)
        if self.shared is None:
            return self._keys.get(key)
        shared = self.shared.keys
        found = shared.last.get(key) or self._keys.last.get(key)
        return found if found is not None else (self._keys.get_first(key) or shared.get_first(key))

    def when(self, resource: dict[str, Any], path: str) -> datetime | date | None:
        """Read a date/dateTime at a dotted path; bad values are recorded as data problems."""
        found = self._dates.get((id(resource), path))
        if found is None:
            found = self._read(resource, path)
        return found[0]

    def day(self, resource: dict[str, Any], path: str) -> date | None:
        """The agency-local day of when(resource, path)."""
        found = self._dates.get((id(resource), path))
        if found is None:
            found = self._read(resource, path)
        return found[1]

    def instant(self, resource: dict[str, Any], path: str) -> datetime | None:
        moment = self.when(resource, path)
        return start_of(moment, self.zone) if moment is not None else None

    def _read(self, resource: dict[str, Any], path: str) -> Dated:
        parts = _PATH_PARTS.get(path)
        if parts is None:
            parts = _PATH_PARTS[path] = tuple(path.split("."))
        value: Any = resource
        for part in parts:
            value = value.get(part) if isinstance(value, dict) else None
        found = self._dates[(id(resource), path)] = self._parse(resource, path, value)
        return found

    def _parse(self, resource: dict[str, Any], path: str, value: Any) -> Dated:
        if isinstance(value, str):
            found = self._parsed.get(value)
            if found is None:
                try:
                    moment = parse_fhir(value, self.zone)
                except BadDate:
                    return self._bad_date(resource, path)
                found = (moment, moment.date() if isinstance(moment, datetime) else moment)
                if len(self._parsed) >= _PARSED_LIMIT:
                    self._parsed.clear()
                self._parsed[value] = found
            return found
        return _NO_DATE if value is None else self._bad_date(resource, path)

    def _bad_date(self, resource: dict[str, Any], path: str) -> Dated:
        self.problems[(describe(resource), path)] = (
            f"{describe(resource)}.{path} is not a valid FHIR date/dateTime; rules that need it skipped it")
        return _NO_DATE

    # ---- programs -------------------------------------------------------------------------
    def programs_of(self, resource: dict[str, Any]) -> AbstractSet[str]:
        """The bh-program codes of serviceType, category, code and an EpisodeOfCare's type (read once
        per resource: callers only read it)."""
        found = self._programs.get(id(resource))
        if found is None and self.shared is not None:
            found = self.shared.programs_of.get(id(resource))
        if found is None:   # a resource outside the record
            self._service_programs[id(resource)], found, _ = program_codes(resource)
            self._programs[id(resource)] = found
        return found

    def _programs_served(self, resource: dict[str, Any]) -> AbstractSet[str]:
        """The bh-program codes of serviceType (what makes an Encounter a program contact)."""
        found = self._service_programs.get(id(resource))
        if found is None and self.shared is not None:
            found = self.shared.served.get(id(resource))
        if found is None:   # a resource outside the record
            found, self._programs[id(resource)], _ = program_codes(resource)
            self._service_programs[id(resource)] = found
        return found

    def programs(self) -> set[str]:
        """The table programs the record's resources (own and shared) belong to (programs_of)."""
        return set(self._record_programs)

    def _zone_programs(self) -> set[str]:
        """programs_named() of the record's resources (own and shared), as far as the agency zone
        (programs.timezone_for: the first of the table named) depends on it: programs() holds most of
        them; the Encounter.type and other non-episode type codes it lacks are read only when a program
        before the first it holds could be among them."""
        found = set(self._record_programs)
        if PROGRAM_TABLE and PROGRAM_TABLE[0].id in found:
            return found
        for res in self.resources:
            if isinstance(res, dict):
                found |= type_programs(res)
        if self.shared is not None:
            found |= self.shared.named
        return found & _TABLE_PROGRAMS

    def is_sud(self, resource: dict[str, Any]) -> bool:
        """part2.is_sud, once per resource and record (two consent rules ask about every resource)."""
        found = self._sud.get(id(resource))
        if found is None:
            found = self._sud[id(resource)] = is_sud(resource)
        return found

    # ---- program contacts and stays -------------------------------------------------------
    def is_stay(self, enc: dict[str, Any]) -> bool:
        found = self._stay.get(id(enc))
        if found is None:
            found = self._stay[id(enc)] = bool(set(self._type_index(enc).get(c.STAY_TYPE_SYSTEM, ())))
        return found

    def stay_type(self, enc: dict[str, Any]) -> str | None:
        return next(iter(sorted(self.type_codes(enc, c.STAY_TYPE_SYSTEM))), None)

    def type_codes(self, enc: dict[str, Any], system: str) -> set[str]:
        """codes(enc.get("type"), system)."""
        return set(self._type_index(enc).get(system, ()))

    def _type_index(self, enc: dict[str, Any]) -> dict[str, list[Any]]:
        """Encounter.type codes by system: it holds the stay type, contact mode and contact types, read
        by several rules, so it is scanned once per record. Like codes(), it keeps text codes only."""
        by_system = self._type_codes.get(id(enc))
        if by_system is None:
            by_system = self._type_codes[id(enc)] = _codes_by_system(enc.get("type"))
        return by_system

    def _category_has(self, res: dict[str, Any], system: str, code: str) -> bool:
        """has_code(res.get("category"), system, code), with the category scanned once per resource
        (plans, referrals and their program and plan type are asked for many times per record)."""
        by_system = self._categories.get(id(res))
        if by_system is None:
            by_system = self._categories[id(res)] = _coded_by_system(res.get("category"))
        return code in by_system.get(system, ())

    def contacts(self, program: str, *, finished_only: bool = True) -> list[dict[str, Any]]:
        """Program contacts (Encounters with serviceType bh-program|program), by start."""
        key = ("contacts", program, finished_only)
        cached = self._list_cache.get(key)
        if cached is not None:
            return list(cached)
        found = [e for e in self.of_type("Encounter")
                 if program in self._programs_served(e) and not self.is_stay(e)
                 and (not finished_only or e.get("status") == "finished")]
        self._list_cache[key] = sorted(found, key=self._start_key)
        return list(self._list_cache[key])

    def contacts_from(self, program: str) -> date | None:
        """First day from which the input's contacts are complete (config.data_from: the start of an
        extract window), or None when the record is taken as complete. Checks that need contacts
        from before that day (a first contact after an older referral, a week before the window)
        are not judged: the data cannot show them."""
        return self.config.data_from

    def stays(self, *types: str) -> list[dict[str, Any]]:
        # a cancelled or only planned stay never happened: it triggers no admission or discharge rule
        key = ("stays", *types)
        found = self._list_cache.get(key)
        if found is None:
            found = self._list_cache[key] = sorted(
                (e for e in self.of_type("Encounter") if self.is_stay(e) and (not types or self.stay_type(e) in types)
                 and e.get("status") not in ("entered-in-error", "cancelled", "planned")), key=self._start_key)
        return list(found)

    def contact_mode(self, enc: dict[str, Any]) -> str | None:
        mode = self._mode.get(id(enc), _MISSING)
        if mode is _MISSING:
            modes = set(self._type_index(enc).get(c.CONTACT_MODE_SYSTEM, ()))
            mode = self._mode[id(enc)] = next(iter(sorted(modes)), None)
        return mode  # type: ignore[return-value]

    def contact_types(self, enc: dict[str, Any]) -> set[str]:
        """(shared per record: callers only read it)"""
        found = self._types.get(id(enc))
        if found is None:
            found = self._types[id(enc)] = set(self._type_index(enc).get(c.CONTACT_TYPE_SYSTEM, ()))
        return found

    def billing(self, enc: dict[str, Any]) -> dict[str, Any] | None:
        return ext(enc, c.EXT_BILLING)

    def is_billable(self, enc: dict[str, Any]) -> bool:
        found = self._billable.get(id(enc))
        if found is None:
            found = self._billable[id(enc)] = sub_ext_value(self.billing(enc), "billable") is True
        return found

    def billable_contacts(self, program: str) -> list[dict[str, Any]]:
        """contacts(program) that ext-billing marks billable, by start."""
        key = ("billable", program)
        if key not in self._list_cache:
            self._list_cache[key] = [e for e in self.contacts(program) if self.is_billable(e)]
        return list(self._list_cache[key])

    # ---- referrals and plans --------------------------------------------------------------
    def referrals(self, program: str) -> list[dict[str, Any]]:
        """The program's ServiceRequests (not entered in error), by authoredOn."""
        key = ("referrals", program)
        found = self._list_cache.get(key)
        if found is None:
            found = self._list_cache[key] = sorted(
                (s for s in self.of_type("ServiceRequest") if self._category_has(s, c.PROGRAM_SYSTEM, program)
                 and s.get("status") not in ("entered-in-error",)), key=lambda s: self._sort_key(s, "authoredOn"))
        return list(found)

    def plans(self, program: str | None = None, plan_type: str | None = None) -> list[dict[str, Any]]:
        key = ("plans", program, plan_type)
        cached = self._list_cache.get(key)
        if cached is not None:
            return list(cached)
        found = []
        for plan in self.of_type("CarePlan"):
            if plan.get("status") == "entered-in-error":
                continue
            if program and not self._category_has(plan, c.PROGRAM_SYSTEM, program):
                continue
            if plan_type and not self._category_has(plan, c.PLAN_TYPE_SYSTEM, plan_type):
                continue
            found.append(plan)
        self._list_cache[key] = sorted(found, key=lambda p: self._sort_key(p, "created", "period.start"))
        return list(self._list_cache[key])

    def plan_start(self, plan: dict[str, Any]) -> date | None:
        return self.day(plan, "period.start") or self.day(plan, "created")

    def covers(self, plan: dict[str, Any], day: date) -> bool:
        start, end = self.plan_start(plan), self.day(plan, "period.end")
        return (start is None or start <= day) and (end is None or day <= end)

    # ---- program episodes (issue 12 defect 2) ---------------------------------------------------
    def episodes(self, program: str) -> list[dict[str, Any]]:
        """The program's EpisodeOfCare resources (type bh-program|program) that record an enrollment (not
        planned, waitlisted, cancelled or entered in error), by period.start."""
        key = ("episodes", program)
        if key not in self._list_cache:
            found = [e for e in self.of_type("EpisodeOfCare") if has_code(e.get("type"), c.PROGRAM_SYSTEM, program)
                     and e.get("status") not in ("planned", "waitlist", "cancelled", "entered-in-error")]
            self._list_cache[key] = sorted(found, key=lambda e: self._sort_key(e, "period.start"))
        return list(self._list_cache[key])

    def enrollment_spans(self, program: str) -> list[tuple[date, date | None, dict[str, Any]]]:
        """(start, end or None while open, the EpisodeOfCare) of each enrollment: the weeks between two
        episodes are not enrolled and a revised plan is no discharge. Plan dates are never read as
        enrollment: without episodes there is none (the rules then say "not evaluated", docs/rules.md)."""
        return [(start, self.day(e, "period.end"), e) for e in self.episodes(program)
                if (start := self.day(e, "period.start")) is not None]

    def enrolled_on(self, program: str, day: date) -> bool:
        return any(start <= day and (end is None or day <= end) for start, end, _ in self.enrollment_spans(program))

    def patient(self) -> dict[str, Any] | None:
        patients = self.of_type("Patient")
        return patients[0] if patients else None

    # ---- helpers --------------------------------------------------------------------------
    def _sort_key(self, res: dict[str, Any], *paths: str) -> tuple[Any, ...]:
        """By the instant of the first path that has a date (dates from local midnight), then id."""
        for path in paths:
            moment = self.when(res, path)
            if moment is not None:
                return (0, start_of(moment, self.zone).timestamp(), str(res.get("id")))
        return (1, 0.0, str(res.get("id")))

    def _start_key(self, res: dict[str, Any]) -> tuple[Any, ...]:
        """_sort_key(res, "period.start") (how contacts and stays are ordered), with the reads inline:
        it runs once per contact of every member."""
        found = self._dates.get((id(res), "period.start")) or self._read(res, "period.start")
        moment = found[0]
        if moment is None:
            return (1, 0.0, str(res.get("id")))
        instant = moment if isinstance(moment, datetime) else start_of(moment, self.zone)
        return (0, instant.timestamp(), str(res.get("id")))
