"""References of a submission's transaction Bundles (issue 12 defect 1).

A transaction Bundle goes to a server that keeps what it is sent: a relative reference (`Type/id`) that
resolves neither to an entry of its Bundle nor to a resource another Bundle or file of the same
submission carries (e.g. the shared Bundle of Practitioners and Organizations that is sent first)
would leave the server with a dangling reference. `validate` reads the JSON files it is given as
one submission and reports such references. Kept apart from the Bundle checks: they see one Bundle.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..members import member_key
from ..outcome import Issue
from ..rules.window import LatestDate
from .inputs import InputError, read

_RELATIVE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")
RULE = "bundle-reference-unresolved"


def _references(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                if _RELATIVE.match(item):
                    yield path, item
            elif isinstance(item, (dict, list)):
                yield from _references(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _references(item, f"{path}[{index}]")


def _key(resource: Any) -> str | None:
    if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str) and isinstance(resource.get("id"), str):
        return f"{resource['resourceType']}/{resource['id']}"
    return None


# member-less reference data every member record of the submission reads (as `run` does)
SHARED_TYPES = frozenset({"Organization", "Practitioner", "PractitionerRole", "Location", "Group"})


@dataclass
class Submission:
    """What `validate` learns from all its JSON inputs before checking them one by one."""
    known: set[str] = field(default_factory=set)
    shared: list[dict[str, Any]] = field(default_factory=list)            # member-less reference data (SHARED_TYPES)
    latest: LatestDate = field(default_factory=LatestDate)       # the export's end (rules' evaluation date)
    _shared_keys: set[str | None] = field(default_factory=set)
    # source -> (expression, reference) of transaction/batch entries not resolved inside their Bundle
    open: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def _note(self, resource: Any) -> None:
        self.latest.add(resource)
        if isinstance(resource, dict) and resource.get("resourceType") in SHARED_TYPES and member_key(resource) is None:
            if _key(resource) not in self._shared_keys:
                self._shared_keys.add(_key(resource))
                self.shared.append(resource)

    def add(self, source: str, resource: Any) -> None:
        key = _key(resource)
        if key is not None:
            self.known.add(key)
        if not isinstance(resource, dict) or resource.get("resourceType") != "Bundle":
            self._note(resource)
            return
        entries = [e for e in resource.get("entry") or [] if isinstance(e, dict)]
        for entry in entries:
            self._note(entry.get("resource"))
        inside = {k for k in (_key(e.get("resource")) for e in entries) if k}
        self.known |= inside
        if resource.get("type") not in ("transaction", "batch"):
            return
        for index, entry in enumerate(resource.get("entry") or []):
            if not isinstance(entry, dict):
                continue
            for path, ref in _references(entry.get("resource"), f"Bundle.entry[{index}].resource"):
                if ref not in inside:
                    self.open.setdefault(source, []).append((path, ref))

    def add_file(self, path: str) -> None:
        """Note a whole-JSON input (NDJSON files are not Bundles: their resources are not read here)."""
        try:
            for item in read(path):
                if item.issue is None and item.line is None:
                    self.add(item.source, item.resource)
        except InputError:
            pass   # reported by the main pass

    def issues_for(self, source: str) -> list[Issue]:
        """One error per reference of `source`'s transaction Bundles that nothing in the submission has."""
        found = []
        for expression, ref in self.open.get(source, []):
            if ref in self.known:
                continue
            kind = ref.split("/", 1)[0]
            found.append(Issue("error", "not-found",
                               f"reference to a {kind} that is neither in this transaction Bundle nor in any other "
                               f"input of the submission: the server would keep a dangling reference",
                               expression=expression, source=source, rule=RULE))
        return found
