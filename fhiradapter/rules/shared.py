"""Member-less reference data indexed once per run (issue 18: costs that grow wrongly).

Practitioners, Organizations, Locations and team rosters have no member; every member record reads
them (a contact's practitioner, a referral's recipient, the team's roster). Appending them to each
record made the rules' cost grow with members × practitioners: every record re-indexed, re-scanned and
re-typed all of them. `SharedData` indexes them once; a `MemberRecord` given it reads them as if they
followed the member's own resources in one list (MemberRecord.of_type, resolve, programs), so what the
rules find is the same and a record's cost no longer depends on how much reference data there is.
"""
from __future__ import annotations

from typing import AbstractSet, Any, Callable

from .record import KeyIndex, _TABLE_PROGRAMS, program_codes


class SharedData:
    """The shared resources in their order, by type, by reference key, and their program codes."""

    def __init__(self, resources: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> None:
        self.resources: list[dict[str, Any]] = [r for r in resources if isinstance(r, dict)]
        self.by_type: dict[str, list[dict[str, Any]]] = {}
        self.served: dict[int, AbstractSet[str]] = {}       # MemberRecord._programs_served of each
        self.programs_of: dict[int, AbstractSet[str]] = {}  # MemberRecord.programs_of of each
        named: set[str] = set()
        for res in self.resources:
            if isinstance(kind := res.get("resourceType"), str):
                self.by_type.setdefault(kind, []).append(res)
            self.served[id(res)], self.programs_of[id(res)], found = program_codes(res)
            named |= found
        self.named = named & _TABLE_PROGRAMS
        self.programs = set().union(*self.programs_of.values()) & _TABLE_PROGRAMS
        self.keys = KeyIndex(self.resources)
        # (type, id) of each, as str: a member's own resource with the same key replaces it (without())
        self.ids = {(str(r.get("resourceType")), str(r.get("id"))) for r in self.resources}
        self.id_types = {kind for kind, _ in self.ids}
        # how a finding names a shared resource: such a finding is the team's, reported once per run
        self.expressions = {f"{r.get('resourceType')}.where(id='{r.get('id')}')" for r in self.resources}
        self._memo: dict[tuple[Any, ...], list[dict[str, Any]]] = {}

    def memo(self, key: tuple[Any, ...], build: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """A list a rule module derives from the shared data alone, built once per run."""
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = build()
        return found

    def __len__(self) -> int:
        return len(self.resources)

    def without(self, ids: set[tuple[str, str]]) -> SharedData:
        """These shared data less the resources whose (type, id) a member record holds itself."""
        return SharedData([r for r in self.resources if (str(r.get("resourceType")), str(r.get("id"))) not in ids])


# the last shared context indexed, with the tuple it was built from (held, so `is` cannot match a new one)
_last: tuple[tuple[dict[str, Any], ...], SharedData] | None = None


def shared_for(holder: Any, members: list[dict[str, Any]]) -> SharedData | None:
    """The SharedData of `holder.shared_context` (a Validator's: the submission's reference data) for one
    member record, indexed once while the context is the same tuple; less the shared resources the
    record holds itself (its own copy is the one it reads). None when there is nothing shared."""
    global _last
    context: tuple[dict[str, Any], ...] = holder.shared_context
    if not context:
        return None
    if _last is None or _last[0] is not context:
        _last = (context, SharedData(context))
    data = _last[1]
    if _holds_shared(data, members):
        data = data.without({(str(r.get("resourceType")), str(r.get("id"))) for r in members if isinstance(r, dict)})
    return data if len(data) else None


def _holds_shared(data: SharedData, members: list[dict[str, Any]]) -> bool:
    """Whether a member record holds a resource with the (type, id) of a shared one (rarely: a type
    test first)."""
    types, ids = data.id_types, data.ids
    for r in members:
        if isinstance(r, dict):
            kind = r.get("resourceType")
            kind = kind if isinstance(kind, str) else str(kind)
            if kind in types and (kind, str(r.get("id"))) in ids:
                return True
    return False
